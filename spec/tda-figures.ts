// TDA §3.4 Figures 6–9 and Appendix C Figure 10, drawn from the kit's model. The paper
// takes the first 16 tokens of a text and plots neuron index (horizontal) against token
// index (vertical), the text fed token by token in parallel (each token alone) and as a
// sequence, for a sentence and for random tokens (the four panels of MOYU Fig. 2a–d);
// Figure 10 repeats it at a larger scale with samples (vertical) against neurons.
// One layer per figure (the middle one): stacking every layer hides the vertical lines.

import { join } from 'node:path';
import { rowMaxNormalised, topKAbs } from '../src/proofs/patterns.js';
import { heatmapSvg, writeSvg } from '../src/plot/index.js';

export interface InertiaSample {
  group: 'sentence' | 'random';
  /** Activations of the figure's layer, one row per token. */
  parallel: Float32Array[];
  sequential: Float32Array[];
}

export interface FigureInputs {
  layer: number;
  /** Top-k per token for Figure 10's activation frequency. */
  k: number;
  /** The first sentence and the first random list, with their token labels. */
  first: { sentence: InertiaSample; random: InertiaSample; sentenceTokens: string[]; randomTokens: string[] };
  samples: InertiaSample[];
  model: string;
}

const PANELS = [
  { figure: 6, group: 'sentence', input: 'parallel', label: 'a sentence, each token alone (parallel)' },
  { figure: 7, group: 'sentence', input: 'sequential', label: 'a sentence as a sequence' },
  { figure: 8, group: 'random', input: 'parallel', label: 'random tokens, each alone (parallel)' },
  { figure: 9, group: 'random', input: 'sequential', label: 'random tokens as a sequence' },
] as const;

/** Share of a sample's tokens for which each neuron is among the top k by |a|. */
function topKFrequency(rows: Float32Array[], k: number): Float64Array {
  const f = new Float64Array(rows[0].length);
  for (const r of rows) for (const j of topKAbs(r, k)) f[j] += 1 / rows.length;
  return f;
}

/** Writes tda-figure-6.svg … tda-figure-10.svg into `dir`; returns their paths. */
export async function writeTdaFigures(dir: string, x: FigureInputs): Promise<string[]> {
  const paths: string[] = [];
  for (const p of PANELS) {
    const rows = x.first[p.group][p.input];
    const labels = (p.group === 'sentence' ? x.first.sentenceTokens : x.first.randomTokens).map((t, i) => `${i} ${t}`);
    paths.push(
      writeSvg(
        join(dir, `tda-figure-${p.figure}.svg`),
        await heatmapSvg(rowMaxNormalised(rows), {
          title: `TDA Figure ${p.figure} on ${x.model}: ${p.label}; layer ${x.layer}, |a| / max per token`,
          xLabel: 'neuron index',
          yLabel: 'token index',
          rowLabels: labels,
          valueLabel: '|a| / max',
          min: 0,
          max: 1,
          cellSize: 4,
          cellHeight: 14,
        }),
      ),
    );
  }
  const groups = ['sentence', 'random'] as const;
  const inputs = ['parallel', 'sequential'] as const;
  const rows: Float64Array[] = [];
  const rowLabels: string[] = [];
  for (const g of groups) {
    for (const input of inputs) {
      x.samples
        .filter((s) => s.group === g)
        .forEach((s, i) => {
          rows.push(topKFrequency(s[input], x.k));
          rowLabels.push(`${g} ${i + 1}, ${input}`);
        });
    }
  }
  paths.push(
    writeSvg(
      join(dir, 'tda-figure-10.svg'),
      await heatmapSvg(rows, {
        title: `TDA Figure 10 on ${x.model} (layer ${x.layer}): share of each sample's tokens with the neuron in its top ${x.k}`,
        xLabel: 'neuron index',
        yLabel: 'sample',
        rowLabels,
        valueLabel: 'share of tokens',
        min: 0,
        max: 1,
        cellSize: 4,
        cellHeight: 14,
      }),
    ),
  );
  return paths;
}
