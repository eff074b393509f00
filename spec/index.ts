// Every claim check of the spec, in report order. Each module exports one ClaimCheck
// (default or named); adding a claim is one line in this list, e.g.
//   (await import('./claim-4-activation-inertia.js')).claim4,
// — `tda spec`, spec/REPORT.md and the verdict test pick it up; record its verdicts in
// spec/expected-verdicts.json (the test fails until they are recorded).

import type { ClaimCheck } from '../src/proofs/claim.js';

export const claims: ClaimCheck[] = [
  (await import('./claim-1-gradient-sign.js')).default,
  (await import('./claim-1-relu-vs-swiglu.js')).default,
  (await import('./claim-2-history-uncertainty.js')).default,
  (await import('./claim-3-heavy-hitters.js')).default,
  (await import('./claim-3-real-attention.js')).default,
  (await import('./claim-4-activation-inertia.js')).claim4,
  (await import('./table-5-similarity.js')).table5,
  (await import('./eq-17-20-cett.js')).eq1720,
  (await import('./table-3-quality.js')).table3,
  (await import('./table-4-costs.js')).table4,
  (await import('./latency.js')).latency,
  (await import('./table-2-predictor.js')).table2,
  (await import('./mlp-share.js')).mlpShare,
];
