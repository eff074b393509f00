// RoPE scaling as the model files spell it. Only LLaMA-3.1's `llama3` type is read; it
// becomes ModelConfig.ropeFreqFactors, one factor per lane pair that divides the base
// frequency θ^(-2j/headDim).
//
// The rule is transformers' `_compute_llama3_parameters` (modeling_rope_utils.py), which
// llama.cpp's converter (convert_hf_to_gguf.py, LlamaModel: the `rope_freqs.weight` tensor)
// writes out as exactly these factors:
//   wavelen_j = 2π / θ^(-2j/headDim);  low_wl = old / low_freq_factor;  high_wl = old / high_freq_factor
//   wavelen_j < high_wl  → 1 (high frequencies kept)
//   wavelen_j > low_wl   → factor (low frequencies slowed by `factor`)
//   otherwise            → 1 / ((1 − s)/factor + s),  s = (old / wavelen_j − low_freq_factor) / (high_freq_factor − low_freq_factor)
// where old = original_max_position_embeddings. transformers' smoothed inv_freq,
// (1 − s)·inv/factor + s·inv, is inv divided by that same factor.
// The other types (linear, dynamic, yarn, longrope, …) change more than a lane's frequency
// (positions, attention scale, context-dependent tables) and are refused.

import { UserError } from '../errors.js';

export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

/**
 * The per-pair factors of the llama3 rule for head width `headDim` and base `theta`,
 * computed in float64 and stored as float32 (the converter writes an F32 tensor).
 */
export function llama3RopeFactors(headDim: number, theta: number, s: Llama3RopeScaling): Float32Array {
  const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositions / s.highFreqFactor;
  const out = new Float32Array(headDim / 2);
  for (let j = 0; j < headDim / 2; j++) {
    const invFreq = 1 / Math.pow(theta, (2 * j) / headDim);
    const wavelen = (2 * Math.PI) / invFreq;
    if (wavelen < highWavelen) out[j] = 1;
    else if (wavelen > lowWavelen) out[j] = s.factor;
    else {
      const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      out[j] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return out;
}

/**
 * A Hugging Face config.json's `rope_scaling`: null/absent or type `default` → no table;
 * `llama3` → its factors; anything else → a one-line UserError naming the file and field.
 * transformers reads the type from `rope_type`, or from the older key `type`.
 */
export function hfRopeScaling(value: unknown, file: string): Llama3RopeScaling | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new UserError(`${file}: rope_scaling ${JSON.stringify(value)} must be an object`);
  const o = value as Record<string, unknown>;
  const type = o.rope_type ?? o.type;
  if (type === 'default') return null;
  if (type !== 'llama3') throw new UserError(`${file}: rope_scaling type ${JSON.stringify(type ?? null)} is not supported (only "llama3")`);
  // transformers' _validate_llama3_parameters requires all four keys.
  const num = (k: string, ok: (v: number) => boolean, what: string): number => {
    const v = o[k];
    if (!(typeof v === 'number' && Number.isFinite(v) && ok(v))) throw new UserError(`${file}: rope_scaling.${k}=${JSON.stringify(v ?? null)} must be ${what}`);
    return v;
  };
  const s: Llama3RopeScaling = {
    factor: num('factor', (v) => v >= 1, 'a number ≥ 1'),
    lowFreqFactor: num('low_freq_factor', (v) => v > 0, 'a positive number'),
    highFreqFactor: num('high_freq_factor', (v) => v > 0, 'a positive number'),
    originalMaxPositions: num('original_max_position_embeddings', (v) => Number.isInteger(v) && v >= 1, 'a positive integer'),
  };
  if (!(s.highFreqFactor > s.lowFreqFactor)) throw new UserError(`${file}: rope_scaling.high_freq_factor=${s.highFreqFactor} must exceed low_freq_factor=${s.lowFreqFactor}`);
  return s;
}

/** A GGUF `rope_freqs.weight` as read: each factor must be a finite positive number. */
export function checkRopeFactors(f: Float32Array, where: string): Float32Array {
  const bad = f.findIndex((v) => !(Number.isFinite(v) && v > 0));
  if (bad >= 0) throw new UserError(`${where}: entry ${bad} is ${f[bad]}, RoPE frequency factors must be finite and positive`);
  return f;
}
