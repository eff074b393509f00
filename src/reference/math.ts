// The dense building blocks of a LLaMA-style decoder, as plain loops.
//
// Numerics of the reference: every value is *stored* as float32 (Float32Array), and
// every reduction (dot products, sums of squares, softmax denominators) is
// *accumulated* in float64 (a JS number) and rounded once when stored. This makes
// the reference at least as accurate as any float32 backend, so the error of a
// backend against it is, to first order, that backend's own rounding error
// (docs/tolerances.md derives the bounds from this).

/** out[r] = Σ_c w[r·cols + c] · x[c]  (row-major weights: one output per row). */
export function matvec(out: Float32Array, w: Float32Array, x: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += w[base + c] * x[c];
    out[r] = sum;
  }
}

/** RMSNorm: out = weight ⊙ x / sqrt(mean(x²) + eps). */
export function rmsnorm(out: Float32Array, x: Float32Array, weight: Float32Array, eps: number): void {
  let sumSq = 0;
  for (let i = 0; i < x.length; i++) sumSq += x[i] * x[i];
  const scale = 1 / Math.sqrt(sumSq / x.length + eps);
  for (let i = 0; i < x.length; i++) out[i] = weight[i] * (scale * x[i]);
}

/** LayerNorm with bias (OPT): out = weight ⊙ (x − mean) / sqrt(var + eps) + bias, var the biased variance. */
export function layernorm(out: Float32Array, x: Float32Array, weight: Float32Array, bias: Float32Array, eps: number): void {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i];
  const mean = sum / x.length;
  let sumSq = 0;
  for (let i = 0; i < x.length; i++) sumSq += (x[i] - mean) * (x[i] - mean);
  const scale = 1 / Math.sqrt(sumSq / x.length + eps);
  for (let i = 0; i < x.length; i++) out[i] = weight[i] * ((x[i] - mean) * scale) + bias[i];
}

/** Numerically stable softmax in place over the first `n` entries. */
export function softmax(x: Float32Array, n: number = x.length): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    e[i] = Math.exp(x[i] - max);
    sum += e[i];
  }
  for (let i = 0; i < n; i++) x[i] = e[i] / sum;
}

/**
 * Rotary position embedding, llama2.c convention: inside each head, the pair
 * (v[2j], v[2j+1]) is rotated by the angle pos · theta^(-2j / headSize).
 * `vec` holds one or more heads back to back; rotated in place.
 */
export function rope(vec: Float32Array, pos: number, headSize: number, theta: number): void {
  for (let i = 0; i < vec.length; i += 2) {
    const j = i % headSize; // even index inside the head
    const freq = 1 / Math.pow(theta, j / headSize);
    const angle = pos * freq;
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const v0 = vec[i];
    const v1 = vec[i + 1];
    vec[i] = v0 * cos - v1 * sin;
    vec[i + 1] = v0 * sin + v1 * cos;
  }
}

/**
 * Rotary position embedding, rotate-half convention (Hugging Face transformers'
 * `rotate_half`, llama.cpp's NeoX mode): inside each head, lane j pairs with lane
 * j + headSize/2 and the pair is rotated by pos · theta^(-2j / headSize).
 */
export function ropeHalves(vec: Float32Array, pos: number, headSize: number, theta: number): void {
  const half = headSize / 2;
  for (let h = 0; h < vec.length; h += headSize) {
    for (let j = 0; j < half; j++) {
      const angle = pos / Math.pow(theta, (2 * j) / headSize);
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      const v0 = vec[h + j];
      const v1 = vec[h + j + half];
      vec[h + j] = v0 * cos - v1 * sin;
      vec[h + j + half] = v0 * sin + v1 * cos;
    }
  }
}

/**
 * RoPE with per-lane frequency factors (LLaMA-3.1's `llama3` scaling): pair j of each
 * head turns by pos · theta^(-2j/headSize) / factors[j]. The division is llama.cpp's
 * (ggml_rope_ext divides each pair's angle by its freq_factors entry); transformers
 * folds the same factor into inv_freq (_compute_llama3_parameters), which is the same
 * number. Each layout computes the angle exactly as rope / ropeHalves do, then divides,
 * so a factor of 1 leaves every bit as plain RoPE has it.
 */
export function ropeWithFreqs(vec: Float32Array, pos: number, headSize: number, theta: number, factors: Float32Array, style: 'pairs' | 'halves'): void {
  const half = headSize / 2;
  if (factors.length !== half) throw new Error(`RoPE frequency table has ${factors.length} entries, head width ${headSize} needs ${half}`);
  for (let h = 0; h < vec.length; h += headSize) {
    for (let j = 0; j < half; j++) {
      const angle = style === 'pairs' ? (pos * (1 / Math.pow(theta, (2 * j) / headSize))) / factors[j] : pos / Math.pow(theta, (2 * j) / headSize) / factors[j];
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      const a = style === 'pairs' ? h + 2 * j : h + j;
      const b = style === 'pairs' ? a + 1 : a + half;
      const v0 = vec[a];
      const v1 = vec[b];
      vec[a] = v0 * cos - v1 * sin;
      vec[b] = v0 * sin + v1 * cos;
    }
  }
}

/** SiLU (Swish-1), the gate of SwiGLU: x · sigmoid(x). */
export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** tanh-approximated GELU, the gate of GeGLU (Gemma) and the activation of GELU MLPs. */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

export function relu(x: number): number {
  return x > 0 ? x : 0;
}

/** ‖v‖₂ accumulated in float64. */
export function l2norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}
