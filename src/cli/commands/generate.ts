// `tda generate`: text from a prompt with Dense, TT, Griffin or TDA. The text goes to
// stdout; the method's setting, thresholds, per-layer density, op/byte counts and
// tokens/s go to stderr (or everything as one JSON object with --json).

import type { Command } from 'commander';
import { generateText } from '../../api/run-method.js';
import { formatGeneration } from '../format.js';
import { printJson } from '../io.js';
import { addBackendOptions, addMethodOptions, addModelOptions, integer, number, methodSettingOf, setUpMethodRun } from '../options.js';

export function generateCommand(program: Command): void {
  const cmd = program
    .command('generate')
    .description('generate text with one method (run.c semantics: --steps forward passes, prompt included, stop at BOS)')
    .option('--prompt <text>', 'prompt text', '')
    .option('--steps <n>', 'forward passes, prompt included (like run.c -n); capped at seq_len', integer('--steps', 1), 256)
    .option('--method <name>', 'dense | tt | griffin | tda', 'dense')
    .option('--temperature <x>', '0 = greedy', number('--temperature', 0, 100), 0)
    .option('--topp <p>', 'nucleus sampling mass in (0, 1] (used when temperature > 0)', number('--topp', 0, 1), 0.9)
    .option('--seed <s>', 'sampling seed', integer('--seed', 0), 42)
    .option('--json', 'print one JSON object (schema: docs/cli.md)');
  addModelOptions(cmd);
  addMethodOptions(cmd);
  addBackendOptions(cmd);
  cmd.action(async (o) => {
    const { model, tokenizer, backend } = await setUpMethodRun(o);
    try {
      const g = generateText({
        model,
        tokenizer,
        backend,
        prompt: o.prompt,
        steps: o.steps,
        ...methodSettingOf(o),
        temperature: o.temperature,
        topp: o.topp,
        seed: o.seed,
        kvCache: o.kvCache,
      });
      const r = g.result;
      if (o.json) {
        printJson({
          ...g.summary,
          backend: { name: backend.name, ...backend.info() },
          kv_cache: r.kvCache,
          model: { source: model.source, fingerprint: model.fingerprint },
          prompt: o.prompt,
          prompt_tokens: r.promptTokens,
          tokens: r.tokens,
          text: g.text,
          density: g.density,
          layers: r.layers.map((l) => ({ ...l, density: l.kept / l.total })),
          cost_per_token: r.cost,
          timing: r.timing,
        });
      } else {
        process.stdout.write(`${o.prompt}${g.text}\n`);
        process.stderr.write(formatGeneration(g, backend));
      }
    } finally {
      backend.dispose?.();
    }
  });
}
