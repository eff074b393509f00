// AVX2 + FMA inner loops. This file alone is compiled for x86-64-v3 (via the
// target pragma), so the rest of the addon stays portable and kernels.cc calls
// these only after cpuid confirmed AVX2 and FMA.
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>

#include <array>

#include "prims.h"

namespace tda {
namespace {

// Lanes [0, rem) set: loads/stores the last, partial 8-float block without
// touching memory past the end of the array.
inline __m256i tailMask(int64_t rem) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rem)), idx);
}

// The first n elements of p (n may be ≥ 8 or ≤ 0: a 16-column tile asks for len and
// len − 8 elements of its two halves), zero-padded to 8.
template <class T>
std::array<T, 8> tail(const T* p, int64_t n) {
  std::array<T, 8> buf{};
  for (int64_t i = 0; i < n && i < 8; i++) buf[i] = p[i];
  return buf;
}

// Weight loaders, one per storage type: 8 weights → 8 floats (exact conversions:
// F16 with the F16C instruction, BF16 by moving its 16 bits to the top of a float).
// loadN reads only the first n elements (the rest 0), like a masked float load.
struct LF32 {
  using T = float;
  static __m256 load(const T* p) { return _mm256_loadu_ps(p); }
  static __m256 loadN(const T* p, int64_t n);
};
struct LF16 {
  using T = uint16_t;
  static __m256 load(const T* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static __m256 loadN(const T* p, int64_t n) { return load(tail<T>(p, n).data()); }
};
struct LBF16 {
  using T = uint16_t;
  static __m256 load(const T* p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
  }
  static __m256 loadN(const T* p, int64_t n) { return load(tail<T>(p, n).data()); }
};

// The fixed reduction tree of prims.h: lanes l+(l+4), then l+(l+2), then l+(l+1).
__m256 LF32::loadN(const float* p, int64_t n) { return _mm256_maskload_ps(p, tailMask(n)); }

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// Two rows against one x: the row streams are the memory traffic (one pass each),
// x stays in L1 and is loaded once for both rows. 4 accumulators per row keep 8
// independent FMA chains in flight, enough to hide the 4-cycle FMA latency, so the
// loop runs at load bandwidth. The next rows (pa, pb) are prefetched one row
// ahead: kept neurons are not adjacent in memory, and the hardware prefetcher
// would otherwise restart cold at every row (and every 4 KiB page). The prefetch
// targets L2 (T1), not L1: one row ahead is 2 × 16 KiB in flight per thread at the
// 7B shape, which with x (16 KiB) overfills the 48 KiB L1 and evicted prefetched
// lines before use; from L2 the core's own L1 streamer fetches them in time.
// Measured (4096×11008, 2 threads, same run): gate/up pass dense 25.0 -> 25.8
// GB/s, over a 50 % kept list 23.3 -> 24.7 GB/s.
template <class L>
void dot2(const typename L::T* a, const typename L::T* b, const float* x, int64_t n, float* ra, float* rb,
          const typename L::T* pa, const typename L::T* pb) {
  if (!pa) pa = a;  // prefetching the current row again is a harmless no-op
  if (!pb) pb = b ? b : a;
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  __m256 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  int64_t i = 0;
  if (b) {
    for (; i + 32 <= n; i += 32) {
      _mm_prefetch(reinterpret_cast<const char*>(pa + i), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(pa + i + 16), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(pb + i), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(pb + i + 16), _MM_HINT_T1);
      const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
      const __m256 x2 = _mm256_loadu_ps(x + i + 16), x3 = _mm256_loadu_ps(x + i + 24);
      a0 = _mm256_fmadd_ps(L::load(a + i), x0, a0);
      a1 = _mm256_fmadd_ps(L::load(a + i + 8), x1, a1);
      a2 = _mm256_fmadd_ps(L::load(a + i + 16), x2, a2);
      a3 = _mm256_fmadd_ps(L::load(a + i + 24), x3, a3);
      b0 = _mm256_fmadd_ps(L::load(b + i), x0, b0);
      b1 = _mm256_fmadd_ps(L::load(b + i + 8), x1, b1);
      b2 = _mm256_fmadd_ps(L::load(b + i + 16), x2, b2);
      b3 = _mm256_fmadd_ps(L::load(b + i + 24), x3, b3);
    }
  } else {
    for (; i + 32 <= n; i += 32) {
      _mm_prefetch(reinterpret_cast<const char*>(pa + i), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(pa + i + 16), _MM_HINT_T1);
      a0 = _mm256_fmadd_ps(L::load(a + i), _mm256_loadu_ps(x + i), a0);
      a1 = _mm256_fmadd_ps(L::load(a + i + 8), _mm256_loadu_ps(x + i + 8), a1);
      a2 = _mm256_fmadd_ps(L::load(a + i + 16), _mm256_loadu_ps(x + i + 16), a2);
      a3 = _mm256_fmadd_ps(L::load(a + i + 24), _mm256_loadu_ps(x + i + 24), a3);
    }
  }
  // Leftover full blocks and the masked partial block go to partial sum
  // (block index) % 4, exactly as if the 32-wide loop had continued.
  for (int k = 0; i < n; i += 8, k++) {
    __m256 va, vb = _mm256_setzero_ps(), vx;
    if (i + 8 <= n) {
      vx = _mm256_loadu_ps(x + i);
      va = L::load(a + i);
      if (b) vb = L::load(b + i);
    } else {
      const __m256i m = tailMask(n - i);
      vx = _mm256_maskload_ps(x + i, m);
      va = L::loadN(a + i, n - i);
      if (b) vb = L::loadN(b + i, n - i);
    }
    switch (k) {  // at most 4 blocks are left (n - i < 32 here)
      case 0: a0 = _mm256_fmadd_ps(va, vx, a0); b0 = _mm256_fmadd_ps(vb, vx, b0); break;
      case 1: a1 = _mm256_fmadd_ps(va, vx, a1); b1 = _mm256_fmadd_ps(vb, vx, b1); break;
      case 2: a2 = _mm256_fmadd_ps(va, vx, a2); b2 = _mm256_fmadd_ps(vb, vx, b2); break;
      default: a3 = _mm256_fmadd_ps(va, vx, a3); b3 = _mm256_fmadd_ps(vb, vx, b3); break;
    }
  }
  *ra = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  if (b) *rb = hsum(_mm256_add_ps(_mm256_add_ps(b0, b1), _mm256_add_ps(b2, b3)));
}

// Four weighted rows into one accumulator block: the accumulator (≤ 8 KiB, in L1)
// is loaded and stored once per four rows, so the loop is bound by the four row
// streams, each read front to back (what the hardware prefetcher follows best).
template <class L>
void axpy4(float* acc, const typename L::T* const r[4], const float w[4], int64_t len,
           const typename L::T* const* next) {
  const typename L::T* const* pf = next ? next : r;
  const __m256 w0 = _mm256_set1_ps(w[0]), w1 = _mm256_set1_ps(w[1]);
  const __m256 w2 = _mm256_set1_ps(w[2]), w3 = _mm256_set1_ps(w[3]);
  const typename L::T *r0 = r[0], *r1 = r[1], *r2 = r[2], *r3 = r[3];
  int64_t j = 0;
  for (; j + 16 <= len; j += 16) {
    for (int q = 0; q < 4; q++) _mm_prefetch(reinterpret_cast<const char*>(pf[q] + j), _MM_HINT_T0);
    __m256 s = _mm256_loadu_ps(acc + j), t = _mm256_loadu_ps(acc + j + 8);
    s = _mm256_fmadd_ps(w0, L::load(r0 + j), s);
    t = _mm256_fmadd_ps(w0, L::load(r0 + j + 8), t);
    s = _mm256_fmadd_ps(w1, L::load(r1 + j), s);
    t = _mm256_fmadd_ps(w1, L::load(r1 + j + 8), t);
    s = _mm256_fmadd_ps(w2, L::load(r2 + j), s);
    t = _mm256_fmadd_ps(w2, L::load(r2 + j + 8), t);
    s = _mm256_fmadd_ps(w3, L::load(r3 + j), s);
    t = _mm256_fmadd_ps(w3, L::load(r3 + j + 8), t);
    _mm256_storeu_ps(acc + j, s);
    _mm256_storeu_ps(acc + j + 8, t);
  }
  for (; j < len; j += 8) {
    if (j + 8 <= len) {
      __m256 s = _mm256_loadu_ps(acc + j);
      s = _mm256_fmadd_ps(w0, L::load(r0 + j), s);
      s = _mm256_fmadd_ps(w1, L::load(r1 + j), s);
      s = _mm256_fmadd_ps(w2, L::load(r2 + j), s);
      s = _mm256_fmadd_ps(w3, L::load(r3 + j), s);
      _mm256_storeu_ps(acc + j, s);
    } else {
      const __m256i m = tailMask(len - j);
      __m256 s = _mm256_maskload_ps(acc + j, m);
      s = _mm256_fmadd_ps(w0, L::loadN(r0 + j, len - j), s);
      s = _mm256_fmadd_ps(w1, L::loadN(r1 + j, len - j), s);
      s = _mm256_fmadd_ps(w2, L::loadN(r2 + j, len - j), s);
      s = _mm256_fmadd_ps(w3, L::loadN(r3 + j, len - j), s);
      _mm256_maskstore_ps(acc + j, m, s);
    }
  }
}

template <class L>
void axpy1(float* acc, const typename L::T* r, float w, int64_t len) {
  const __m256 vw = _mm256_set1_ps(w);
  int64_t j = 0;
  for (; j + 8 <= len; j += 8)
    _mm256_storeu_ps(acc + j, _mm256_fmadd_ps(vw, L::load(r + j), _mm256_loadu_ps(acc + j)));
  if (j < len) {
    const __m256i m = tailMask(len - j);
    _mm256_maskstore_ps(acc + j, m,
                        _mm256_fmadd_ps(vw, L::loadN(r + j, len - j), _mm256_maskload_ps(acc + j, m)));
  }
}

void add(float* dst, const float* src, int64_t len) {
  for (int64_t j = 0; j < len; j++) dst[j] += src[j];  // auto-vectorized (AVX2)
}

void scaleMul(float* out, const float* x, const float* w, double scale, int64_t len) {
  for (int64_t j = 0; j < len; j++)
    out[j] = static_cast<float>(static_cast<double>(w[j]) * (scale * static_cast<double>(x[j])));
}

// ---------------------------------------------------------------------------
// Batched prefill: the GEMM forms of dot2 and of the row sum, in the same order.
//
// dotTile: NR weight rows × NT tokens. dot2 keeps 4 partial sums per product, block
// b (8 floats) going to partial b % 4; holding 4 accumulators for each of NR·NT
// products would need 4·NR·NT registers. So the partials are computed one after
// another (pass k takes blocks k, k+4, …), each an FMA chain in increasing b exactly
// as in dot2, with one register per product: 12 accumulators + 3 rows + 1 x = 16 YMM.
// Each 8-float block of x is used by NR FMAs and each block of w by NT: 7 loads per
// 12 FMAs, so the loop is bound by the FMA units, not by loads (dot2 alone does one
// FMA per load). The NR rows stay in L1 across token tiles; the block's x in L2.
// ---------------------------------------------------------------------------
template <class L, int NR, int NT>
void dotTile(const typename L::T* w, int64_t ldw, const float* x, int64_t ldx, int64_t n, float* out, int64_t ldo) {
  const int64_t nfull = n / 8;
  const int64_t rem = n % 8;
  const __m256i m = tailMask(rem);
  alignas(32) float part[4][NR][NT][8];
  for (int k = 0; k < 4; k++) {
    __m256 acc[NR][NT];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
#pragma GCC unroll 4
      for (int t = 0; t < NT; t++) acc[r][t] = _mm256_setzero_ps();
    for (int64_t b = k; b < nfull; b += 4) {
      const int64_t i = b * 8;
      __m256 wv[NR];
#pragma GCC unroll 4
      for (int r = 0; r < NR; r++) wv[r] = L::load(w + r * ldw + i);
#pragma GCC unroll 4
      for (int t = 0; t < NT; t++) {
        const __m256 xv = _mm256_loadu_ps(x + t * ldx + i);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
      }
    }
    if (rem && nfull % 4 == k) {  // the masked last block, last in its partial's chain
      const int64_t i = nfull * 8;
      __m256 wv[NR];
      for (int r = 0; r < NR; r++) wv[r] = L::loadN(w + r * ldw + i, rem);
      for (int t = 0; t < NT; t++) {
        const __m256 xv = _mm256_maskload_ps(x + t * ldx + i, m);
        for (int r = 0; r < NR; r++) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
#pragma GCC unroll 4
      for (int t = 0; t < NT; t++) _mm256_store_ps(part[k][r][t], acc[r][t]);
  }
  for (int r = 0; r < NR; r++)
    for (int t = 0; t < NT; t++) {
      const __m256 p0 = _mm256_load_ps(part[0][r][t]), p1 = _mm256_load_ps(part[1][r][t]);
      const __m256 p2 = _mm256_load_ps(part[2][r][t]), p3 = _mm256_load_ps(part[3][r][t]);
      out[t * ldo + r] = hsum(_mm256_add_ps(_mm256_add_ps(p0, p1), _mm256_add_ps(p2, p3)));
    }
}

template <class L, int NR>
void dotRows(const typename L::T* w, int64_t ldw, const float* x, int64_t ldx, int64_t tokens, int64_t n, float* out,
             int64_t ldo) {
  int64_t t = 0;
  for (; t + 4 <= tokens; t += 4) dotTile<L, NR, 4>(w, ldw, x + t * ldx, ldx, n, out + t * ldo, ldo);
  switch (tokens - t) {
    case 3: dotTile<L, NR, 3>(w, ldw, x + t * ldx, ldx, n, out + t * ldo, ldo); break;
    case 2: dotTile<L, NR, 2>(w, ldw, x + t * ldx, ldx, n, out + t * ldo, ldo); break;
    case 1: dotTile<L, NR, 1>(w, ldw, x + t * ldx, ldx, n, out + t * ldo, ldo); break;
    default: break;
  }
}

template <class L>
void dotBlock(const void* wv, int64_t ldw, int64_t rows, const float* x, int64_t ldx, int64_t tokens, int64_t n,
              float* out, int64_t ldo) {
  const typename L::T* w = static_cast<const typename L::T*>(wv);
  int64_t r = 0;
  for (; r + 3 <= rows; r += 3) dotRows<L, 3>(w + r * ldw, ldw, x, ldx, tokens, n, out + r, ldo);
  if (rows - r == 2) dotRows<L, 2>(w + r * ldw, ldw, x, ldx, tokens, n, out + r, ldo);
  if (rows - r == 1) dotRows<L, 1>(w + r * ldw, ldw, x, ldx, tokens, n, out + r, ldo);
}

// rowSumTile: NT tokens × 16 output columns (2 YMM each; a partial tile is masked)
// over the terms [g0, g1) of one group: each output element is an FMA chain from 0
// in k order, as axpy4/axpy1 run it; then the group is the running total (first
// group) or is added to it. 12 accumulators; per term 2 row loads and NT broadcasts.
template <class L, int NT, bool MASKED>
void rowSumTile(const typename L::T* rows, int64_t ldr, int64_t g0, int64_t g1, const float* a, int64_t lda, float* out,
                int64_t ldo, int64_t c, int64_t len, __m256i m0, __m256i m1) {
  __m256 acc[NT][2];
#pragma GCC unroll 6
  for (int t = 0; t < NT; t++) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  for (int64_t k = g0; k < g1; k++) {
    const typename L::T* r = rows + k * ldr + c;
    const __m256 r0 = MASKED ? L::loadN(r, len) : L::load(r);
    const __m256 r1 = MASKED ? L::loadN(r + 8, len - 8) : L::load(r + 8);
#pragma GCC unroll 6
    for (int t = 0; t < NT; t++) {
      const __m256 wt = _mm256_broadcast_ss(a + t * lda + k);
      acc[t][0] = _mm256_fmadd_ps(wt, r0, acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(wt, r1, acc[t][1]);
    }
  }
#pragma GCC unroll 6
  for (int t = 0; t < NT; t++) {
    float* o = out + t * ldo + c;
    if (g0 != 0) {
      acc[t][0] = _mm256_add_ps(MASKED ? _mm256_maskload_ps(o, m0) : _mm256_loadu_ps(o), acc[t][0]);
      acc[t][1] = _mm256_add_ps(MASKED ? _mm256_maskload_ps(o + 8, m1) : _mm256_loadu_ps(o + 8), acc[t][1]);
    }
    if (MASKED) {
      _mm256_maskstore_ps(o, m0, acc[t][0]);
      _mm256_maskstore_ps(o + 8, m1, acc[t][1]);
    } else {
      _mm256_storeu_ps(o, acc[t][0]);
      _mm256_storeu_ps(o + 8, acc[t][1]);
    }
  }
}

template <class L, bool MASKED>
void rowSumTokens(const typename L::T* rows, int64_t ldr, int64_t g0, int64_t g1, const float* a, int64_t lda, int64_t tokens,
                  float* out, int64_t ldo, int64_t c, int64_t len, __m256i m0, __m256i m1) {
  int64_t t = 0;
  for (; t + 6 <= tokens; t += 6) rowSumTile<L, 6, MASKED>(rows, ldr, g0, g1, a + t * lda, lda, out + t * ldo, ldo, c, len, m0, m1);
  const float* at = a + t * lda;
  float* ot = out + t * ldo;
  switch (tokens - t) {
    case 5: rowSumTile<L, 5, MASKED>(rows, ldr, g0, g1, at, lda, ot, ldo, c, len, m0, m1); break;
    case 4: rowSumTile<L, 4, MASKED>(rows, ldr, g0, g1, at, lda, ot, ldo, c, len, m0, m1); break;
    case 3: rowSumTile<L, 3, MASKED>(rows, ldr, g0, g1, at, lda, ot, ldo, c, len, m0, m1); break;
    case 2: rowSumTile<L, 2, MASKED>(rows, ldr, g0, g1, at, lda, ot, ldo, c, len, m0, m1); break;
    case 1: rowSumTile<L, 1, MASKED>(rows, ldr, g0, g1, at, lda, ot, ldo, c, len, m0, m1); break;
    default: break;
  }
}

// Loop order for locality: strips of 64 columns; per strip, group by group, the
// group's 64 rows × 64 columns (16 KiB of weights) stay in L1 while every token
// tile passes over them. Each weight row's strip (256 bytes) is read from memory once.
template <class L>
void rowSumBlock(const void* rowsv, int64_t ldr, int64_t nterms, const float* a, int64_t lda, int64_t tokens,
                 float* out, int64_t ldo, int64_t c0, int64_t c1) {
  const typename L::T* rows = static_cast<const typename L::T*>(rowsv);
  constexpr int64_t kStrip = 64;
  const __m256i all = _mm256_set1_epi32(-1);
  for (int64_t s = c0; s < c1; s += kStrip) {
    const int64_t se = s + kStrip < c1 ? s + kStrip : c1;
    for (int64_t g0 = 0; g0 < nterms; g0 += kRowSumGroup) {
      const int64_t g1 = g0 + kRowSumGroup < nterms ? g0 + kRowSumGroup : nterms;
      for (int64_t c = s; c < se; c += 16) {
        const int64_t len = se - c;
        if (len >= 16) {
          rowSumTokens<L, false>(rows, ldr, g0, g1, a, lda, tokens, out, ldo, c, 16, all, all);
        } else {
          const __m256i m0 = tailMask(len), m1 = tailMask(len - 8);
          rowSumTokens<L, true>(rows, ldr, g0, g1, a, lda, tokens, out, ldo, c, len, m0, m1);
        }
      }
    }
  }
}

// Type-erased entry points of the table (prims.h takes weights as const void*).
template <class L>
void dot2v(const void* a, const void* b, const float* x, int64_t n, float* ra, float* rb, const void* pa,
           const void* pb) {
  using T = typename L::T;
  dot2<L>(static_cast<const T*>(a), static_cast<const T*>(b), x, n, ra, rb, static_cast<const T*>(pa),
          static_cast<const T*>(pb));
}
template <class L>
void axpy4v(float* acc, const void* const r[4], const float w[4], int64_t len, const void* const* next) {
  using T = typename L::T;
  const T* rr[4] = {static_cast<const T*>(r[0]), static_cast<const T*>(r[1]), static_cast<const T*>(r[2]),
                    static_cast<const T*>(r[3])};
  const T* nn[4];
  if (next)
    for (int q = 0; q < 4; q++) nn[q] = static_cast<const T*>(next[q]);
  axpy4<L>(acc, rr, w, len, next ? nn : nullptr);
}
template <class L>
void axpy1v(float* acc, const void* r, float w, int64_t len) {
  axpy1<L>(acc, static_cast<const typename L::T*>(r), w, len);
}
template <class L>
constexpr Prims table() {
  return {"avx2+fma", true, dot2v<L>, axpy4v<L>, axpy1v<L>, add, scaleMul, dotBlock<L>, rowSumBlock<L>};
}

}  // namespace

const Prims kAvx2Prims[3] = {table<LF32>(), table<LF16>(), table<LBF16>()};

}  // namespace tda
#endif
