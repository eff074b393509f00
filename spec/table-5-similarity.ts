// TDA Appendix D: Table 5's 13 samples, the similarity of their activation patterns
// (Figure 11) and observations a)–e), on stories260K with tok512.

import { join } from 'node:path';
import type { ClaimCheck, ClaimPart, Verdict } from '../src/proofs/claim.js';
import { layerCosine, similarityMatrix, topFractionJaccard, type LayerPattern } from '../src/proofs/patterns.js';
import { denseActivations, loadRealModel } from '../src/proofs/realmodel.js';
import { heatmapSvg, writeSvg } from '../src/plot/index.js';
import { downColumnNorms } from '../src/reference/ffn.js';
import type { Model } from '../src/core/model.js';
import { TdaStatistic } from '../src/reference/policies/tda.js';
import type { Tokenizer } from '../src/models/tokenizer.js';

/** TDA Table 5, samples 1–13 (index i ↦ TABLE5_SAMPLES[i − 1]); the paper's typographic quotes dropped. */
export const TABLE5_SAMPLES = [
  '### Article: Almost one million people visited the city',
  'Article: Almost one million people visited the city',
  'Almost one million people visited the city',
  '### Article: Nearly one million people visited the city',
  'Nearly one million people visited the city',
  '### Article: Less than one million people visited the city',
  'Less than one million people visited the city',
  '### Article: Almost one million people visited the city',
  '### Article: Almost one million people visited the restaurant',
  'Almost one million people visited the restaurant',
  'Almost one million people visited the planet',
  'Almost one million tourists visited the restaurant',
  'Almost one million aliens visited the planet',
];

/** The fraction of neurons in a layer's pattern mask (TDA and Griffin are compared at 50% sparsity, TDA §5.2). */
export const MASK_FRACTION = 0.5;

/** The activation pattern of a prompt: per layer, TDA's prompt statistic s_i (policies/tda.ts) over [BOS, tokens…]. */
export function tdaPromptPattern(model: Model, tokens: number[]): LayerPattern {
  const acts = denseActivations(model, tokens);
  return model.weights.layers.map((layer, l) => {
    const stat = new TdaStatistic(downColumnNorms(layer.ffn, model.config.dim));
    for (const a of acts[l]) stat.add(a);
    return stat.values();
  });
}

export function table5Patterns(model: Model, tokenizer: Tokenizer): LayerPattern[] {
  return TABLE5_SAMPLES.map((s) => tdaPromptPattern(model, tokenizer.encode(s)));
}

/**
 * Control without context: the same statistic, but every token's activations come from
 * [BOS, token] alone (plus BOS itself, as in the real pattern). Whatever this pattern shares
 * between samples is shared tokens, not sequence context.
 */
export function contextFreePattern(model: Model, tokens: number[]): LayerPattern {
  const alone = tokens.slice(1).map((t) => denseActivations(model, [tokens[0], t]));
  return model.weights.layers.map((layer, l) => {
    const stat = new TdaStatistic(downColumnNorms(layer.ffn, model.config.dim));
    stat.add(alone.length ? alone[0][l][0] : denseActivations(model, [tokens[0]])[l][0]);
    for (const acts of alone) stat.add(acts[l][1]);
    return stat.values();
  });
}

/** Token-overlap baseline: Jaccard of the samples' token sets (no model at all). */
export function tokenOverlap(a: number[], b: number[]): number {
  const A = new Set(a);
  const B = new Set(b);
  let inter = 0;
  for (const t of A) if (B.has(t)) inter++;
  return inter / (A.size + B.size - inter);
}

/** S is 0-indexed; these helpers take the paper's 1-based sample numbers. */
const at = (S: Float64Array[], i: number, j: number) => S[i - 1][j - 1];

interface Observation {
  id: string;
  statement: string;
  /** Each comparison: [description, left value, right value]; the observation holds when every left > right. */
  comparisons(S: Float64Array[]): [string, number, number][];
}

const maxOver = (S: Float64Array[], i: number, js: number[]) => Math.max(...js.map((j) => at(S, i, j)));
const minOver = (S: Float64Array[], i: number, js: number[]) => Math.min(...js.map((j) => at(S, i, j)));
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

export const OBSERVATIONS: Observation[] = [
  {
    id: 'a',
    statement: 'a) Samples 4, 6 and 9 are more similar to Sample 1 than to Samples 2 and 3: for s ∈ {4, 6, 9}, S(s,1) > max(S(s,2), S(s,3)).',
    comparisons: (S) => [4, 6, 9].map((s) => [`S(${s},1) > max S(${s},{2,3})`, at(S, s, 1), maxOver(S, s, [2, 3])]),
  },
  {
    id: 'b',
    statement: 'b) Samples 1, 6, 8 and 9 are more similar to Sample 4 than to Sample 5: for s ∈ {1, 6, 8, 9}, S(s,4) > S(s,5).',
    comparisons: (S) => [1, 6, 8, 9].map((s) => [`S(${s},4) > S(${s},5)`, at(S, s, 4), at(S, s, 5)]),
  },
  {
    id: 'c',
    statement:
      "c) Sample 9 is most similar to Samples 4, 6 and 8: min S(9,{4,6,8}) > max S(9,j) over j ∉ {1,4,6,8,9} (Sample 1 is excluded because it is Sample 8's text).",
    comparisons: (S) => [['min S(9,{4,6,8}) > max S(9, others)', minOver(S, 9, [4, 6, 8]), maxOver(S, 9, [2, 3, 5, 7, 10, 11, 12, 13])]],
  },
  {
    id: 'd',
    statement:
      'd) Samples 11 and 12 are more similar to Samples 9 and 10 than to the city samples 1–8: for s ∈ {11, 12}, min S(s,{9,10}) > max S(s,{1..8}) (Sample 13 is left to observation e).',
    comparisons: (S) => [11, 12].map((s) => [`min S(${s},{9,10}) > max S(${s},{1..8})`, minOver(S, s, [9, 10]), maxOver(S, s, range(1, 8))]),
  },
  {
    id: 'e',
    statement: 'e) Samples 10, 11 and 12 are more similar to Sample 13 than to any other sample: for s ∈ {10, 11, 12}, S(s,13) > max S(s,j) over j ∉ {s, 13}.',
    comparisons: (S) =>
      [10, 11, 12].map((s) => [`S(${s},13) > max S(${s}, others)`, at(S, s, 13), maxOver(S, s, range(1, 12).filter((j) => j !== s))]),
  },
];

export function judgeObservation(o: Observation, S: Float64Array[]): { holds: boolean; margins: number[]; comparisons: [string, number, number][] } {
  const comparisons = o.comparisons(S);
  const margins = comparisons.map(([, l, r]) => l - r);
  return { holds: margins.every((m) => m > 0), margins, comparisons };
}

export const table5: ClaimCheck = {
  id: 'table-5',
  kind: 'real-model',
  seedFree: true,
  title: 'Table 5 / Figure 11: activation-pattern similarity of 13 samples (stories260K)',
  source: [{ paper: 'TDA', section: '§3.4, App. D Table 5, Figure 11' }],
  statement:
    "Prompts that share their beginning have similar activation patterns even when later words change (a synonym, an antonym, a different place), and removing the first tokens changes the pattern more than changing a word: the first tokens (heavy hitters) set the pattern, which supports Claim 4. Observations a)–e) of App. D spell this out on the 13 samples of Table 5.",
  assumptions: [
    'Model: stories260K with tok512 (a 512-piece vocabulary: "### Article:" is split into characters; words like "million" into several pieces). The paper used LLM tokenizers and models; the verdicts are about this model.',
    'Pattern of a sample = what TDA sees after the prompt: per layer, the TDA prompt statistic s_i = sqrt(mean_t (m_{t,i}/‖m_t‖)²), m_{t,i} = |a_{t,i}|·‖W_down[:, i]‖ (src/reference/policies/tda.ts), over all prompt tokens including BOS.',
    `Similarity S(i, j) = mean over the 5 layers of the Jaccard index of the top-${MASK_FRACTION * 100}% neuron sets of the two statistics (the masks TDA would keep at 50% density, the paper's operating point). Secondary: mean over layers of the cosine of the statistics (reported; the verdicts use Jaccard).`,
    'Each observation is turned into strict inequalities between matrix entries (stated in its part); it holds when all of them hold. The computation is deterministic (no sampling), so there is no interval; the smallest margin is reported.',
    'Sample 8 is the same text as Sample 1 in Table 5 (its "similarity threshold"), so S(1,8) = 1 by construction and is not evidence.',
  ],
  computes: 'The 13×13 similarity matrix (Jaccard of top-50% masks and cosine of statistics), its heatmap (Figure 11), and every inequality of observations a)–e) with its margin; the same observations on two controls: context-free patterns (each token alone after BOS) and the Jaccard of the samples’ token sets.',
  refutedBy: 'Any inequality of an observation failing (margin ≤ 0) refutes that observation; for the summary claim, observation a) failing — the one the paper names as the test of Claim 4.',
  async run(ctx) {
    const { model, tokenizer } = loadRealModel();
    const patterns = table5Patterns(model, tokenizer);
    ctx.progress('patterns computed', 0.5);
    const S = similarityMatrix(patterns, (a, b) => topFractionJaccard(a, b, MASK_FRACTION));
    const C = similarityMatrix(patterns, layerCosine);
    const parts: ClaimPart[] = OBSERVATIONS.map((o) => {
      const j = judgeObservation(o, S);
      const c = judgeObservation(o, C);
      return {
        id: o.id,
        statement: o.statement,
        verdict: j.holds ? 'holds' : 'does not hold',
        reason:
          j.comparisons.map(([d, l, r]) => `${d}: ${l.toFixed(3)} vs ${r.toFixed(3)} ${l > r ? '✓' : '✗'}`).join('; ') +
          `. With cosine similarity instead of Jaccard the observation ${c.holds ? 'holds' : 'does not hold'} (smallest margin ${Math.min(...c.margins).toFixed(4)}).`,
        figures: [
          { name: 'smallest margin (Jaccard)', value: Math.min(...j.margins) },
          { name: 'inequalities holding', value: `${j.margins.filter((m) => m > 0).length}/${j.margins.length}` },
          { name: 'holds with cosine', value: c.holds },
        ],
      };
    });
    // Controls: do the observations that hold also hold without context, or from token overlap alone?
    const tokens = TABLE5_SAMPLES.map((t) => tokenizer.encode(t));
    const Sfree = similarityMatrix(tokens.map((t) => contextFreePattern(model, t)), (a, b) => topFractionJaccard(a, b, MASK_FRACTION));
    const Stok = tokens.map((a) => Float64Array.from(tokens, (b) => tokenOverlap(a, b)));
    ctx.progress('controls computed', 0.8);
    const real = OBSERVATIONS.filter((o) => judgeObservation(o, S).holds);
    const controlPart = (id: string, name: string, M: Float64Array[]): ClaimPart => {
      const alsoHold = real.filter((o) => judgeObservation(o, M).holds);
      const margins = real.map((o) => `${o.id}: ${Math.min(...judgeObservation(o, S).margins).toFixed(3)} vs ${Math.min(...judgeObservation(o, M).margins).toFixed(3)}`);
      return {
        id,
        statement: `Control (${name}): the observations that hold on the real patterns (${real.map((o) => o.id).join(', ') || 'none'}) need sequence context — they fail on the ${name}.`,
        verdict: real.length === 0 ? 'inconclusive' : alsoHold.length === real.length ? 'does not hold' : alsoHold.length === 0 ? 'holds' : 'inconclusive',
        reason:
          `On the ${name}, ${alsoHold.length ? `observations ${alsoHold.map((o) => o.id).join(', ')} hold as well` : 'none of them holds'} (smallest margin, real vs control: ${margins.join('; ')}). ` +
          (alsoHold.length === real.length && real.length
            ? 'So these observations are explained without the context the paper credits: shared tokens already order the similarities.'
            : alsoHold.length === 0
              ? 'So the real patterns carry something the shared tokens alone do not.'
              : 'Some observations survive the control, some do not.'),
        figures: real.map((o) => ({ name: `${o.id}: smallest margin on the ${name}`, value: Math.min(...judgeObservation(o, M).margins) })),
      };
    };
    parts.push(
      controlPart('control-context-free', 'context-free patterns (each token alone after BOS)', Sfree),
      controlPart('control-token-overlap', 'token-overlap Jaccard (no model)', Stok),
    );
    const labels = TABLE5_SAMPLES.map((_, i) => String(i + 1));
    const figurePaths = [
      writeSvg(
        join(ctx.figuresDir, 'table-5-similarity-jaccard.svg'),
        await heatmapSvg(S, { title: 'table-5 (TDA Fig. 11): Jaccard of top-50% TDA-statistic masks, mean over layers', rowLabels: labels, colLabels: labels, cellSize: 30, xLabel: 'sample', yLabel: 'sample', valueLabel: 'Jaccard' }),
      ),
      writeSvg(
        join(ctx.figuresDir, 'table-5-similarity-cosine.svg'),
        await heatmapSvg(C, { title: 'table-5: cosine of TDA statistics, mean over layers', rowLabels: labels, colLabels: labels, cellSize: 30, xLabel: 'sample', yLabel: 'sample', valueLabel: 'cosine' }),
      ),
      writeSvg(
        join(ctx.figuresDir, 'table-5-similarity-context-free.svg'),
        await heatmapSvg(Sfree, { title: 'table-5 control: Jaccard of top-50% masks from context-free patterns (each token alone after BOS)', rowLabels: labels, colLabels: labels, cellSize: 30, xLabel: 'sample', yLabel: 'sample', valueLabel: 'Jaccard' }),
      ),
    ];
    const observed = parts.slice(0, OBSERVATIONS.length);
    const holding = observed.filter((p) => p.verdict === 'holds').map((p) => p.id);
    const a = parts[0];
    const verdict: Verdict = holding.length === observed.length ? 'holds' : a.verdict === 'does not hold' ? 'does not hold' : 'inconclusive';
    const offDiag: number[] = [];
    S.forEach((row, i) => row.forEach((v, j) => i < j && !(i === 0 && j === 7) && offDiag.push(v)));
    return {
      verdict,
      reason:
        `Observations holding: ${holding.length ? holding.join(', ') : 'none'} of a–e. ` +
        `The paper's test of Claim 4 is observation a) (Sample 4 closer to 1 than to 2 and 3): ${a.verdict}. ` +
        `Off-diagonal Jaccard similarities range ${Math.min(...offDiag).toFixed(3)}–${Math.max(...offDiag).toFixed(3)} (chance level for two random 50% masks ≈ 0.33). ` +
        `Controls — context-free patterns: ${parts[OBSERVATIONS.length].verdict}; token overlap: ${parts[OBSERVATIONS.length + 1].verdict} (see the control steps: an observation that also holds without context is no evidence of activation inertia). ` +
        (verdict === 'holds' ? 'All five observations hold.' : verdict === 'does not hold' ? 'The shared-prefix effect the paper reads as activation inertia is not what orders the similarities in this model.' : 'Observation a) holds but not all the others do.'),
      figures: [
        { name: 'observations holding', value: `${holding.length}/5` },
        { name: 'S(4,1)', value: at(S, 4, 1) },
        { name: 'S(4,2)', value: at(S, 4, 2) },
        { name: 'S(4,3)', value: at(S, 4, 3) },
        { name: 'S(1,3) (remove "### Article:")', value: at(S, 1, 3) },
        { name: 'S(10,13)', value: at(S, 10, 13) },
      ],
      parts,
      figurePaths,
    };
  },
};
