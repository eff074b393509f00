// Claim 1, first half: with E[V] = 0 the expected CE gradient with respect to a positive
// pre-activation is positive, so gradient descent tends to shrink positive activations.
// MOYU §3 Eq 1–6 / TDA §3.1 Claim 1, Eq 1–5 (and App. B, Eq 10–13 = MOYU Eq 5).

import { join } from 'node:path';
import { holm, signOfInterval, type ClaimCheck, type ClaimPart, type Figure } from '../src/proofs/claim.js';
import { estimateExpectedGrad, V_DISTRIBUTIONS, Y_DISTRIBUTIONS, type McSetup } from '../src/proofs/ce-gradient.js';
import { Rng } from '../src/proofs/rng.js';
import { meanCI, twoSidedP } from '../src/proofs/stats.js';
import { sparsityExperiment } from '../src/proofs/sparsity-training.js';
import { heatmapSvg, linePlotSvg, writeSvg } from '../src/plot/index.js';

export const claim1: ClaimCheck = {
  id: 'claim-1',
  kind: 'simulation',
  title: 'Positive pre-activations get a positive expected CE gradient',
  source: [
    { paper: 'MOYU', section: '§3', equations: 'Eq 1–6' },
    { paper: 'TDA', section: '§3.1 Claim 1, App. B', equations: 'Eq 1–5, 10–13' },
  ],
  statement:
    'For f = V·σ(p) trained with cross-entropy, if V has independent zero-mean entries (not a.s. zero) and the target y sums to one and is independent of V, then E[∂ℓ/∂p_i*] > 0 for any p_i* > 0; so descent on the loss tends to shrink positive activations, which the papers read as the origin of activation sparsity.',
  assumptions: [
    'Expectation over a random V (entries independent, mean 0, P(entry = 0) < 1), with y and the other pre-activations independent of V — i.e. a statement about a random (e.g. freshly initialised) last layer, not a trained one.',
    'σ is ReLU (σ = p, σ′ = 1 for p > 0) as in MOYU Eq 5; the Swish gate is treated in claim-1-relu-vs-swiglu.',
    'Monte-Carlo: 6 distributions of V (Gaussian, uniform, Rademacher, skewed centred exponential, 90%-sparse, Student-t₃), 3 of y (one-hot, uniform on the simplex, signed entries summing to 1), V scales 1 and 0.05, p_i* ∈ {0.5, 2}; other p_i ~ N(0,1); d_out = d_ff = 8.',
  ],
  computes:
    'Monte-Carlo estimates of E[∂ℓ/∂p_i*] with 95% CIs per cell, by the plain mean and by a control-variate mean (first term of MOYU Eq 4 only, valid because the second term has mean 0 under the assumptions); P(∂ℓ/∂p_i* > 0); the same with the zero-mean assumption broken; and the training consequence on tiny ReLU nets.',
  refutedBy:
    'Any assumption-satisfying cell whose CI lies below 0 (or a plain-mean CI below 0); a violation of E[V]=0 that leaves the sign unchanged would show the assumption is not what the argument uses; for the consequence, ReLU sparsity not rising during training.',
  async run(ctx) {
    const n = ctx.heavy ? 100_000 : 10_000;
    const dims = ctx.heavy ? { dOut: 32, dFf: 16 } : { dOut: 8, dFf: 8 };
    const ps = ctx.heavy ? [0.1, 0.5, 2, 5] : [0.5, 2];
    const scales = [1, 0.05];
    const root = new Rng(ctx.seed).fork('claim-1');
    const vNames = Object.keys(V_DISTRIBUTIONS);
    const yNames = Object.keys(Y_DISTRIBUTIONS);
    const total = vNames.length * yNames.length * scales.length * ps.length;
    let done = 0;
    let cvPositive = 0;
    // "holds" needs every cell's own CI above 0 (an intersection-union test: no correction needed);
    // "does not hold" needs a cell below 0 after Holm over all cells (so 72 tests cannot refute by chance).
    const cells: { mean: number; p: number }[] = [];
    let rawExcludes0 = 0;
    let rawBelow0 = 0;
    let secondExcludes0 = 0;
    let minPos = 1;
    let maxPos = 0;
    let minT = Infinity;
    let worst = '';
    const tRows: number[][] = [];
    const rowLabels: string[] = [];
    for (const vn of vNames) {
      for (const yn of yNames) {
        const row: number[] = [];
        for (const scale of scales) {
          for (const p of ps) {
            const setup: McSetup = { vDist: V_DISTRIBUTIONS[vn], yDist: Y_DISTRIBUTIONS[yn], ...dims, vScale: scale, iStar: 0, n };
            const e = estimateExpectedGrad(root.fork(`${vn}|${yn}|${scale}|${p}`), setup, 'relu', p);
            const cv = signOfInterval(e.firstTerm.ci());
            if (cv === true) cvPositive++;
            cells.push({ mean: e.firstTerm.mean, p: twoSidedP(e.firstTerm.mean, e.firstTerm.se) });
            const raw = signOfInterval(e.raw.ci());
            if (raw !== null) rawExcludes0++;
            if (raw === false) rawBelow0++;
            if (signOfInterval(e.secondTerm.ci()) !== null) secondExcludes0++;
            minPos = Math.min(minPos, e.fractionPositive);
            maxPos = Math.max(maxPos, e.fractionPositive);
            const t = e.firstTerm.mean / e.firstTerm.se;
            row.push(t);
            if (t < minT) (minT = t), (worst = `${vn}, y ${yn}, scale ${scale}, p ${p}`);
            ctx.progress(`Monte-Carlo cell ${++done}/${total}`, (0.6 * done) / total);
          }
        }
        tRows.push(row);
        rowLabels.push(`${vn} / ${yn}`);
      }
    }
    const adjustedCells = holm(cells.map((c) => c.p));
    const cvNegative = cells.filter((c, i) => c.mean < 0 && adjustedCells[i] < 0.05).length;
    const partA: ClaimPart = {
      id: 'a',
      sample: { n, unit: `Monte-Carlo draws per cell (${total} cells)` },
      statement: 'E[∂ℓ/∂p_i*] > 0 for p_i* > 0 under the stated assumptions (MOYU Eq 4–6 / TDA Eq 2–5)',
      verdict: cvNegative > 0 ? 'does not hold' : cvPositive === total ? 'holds under stated assumptions' : 'inconclusive',
      reason:
        `All ${total} cells were estimated with ${n} samples each. The control-variate CI lies above 0 in ${cvPositive}/${total} cells (below 0 in ${cvNegative}). ` +
        `The plain estimator's CI excludes 0 in only ${rawExcludes0}/${total} cells (below 0 in ${rawBelow0}): the drift is small next to the noise of the second term ⟨v, y⟩, ` +
        `and a single sampled gradient is positive with probability only ${minPos.toFixed(3)}–${maxPos.toFixed(3)} (the low end from the 90%-sparse V, whose gradient is often exactly 0) — the statement is about the mean over random V, not about any one gradient. ` +
        `The argument is sound: conditional on everything else, softmax_m is increasing in v_{i*,m}, so E[v·softmax] = Cov(v, softmax) > 0 (Chebyshev's association inequality); our estimates agree.`,
      figures: [
        { name: 'cells with control-variate CI > 0', value: `${cvPositive}/${total}` },
        { name: 'cells with plain CI excluding 0', value: `${rawExcludes0}/${total}` },
        { name: 'smallest t-statistic (control variate)', value: minT, unit: `(${worst})` },
        { name: 'P(single gradient > 0), range', value: `${minPos.toFixed(3)}–${maxPos.toFixed(3)}` },
        { name: 'cells where the second term’s CI excludes 0 (expect ≈5%)', value: `${secondExcludes0}/${total}` },
      ],
    };

    // b) the role of E[V] = 0: a common mean cancels (softmax − y sums to 0); a row mean aligned with y flips the sign.
    const dOut = dims.dOut;
    const yAt0 = new Float64Array(dOut);
    yAt0[0] = 1;
    const base: McSetup = { vDist: V_DISTRIBUTIONS.gaussian, yDist: Y_DISTRIBUTIONS['one-hot'], ...dims, vScale: 1, iStar: 0, n, yFixed: yAt0 };
    const common = estimateExpectedGrad(root.fork('common-mean'), { ...base, vMean: () => 0.5 }, 'relu', 0.5);
    const aligned = estimateExpectedGrad(root.fork('aligned-mean'), { ...base, vMean: (m) => (m === 0 ? 1 : -1 / (dOut - 1)) }, 'relu', 0.5);
    const cs = signOfInterval(common.raw.ci());
    const as = signOfInterval(aligned.raw.ci());
    ctx.progress('zero-mean assumption', 0.65);
    const partB: ClaimPart = {
      id: 'b',
      sample: { n, unit: 'Monte-Carlo draws per setting' },
      statement: 'The zero-mean assumption on V is what removes the second term of MOYU Eq 4 (breaking it can flip the sign)',
      verdict: cs === true && as === false ? 'holds' : cs === null || as === null ? 'inconclusive' : 'does not hold',
      reason:
        `With every entry of V shifted by the same +0.5 the expected gradient stays positive (mean ${common.raw.mean.toFixed(3)}), because softmax(f) − y sums to 0 and so ignores a shift common to all outputs: the assumption is stronger than needed. ` +
        `With a mean of +1 on the output row the target sits on (−1/(d_out−1) elsewhere) the expected gradient is ${aligned.raw.mean.toFixed(3)}: negative, so positive activations would grow. The check can fail, and E[V]=0 (or at least no mean aligned with y) is load-bearing.`,
      figures: [
        { name: 'E[∂ℓ/∂p], common mean +0.5', value: common.raw.mean, ci: common.raw.ci() },
        { name: 'E[∂ℓ/∂p], mean aligned with y', value: aligned.raw.mean, ci: aligned.raw.ci() },
      ],
    };

    // c) the consequence: does training shrink positive activations / raise ReLU sparsity?
    const exp = sparsityExperiment(ctx.seed, ctx.heavy, (m, f) => ctx.progress(m, 0.65 + 0.35 * (f ?? 0)));
    const relu = exp.traces.relu;
    const dZero = meanCI(relu.map((t) => t.sparsity[t.sparsity.length - 1].exactZero - t.sparsity[0].exactZero));
    const dPos = meanCI(relu.map((t) => t.meanPositivePre[t.meanPositivePre.length - 1] - t.meanPositivePre[0]));
    const grew = dPos.lo > 0;
    const sparser = dZero.lo > 0;
    const partC: ClaimPart = {
      id: 'c',
      sample: { n: exp.config.seeds, unit: 'trained nets' },
      statement: 'Consequence: gradient descent shrinks positive activations and raises sparsity (tiny ReLU nets, synthetic teacher task)',
      verdict: sparser && !grew ? 'holds' : !sparser && grew ? 'does not hold' : 'inconclusive',
      reason:
        `Over ${exp.config.steps} full-batch GD steps (${exp.config.seeds} seeds, d_in ${exp.config.dIn}, d_ff ${exp.config.dFf}) the fraction of exactly-zero ReLU activations changed by ${dZero.mean.toFixed(4)} [${dZero.lo.toFixed(4)}, ${dZero.hi.toFixed(4)}] ` +
        `while the mean positive pre-activation changed by ${dPos.mean.toFixed(3)} [${dPos.lo.toFixed(3)}, ${dPos.hi.toFixed(3)}]. ` +
        (grew
          ? 'Positive activations grew instead of shrinking: once training starts, V is no longer independent of y, so the random-V expectation says nothing about the trained network. The sparsity of large trained transformers may have other causes; this tiny setting does not show the mechanism.'
          : 'See the figures.'),
      figures: [
        { name: 'Δ exact-zero fraction (ReLU)', value: dZero.mean, ci: [dZero.lo, dZero.hi] },
        { name: 'Δ mean positive pre-activation (ReLU)', value: dPos.mean, ci: [dPos.lo, dPos.hi] },
      ],
    };

    const figurePaths = [
      writeSvg(
        join(ctx.figuresDir, 'claim-1-tstat.svg'),
        await heatmapSvg(tRows, {
          title: 'claim-1: t-statistic of E[dl/dp] (control variate) per cell',
          rowLabels,
          colLabels: scales.flatMap((s) => ps.map((p) => `s${s} p${p}`)),
          xLabel: 'V scale, p_i*',
          valueLabel: 't-statistic',
        }),
      ),
      writeSvg(
        join(ctx.figuresDir, 'claim-1-positive-preactivation.svg'),
        await linePlotSvg(
          relu.map((t, i) => ({ name: `ReLU seed ${i}`, xs: t.steps, ys: t.meanPositivePre })),
          { title: 'claim-1c: mean positive pre-activation during GD (ReLU)', xLabel: 'step', yLabel: 'mean p | p > 0' },
        ),
      ),
    ];
    const parts = [partA, partB, partC];
    const figures: Figure[] = [partA.figures[0], partA.figures[1], partB.figures[1], partC.figures[1]];
    return {
      sample: partA.sample,
      verdict: partA.verdict === 'holds under stated assumptions' && partB.verdict === 'holds' ? 'holds under stated assumptions' : partA.verdict,
      reason:
        `The expectation statement holds under its assumptions (part a, ${cvPositive}/${total} cells positive) and the zero-mean assumption is load-bearing (part b). ` +
        `It is a statement about a random last layer: the per-sample sign is close to a coin flip and the plain estimator needs many samples to see it. ` +
        `The consequence the papers draw for training (part c) ${partC.verdict === 'holds' ? 'was observed' : partC.verdict === 'does not hold' ? 'was not observed in tiny ReLU nets: positive activations grew' : 'was not resolved'} — the verdict covers the expectation, not the training story.`,
      figures,
      parts,
      figurePaths,
    };
  },
};

export default claim1;
