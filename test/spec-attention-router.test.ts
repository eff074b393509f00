// Machinery of the newer spec checks on cases with known answers: heavy-hitter scores of
// attention (claim-3-real-attention), the DejaVu-style router (table-2), and the timing
// rules of the report (latency).

import { describe, expect, it } from 'vitest';
import type { ClaimCheck } from '../src/proofs/claim.js';
import { accumulatedScores, attentionRow, causalUniformRows, recordingAttention, shuffledRows, topShare } from '../src/proofs/attention-scores.js';
import { compareVerdicts, runChecks, verdictAgrees } from '../src/proofs/report.js';
import { Rng } from '../src/proofs/rng.js';
import { bceLoss, initRouter, routerLogits, routerLoss, scorePrediction, trainRouter, type RouterData } from '../src/proofs/router.js';
import { Decoder } from '../src/reference/decoder.js';
import { referenceKernels } from '../src/reference/kernels.js';
import { recordingPolicy } from '../src/reference/calibrate.js';
import { syntheticModel } from '../src/reference/synthetic.js';

describe('attention scores (heavy hitters)', () => {
  it('accumulated scores, the window form and the top-k share match a hand-computed case', () => {
    const rows = [[1], [0.25, 0.75], [0.5, 0.2, 0.3]];
    expect(Array.from(accumulatedScores(rows))).toEqual([1.75, 0.95, 0.3]);
    // Queries 1..2 over keys 0..1: [0.25 + 0.5, 0.75 + 0.2].
    expect(Array.from(accumulatedScores(rows, 1, 2))).toEqual([0.75, 0.95]);
    expect(topShare([1.75, 0.95, 0.3], 1)).toBeCloseTo(1.75 / 3, 15);
    // Ties go to the lower position: both choices hold the same share.
    expect(topShare([1, 1, 2], 2)).toBe(0.75);
    expect(() => accumulatedScores([[1], [1]])).toThrow(/causal row/);
    const uniform = accumulatedScores(causalUniformRows(3));
    [1 + 1 / 2 + 1 / 3, 1 / 2 + 1 / 3, 1 / 3].forEach((v, i) => expect(uniform[i]).toBeCloseTo(v, 15));
  });

  it('the shuffled control permutes each row within the key window and leaves the rest', () => {
    const rows = [Float64Array.from([0.1, 0.2, 0.3, 0.4]), Float64Array.from([0.5, 0.25, 0.125, 0.125])];
    const shuffled = shuffledRows(rows, new Rng(3), 3);
    shuffled.forEach((r, i) => {
      expect(Array.from(r.subarray(0, 3)).sort()).toEqual(Array.from(rows[i].subarray(0, 3)).sort());
      expect(r[3]).toBe(rows[i][3]);
    });
    const many = Array.from({ length: 20 }, (_, s) => shuffledRows(rows, new Rng(s), 3)[0].join());
    expect(new Set(many).size).toBeGreaterThan(1);
  });

  it('recorded probabilities reproduce the kernel’s attention output, and recording leaves the logits unchanged', () => {
    const model = syntheticModel({ dim: 16, hiddenDim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 24, seqLen: 12 }, 5);
    const tokens = [1, 5, 9, 3, 17, 2, 8];
    const { kernels, maps } = recordingAttention(referenceKernels, 2);
    const plain = new Decoder(model);
    const recorded = new Decoder(model, kernels);
    const dense = recordingPolicy(() => {});
    tokens.forEach((t, pos) => expect(Array.from(recorded.forward(t, pos, 'prefill', dense))).toEqual(Array.from(plain.forward(t, pos, 'prefill', dense))));
    expect(maps.length).toBe(2);
    for (const heads of maps) {
      expect(heads.length).toBe(4);
      for (const rows of heads) {
        expect(rows.length).toBe(tokens.length);
        rows.forEach((r, i) => {
          expect(r.length).toBe(i + 1);
          expect(Math.abs(r.reduce((a, x) => a + x, 0) - 1)).toBeLessThan(1e-12);
        });
      }
    }
    // Outside check: out_h = Σ_t p_t v_t from the recorded probabilities, against the kernel (float32 scores: 1e-5).
    const shape = { nHeads: 4, nKvHeads: 2, headSize: 4, kvDim: 8 };
    const r = new Rng(11);
    const pos = 5;
    const q = Float32Array.from({ length: 16 }, () => r.normal());
    const kc = Float32Array.from({ length: (pos + 1) * 8 }, () => r.normal());
    const vc = Float32Array.from({ length: (pos + 1) * 8 }, () => r.normal());
    const out = new Float32Array(16);
    referenceKernels.attention(out, q, kc, vc, pos, shape);
    for (let h = 0; h < 4; h++) {
      const p = attentionRow(q, kc, pos, h, shape);
      const g = Math.floor(h / 2) * 4;
      for (let d = 0; d < 4; d++) {
        let s = 0;
        for (let t = 0; t <= pos; t++) s += p[t] * vc[t * 8 + g + d];
        expect(Math.abs(s - out[h * 4 + d])).toBeLessThan(1e-5);
      }
    }
  });
});

describe('DejaVu-style router', () => {
  it('scores a prediction as worked out by hand', () => {
    // Top-2 router scores {0, 2} against active {0, 3}: one hit of two.
    const s = scorePrediction([3, -1, 2, 0], [0, 3], [1, 2, 0, 4]);
    expect(s.recall).toBe(0.5);
    expect(s.precisionAtHalf).toBe(0.5); // z > 0: {0, 2}
    expect(s.recallAtHalf).toBe(0.5);
    expect(s.massKept).toBeCloseTo((1 + 0) / (1 + 4), 15);
    expect(bceLoss([0], [1])).toBeCloseTo(Math.LN2, 15);
    expect(bceLoss([50], [1])).toBeLessThan(1e-20);
  });

  it('training reduces the loss and learns a linear activity pattern', () => {
    const rng = new Rng(4);
    const [dIn, dOut, n] = [8, 16, 512];
    const W = Float64Array.from({ length: dOut * dIn }, () => rng.normal());
    const X = Float64Array.from({ length: n * dIn }, () => rng.normal());
    const Y = new Float64Array(n * dOut);
    for (let e = 0; e < n; e++) for (let j = 0; j < dOut; j++) Y[e * dOut + j] = W.subarray(j * dIn, (j + 1) * dIn).reduce((s, w, i) => s + w * X[e * dIn + i], 0) > 0 ? 1 : 0;
    const data: RouterData = { X, Y, n };
    const router = initRouter(dIn, 8, dOut, rng.fork('init'));
    const { before, after } = trainRouter(router, data, { steps: 300, batch: 32, lr: 0.02 }, rng.fork('batches'));
    expect(before).toBeCloseTo(routerLoss(initRouter(dIn, 8, dOut, rng.fork('init')), data), 12);
    expect(after).toBeLessThan(0.5 * before);
    let recall = 0;
    for (let e = 0; e < n; e++) {
      const active = Array.from({ length: dOut }, (_, j) => j).filter((j) => Y[e * dOut + j] === 1);
      recall += scorePrediction(routerLogits(router, X, e * dIn), active, new Float64Array(dOut).fill(1)).recall / n;
    }
    expect(recall).toBeGreaterThan(0.85);
  });
});

describe('timing checks in the report', () => {
  it('a timing verdict is not compared with the recorded one (it is the machine\'s); other verdicts must match exactly', () => {
    expect(verdictAgrees('inconclusive', 'holds', true)).toBe(true);
    expect(verdictAgrees('does not hold', 'holds', true)).toBe(true);
    expect(verdictAgrees('inconclusive', 'holds', false)).toBe(false);
    expect(verdictAgrees('holds', 'holds', false)).toBe(true);
    const expected = { latency: 'holds', 'latency/a': 'does not hold', other: 'holds' } as const;
    expect(compareVerdicts({ latency: 'inconclusive', 'latency/a': 'holds', other: 'holds' }, expected, undefined, ['latency'])).toEqual([]);
    expect(compareVerdicts({ latency: 'holds', 'latency/a': 'does not hold', other: 'inconclusive' }, expected, undefined, ['latency'])).toHaveLength(1);
    // Without the timing list the same claim is compared exactly.
    expect(compareVerdicts({ latency: 'does not hold', 'latency/a': 'does not hold', other: 'holds' }, expected)).toHaveLength(1);
  });

  it('a timing check runs once, after the other seeds’ processes have finished', async () => {
    let othersDone = false;
    const base = { title: 't', source: [], statement: 's', assumptions: ['a'], computes: 'c', refutedBy: 'r' };
    const order: string[] = [];
    const timed: ClaimCheck = { ...base, id: 'timed', kind: 'simulation', timing: true, seedFree: true, run: () => (order.push(`timed:${othersDone}`), { verdict: 'holds', reason: 'r', figures: [] }) };
    const draw: ClaimCheck = { ...base, id: 'draw', kind: 'simulation', run: (ctx) => (order.push(`draw:${ctx.seed}`), { verdict: 'holds', reason: 'r', figures: [] }) };
    const report = await runChecks([timed, draw], {
      seeds: [1, 2, 3],
      figuresDir: '/tmp/tda-spec-timing-test',
      runElsewhere: async (ids, seed) => {
        await new Promise((r) => setTimeout(r, 20));
        othersDone = seed === 3 || othersDone;
        return ids.map((id) => ({ id, result: { verdict: 'holds', reason: 'r', figures: [] } }));
      },
    });
    expect(order).toEqual(['draw:1', 'timed:true']);
    expect(report.claims.map((c) => c.id)).toEqual(['timed', 'draw']);
    expect(report.claims[0].timing).toBe(true);
    expect(report.claims[0].seeded.timed.seeds).toEqual([1]);
    expect(report.claims[1].seeded.draw.seeds).toEqual([1, 2, 3]);
  });
});
