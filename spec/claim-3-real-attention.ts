// Claim 3 on the model's own attention: do heavy hitters (H2O's accumulated attention
// scores) exist in the real model, and are they the same positions across unrelated
// prompts — i.e. fixed by position, not by what the text says? MOYU §4.2 / TDA §3.3
// Claim 3, Def. 4 take both for granted (after H2O); claim-3 checks only the set algebra.

import { join } from 'node:path';
import { holm, type ClaimCheck, type ClaimPart, type Verdict } from '../src/proofs/claim.js';
import {
  accumulatedScores,
  causalUniformRows,
  recordingAttention,
  shuffledRows,
  topShare,
  type AttentionMaps,
} from '../src/proofs/attention-scores.js';
import { sampledTexts } from '../src/proofs/forced.js';
import { jaccard, topKAbs } from '../src/proofs/patterns.js';
import { loadRealModel } from '../src/proofs/realmodel.js';
import { Rng } from '../src/proofs/rng.js';
import { meanCI, tTestP, type MeanCI } from '../src/proofs/stats.js';
import { heatmapSvg, writeSvg } from '../src/plot/index.js';
import type { Model } from '../src/core/model.js';
import { Decoder } from '../src/reference/decoder.js';
import { recordingPolicy } from '../src/reference/calibrate.js';
import { referenceKernels } from '../src/reference/kernels.js';
import { BOS } from '../src/models/tokenizer.js';

/**
 * Tokens per prompt (BOS included); the last QUERIES queries are summed over the first
 * KEYS keys, which all of them see (no causal head start); K heavy hitters per
 * (layer, head) of those keys (H2O keeps ~10–20% of the cache).
 */
const T = 48;
const KEYS = 32;
const QUERIES = T - KEYS;
const K = 4;

const ci = (m: MeanCI, d = 3) => `${m.mean.toFixed(d)} [${m.lo.toFixed(d)}, ${m.hi.toFixed(d)}]`;
const above0 = (m: MeanCI, p: number): Verdict => (m.mean > 0 && p < 0.05 ? 'holds' : m.mean < 0 && p < 0.05 ? 'does not hold' : 'inconclusive');

/** Attention probabilities of every layer and head over one dense prompt pass. */
function attentionMaps(model: Model, tokens: number[]): AttentionMaps {
  const { kernels, maps } = recordingAttention(referenceKernels, model.config.nLayers);
  const decoder = new Decoder(model, kernels);
  const dense = recordingPolicy(() => {});
  tokens.forEach((t, pos) => decoder.forward(t, pos, 'prefill', dense));
  return maps;
}

/** Per (layer, head): the accumulated scores of the real rows and of their shuffled control. */
function scoresOf(maps: AttentionMaps, rng: Rng): { real: Float64Array[]; shuffled: Float64Array[] } {
  const real: Float64Array[] = [];
  const shuffled: Float64Array[] = [];
  for (const heads of maps) {
    for (const rows of heads) {
      real.push(accumulatedScores(rows, KEYS, KEYS));
      shuffled.push(accumulatedScores(shuffledRows(rows, rng, KEYS), KEYS, KEYS));
    }
  }
  return { real, shuffled };
}

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

export const claim3RealAttention: ClaimCheck = {
  id: 'claim-3-real-attention',
  kind: 'real-model',
  title: 'Heavy hitters in the model’s own attention: they exist, and sit at the same positions across unrelated prompts',
  source: [
    { paper: 'MOYU', section: '§4.2 (after H2O)' },
    { paper: 'TDA', section: '§3.3 Claim 3, Def. 4' },
  ],
  statement:
    'Attention has heavy hitters — a few key positions that collect a large share of the accumulated attention score — and (the papers’ reading: the mask is decided by the sequence, not by the semantics of the current token) they are the same positions whatever the prompt says.',
  assumptions: [
    `Heavy hitters as in H2O: per layer and head, the accumulated score of key j is Σ_i p_ij. H2O sums over all causal queries, which favours early keys (seen by more queries) even under uniform attention; here the sum runs over the last ${QUERIES} queries of a ${T}-token prompt and the first ${KEYS} keys, which every one of them sees. The heavy hitters are the top ${K} of those ${KEYS} keys (BOS included), ties to the lower position.`,
    `Control: each of those rows’ probabilities over the ${KEYS} keys shuffled among them — keeps every row’s values (its peakedness) and destroys agreement between rows; uniform rows give the floor ${K}/${KEYS}.`,
    'Prompts: dense samples of the model (temperature 1, top-p 0.9, seeded) and, for the content-free comparison, lists of random non-byte tokens after BOS, one per sample. Unrelated prompts: consecutive samples paired.',
    'Intervals: 95% t-intervals over prompts (pairs) of the per-prompt mean over all layers and heads; Holm over the three steps.',
  ],
  computes:
    'The attention probabilities of every layer and head over each prompt (recomputed from q and the key cache); per (layer, head) the accumulated scores, their top-k share and heavy-hitter set, for the real rows and the shuffled control; the paired differences real − control in top-k share, in heavy-hitter overlap between unrelated samples, and between a sample and a random token list.',
  refutedBy:
    'A top-k share of the real attention not above the shuffled control (no heavy hitters beyond peaked rows); heavy-hitter sets of unrelated prompts overlapping no more than the control’s (then they would depend on the text).',
  async run(ctx) {
    const { model } = loadRealModel();
    const prompts = ctx.heavy ? 64 : 24;
    const rng = new Rng(ctx.seed).fork('claim-3-real-attention');
    const texts = sampledTexts(model, prompts, T, 0, ctx.seed + 3000).map((t) => t.tokens.slice(0, T));
    ctx.progress('samples drawn', 0.3);
    const vocab = model.config.vocabSize;
    const randomLists = texts.map(() => [BOS, ...Array.from({ length: T - 1 }, () => 259 + rng.int(vocab - 259))]);

    const causalShare = topShare(accumulatedScores(causalUniformRows(T)), K);
    const perText = texts.map((tokens, i) => {
      const s = scoresOf(attentionMaps(model, tokens), rng);
      const r = scoresOf(attentionMaps(model, randomLists[i]), rng);
      ctx.progress(`prompt ${i + 1}/${prompts}`, 0.3 + (0.7 * (i + 1)) / prompts);
      return { s, r };
    });
    const heads = perText[0].s.real.length;
    const sets = (scores: Float64Array[]) => scores.map((a) => topKAbs(a, K));

    // a) existence: top-k share of the real accumulated scores vs the shuffled control.
    const share = perText.map(({ s }) => mean(s.real.map((a) => topShare(a, K))));
    const shareShuffled = perText.map(({ s }) => mean(s.shuffled.map((a) => topShare(a, K))));
    const dShare = meanCI(share.map((x, i) => x - shareShuffled[i]));
    const bosShare = mean(perText.map(({ s }) => mean(s.real.map((a) => a[0] / a.reduce((x, y) => x + y, 0) || 0))));
    const bosIsHeavy = mean(perText.map(({ s }) => mean(sets(s.real).map((h) => (h.includes(0) ? 1 : 0)))));
    // How often each key position is a heavy hitter, over prompts and layer·heads.
    const frequency = new Float64Array(KEYS);
    for (const { s } of perText) for (const h of sets(s.real)) for (const j of h) frequency[j] += 1 / (prompts * s.real.length);
    const commonest = Array.from(topKAbs(frequency, 3)).sort((a, b) => frequency[b] - frequency[a]);
    const commonText = commonest.map((j) => `${j} (${(100 * frequency[j]).toFixed(0)}%)`).join(', ');

    // b) unrelated samples: overlap of heavy-hitter positions, per (layer, head), real vs control.
    const pairOverlap = (get: (p: (typeof perText)[number]) => Float64Array[], i: number, j: number) => {
      const a = sets(get(perText[i]));
      const b = sets(get(perText[j]));
      return mean(a.map((h, x) => jaccard(h, b[x])));
    };
    const pairs = Array.from({ length: Math.floor(prompts / 2) }, (_, i) => [2 * i, 2 * i + 1] as const);
    const overlap = pairs.map(([i, j]) => pairOverlap((p) => p.s.real, i, j));
    const overlapShuffled = pairs.map(([i, j]) => pairOverlap((p) => p.s.shuffled, i, j));
    const dOverlap = meanCI(overlap.map((x, i) => x - overlapShuffled[i]));

    // c) content-free: a sample against a random token list of the same length.
    const overlapWith = (a: Float64Array[], b: Float64Array[]) => {
      const other = sets(b);
      return mean(sets(a).map((h, x) => jaccard(h, other[x])));
    };
    const cross = perText.map(({ s, r }) => overlapWith(s.real, r.real));
    const crossShuffled = perText.map(({ s, r }) => overlapWith(s.shuffled, r.shuffled));
    const dCross = meanCI(cross.map((x, i) => x - crossShuffled[i]));

    const adjusted = holm([dShare, dOverlap, dCross].map(tTestP));
    const unit = `prompts of ${T} tokens (${heads} layer·heads each)`;
    const partA: ClaimPart = {
      id: 'exist',
      sample: { n: prompts, unit },
      statement: `Heavy hitters exist: the top ${K} of ${T} positions hold more of the accumulated attention than under the shuffled control.`,
      verdict: above0(dShare, adjusted[0]),
      reason:
        `Top-${K} share of the accumulated score: real ${mean(share).toFixed(3)}, shuffled rows ${mean(shareShuffled).toFixed(3)}, uniform ${(K / KEYS).toFixed(3)}; ` +
        `paired real − shuffled ${ci(dShare)} (Holm p ${adjusted[0].toPrecision(2)}). BOS (position 0) holds ${(100 * bosShare).toFixed(1)}% of the accumulated score on average and is a heavy hitter in ${(100 * bosIsHeavy).toFixed(0)}% of layer·heads.`,
      figures: [
        { name: `top-${K} share, real`, value: mean(share) },
        { name: `top-${K} share, shuffled control`, value: mean(shareShuffled) },
        { name: `top-${K} share, uniform rows`, value: K / KEYS },
        { name: `top-${K} share of H2O's full causal sum under uniform rows (the causal head start avoided here)`, value: causalShare },
        { name: 'real − shuffled', value: dShare.mean, ci: [dShare.lo, dShare.hi] },
        { name: 'share of the accumulated score at BOS', value: bosShare },
        { name: 'commonest heavy-hitter positions', value: commonText },
      ],
    };
    const partB: ClaimPart = {
      id: 'same-positions',
      sample: { n: pairs.length, unit: `pairs of unrelated samples (${heads} layer·heads each)` },
      statement: 'Unrelated prompts have the same heavy-hitter positions: their overlap (Jaccard, per layer·head) exceeds the shuffled control’s.',
      verdict: above0(dOverlap, adjusted[1]),
      reason: `Jaccard of heavy-hitter positions between unrelated samples: real ${mean(overlap).toFixed(3)}, shuffled ${mean(overlapShuffled).toFixed(3)}; paired difference ${ci(dOverlap)} (Holm p ${adjusted[1].toPrecision(2)}).`,
      figures: [
        { name: 'Jaccard between samples, real', value: mean(overlap) },
        { name: 'Jaccard between samples, shuffled control', value: mean(overlapShuffled) },
        { name: 'real − shuffled', value: dOverlap.mean, ci: [dOverlap.lo, dOverlap.hi] },
      ],
    };
    const partC: ClaimPart = {
      id: 'content-free',
      sample: { n: prompts, unit: 'sample / random-token-list pairs' },
      statement: 'Semantics-free: a sample and a list of random tokens share their heavy-hitter positions beyond the shuffled control.',
      verdict: above0(dCross, adjusted[2]),
      reason: `Jaccard between a sample and a random token list: real ${mean(cross).toFixed(3)}, shuffled ${mean(crossShuffled).toFixed(3)}; paired difference ${ci(dCross)} (Holm p ${adjusted[2].toPrecision(2)}). Text carries no meaning in the random lists, so overlap here is fixed by position (and BOS).`,
      figures: [
        { name: 'Jaccard sample vs random list, real', value: mean(cross) },
        { name: 'Jaccard sample vs random list, shuffled control', value: mean(crossShuffled) },
        { name: 'real − shuffled', value: dCross.mean, ci: [dCross.lo, dCross.hi] },
      ],
    };
    const parts = [partA, partB, partC];
    const verdict: Verdict = parts.every((p) => p.verdict === 'holds')
      ? 'holds'
      : partA.verdict === 'does not hold' || (partB.verdict === 'does not hold' && partC.verdict === 'does not hold')
        ? 'does not hold'
        : 'inconclusive';

    // Figure: the accumulated scores of the first sample, per layer·head, real and shuffled.
    const first = perText[0].s;
    const normalise = (a: Float64Array) => Array.from(a, (x) => x / Math.max(...a));
    const rowLabels = first.real.map((_, i) => `L${Math.floor(i / (heads / model.config.nLayers))} H${i % (heads / model.config.nLayers)}`);
    const figurePaths = [
      writeSvg(
        join(ctx.figuresDir, 'claim-3-accumulated-attention.svg'),
        await heatmapSvg([...first.real.map(normalise), ...first.shuffled.map(normalise)], {
          title: `claim-3 on ${loadRealModel().name}: accumulated attention per key position (÷ row max); top: real, bottom: shuffled control`,
          xLabel: `key position (0 = BOS), summed over queries ${KEYS}–${T - 1}`,
          yLabel: 'layer · head',
          rowLabels: [...rowLabels, ...rowLabels.map((l) => `${l} (shuffled)`)],
          valueLabel: 'score / max',
          min: 0,
          max: 1,
          cellSize: 14,
        }),
      ),
    ];
    return {
      verdict,
      sample: { n: prompts, unit },
      reason:
        `On the model's own attention, heavy hitters ${partA.verdict === 'holds' ? 'exist' : partA.verdict === 'does not hold' ? 'do not exist' : 'are not resolved'} beyond the shuffled control (step exist); ` +
        `their positions ${partB.verdict === 'holds' ? 'recur' : partB.verdict === 'does not hold' ? 'do not recur' : 'are not resolved'} across unrelated samples and ${partC.verdict === 'holds' ? 'are shared' : partC.verdict === 'does not hold' ? 'are not shared' : 'are not resolved'} with random token lists. ` +
        `The commonest heavy-hitter positions (share of layer·heads and prompts where the position is one): ${commonText}; BOS holds ${(100 * bosShare).toFixed(1)}% of the counted score. This is about attention; whether it fixes the FFN mask is claim 4's question.`,
      figures: [partA.figures[0], partA.figures[1], partB.figures[2], partC.figures[2]],
      parts,
      figurePaths,
    };
  },
};

export default claim3RealAttention;
