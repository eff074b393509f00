// Test file order: vitest's own (files that failed last time first, then the longest),
// except that the files in LAST run after all others. They judge a run the global setup
// starts in the background (test/setup/global.ts); run early, they would hold a test
// worker while that run goes on.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LAST = ['test/web-page-webgpu.test.ts', 'test/conformance-webgpu.test.ts'];

export class LastFilesSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const last = (f: TestSpecification) => LAST.some((name) => f.moduleId.endsWith(name));
    return [...sorted.filter((f) => !last(f)), ...sorted.filter(last)];
  }
}
