// GPU.js kernel sources (a JavaScript subset that gpu.js translates to GLSL ES
// fragment shaders in GL mode, to WebAssembly in webasm mode). Written as strings so
// the text gpu.js parses is exactly the text below, untouched by TypeScript tooling.
//
// Conventions: `this.thread.x` is the output index; matrices are passed as
// gpu.js inputs of size [cols, rows] and read as m[row][col]; a kept-neuron list is
// a float array padded to d_ff with its length `n` passed separately, so one
// compiled kernel serves every list of one model shape (GLSL loops need constant
// bounds: loop to the maximum and stop at n).

import type { FfnKind } from '../../core/model.js';

/** Copies a matrix into a kernel output, which gpu.js can keep on the GPU as a texture. */
export const UPLOAD = `function (w) {
  return w[this.thread.y][this.thread.x];
}`;

/** out[r] = Σ_c w[r][c] · x[c]. */
export const MATVEC = `function (w, x) {
  let s = 0;
  for (let c = 0; c < this.constants.cols; c++) {
    s += w[this.thread.x][c] * x[c];
  }
  return s;
}`;

/**
 * Statements computing `act` from `pre` for one FFN kind (float32 arithmetic).
 * tanh is written with exp(-2|z|) so it cannot overflow for large |z|.
 */
function activationStatements(kind: FfnKind): string {
  switch (kind) {
    case 'swiglu':
      return 'const act = pre / (1 + Math.exp(-pre));';
    case 'relu':
      return 'const act = Math.max(pre, 0);';
    case 'geglu':
    case 'gelu':
      return `const z = 0.7978845608028654 * (pre + 0.044715 * pre * pre * pre);
  const t = Math.exp(-2 * Math.abs(z));
  let th = (1 - t) / (1 + t);
  if (z < 0) { th = -th; }
  const act = 0.5 * pre * (1 + th);`;
  }
}

/**
 * Activation of kept neuron kept[k] at output k (Eq 17, inner part); outputs k ≥ n are 0.
 * Gated kinds take (x, gate, up, kept, n); non-gated kinds take (x, up, upBias, kept, n).
 */
export function activationSource(kind: FfnKind): string {
  if (kind === 'swiglu' || kind === 'geglu') {
    return `function (x, gate, up, kept, n) {
  if (this.thread.x >= n) { return 0; }
  const i = kept[this.thread.x];
  let g = 0;
  let u = 0;
  for (let c = 0; c < this.constants.dim; c++) {
    g += gate[i][c] * x[c];
    u += up[i][c] * x[c];
  }
  const pre = g;
  ${activationStatements(kind)}
  return act * u;
}`;
  }
  return `function (x, up, upBias, kept, n) {
  if (this.thread.x >= n) { return 0; }
  const i = kept[this.thread.x];
  let u = 0;
  for (let c = 0; c < this.constants.dim; c++) {
    u += up[i][c] * x[c];
  }
  const pre = u + upBias[i];
  ${activationStatements(kind)}
  return act;
}`;
}

/** out[j] = Σ_{k<n} a[k] · downT[kept[k]][j] + bias[j]  (Eq 19 over the kept set; a is compact). */
export const DOWN = `function (a, downT, kept, n, bias) {
  let s = 0;
  for (let k = 0; k < this.constants.hidden; k++) {
    if (k >= n) { break; }
    s += a[k] * downT[kept[k]][this.thread.x];
  }
  return s + bias[this.thread.x];
}`;
