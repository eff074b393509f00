// The few inner loops every CPU kernel is built from, in two builds with the same
// summation order: AVX2+FMA (prims_avx2.cc) and portable C++ (prims_scalar.cc).
// kernels.cc picks one at load time from what the CPU reports (cpuid).
//
// Dot-product summation order (both builds; docs for tolerance analysis):
//   element c of a length-n dot product goes to partial sum P[(c / 8) % 4][c % 8]
//   (32 partial sums, each accumulated in increasing c, one fused multiply-add per
//   term in the AVX2 build, multiply then add in the scalar build); the 32 partials
//   are combined by a fixed tree: P0+P1, P2+P3, then their sum, then lanes l+(l+4),
//   l+(l+2), l+(l+1). Each partial sums at most ceil(n/32) terms, so the rounding
//   error is bounded by about (n/32 + 5) units of roundoff instead of n.
//
// Weight storage: the weight operand of dot2, axpy4/axpy1, dotBlock and rowSumBlock
// (the rows read from memory) is stored as float32, IEEE half (F16) or bfloat16
// (BF16), one table of loops per type. Half-precision values convert to float32
// exactly, and everything after the load is the float32 arithmetic above, so a
// half-precision kernel computes exactly what the float32 kernel computes on the
// weights rounded to that type (accumulation stays float32).
#pragma once

#include <cstdint>

namespace tda {

enum WType : int { kF32 = 0, kF16 = 1, kBF16 = 2 };

inline int64_t wsize(WType t) { return t == kF32 ? 4 : 2; }
// Element i of a weight array of type t.
inline const void* wat(const void* p, WType t, int64_t i) { return static_cast<const char*>(p) + i * wsize(t); }

struct Prims {
  const char* mode;  // "avx2+fma" or "scalar"
  bool simd;
  // Pointers named a, b, pa, pb, r, next, w, rows are weights of this table's type.
  // ra = a·x; rb = b·x (computed with one pass over x). b may be null.
  // pa, pb (nullable): the rows the caller reads next, prefetched alongside.
  void (*dot2)(const void* a, const void* b, const float* x, int64_t n, float* ra, float* rb, const void* pa,
               const void* pb);
  // acc[j] = fma(w3, r3[j], fma(w2, r2[j], fma(w1, r1[j], fma(w0, r0[j], acc[j])))), j < len.
  // next (nullable): the four rows the caller reads next, prefetched alongside.
  void (*axpy4)(float* acc, const void* const r[4], const float w[4], int64_t len, const void* const* next);
  // acc[j] = fma(w, r[j], acc[j]), j < len.
  void (*axpy1)(float* acc, const void* r, float w, int64_t len);
  // dst[j] += src[j], j < len.
  void (*add)(float* dst, const float* src, int64_t len);
  // out[j] = (float)((double)w[j] * (scale * (double)x[j])), j < len (RMSNorm's output step).
  void (*scaleMul)(float* out, const float* x, const float* w, double scale, int64_t len);

  // Batched prefill (a block of tokens at once), in exactly the summation order of the
  // single-token loops above, so a prompt prefilled in blocks gives bit-identical
  // activations, KV cache and logits to one prefilled token by token.
  //
  // dotBlock: out[t·ldo + r] = dot2's a·x for a = w + r·ldw, x = x + t·ldx, length n,
  // for r < rows, t < tokens (the GEMM of the projections and the FFN's gate/up).
  void (*dotBlock)(const void* w, int64_t ldw, int64_t rows, const float* x, int64_t ldx, int64_t tokens, int64_t n,
                   float* out, int64_t ldo);
  // rowSumBlock: for t < tokens and c in [c0, c1): out[t·ldo + c] = Σ_k a[t·lda + k] · rows[k·ldr + c]
  // over k < nterms in the row-sum order of kernels.cc (groups of 64 terms, each an FMA
  // chain from 0; group sums added in order). No term may be skipped: the caller sends
  // only tokens whose terms are all nonzero (a zero term is skipped in the single-token
  // path, which shifts its group boundaries).
  void (*rowSumBlock)(const void* rows, int64_t ldr, int64_t nterms, const float* a, int64_t lda, int64_t tokens,
                      float* out, int64_t ldo, int64_t c0, int64_t c1);
};

// Terms per partial sum of a row sum (the group size above).
constexpr int64_t kRowSumGroup = 64;

// Indexed by WType.
extern const Prims kScalarPrims[3];
#if defined(__x86_64__)
extern const Prims kAvx2Prims[3];
#endif

// Round-to-nearest-even conversions of float32 to the storage types (NaN stays NaN;
// F16 overflows to ±Inf past 65504, as IEEE rounding does).
uint16_t toF16(float f);
uint16_t toBF16(float f);
float fromF16(uint16_t h);
float fromBF16(uint16_t h);

}  // namespace tda
