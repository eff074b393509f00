// The WGSL compute shaders of the webgpu backend, all float32.
//
// Conventions shared by every shader:
//  - one uniform struct `p` at binding 0 holds the scalar arguments;
//  - one thread per output, which sums its own terms in order: no workgroup memory,
//    no barriers, one readable loop per kernel. Where one result feeds many threads
//    (RMSNorm's scale, softmax's max and sum) the work is split into dispatches:
//    WebGPU makes each dispatch's writes visible to the next. (Workgroup tree
//    reductions would be faster on discrete GPUs; speed is not this backend's point.)
//    Any summation order is allowed by the conformance bounds (docs/tolerances.md);
//  - threads are laid out 2-D (x + y·65535 workgroups of WG threads) because a
//    dispatch has at most 65535 workgroups per dimension;
//  - exp, sin and cos are written out below instead of WGSL's built-ins: WGSL only
//    promises exp to 3 + 2·|x| ulp and sin/cos to an absolute 2^-11 on [-π, π]
//    (nothing outside), far looser than the 2 ulp the tolerances allow a
//    transcendental (tolerance.ts, FN_ULPS). With Cody–Waite range reduction and
//    short polynomials they are within about 1 ulp on any device.

import type { FfnKind } from '../../core/model.js';

/** Threads per workgroup. 64 is a multiple of every vendor's SIMD width (32 / 64). */
export const WG = 64;
/** Most workgroups one dispatch dimension may hold (WebGPU's default limit). */
export const MAX_GROUPS_PER_DIM = 65535;

const MATH = /* wgsl */ `
// The most negative float: the start of a max. (WGSL has no infinity literal, and
// a constant expression may not evaluate to one.)
const LOWEST: f32 = -0x1.fffffep+127f;

// e^x, Cody–Waite: x = k·ln2 + r with ln2 split in two so that k·LN2_HI is exact
// (LN2_HI has 14 significant bits, |k| ≤ 150), then a degree-8 Taylor polynomial of
// e^r − 1 on |r| ≤ ln2/2 (remainder < 0.01 ulp) and 2^k applied in two halves so
// that ldexp never sees an exponent outside the float range. Above 89 the result
// overflows to +inf in the last multiplication, as e^x does.
fn exp_f32(x_in: f32) -> f32 {
  if (x_in < -103.97208) { return 0.0; }
  let x = min(x_in, 89.0);
  let k = round(x * 1.4426950408889634);
  let r = (x - k * 0.693145751953125) - k * 1.4286068203094173e-06;
  let q = r * (1.0 + r * (0.5 + r * (0.16666667 + r * (0.041666668 + r * (0.008333334
        + r * (0.0013888889 + r * (0.0001984127 + r * 0.0000248016)))))));
  let ki = i32(k);
  let half = ki / 2;
  return ldexp(ldexp(1.0 + q, half), ki - half);
}

// (sin a, cos a): a = k·π/2 + r with π/2 in three parts (Cody–Waite; the first two
// have 8 significant bits, so k·P1 and k·P2 are exact for |k| < 2^16), then the
// minimax polynomials of Cephes' sinf/cosf on |r| ≤ π/4 and the quadrant k mod 4.
fn sincos_f32(a: f32) -> vec2<f32> {
  let k = round(a * 0.6366197723675814);
  let r = ((a - k * 1.5703125) - k * 4.837512969970703e-04) - k * 7.549789954891882e-08;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  switch (i32(k) & 3) {
    case 0: { return vec2<f32>(s, c); }
    case 1: { return vec2<f32>(c, -s); }
    case 2: { return vec2<f32>(-s, -c); }
    default: { return vec2<f32>(-c, s); }
  }
}
`;

/** The flat index of a thread in a 2-D grid of WG-thread workgroups. */
const INDEX = /* wgsl */ `
fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * ${WG}u; }
`;
const ENTRY = `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;

/** out[r] = Σ_c w[r·cols + c] · x[c]: one thread per row. */
export const MATVEC = /* wgsl */ `
struct P { rows: u32, cols: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${INDEX}
${ENTRY} {
  let r = flat(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  var s = 0.0;
  for (var c = 0u; c < p.cols; c++) { s += w[base + c] * x[c]; }
  out[r] = s;
}
`;

/** RMSNorm, first dispatch: scale[0] = 1/sqrt(mean(x²) + eps), one thread. */
export const RMS_SCALE = /* wgsl */ `
struct P { n: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> scale: array<f32>;
${ENTRY} {
  if (gid.x != 0u || gid.y != 0u) { return; }
  var s = 0.0;
  for (var i = 0u; i < p.n; i++) { s += x[i] * x[i]; }
  // 1/sqrt rather than inverseSqrt: two correctly rounded steps on most devices,
  // where WGSL lets inverseSqrt be 2 ulp off.
  scale[0] = 1.0 / sqrt(s / f32(p.n) + p.eps);
}
`;

/** RMSNorm, second dispatch: out_i = weight_i · (scale · x_i), one thread per element. */
export const RMS_APPLY = /* wgsl */ `
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
${INDEX}
${ENTRY} {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  out[i] = weight[i] * (scale[0] * x[i]);
}
`;

/**
 * RoPE in place, llama2.c convention: one thread per pair (v[2m], v[2m+1]); j = 2m
 * mod headSize; angle = pos · invFreq[j/2], where invFreq[j/2] = theta^(-j/headSize)
 * is a float32 table made once per (headSize, theta) in float64 on the host (as
 * inv_freq buffers usually are): WGSL's pow is exp2(y·log2 x), whose error grows
 * with |y·log2 x| beyond what the bound allows (tolerance.ts, ropeAngleRelError).
 */
export const ROPE = /* wgsl */ `
struct P { pairs: u32, headSize: u32, pos: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> invFreq: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
${MATH}
${INDEX}
${ENTRY} {
  let m = flat(gid, nwg);
  if (m >= p.pairs) { return; }
  let i = 2u * m;
  let j = i % p.headSize;
  let sc = sincos_f32(p.pos * invFreq[j / 2u]);
  let v0 = v[i];
  let v1 = v[i + 1u];
  v[i] = v0 * sc.y - v1 * sc.x;
  v[i + 1u] = v0 * sc.x + v1 * sc.y;
}
`;

// One causal attention step in three dispatches over the scratch `scores`
// (nHeads × T floats). Query head h reads KV head h / group.
const ATTENTION_BINDINGS = /* wgsl */ `
struct P { nHeads: u32, headSize: u32, kvDim: u32, T: u32, group: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;
`;

/** Attention 1: s[h·T + t] = (q_h · k_t) · scale, one thread per (h, t). */
export const ATTN_SCORES = /* wgsl */ `
${ATTENTION_BINDINGS}
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read_write> scores: array<f32>;
${INDEX}
${ENTRY} {
  let m = flat(gid, nwg);
  if (m >= p.nHeads * p.T) { return; }
  let h = m / p.T;
  let t = m % p.T;
  let qOff = h * p.headSize;
  let kOff = t * p.kvDim + (h / p.group) * p.headSize;
  var dot = 0.0;
  for (var d = 0u; d < p.headSize; d++) { dot += q[qOff + d] * k[kOff + d]; }
  scores[m] = dot * p.scale;
}
`;

/** Attention 2: per head, e_t = exp(s_t − max_t s_t) in place and sums[h] = Σ_t e_t; one thread per head. */
export const ATTN_SOFTMAX = /* wgsl */ `
${ATTENTION_BINDINGS}
@group(0) @binding(1) var<storage, read_write> scores: array<f32>;
@group(0) @binding(2) var<storage, read_write> sums: array<f32>;
${MATH}
${INDEX}
${ENTRY} {
  let h = flat(gid, nwg);
  if (h >= p.nHeads) { return; }
  let off = h * p.T;
  var m = LOWEST;
  for (var t = 0u; t < p.T; t++) { m = max(m, scores[off + t]); }
  var sum = 0.0;
  for (var t = 0u; t < p.T; t++) {
    let e = exp_f32(scores[off + t] - m);
    scores[off + t] = e;
    sum += e;
  }
  sums[h] = sum;
}
`;

/** Attention 3: o[h·headSize + d] = Σ_t e_t v_{t,d} / sums[h] (normalised after summing; the bound allows it). */
export const ATTN_OUTPUT = /* wgsl */ `
${ATTENTION_BINDINGS}
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read> scores: array<f32>;
@group(0) @binding(3) var<storage, read> sums: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
${INDEX}
${ENTRY} {
  let m = flat(gid, nwg);
  if (m >= p.nHeads * p.headSize) { return; }
  let h = m / p.headSize;
  let d = m % p.headSize;
  let sOff = h * p.T;
  let vOff = (h / p.group) * p.headSize + d;
  var acc = 0.0;
  for (var t = 0u; t < p.T; t++) { acc += scores[sOff + t] * v[t * p.kvDim + vOff]; }
  out[m] = acc / sums[h];
}
`;

/** WGSL of act(z) for one FFN kind; tanh written with e^(−2|z|) so it cannot overflow. */
function activationFn(kind: FfnKind): string {
  switch (kind) {
    case 'swiglu':
      return 'fn act(z: f32) -> f32 { return z / (1.0 + exp_f32(-z)); }';
    case 'relu':
      return 'fn act(z: f32) -> f32 { return select(0.0, z, z > 0.0); }';
    case 'geglu':
    case 'gelu':
      return `fn act(z: f32) -> f32 {
  let y = 0.7978845608028654 * (z + 0.044715 * z * z * z);
  let t = exp_f32(-2.0 * abs(y));
  let th = (1.0 - t) / (1.0 + t);
  return 0.5 * z * (1.0 + select(th, -th, y < 0.0));
}`;
  }
}

/**
 * FFN activations of the neurons kept[0..n) (Eq 17, inner part), one thread per
 * kept neuron i = kept[k], reading its gate/up rows in place; a[i] is written at
 * the neuron's own index (a dense "all neurons" call passes the identity list).
 * Gated: a_i = act(gate_i·x)·(up_i·x); non-gated: a_i = act(up_i·x + upBias_i).
 */
export function activationShader(kind: FfnKind, gated: boolean): string {
  const third = gated ? 'gate' : 'upBias';
  const body = gated
    ? `var g = 0.0;
  var u = 0.0;
  for (var c = 0u; c < p.dim; c++) {
    g += gate[base + c] * x[c];
    u += up[base + c] * x[c];
  }
  a[i] = act(g) * u;`
    : `var u = 0.0;
  for (var c = 0u; c < p.dim; c++) { u += up[base + c] * x[c]; }
  a[i] = act(u + upBias[i]);`;
  return /* wgsl */ `
struct P { dim: u32, n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read> ${third}: array<f32>;
@group(0) @binding(4) var<storage, read> kept: array<u32>;
@group(0) @binding(5) var<storage, read_write> a: array<f32>;
${MATH}
${INDEX}
${activationFn(kind)}
${ENTRY} {
  let k = flat(gid, nwg);
  if (k >= p.n) { return; }
  let i = kept[k];
  let base = i * p.dim;
  ${body}
}
`;
}

/**
 * Down projection over kept neurons (Eq 19 on a set): out_j = Σ_k a[kept[k]] ·
 * downT[kept[k]·dim + j] + downBias_j, one thread per output j. Adjacent threads
 * read adjacent floats of the same kept row: the rows of dropped neurons are never
 * touched.
 */
export const DOWN = /* wgsl */ `
struct P { dim: u32, n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> downT: array<f32>;
@group(0) @binding(3) var<storage, read> kept: array<u32>;
@group(0) @binding(4) var<storage, read> downBias: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
${INDEX}
${ENTRY} {
  let j = flat(gid, nwg);
  if (j >= p.dim) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.n; k++) {
    let i = kept[k];
    s += a[i] * downT[i * p.dim + j];
  }
  out[j] = s + downBias[j];
}
`;

/**
 * The residual add of the fused layer entries (attentionBlock, prefillLayer): x_i += y_i,
 * one thread per element. One float32 addition, rounded to nearest as the decoder's own
 * `x[i] += xb2[i]` is, so a fused call equals the per-token kernels bit for bit.
 */
export const ADD = /* wgsl */ `
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
${INDEX}
${ENTRY} {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  x[i] = x[i] + y[i];
}
`;
