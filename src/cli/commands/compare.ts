// `tda compare`: Dense and one method on the same prompts — top-1 agreement and
// KL(dense‖method) per generated position (teacher-forced on the dense
// continuation), and the two free-running texts side by side.

import type { Command } from 'commander';
import { compareWithDense } from '../../api/run-method.js';
import { UserError } from '../../errors.js';
import { methodLines, percent } from '../format.js';
import { printJson } from '../io.js';
import { readPromptsFile } from '../text-prompts.js';
import { addBackendOptions, addMethodOptions, addModelOptions, integer, methodSettingOf, setUpMethodRun } from '../options.js';

export const DEFAULT_PROMPTS = ['Once upon a time', 'Tom and his dog went to the beach', 'The little bird was sad because', 'Lily wanted to'];

export function compareCommand(program: Command): void {
  const cmd = program
    .command('compare')
    .description('compare a method with Dense: top-1 agreement, mean KL(dense‖method), texts side by side')
    .requiredOption('--method <name>', 'tt | griffin | tda (or dense, as a sanity check)')
    .option('--prompt <text...>', 'prompts (default: four TinyStories openings)')
    .option('--text <file>', 'prompts from a file: one per line, or paragraphs separated by blank lines')
    .option('--steps <n>', 'forward passes per prompt, prompt included', integer('--steps', 1))
    .option('--json', 'print one JSON object (schema: docs/cli.md)');
  addModelOptions(cmd);
  addMethodOptions(cmd);
  addBackendOptions(cmd);
  cmd.action(async (o) => {
    if (o.prompt && o.text) throw new UserError('give --prompt or --text, not both');
    const prompts: string[] = o.text ? readPromptsFile(o.text) : (o.prompt ?? DEFAULT_PROMPTS);
    const { model, tokenizer, backend } = await setUpMethodRun(o);
    try {
      if (!o.json && prompts.length > 1) process.stderr.write(`comparing ${o.method} with dense on ${prompts.length} prompts …\n`);
      const { summary, rows } = compareWithDense({
        model,
        tokenizer,
        backend,
        prompts,
        steps: o.steps,
        ...methodSettingOf(o),
        kvCache: o.kvCache,
      });
      if (o.json) {
        printJson({ ...summary, backend: backend.name, rows });
        return;
      }
      const method = summary.method;
      const out: string[] = methodLines(summary);
      for (const r of rows) {
        const meanDensity = r.density.reduce((s, d) => s + d, 0) / r.density.length;
        out.push(
          `prompt: ${JSON.stringify(r.prompt)}`,
          `  ${method}: mean density ${percent(meanDensity)}, top-1 agreement ${percent(r.top1Agreement)}, ` +
            `mean KL(dense‖${method}) ${r.meanKl.toFixed(4)} nats over ${r.positions} positions, NLL ${r.methodNll.toFixed(3)} vs dense ${r.denseNll.toFixed(3)}`,
          `  dense : ${r.prompt}${r.denseText.replace(/\n/g, ' ')}`,
          `  ${method.padEnd(6)}: ${r.prompt}${r.methodText.replace(/\n/g, ' ')}`,
          '',
        );
      }
      process.stdout.write(`${out.join('\n')}\n`);
    } finally {
      backend.dispose?.();
    }
  });
}
