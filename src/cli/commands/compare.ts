// `tda compare`: Dense and one method on the same prompts — top-1 agreement and
// KL(dense‖method) per generated position (teacher-forced on the dense
// continuation), and the two free-running texts side by side.

import type { Command } from 'commander';
import { compareLogits } from '../../reference/compare.js';
import { generate, generatedText } from '../../reference/generate.js';
import { densePolicy } from '../../reference/policies/dense.js';
import { UserError } from '../../errors.js';
import { percent } from '../format.js';
import { readPromptsFile } from '../text-prompts.js';
import { addBackendOptions, addMethodOptions, addModelOptions, integer, setUpMethodRun } from '../options.js';

export const DEFAULT_PROMPTS = ['Once upon a time', 'Tom and his dog went to the beach', 'The little bird was sad because', 'Lily wanted to'];

export function compareCommand(program: Command): void {
  const cmd = program
    .command('compare')
    .description('compare a method with Dense: top-1 agreement, mean KL(dense‖method), texts side by side')
    .requiredOption('--method <name>', 'tt | griffin | tda (or dense, as a sanity check)')
    .option('--prompt <text...>', 'prompts (default: four TinyStories openings)')
    .option('--text <file>', 'prompts from a file: one per line, or paragraphs separated by blank lines')
    .option('--steps <n>', 'forward passes per prompt, prompt included', integer('--steps', 1), 128)
    .option('--json', 'print JSON');
  addModelOptions(cmd);
  addMethodOptions(cmd);
  addBackendOptions(cmd);
  cmd.action(async (o) => {
    if (o.prompt && o.text) throw new UserError('give --prompt or --text, not both');
    const prompts: string[] = o.text ? readPromptsFile(o.text) : (o.prompt ?? DEFAULT_PROMPTS);
    const { model, tokenizer, backend, method, makePolicy } = await setUpMethodRun(o);
    const rows = prompts.map((prompt: string) => {
      const promptTokens = tokenizer.encode(prompt);
      const steps = Math.max(o.steps, promptTokens.length);
      const kernels = backend.kernels;
      const dense = generate(model, { promptTokens, steps, policy: densePolicy(), kernels, keepLogits: true });
      const forced = generate(model, { promptTokens, steps, policy: makePolicy(), kernels, keepLogits: true, forcedTokens: dense.tokens });
      const free = generate(model, { promptTokens, steps, policy: makePolicy(), kernels });
      const quality = compareLogits(dense.logits!, forced.logits!, dense.tokens);
      return {
        prompt,
        ...quality,
        density: free.layers.map((l) => l.kept / l.total),
        dense_text: generatedText(tokenizer, dense),
        method_text: generatedText(tokenizer, free),
      };
    });
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ method, backend: backend.name, rows })}\n`);
      return;
    }
    const out: string[] = [];
    for (const r of rows) {
      const meanDensity = r.density.reduce((s: number, d: number) => s + d, 0) / r.density.length;
      out.push(
        `prompt: ${JSON.stringify(r.prompt)}`,
        `  ${method}: mean density ${percent(meanDensity)}, top-1 agreement ${percent(r.top1Agreement)}, ` +
          `mean KL(dense‖${method}) ${r.meanKl.toFixed(4)} nats over ${r.positions} positions, NLL ${r.methodNll.toFixed(3)} vs dense ${r.denseNll.toFixed(3)}`,
        `  dense : ${r.prompt}${r.dense_text.replace(/\n/g, ' ')}`,
        `  ${method.padEnd(6)}: ${r.prompt}${r.method_text.replace(/\n/g, ' ')}`,
        '',
      );
    }
    process.stdout.write(`${out.join('\n')}\n`);
  });
}
