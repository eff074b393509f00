// `tda calibrate`: per-layer thresholds for TT or TDA, written as a JSON artefact.

import fs from 'node:fs';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { UserError, describeError } from '../../errors.js';
import { type CalibrationSet, calibrate, sampledCalibrationSet, textCalibrationSet } from '../../reference/calibrate.js';
import { DEFAULT_CETT } from '../../reference/methods.js';
import { thresholdsArtefact } from '../../reference/thresholds.js';
import { percent } from '../format.js';
import { checkWritable, printJson, writeFileAtomic } from '../io.js';
import { addModelOptions, integer, loadModelForCommand, number } from '../options.js';

export function calibrateCommand(program: Command): void {
  const cmd = program
    .command('calibrate')
    .description('find per-layer thresholds for TT or TDA (CETT target, or target mean density) and write them as JSON')
    .requiredOption('--method <name>', 'tt | tda')
    .option('--cett <c>', `CETT target per layer (default ${DEFAULT_CETT})`, number('--cett', 0, 1))
    .option('--density <d>', 'target mean kept fraction over layers (thresholds still differ per layer)', number('--density', 0, 1))
    .option('--text <file>', 'calibrate on this text instead of samples of the model')
    .option('--sequences <n>', 'number of sampled sequences', integer('--sequences', 1, 10000), 8)
    .option('--length <n>', 'tokens per sequence', integer('--length', 2, 1 << 20), 128)
    .option('--prompt-length <n>', 'TDA: tokens treated as the prompt of each sequence', integer('--prompt-length', 1, 1 << 20), 16)
    .option('--seed <s>', 'sampling seed', integer('--seed', 0), 1)
    .option('--out <file>', 'where to write the thresholds JSON', 'thresholds.json')
    .option('--json', 'print the thresholds file on stdout too (schema: docs/cli.md)');
  addModelOptions(cmd);
  cmd.action(async (o) => {
    if (o.method !== 'tt' && o.method !== 'tda') throw new UserError(`calibrate takes --method tt or tda, not "${o.method}"`);
    if (o.cett !== undefined && o.density !== undefined) throw new UserError('give --cett or --density, not both');
    if (o.promptLength >= o.length) throw new UserError('--prompt-length must be shorter than --length');
    if (o.density === 0) throw new UserError('--density 0 keeps no neuron: give a density in (0, 1]');
    checkWritable(o.out, 'thresholds file');
    const { model, tokenizer } = await loadModelForCommand(o);
    let set: CalibrationSet;
    if (o.text) {
      let text: string;
      try {
        text = fs.readFileSync(o.text, 'utf8');
      } catch (e) {
        throw new UserError(`cannot read ${o.text}: ${describeError(e)}`);
      }
      set = textCalibrationSet(tokenizer, text, { length: Math.min(o.length, model.config.seqLen), promptLength: o.promptLength, name: o.text });
    } else {
      set = sampledCalibrationSet(model, { sequences: o.sequences, length: o.length, promptLength: o.promptLength, seed: o.seed });
    }
    const objective = o.density !== undefined ? { kind: 'density' as const, target: o.density } : { kind: 'cett' as const, target: o.cett ?? DEFAULT_CETT };
    const bar = new cliProgress.SingleBar(
      { format: 'calibrating {bar} {value}/{total} layers', stream: process.stderr, noTTYOutput: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(model.config.nLayers, 0);
    const result = calibrate(model, set, o.method, objective, { onProgress: (done) => bar.update(done) });
    bar.stop();
    const artefact = thresholdsArtefact(model, set, result);
    writeFileAtomic(o.out, `${JSON.stringify(artefact, null, 2)}\n`);
    if (o.json) {
      printJson(artefact);
      return;
    }
    process.stdout.write(
      [
        `${o.method} thresholds for ${model.source} (${objective.kind} ${objective.target}${result.cettLevel !== undefined ? `, shared CETT level ${result.cettLevel.toFixed(4)}` : ''})`,
        `calibration: ${set.description}`,
        ...result.layers.map((l, i) => `  layer ${i}: tau ${l.tau.toPrecision(6)}  kept ${percent(l.keptFraction)}  CETT ${l.cett.toFixed(4)}`),
        `wrote ${o.out}`,
        '',
      ].join('\n'),
    );
  });
}
