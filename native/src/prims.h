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
#pragma once

#include <cstdint>

namespace tda {

struct Prims {
  const char* mode;  // "avx2+fma" or "scalar"
  bool simd;
  // ra = a·x; rb = b·x (computed with one pass over x). b may be null.
  // pa, pb (nullable): the rows the caller reads next, prefetched alongside.
  void (*dot2)(const float* a, const float* b, const float* x, int64_t n, float* ra, float* rb, const float* pa,
               const float* pb);
  // acc[j] = fma(w3, r3[j], fma(w2, r2[j], fma(w1, r1[j], fma(w0, r0[j], acc[j])))), j < len.
  // next (nullable): the four rows the caller reads next, prefetched alongside.
  void (*axpy4)(float* acc, const float* const r[4], const float w[4], int64_t len, const float* const* next);
  // acc[j] = fma(w, r[j], acc[j]), j < len.
  void (*axpy1)(float* acc, const float* r, float w, int64_t len);
  // dst[j] += src[j], j < len.
  void (*add)(float* dst, const float* src, int64_t len);
  // out[j] = (float)((double)w[j] * (scale * (double)x[j])), j < len (RMSNorm's output step).
  void (*scaleMul)(float* out, const float* x, const float* w, double scale, int64_t len);
};

extern const Prims kScalarPrims;
#if defined(__x86_64__)
extern const Prims kAvx2Prims;
#endif

}  // namespace tda
