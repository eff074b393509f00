// The spec's machinery on cases with known answers: estimators, correlations, gradients
// (against finite differences), the importance recursion, the heavy-hitter predicates,
// the figures, the decision rules and the report writer.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ceGradPre, ceLoss, comparePaired, estimateExpectedGrad, swish, swishDeriv, swishGap, V_DISTRIBUTIONS, Y_DISTRIBUTIONS, type CeProblem } from '../src/proofs/ce-gradient.js';
import { acrossSeeds, formatSource, holm, signOfInterval, twoMeasures, type ClaimCheck } from '../src/proofs/claim.js';
import { checkGoodMapping, goodMapArbitrary, isGoodRow, suppTau, vacuousAfter } from '../src/proofs/heavy-hitters.js';
import { accumulateImportance, perNeuron, weightMagnitude } from '../src/proofs/importance.js';
import { compareVerdicts, renderMarkdown, reportJson, runChecks } from '../src/proofs/report.js';
import { estimateSpecSeconds, formatDuration, forwardParams } from '../src/proofs/estimate.js';
import type { Model } from '../src/core/model.js';
import { Rng } from '../src/proofs/rng.js';
import { bootstrapMeanCI, meanCI, normalCdf, pearson, ranks, RunningMean, spearman, studentTwoSidedP, tQuantile975, twoSidedP } from '../src/proofs/stats.js';
import { heatmapSvg, linePlotSvg } from '../src/plot/index.js';
import { activationSparsity, batchLoss, batchLossAndGrad, initTinyNet, teacherDataset, type Activation } from '../src/proofs/tinynet.js';

describe('rng and estimators', () => {
  it('the rng is deterministic per seed and forks are independent of position', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    expect([a.uniform(), a.uniform()]).toEqual([b.uniform(), b.uniform()]);
    expect(a.fork('x').uniform()).toBe(new Rng(7).fork('x').uniform());
    expect(new Rng(7).fork('x').uniform()).not.toBe(new Rng(7).fork('y').uniform());
  });

  it('the Monte-Carlo mean of known distributions lies inside its CI (99.95% here), and 95% CIs cover ≈95% of the time', () => {
    const r = new Rng(3);
    const cases: [string, () => number, number][] = [
      ['normal(2,1)', () => 2 + r.normal(), 2],
      ['uniform', () => r.uniform(), 0.5],
      ['exp(1)', () => r.exponential(), 1],
      ['chi2(3)', () => r.chiSquare(3), 3],
    ];
    for (const [name, draw, mu] of cases) {
      const m = new RunningMean();
      for (let i = 0; i < 20000; i++) m.push(draw());
      // a single 95% interval misses 1 time in 20; a 3.5-standard-error interval essentially never
      expect(Math.abs(m.mean - mu) / m.se, name).toBeLessThan(3.5);
      expect(m.se, name).toBeLessThan(0.05);
    }
    let covered = 0;
    for (let rep = 0; rep < 400; rep++) {
      const xs = Array.from({ length: 30 }, () => r.normal());
      const c = meanCI(xs);
      if (c.lo < 0 && c.hi > 0) covered++;
    }
    expect(covered / 400).toBeGreaterThan(0.91);
    expect(covered / 400).toBeLessThan(0.985);
  });

  it('every V distribution has mean 0 and variance 1', () => {
    const r = new Rng(11);
    for (const [name, draw] of Object.entries(V_DISTRIBUTIONS)) {
      const m = new RunningMean();
      for (let i = 0; i < 100000; i++) m.push(draw(r));
      expect(Math.abs(m.mean), name).toBeLessThan(4 * m.se);
      expect(m.variance, name).toBeGreaterThan(name.startsWith('student') ? 0.8 : 0.95);
      expect(m.variance, name).toBeLessThan(name.startsWith('student') ? 1.2 : 1.05);
    }
    for (const [name, draw] of Object.entries(Y_DISTRIBUTIONS)) {
      const y = draw(r, 8);
      expect(y.reduce((a, b) => a + b, 0), name).toBeCloseTo(1, 12);
    }
  });

  it('t quantiles and correlations match known values', () => {
    expect(tQuantile975(1)).toBeCloseTo(12.706, 3);
    expect(tQuantile975(10)).toBeCloseTo(2.228, 2);
    expect(tQuantile975(30)).toBeCloseTo(2.042, 2);
    expect(tQuantile975(1e6)).toBeCloseTo(1.96, 3);
    expect(pearson([1, 2, 3, 4], [2, 4, 6, 8])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(Array.from(ranks([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
    expect(spearman([1, 2, 3, 4, 5], [1, 4, 9, 16, 100])).toBeCloseTo(1, 12);
    expect(signOfInterval([0.1, 0.2])).toBe(true);
    expect(signOfInterval([-0.2, -0.1])).toBe(false);
    expect(signOfInterval([-0.1, 0.1])).toBe(null);
  });
});

describe('Claim 1 machinery', () => {
  const problem = (r: Rng, kind: 'relu' | 'swish'): CeProblem => {
    const dOut = 5;
    const dFf = 6;
    const V = Float64Array.from({ length: dOut * dFf }, () => r.normal());
    const pre = Float64Array.from({ length: dFf }, () => r.normal());
    pre[0] = 0.3 + r.uniform() * 2;
    const up = Float64Array.from({ length: dFf }, () => r.normal());
    return { V, dOut, dFf, pre, up: kind === 'swish' ? up : undefined, y: Y_DISTRIBUTIONS['signed (sums to 1)'](r, dOut), kind };
  };

  it('∂ℓ/∂p_i* matches central finite differences (ReLU and Swish gate)', () => {
    const r = new Rng(5);
    for (const kind of ['relu', 'swish'] as const) {
      for (let rep = 0; rep < 20; rep++) {
        const pr = problem(r, kind);
        const h = 1e-6;
        const plus = { ...pr, pre: Float64Array.from(pr.pre) };
        const minus = { ...pr, pre: Float64Array.from(pr.pre) };
        plus.pre[0] += h;
        minus.pre[0] -= h;
        const fd = (ceLoss(plus) - ceLoss(minus)) / (2 * h);
        const g = ceGradPre(pr, 0);
        expect(g.grad).toBeCloseTo(fd, 6);
        expect(g.first - g.second).toBeCloseTo(g.grad, 12);
      }
    }
  });

  it('Swish helpers: derivative matches finite differences, gap is exact where naive subtraction cancels', () => {
    for (const z of [-3, -0.5, 0.1, 1, 2.4, 7]) expect(swishDeriv(z)).toBeCloseTo((swish(z + 1e-6) - swish(z - 1e-6)) / 2e-6, 6);
    expect(swishGap(50)).toBeGreaterThan(0);
    expect(50 - swish(50)).toBe(0); // float64 cancellation the cancellation-free form avoids
    expect(swishGap(1)).toBeCloseTo(1 - swish(1), 14);
  });

  it('the estimator detects a known sign: positive with E[V]=0, negative with a mean aligned to y', () => {
    const base = { vDist: V_DISTRIBUTIONS.gaussian, yDist: Y_DISTRIBUTIONS['one-hot'], dOut: 4, dFf: 4, vScale: 1, iStar: 0, n: 4000 };
    const pos = estimateExpectedGrad(new Rng(1), base, 'relu', 1);
    expect(pos.firstTerm.ci()[0]).toBeGreaterThan(0);
    const y = new Float64Array(4);
    y[0] = 1;
    const neg = estimateExpectedGrad(new Rng(1), { ...base, yFixed: y, vMean: (m) => (m === 0 ? 1.5 : -0.5) }, 'relu', 1);
    expect(neg.raw.ci()[1]).toBeLessThan(0);
    // common random numbers: comparing a gate with itself gives exactly zero difference
    const same = comparePaired(new Rng(2), { ...base, n: 200 }, { kind: 'relu', p: 1 }, { kind: 'relu', p: 1 });
    expect(same.diff.mean).toBe(0);
  });
});

describe('tiny network', () => {
  it.each(['relu', 'gelu', 'swiglu'] as Activation[])('%s: manual gradients match finite differences', (act) => {
    const r = new Rng(9);
    const net = initTinyNet(act, 3, 5, 4, r);
    const teacher = initTinyNet('relu', 3, 5, 4, r.fork('t'), 2);
    const data = teacherDataset(r.fork('d'), teacher, 6);
    const { grads } = batchLossAndGrad(net, data.X, data.labels);
    const params: [Float64Array, Float64Array][] = [
      [net.W, grads.W],
      [net.V, grads.V],
    ];
    if (net.U) params.push([net.U, grads.U!]);
    for (const [w, g] of params) {
      for (let i = 0; i < w.length; i++) {
        const keep = w[i];
        const h = 1e-6;
        w[i] = keep + h;
        const lp = batchLoss(net, data.X, data.labels);
        w[i] = keep - h;
        const lm = batchLoss(net, data.X, data.labels);
        w[i] = keep;
        expect(g[i]).toBeCloseTo((lp - lm) / (2 * h), 6);
      }
    }
  });

  it('sparsity measures on hand-made activations', () => {
    // one input, 4 neurons: |a| = 0, 0.01, 1, 3 → 1 exact zero; ≤ 0.05·3: 2; 90% of 4.01 needs {3, 1} → 2 of 4 kept
    const s = activationSparsity(Float64Array.from([0, -0.01, 1, 3]), 1, 4);
    expect(s.exactZero).toBe(0.25);
    expect(s.relEps).toBe(0.5);
    expect(s.massSparsity).toBe(0.5);
  });
});

describe('Claim 2 machinery', () => {
  it('the recursion equals the definition; the signed sum equals it exactly when gradients share signs', () => {
    const r = new Rng(4);
    const net = initTinyNet('gelu', 4, 6, 3, r);
    const teacher = initTinyNet('relu', 4, 6, 3, r.fork('t'), 2);
    const data = teacherDataset(r.fork('d'), teacher, 12);
    const t = accumulateImportance(net, data);
    for (let q = 0; q < t.direct.length; q++) expect(t.recursive[q]).toBeCloseTo(t.direct[q], 12);
    for (let q = 0; q < t.direct.length; q++) expect(t.signed[q]).toBeLessThanOrEqual(t.direct[q] + 1e-12);
    // a history of one example has no sign changes: |Σ∇| = Σ|∇|
    const one = accumulateImportance(net, { ...data, n: 1 });
    expect(one.mixedSignFraction).toBe(0);
    for (let q = 0; q < one.direct.length; q++) expect(one.signed[q]).toBeCloseTo(one.direct[q], 12);
    expect(perNeuron(net, t.direct).length).toBe(6);
    expect(weightMagnitude(net).every((v) => v > 0)).toBe(true);
  });
});

describe('Claim 3 machinery', () => {
  it('supp_τ and good rows on hand-made rows', () => {
    expect(suppTau([0.5, 0.3, 0.2], 0.3)).toEqual([0, 1]);
    expect(isGoodRow([0.5, 0.3, 0.2], { S: [0], tau: 0.3, alpha: 1 })).toBe(true);
    expect(isGoodRow([0.5, 0.3, 0.2], { S: [0], tau: 0.3, alpha: 0.5 })).toBe(false);
    expect(isGoodRow([0.2, 0.5, 0.3], { S: [0], tau: 0.3, alpha: 1 })).toBe(false);
    const r = checkGoodMapping([[0.6, 0.4, 0], [0.6, 0, 0.4]], { S: [0], tau: 0.3, alpha: 1 });
    expect(r).toMatchObject({ premise: true, inIntersection: true, unionExcess: 2, bound: 2, conclusion: true });
    expect(vacuousAfter(10, 2, 0.5)).toBe(8);
  });

  it('the good-map generator only produces good, normalised maps', () => {
    fc.assert(
      fc.property(goodMapArbitrary(), (c) => {
        for (const row of c.map) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
        return checkGoodMapping(c.map, c.params).premise;
      }),
      { seed: 1, numRuns: 300 },
    );
  });
});

// The first vega-lite compile takes seconds on a busy machine.
describe('figures (vega-lite → SVG)', { timeout: 30_000 }, () => {
  const count = (svg: string, re: RegExp) => (svg.match(re) ?? []).length;
  /** Items drawn by every mark group whose class starts with `cls` (vega: one <g> per mark, one element per item). */
  const items = (svg: string, cls: string) =>
    svg
      .split(`<g class="${cls}`)
      .slice(1)
      .reduce((n, part) => n + count(part.split('</g>')[0], /<(path|line)[ >]/g), 0);

  it('a heatmap has one rect per matrix entry (NaN drawn grey) and escapes its labels', async () => {
    const rows = [
      [1, 2, 3],
      [4, NaN, 6],
    ];
    const svg = await heatmapSvg(rows, { title: 'a <b> & "c"', rowLabels: ['r<1>', 'r2'], colLabels: ['x', 'y', 'z'] });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(items(svg, 'mark-rect role-mark')).toBe(6);
    expect(count(svg, /fill="#bbbbbb"/g)).toBe(1);
    expect(svg).toContain('a &lt;b&gt; &amp; "c"');
    expect(svg).toContain('r&lt;1&gt;');
  });

  it('a line plot draws one line per series and an error bar per point with an interval', async () => {
    const svg = await linePlotSvg(
      [
        { name: 'a&b', xs: [0, 1, 2], ys: [1, 2, 3], lo: [0, 1, 2], hi: [2, 3, 4] },
        { name: 'c', xs: [0, 1, 2], ys: [3, NaN, 1] },
      ],
      { title: 't', xLabel: 'x', yLabel: 'y', hline: 0, intervals: '95% CI' },
    );
    expect(items(svg, 'mark-line role-mark')).toBe(2);
    expect(svg).toContain('error bars: 95% CI');
    expect(svg).toContain('a&amp;b');
    // three error bars (series a): a rule each and two end ticks each; series c has none
    expect(items(svg, 'mark-rule role-mark layer_1')).toBe(3);
    expect(items(svg, 'mark-rect role-mark layer_1')).toBe(6);
    // the reference line at y = 0
    expect(items(svg, 'mark-rule role-mark layer_2')).toBe(1);
  });

  it('error bars without a caption are refused', async () => {
    await expect(linePlotSvg([{ name: 'a', xs: [0], ys: [1], lo: [0], hi: [2] }], { title: 't', xLabel: 'x', yLabel: 'y' })).rejects.toThrow(/intervals/);
  });

  it('no label is truncated: vega-lite label limits are lifted', async () => {
    const long = 'a very long series name that vega-lite would cut at 160 pixels by default';
    const svg = await linePlotSvg([{ name: long, xs: [0, 1], ys: [0, 1] }], { title: 't', xLabel: 'x', yLabel: 'y' });
    expect(svg).toContain(long);
    expect(svg).not.toContain('…');
    const rowLabel = 'exp-centred (skewed) / signed (sums to 1)';
    const heat = await heatmapSvg([[1, 2]], { title: 't', rowLabels: [rowLabel], colLabels: ['a long column label', 'b'] });
    expect(heat).toContain(rowLabel);
    expect(heat).not.toContain('…');
  });
});

describe('report', () => {
  const fake: ClaimCheck = {
    id: 'fake',
    kind: 'simulation',
    title: 'A | piped title',
    source: [{ paper: 'MOYU', section: '§3', equations: 'Eq 1' }, { paper: 'TDA', section: '§3.1' }],
    statement: 's',
    assumptions: ['a'],
    computes: 'c',
    refutedBy: 'r',
    run: (ctx) => {
      ctx.progress('half', 0.5);
      return {
        verdict: 'does not hold',
        sample: { n: 10, unit: 'draws' },
        reason: 'because',
        figures: [{ name: 'x', value: 0.5, ci: [0.25, 0.75] }],
        // part a depends on the seed: holds at odd seeds only
        parts: [{ id: 'a', kind: 'identity', statement: 'p', verdict: ctx.seed % 2 ? 'holds' : 'inconclusive', reason: 'ok', figures: [] }],
      };
    },
  };

  it('runs checks at every seed, reports progress, renders the table and compares verdicts', async () => {
    const seen: string[] = [];
    const rep = await runChecks([fake], { seeds: [3, 4, 5], progress: (id, m) => seen.push(`${id}:${m}`) });
    expect(seen).toEqual(['fake:half', 'fake:half', 'fake:half']);
    expect(rep.verdicts).toEqual({ fake: 'does not hold', 'fake/a': 'seed-dependent' });
    expect(rep.claims[0].seeded['fake/a']).toEqual({ seeds: [3, 4, 5], bySeed: ['holds', 'inconclusive', 'holds'] });
    expect(formatSource(fake.source)).toBe('MOYU §3 Eq 1 / TDA §3.1');
    const md = renderMarkdown(rep, process.cwd(), { fake: 'holds', 'fake/a': 'seed-dependent' });
    expect(md).toContain('A \\| piped title');
    expect(md).toContain('x = 0.5000 [0.2500, 0.7500]');
    expect(md).toContain('(expected: holds)');
    expect(md).toContain('seed-dependent (3: holds; 4: inconclusive; 5: holds)');
    expect(md).toContain('| simulation |');
    expect(md).toContain('| identity |');
    expect(md).toContain('**depends on the measure** —');
    expect(compareVerdicts(rep.verdicts, { fake: 'holds', 'fake/a': 'seed-dependent', other: 'holds' })).toEqual([
      'fake: expected "holds", measured "does not hold"',
      'other: expected "holds", not measured',
    ]);
    expect(compareVerdicts(rep.verdicts, { fake: 'does not hold' }, ['fake'])).toEqual(['fake/a: measured "seed-dependent", no recorded expectation']);
    const json = JSON.parse(reportJson(rep));
    expect(json.claims[0].refuted_by).toBe('r');
    expect(json.claims[0].result.sample).toEqual({ n: 10, unit: 'draws' });
    expect(json.claims[0].seeded['fake/a'].by_seed).toEqual(['holds', 'inconclusive', 'holds']);
  });

  it('identities and seed-free checks run once', async () => {
    let runs = 0;
    const once: ClaimCheck = { ...fake, id: 'once', kind: 'identity', run: (ctx) => (runs++, fake.run(ctx)) };
    const rep = await runChecks([once], { seeds: [1, 2, 3] });
    expect(runs).toBe(1);
    expect(rep.claims[0].seeded.once.seeds).toEqual([1]);
  });
});

describe('decision rules', () => {
  it('Holm on known p-values (step-down, monotone, capped at 1)', () => {
    holm([0.01, 0.04, 0.03, 0.005]).forEach((p, i) => expect(p).toBeCloseTo([0.03, 0.06, 0.06, 0.02][i], 15));
    expect(holm([0.5, 0.9])).toEqual([1, 1]);
  });

  it('two measures: opposite resolved signs depend on the measure; one unresolved is inconclusive', () => {
    expect(twoMeasures('does not hold', 'holds')).toBe('depends on the measure');
    expect(twoMeasures('holds', 'does not hold')).toBe('depends on the measure');
    expect(twoMeasures('does not hold', 'does not hold')).toBe('does not hold');
    expect(twoMeasures('holds', 'inconclusive')).toBe('inconclusive');
    expect(twoMeasures('does not hold', 'inconclusive')).toBe('inconclusive');
  });

  it('across seeds: unanimous or seed-dependent', () => {
    expect(acrossSeeds(['holds', 'holds', 'holds'])).toBe('holds');
    expect(acrossSeeds(['holds', 'inconclusive', 'holds'])).toBe('seed-dependent');
  });

  it('normal and Student-t p-values match tables', () => {
    expect(twoSidedP(1.959963984540054, 1)).toBeCloseTo(0.05, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 8); // the erf approximation's error is below 1.5e-7
    expect(normalCdf(-1.959963984540054)).toBeCloseTo(0.025, 6);
    // t(9): 2.262 is the two-sided 5% point, 3.250 the 1% point
    expect(studentTwoSidedP(2.262157, 9)).toBeCloseTo(0.05, 5);
    expect(studentTwoSidedP(3.249836, 9)).toBeCloseTo(0.01, 5);
    expect(studentTwoSidedP(0, 5)).toBeCloseTo(1, 9);
  });

  it('the bootstrap interval of a mean covers the t-interval closely for normal data', () => {
    const rng = new Rng(11);
    const xs = Array.from({ length: 400 }, () => 0.3 + rng.normal());
    const b = bootstrapMeanCI(xs, () => rng.uniform());
    const t = meanCI(xs);
    expect(b.mean).toBeCloseTo(t.mean, 12); // same sum, different rounding order
    // both estimate ±1.96·σ/√n ≈ ±0.098; the bootstrap's percentile ends agree to within 0.015
    expect(Math.abs(b.lo - t.lo)).toBeLessThan(0.015);
    expect(Math.abs(b.hi - t.hi)).toBeLessThan(0.015);
  });
});

describe('run-time estimate', () => {
  it('counts the parameters of one forward pass: attention with grouped KV, gated FFN, classifier', () => {
    const m = { config: { dim: 8, hiddenDim: 20, nLayers: 3, nHeads: 4, nKvHeads: 2, vocabSize: 50, ffnKind: 'swiglu' } } as unknown as Model;
    // per layer: Wq, Wo 8×8 each; Wk, Wv 8×4 each; gate, up, down 8×20 each
    expect(forwardParams(m)).toBe(3 * (64 + 64 + 32 + 32 + 3 * 160) + 50 * 8);
    const plain = { config: { ...m.config, ffnKind: 'relu' } } as unknown as Model;
    expect(forwardParams(plain)).toBe(3 * (64 + 64 + 32 + 32 + 2 * 160) + 50 * 8);
  });

  it('grows with the model and the seeds, and formats long runs in minutes or hours', () => {
    expect(estimateSpecSeconds(1e9, 3)).toBeGreaterThan(estimateSpecSeconds(1e8, 3));
    expect(estimateSpecSeconds(1e8, 3)).toBeGreaterThan(estimateSpecSeconds(1e8, 1));
    expect(formatDuration(90)).toBe('90 s');
    expect(formatDuration(600)).toBe('10 min');
    expect(formatDuration(9000)).toBe('2.5 h');
  });
});
