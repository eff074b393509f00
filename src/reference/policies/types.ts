// The seam between the four methods and the decoder (ARCHITECTURE: "FFN policy").
//
// The decoder is the same for Dense, TT, Griffin and TDA. During prefill it runs the
// dense FFN and shows each prompt token's activations to the policy; after the
// prompt it asks the policy, per layer, how generation computes that FFN:
//   dense     — all neurons (Dense; any method whose mask keeps every neuron)
//   sliced    — a fixed kept list: only those rows of gate, up and down (TDA, Griffin)
//   perToken  — full gate/up, then the policy picks neurons for the down projection
//               from this token's activations (TT)

export type Method = 'dense' | 'tt' | 'griffin' | 'tda';
export const METHODS: readonly Method[] = ['dense', 'tt', 'griffin', 'tda'];

export type LayerPlan =
  | { kind: 'dense' }
  | { kind: 'sliced'; kept: Int32Array }
  | { kind: 'perToken' };

export interface FfnPolicy {
  readonly method: Method;
  /**
   * Prefill: the dense activations a_t (Eq 17 inner part) of one prompt token at `layer`,
   * and the FFN's input x_t (the normalised residual; for statistics of gate·x and up·x).
   */
  observePrompt(layer: number, a: Float32Array, x?: Float32Array): void;
  /** End of prefill: fix whatever the method fixes for generation (masks). */
  endPrompt(): void;
  /** Generation: how `layer`'s FFN is computed. */
  plan(layer: number): LayerPlan;
  /** For perToken plans: kept neuron ids (ascending) from this token's activations; null = all. */
  selectForToken(layer: number, a: Float32Array): Int32Array | null;
  /** Per layer, the fixed mask chosen after prefill (null where the method has none). */
  masks(): (Int32Array | null)[];
}

/** Ascending ids of all neurons i with keep(i). */
export function keptWhere(n: number, keep: (i: number) => boolean): Int32Array {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) if (keep(i)) ids.push(i);
  return Int32Array.from(ids);
}

/** A fixed mask as a plan; a mask that keeps every neuron is exactly Dense. */
export function planForMask(kept: Int32Array, hiddenDim: number): LayerPlan {
  return kept.length === hiddenDim ? { kind: 'dense' } : { kind: 'sliced', kept };
}
