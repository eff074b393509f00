// `tda generate`: text from a prompt with Dense, TT, Griffin or TDA, reporting the
// per-layer density, the op/byte counts per generated token and tokens/s.

import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { generate, generatedText } from '../../reference/generate.js';
import { Sampler } from '../../reference/sampler.js';
import { addBackendOptions, addMethodOptions, addModelOptions, integer, number, setUpMethodRun } from '../options.js';
import { formatGeneration } from '../format.js';

export function generateCommand(program: Command): void {
  const cmd = program
    .command('generate')
    .description('generate text with one method (run.c semantics: --steps forward passes, prompt included, stop at BOS)')
    .option('--prompt <text>', 'prompt text', '')
    .option('--steps <n>', 'forward passes, prompt included (like run.c -n); capped at seq_len', integer('--steps', 1), 256)
    .option('--method <name>', 'dense | tt | griffin | tda', 'dense')
    .option('--temperature <x>', '0 = greedy', number('--temperature', 0, 100), 0)
    .option('--topp <p>', 'nucleus sampling mass (used when temperature > 0)', number('--topp', 0, 1), 0.9)
    .option('--seed <s>', 'sampling seed', integer('--seed', 0), 42)
    .option('--json', 'print one JSON object');
  addModelOptions(cmd);
  addMethodOptions(cmd);
  addBackendOptions(cmd);
  cmd.action(async (o) => {
    const { model, tokenizer, backend, method, makePolicy } = await setUpMethodRun(o);
    const promptTokens = tokenizer.encode(o.prompt);
    if (promptTokens.length > model.config.seqLen) {
      throw new UserError(`the prompt is ${promptTokens.length} tokens, longer than the model's context of ${model.config.seqLen}`);
    }
    const steps = Math.max(o.steps, promptTokens.length);
    const result = generate(model, {
      promptTokens,
      steps,
      policy: makePolicy(),
      kernels: backend.kernels,
      sampler: new Sampler({ temperature: o.temperature, topp: o.topp, seed: o.seed }),
    });
    const text = generatedText(tokenizer, result);
    if (o.json) {
      process.stdout.write(
        `${JSON.stringify({
          method,
          backend: { name: backend.name, ...backend.info() },
          prompt: o.prompt,
          prompt_tokens: result.promptTokens,
          tokens: result.tokens,
          text,
          layers: result.layers,
          cost_per_token: result.cost,
          timing: result.timing,
        })}\n`,
      );
    } else {
      process.stdout.write(formatGeneration(o.prompt, text, result, backend));
    }
    backend.dispose?.();
  });
}
