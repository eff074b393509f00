// Teacher-forced quality of many methods on one text, sharing the dense prefill.
//
// Every method runs the prompt densely (the decoder's prefill phase), so the KV cache
// after the prompt is the same for all of them: one dense pass over the prompt shows
// each prompt token to every policy, then each method continues from a copy of that
// cache along the same forced tokens. The result is identical to running
// reference/generate.ts once per method with forcedTokens (test/spec-quality.test.ts
// checks it bit for bit) at a fraction of the cost: P + G·(methods + 1) forward passes
// instead of (P + G)·methods.

import { copyKvRows } from '../core/kv-cache.js';
import type { Model } from '../core/model.js';
import { compareLogits } from '../reference/compare.js';
import { Decoder, FfnUsage } from '../reference/decoder.js';
import { recordingPolicy } from '../reference/calibrate.js';
import type { FfnPolicy } from '../reference/policies/types.js';
import { Sampler } from '../reference/sampler.js';
import { BOS } from '../models/tokenizer.js';

/** Per-prompt quality of one method against Dense over the G forced positions. */
export interface ForcedQuality {
  /** Mean over positions of KL(dense ‖ method), nats. */
  kl: number;
  /** Share of positions where the method's top-1 token equals Dense's. */
  top1: number;
  /** Mean NLL of the forced (dense-sampled) tokens under the method. */
  nll: number;
  /** Mean over layers of the kept fraction of FFN neurons (per generated token for TT). */
  density: number;
}

export interface ForcedText {
  /** BOS + prompt (P tokens in all) + G + 1 continuation tokens. */
  tokens: number[];
  promptLength: number;
}

/** The prompt's FFN activations and inputs, in the order the decoder shows them (token-major, then layer). */
export interface PromptRecord {
  calls: { layer: number; a: Float32Array; x: Float32Array }[];
}

/** Show a recorded prompt to a fresh policy and fix its masks; returns the policy. */
export function replayPrompt<P extends FfnPolicy>(policy: P, prompt: PromptRecord): P {
  for (const c of prompt.calls) policy.observePrompt(c.layer, c.a, c.x);
  policy.endPrompt();
  return policy;
}

/**
 * Dense logits at positions P..P+G−1 (predicting tokens P+1..P+G), the decoder state
 * after the prompt, and the prompt's recorded activations.
 */
function densePass(model: Model, text: ForcedText): { after: Decoder; dense: Float32Array[]; prompt: PromptRecord } {
  const { tokens, promptLength: P } = text;
  const decoder = new Decoder(model);
  const prompt: PromptRecord = { calls: [] };
  const fanOut = recordingPolicy(() => {});
  fanOut.observePrompt = (layer, a, x) => prompt.calls.push({ layer, a: Float32Array.from(a), x: Float32Array.from(x!) });
  const dense: Float32Array[] = [];
  let after: Decoder | undefined;
  for (let pos = 0; pos < tokens.length - 1; pos++) {
    const out = decoder.forward(tokens[pos], pos, 'prefill', pos < P ? fanOut : recordingPolicy(() => {}));
    if (pos === P - 1) after = fork(model, decoder, P);
    if (pos >= P) dense.push(Float32Array.from(out));
  }
  return { after: after!, dense, prompt };
}

/** A new decoder whose KV cache holds the first `positions` positions of `src`. */
function fork(model: Model, src: Decoder, positions: number): Decoder {
  const d = new Decoder(model, src.kernels);
  const width = src.keyCache[0].length / model.config.seqLen;
  src.keyCache.forEach((k, l) => copyKvRows(d.keyCache[l], k, positions * width));
  src.valueCache.forEach((v, l) => copyKvRows(d.valueCache[l], v, positions * width));
  return d;
}

/**
 * Quality of each policy on `text`. `build` gets the recorded prompt (to size policies by
 * what others chose on it, e.g. Griffin matched to TDA's density) and returns fresh policies;
 * each is shown the prompt, then forced along the text.
 */
export function forcedQualities(model: Model, text: ForcedText, build: (prompt: PromptRecord) => FfnPolicy[]): ForcedQuality[] {
  const { tokens, promptLength: P } = text;
  const { after, dense, prompt } = densePass(model, text);
  const targets = tokens.slice(P + 1);
  const L = model.config.nLayers;
  return build(prompt).map((fresh) => {
    const policy = replayPrompt(fresh, prompt);
    const decoder = fork(model, after, P);
    const usage = new FfnUsage(L);
    const logits: Float32Array[] = [];
    for (let pos = P; pos < tokens.length - 1; pos++) logits.push(Float32Array.from(decoder.forward(tokens[pos], pos, 'generate', policy, usage)));
    const q = compareLogits(dense, logits, targets);
    const hidden = model.config.hiddenDim;
    let density = 0;
    for (let l = 0; l < L; l++) density += usage.kept[l] / Math.max(usage.tokens, 1) / hidden / L;
    return { kl: q.meanKl, top1: q.top1Agreement, nll: q.methodNll, density };
  });
}

/** Mean kept fraction over layers of a prompt-mask policy whose prompt has ended (null masks = all neurons). */
export function maskDensity(policy: FfnPolicy, hiddenDim: number): number {
  const masks = policy.masks();
  return masks.reduce((s, m) => s + (m ? m.length : hiddenDim) / hiddenDim, 0) / Math.max(masks.length, 1);
}

/**
 * `count` texts of BOS + (P − 1) + G + 1 tokens sampled from the dense model (temperature 1,
 * top-p 0.9, seeded); a sample that reaches BOS early is dropped and another drawn.
 */
export function sampledTexts(model: Model, count: number, promptLength: number, forced: number, seed: number): ForcedText[] {
  const sampler = new Sampler({ temperature: 1, topp: 0.9, seed });
  const length = promptLength + forced + 1;
  const dense = recordingPolicy(() => {});
  const out: ForcedText[] = [];
  for (let tries = 0; out.length < count; tries++) {
    if (tries > 4 * count) throw new Error(`sampledTexts: the model ends its samples too early for ${length}-token texts`);
    const decoder = new Decoder(model);
    const seq = [BOS];
    while (seq.length < length) {
      const next = sampler.sample(decoder.forward(seq[seq.length - 1], seq.length - 1, 'prefill', dense));
      if (next === BOS) break;
      seq.push(next);
    }
    if (seq.length === length) out.push({ tokens: seq, promptLength });
  }
  return out;
}

/** Texts cut from the token ids of a user text: BOS + consecutive windows of P − 1 + G + 1 ids. */
export function textWindows(ids: number[], count: number, promptLength: number, forced: number): ForcedText[] {
  const body = promptLength + forced;
  const out: ForcedText[] = [];
  for (let i = 0; i + body <= ids.length && out.length < count; i += body) out.push({ tokens: [BOS, ...ids.slice(i, i + body)], promptLength });
  return out;
}
