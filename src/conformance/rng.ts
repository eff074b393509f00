// A fast seeded generator for materialising test tensors. The kit's Rng
// (src/reference/random.ts) mirrors llama2.c with BigInt arithmetic, which is far
// too slow to fill a 4096 × 11008 matrix; conformance cases only need
// reproducibility from (seed, case), not run.c's stream.

export class FastRng {
  private s: number;
  constructor(seed: number) {
    // Mix the seed so that seeds 0, 1, 2 … give unrelated streams.
    this.s = (Math.imul((seed | 0) ^ 0x5bd1e995, 0x9e3779b1) + 0x6d2b79f5) | 0;
  }
  /** Uniform 32-bit unsigned integer (a splitmix-style output mix over a Weyl sequence). */
  nextU32(): number {
    this.s = (this.s + 0x9e3779b9) | 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Standard normal (Box–Muller, one value per call). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}
