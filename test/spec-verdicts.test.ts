// Runs every (non-heavy) claim check and asserts its verdicts equal the recorded ones in
// spec/expected-verdicts.json. A verdict that changes fails here loudly: explain the change
// (in the commit and the claim's write-up), then update the JSON.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERDICTS, type Verdict } from '../src/proofs/claim.js';
import { DEFAULT_SPEC_DIR, renderMarkdown, runChecks, type SpecReport } from '../src/proofs/report.js';
import { checkXml } from '../src/proofs/xml.js';
import { claims } from '../spec/index.js';

const expected = JSON.parse(readFileSync(join(DEFAULT_SPEC_DIR, 'expected-verdicts.json'), 'utf8')) as Record<string, Verdict>;

describe('spec verdicts', () => {
  let report: SpecReport;

  it('runs all non-heavy checks within the time budget', async () => {
    const reportsDir = mkdtempSync(join(tmpdir(), 'tda-spec-'));
    const t0 = performance.now();
    report = await runChecks(claims, { seed: 1, heavy: false, reportsDir });
    expect((performance.now() - t0) / 1000).toBeLessThan(90);
  }, 180_000);

  it('every claim id is unique and has an expected verdict', () => {
    const ids = claims.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(expected[id], `no expectation recorded for ${id}`).toBeDefined();
    for (const v of Object.values(expected)) expect(VERDICTS).toContain(v);
  });

  it('measured verdicts equal spec/expected-verdicts.json', () => {
    expect(report.verdicts).toEqual(expected);
  });

  it('each claim states what would have refuted it, and writes well-formed figures', () => {
    for (const c of report.claims) {
      expect(c.refutedBy.length, c.id).toBeGreaterThan(20);
      expect(c.assumptions.length, c.id).toBeGreaterThan(0);
      expect(c.result.reason.length, c.id).toBeGreaterThan(40);
      for (const p of c.result.figurePaths ?? []) {
        const x = checkXml(readFileSync(p, 'utf8'));
        expect(x.ok, `${p}: ${x.error}`).toBe(true);
      }
    }
    const md = renderMarkdown(report, DEFAULT_SPEC_DIR, expected);
    for (const c of report.claims) expect(md).toContain(`**${c.id}**`);
    expect(md).not.toContain('(expected:');
  });
});
