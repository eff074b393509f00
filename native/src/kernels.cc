// CPU kernels: work partitioning and threading around the inner loops of prims.h.
//
// Threading rule: a kernel whose weights are smaller than kParallelFloats runs on
// the calling thread (waking a worker costs more than the work); larger ones are
// split into contiguous chunks, several per pool thread, which the threads claim as
// they come (thread_pool.h). Which thread computes a chunk never changes a result.
#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "prims.h"
#include "thread_pool.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace tda {

// 512 KiB of float32 weights (~20 µs of streaming): below it a second thread gains a few
// microseconds at best, while on a busy machine a job split with a descheduled worker
// can wait for it for milliseconds. stories260K (largest matrix 32 K floats) runs on
// the calling thread alone, so it is never slower than single-threaded code.
static constexpr int64_t kParallelFloats = 1 << 17;
static constexpr int64_t kTile = 2048;               // columns per accumulator tile (8 KiB)
static constexpr int64_t kGroup = kRowSumGroup;      // terms per partial sum in row sums

static bool cpuHasAvx2Fma() {
#if defined(__x86_64__)
  // AVX2 and FMA in cpuid and the OS saving the YMM state (OSXSAVE + XCR0).
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!(fma && osxsave && avx)) return false;
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & 6) != 6) return false;
  if (!(c & (1u << 29))) return false;  // F16C (half-precision weight loads)
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return b & (1u << 5);
#else
  return false;
#endif
}

// TDA_NATIVE_ISA=scalar forces the portable loops (to test the fallback).
static bool scalarForced() {
  const char* env = std::getenv("TDA_NATIVE_ISA");
  return env && std::string(env) == "scalar";
}

// The inner loops for weights of type t (float32 by default).
static const Prims& P(WType t = kF32) {
#if defined(__x86_64__)
  static const Prims* p = cpuHasAvx2Fma() && !scalarForced() ? kAvx2Prims : kScalarPrims;
#else
  static const Prims* p = kScalarPrims;
#endif
  return p[t];
}

const char* simdMode() { return P().mode; }
bool simdEnabled() { return P().simd; }
int threadCount() { return pool().size(); }

// Chunks of a job: 1 (the calling thread alone) below kParallelFloats, else
// `perThread` per pool thread, claimed dynamically (thread_pool.h), so a thread that
// is descheduled on a busy machine leaves its chunks to the others.
static int partsFor(int64_t floats, int perThread = 4) {
  return floats < kParallelFloats || pool().size() == 1 ? 1 : pool().size() * perThread;
}

// Share `part` of `parts` of [0, n), boundaries rounded to multiples of `align`.
static void share(int64_t n, int part, int parts, int64_t align, int64_t* b, int64_t* e) {
  auto at = [&](int p) {
    int64_t v = n * p / parts;
    v = (v + align - 1) / align * align;
    return std::min(v, n);
  };
  *b = at(part);
  *e = part + 1 == parts ? n : at(part + 1);
}

// Runs a lambda over `parts` shares on the pool.
template <class F>
static void parallel(int parts, F&& f) {
  struct Ctx {
    F* f;
  } ctx{&f};
  pool().run([](void* c, int part, int n) { (*static_cast<Ctx*>(c)->f)(part, n); }, &ctx, parts);
}

// ---------------------------------------------------------------------------
// Weighted row sum, the core of the down projection (Eq 19) and of attention's
// value mixing:  out[c] = Σ_k w[k] · rows(k)[c] for c in [c0, c1).
//
// Why it is fast: the loop goes row by row, so every weight row is streamed front
// to back; the output tile (≤ 2048 floats) lives in L1 as accumulator; four rows
// are folded per accumulator load/store (prims axpy4).
//
// Summation order (tolerance analysis): terms are taken in k order in groups of
// 64; within a group each output element is a chain of fused multiply-adds
// starting from 0; the group sums are then added one after another to a running
// total: out = ((G0 + G1) + G2) + …, then + bias. The error bound is about
// (64 + n/64) units of roundoff rather than n for a single chain.
// ---------------------------------------------------------------------------
struct RowSum {
  const void* base;      // row k starts at base + row(k) * stride, elements of type wt
  int64_t stride;
  const int32_t* idx;    // row(k) = idx[k], or k when null
  const float* w;        // weights, one per term
  int64_t nterms;
  WType wt;
};

static void rowSumRange(const RowSum& s, float* out, int64_t c0, int64_t c1, const float* bias) {
  const Prims& p = P(s.wt);
  auto row = [&](int64_t k, int64_t t0) { return wat(s.base, s.wt, (s.idx ? s.idx[k] : k) * s.stride + t0); };
  alignas(64) float total[kTile];
  alignas(64) float group[kTile];
  for (int64_t t0 = c0; t0 < c1; t0 += kTile) {
    const int64_t len = std::min(kTile, c1 - t0);
    std::fill(total, total + len, 0.0f);
    for (int64_t g0 = 0; g0 < s.nterms; g0 += kGroup) {
      const int64_t g1 = std::min(s.nterms, g0 + kGroup);
      float* acc = g0 == 0 ? total : group;  // the first group is its own running total
      if (g0 != 0) std::fill(group, group + len, 0.0f);
      int64_t k = g0;
      for (; k + 4 <= g1; k += 4) {
        const void* r[4];
        const void* next[4];
        for (int q = 0; q < 4; q++) {
          r[q] = row(k + q, t0);
          next[q] = row(std::min(k + 4 + q, s.nterms - 1), t0);  // the following four rows
        }
        p.axpy4(acc, r, s.w + k, len, next);
      }
      for (; k < g1; k++) p.axpy1(acc, row(k, t0), s.w[k], len);
      if (g0 != 0) p.add(total, group, len);
    }
    if (bias)
      for (int64_t j = 0; j < len; j++) out[t0 + j] = total[j] + bias[t0 + j];
    else
      std::copy(total, total + len, out + t0);
  }
}

// One group of terms [k0, k1) summed into acc[0, len), columns c0.. of every row: an FMA
// chain from 0 per element, four rows at a time (rowSumRange's loop for one group).
static void groupSum(const RowSum& s, float* acc, int64_t k0, int64_t k1, int64_t c0, int64_t len) {
  const Prims& p = P(s.wt);
  auto row = [&](int64_t k) { return wat(s.base, s.wt, (s.idx ? s.idx[k] : k) * s.stride + c0); };
  std::fill(acc, acc + len, 0.0f);
  int64_t k = k0;
  for (; k + 4 <= k1; k += 4) {
    const void* r[4];
    const void* next[4];
    for (int q = 0; q < 4; q++) {
      r[q] = row(k + q);
      next[q] = row(std::min(k + 4 + q, s.nterms - 1));
    }
    p.axpy4(acc, r, s.w + k, len, next);
  }
  for (; k < k1; k++) p.axpy1(acc, row(k), s.w[k], len);
}

// Two ways to share a row sum between threads, with the same bits (each output element is
// the same chain of group sums either way, whatever the thread count):
//  - by groups of terms, when there are enough of them: each thread streams whole rows
//    front to back (its groups' rows, every column) into one sum per group, and the group
//    sums are then added in order. Rows are read as the hardware prefetcher follows best;
//  - by columns (16-float aligned, so no two threads write one cache line) otherwise:
//    every thread reads its slice of every row. With 2 threads that is half of each row,
//    2 KiB of an F16 row of 2,048 at the TinyLlama shape, a new stream every row: the dense
//    down projection there read 14 GB/s this way against 30 GB/s for matvec.
static void rowSum(const RowSum& s, float* out, int64_t dim, const float* bias) {
  const int parts = partsFor(s.nterms * dim, 2);
  const int64_t nGroups = (s.nterms + kGroup - 1) / kGroup;
  if (parts > 1 && nGroups >= 2 * static_cast<int64_t>(pool().size())) {
    thread_local std::vector<float> sums;
    sums.resize(static_cast<size_t>(nGroups * dim));
    float* gs = sums.data();
    parallel(std::min<int64_t>(parts, nGroups), [&](int part, int n) {
      int64_t g0, g1;
      share(nGroups, part, n, 1, &g0, &g1);
      for (int64_t g = g0; g < g1; g++) groupSum(s, gs + g * dim, g * kGroup, std::min(s.nterms, (g + 1) * kGroup), 0, dim);
    });
    const Prims& p = P(s.wt);
    std::copy(gs, gs + dim, out);
    for (int64_t g = 1; g < nGroups; g++) p.add(out, gs + g * dim, dim);
    if (bias)
      for (int64_t j = 0; j < dim; j++) out[j] += bias[j];
    return;
  }
  // 2 chunks per thread: each chunk streams a slice of every kept row, and slices
  // much shorter than a few KiB would restart the hardware prefetcher too often.
  parallel(parts, [&](int part, int n) {
    int64_t b, e;
    share(dim, part, n, 16, &b, &e);
    if (b < e) rowSumRange(s, out, b, e, bias);
  });
}

// ---------------------------------------------------------------------------
// matvec: threads take contiguous row ranges; rows go through dot2 in pairs so x
// is loaded once per two weight rows. Memory bound: each weight byte read once.
// While a pair streams, dot2 prefetches the pair kMatvecLeadBytes further on (at
// least the next pair): the two rows of a pair are two interleaved streams, which
// the hardware prefetcher alone followed at 11 GB/s per core for F16 rows of 2 KiB
// (the attention projections and the classifier of a d = 1024 model) and 14–16 GB/s
// for float32 rows of 4 KiB; with the software prefetch, 19–25 GB/s for both
// (one thread, CPU time of 96 matvecs 1024 × 1024, interleaved rounds, AMD EPYC).
// ---------------------------------------------------------------------------
static constexpr int64_t kMatvecLeadBytes = 8192;

void matvec(float* out, const void* w, WType wt, const float* x, int64_t rows, int64_t cols) {
  parallel(partsFor(rows * cols * wsize(wt) / 4), [&](int part, int n) {
    int64_t b, e;
    share(rows, part, n, 2, &b, &e);
    const Prims& p = P(wt);
    const int64_t pairBytes = 2 * cols * wsize(wt);
    const int64_t lead = 2 * std::max<int64_t>(1, (kMatvecLeadBytes + pairBytes - 1) / pairBytes);  // rows ahead
    int64_t r = b;
    for (; r + 2 <= e; r += 2) {
      const int64_t na = std::min(r + lead, e - 1), nb = std::min(r + lead + 1, e - 1);
      p.dot2(wat(w, wt, r * cols), wat(w, wt, (r + 1) * cols), x, cols, out + r, out + r + 1, wat(w, wt, na * cols),
             wat(w, wt, nb * cols));
    }
    if (r < e) p.dot2(wat(w, wt, r * cols), nullptr, x, cols, out + r, nullptr, nullptr, nullptr);
  });
}

void convertWeights(uint16_t* dst, const float* src, int64_t n, WType wt) {
  parallel(partsFor(n), [&](int part, int parts) {
    int64_t b, e;
    share(n, part, parts, 16, &b, &e);
    if (wt == kF16)
      for (int64_t i = b; i < e; i++) dst[i] = toF16(src[i]);
    else
      for (int64_t i = b; i < e; i++) dst[i] = toBF16(src[i]);
  });
}

void rmsnorm(float* out, const float* x, const float* weight, int64_t n, double eps) {
  float ss;
  P().dot2(x, nullptr, x, n, &ss, nullptr, nullptr, nullptr);
  const double scale = 1.0 / std::sqrt(static_cast<double>(ss) / static_cast<double>(n) + eps);
  P().scaleMul(out, x, weight, scale, n);
}

// Angles depend only on the position inside the head, so cos/sin are computed
// once per call for headSize/2 frequencies (in double, like the reference) and
// reused for every head.
void rope(float* vec, int64_t n, int64_t pos, int64_t headSize, double theta) {
  std::vector<double> cs(headSize);  // cos, sin interleaved per pair
  for (int64_t j = 0; j < headSize; j += 2) {
    const double freq = 1.0 / std::pow(theta, static_cast<double>(j) / static_cast<double>(headSize));
    const double angle = static_cast<double>(pos) * freq;
    cs[j] = std::cos(angle);
    cs[j + 1] = std::sin(angle);
  }
  for (int64_t i = 0; i + 1 < n; i += 2) {
    const int64_t j = i % headSize;
    const double c = cs[j], s = cs[j + 1];
    const double v0 = vec[i], v1 = vec[i + 1];
    vec[i] = static_cast<float>(v0 * c - v1 * s);
    vec[i + 1] = static_cast<float>(v0 * s + v1 * c);
  }
}

// ---------------------------------------------------------------------------
// attention: threads take whole query heads. Per head: scores = q·k_t via dot2
// (pairs of cache rows), softmax in double like the reference, then the value
// mix is a weighted row sum over cache rows 0..pos (same order as rowSum).
// The cache rows are float32 or F16 (kvt): they go through the same loops as weight
// rows of that type, which widen F16 exactly, so the arithmetic is the same.
// ---------------------------------------------------------------------------
// One query head over cache rows 0..T-1 (scores, softmax, value mix): shared by the
// single-token kernel and the batched prefill, so both give identical results.
static void attendHead(float* outH, const float* qh, const void* keyCache, const void* valueCache, WType kvt,
                       int64_t T, int64_t kvOff, int64_t headSize, int64_t kvDim, float* sc, double* e) {
  const Prims& p = P(kvt);
  const double scale = 1.0 / std::sqrt(static_cast<double>(headSize));
  auto key = [&](int64_t t) { return wat(keyCache, kvt, t * kvDim + kvOff); };
  int64_t t = 0;
  for (; t + 2 <= T; t += 2) p.dot2(key(t), key(t + 1), qh, headSize, sc + t, sc + t + 1, nullptr, nullptr);
  if (t < T) p.dot2(key(t), nullptr, qh, headSize, sc + t, nullptr, nullptr, nullptr);
  float mx = -INFINITY;
  for (t = 0; t < T; t++) {
    sc[t] = static_cast<float>(sc[t] * scale);
    mx = std::max(mx, sc[t]);
  }
  double sum = 0;
  for (t = 0; t < T; t++) sum += (e[t] = std::exp(static_cast<double>(sc[t]) - mx));
  for (t = 0; t < T; t++) sc[t] = static_cast<float>(e[t] / sum);
  RowSum s{wat(valueCache, kvt, kvOff), kvDim, nullptr, sc, T, kvt};
  rowSumRange(s, outH, 0, headSize, nullptr);
}

// The single-token kernel computes exactly what attendHead computes for every head (the
// same dot2 per row, the same softmax, the same groups of 64 value terms with their sums
// added in order), but streams the cache front to back: a head's rows are kvDim apart
// (2–4 KiB), so walking one head over all positions reads 128–256 bytes per row, each a
// demand miss on a new page that no prefetcher follows. Here every phase walks the
// positions in the outer loop and all heads in the inner one, reading whole rows:
//   1. scores: threads take pairs of rows; each pair is scored for every query head;
//   2. softmax: threads take heads (as attendHead: float scores, double exp and sum);
//   3. values: threads take groups of 64 positions; a group's sum for every head is its
//      own FMA chain from 0 in position order, four rows at a time (axpy4, as rowSum);
//   4. the group sums are added one after another (as rowSum's running total).
// So the bits are attendHead's whatever the thread count (the batched prefill, which
// uses attendHead, stays bit-identical to token-by-token prefill). Measured on the 341 M
// model at 1,536 positions (16 heads of 64, 24 layers, 2 threads): attention per token
// 25 → 12 ms over a float32 cache, 25 → 9 ms over an F16 one (native/README.md).
void attention(float* out, const float* q, const void* keyCache, const void* valueCache, WType kvt, int64_t pos,
               int64_t nHeads, int64_t nKvHeads, int64_t headSize, int64_t kvDim) {
  const Prims& p = P(kvt);
  const int64_t T = pos + 1;
  const int64_t group = nHeads / nKvHeads;
  const int64_t hs = headSize;
  const int parts = partsFor(2 * T * kvDim);
  if (parts == 1) {
    // A cache small enough for one thread (every token of stories260K): the per-head loop,
    // the same bits without the phases' bookkeeping, which cost stories260K's warm decode
    // 5–35 % of its tokens/s here.
    thread_local std::vector<float> sc1;
    thread_local std::vector<double> e1;
    sc1.resize(static_cast<size_t>(T));
    e1.resize(static_cast<size_t>(T));
    for (int64_t h = 0; h < nHeads; h++)
      attendHead(out + h * hs, q + h * hs, keyCache, valueCache, kvt, T, (h / group) * hs, hs, kvDim, sc1.data(), e1.data());
    return;
  }
  const int64_t width = nHeads * hs;  // one position's output contribution, all heads
  auto key = [&](int64_t t, int64_t h) { return wat(keyCache, kvt, t * kvDim + (h / group) * hs); };
  auto value = [&](int64_t t, int64_t h) { return wat(valueCache, kvt, t * kvDim + (h / group) * hs); };
  thread_local std::vector<float> scores, groupSums;
  scores.resize(static_cast<size_t>(nHeads * T));
  const int64_t nGroups = (T + kGroup - 1) / kGroup;
  groupSums.resize(static_cast<size_t>(nGroups * width));
  float* sc = scores.data();   // sc[h·T + t]
  float* gs = groupSums.data();  // gs[g·width + h·hs + d]

  // 1. Scores, rows in the pairs attendHead forms (0,1), (2,3), …, each pair for every head.
  const int64_t pairs = (T + 1) / 2;
  parallel(parts, [&](int part, int n) {
    int64_t b, e;
    share(pairs, part, n, 1, &b, &e);
    for (int64_t i = b; i < e; i++) {
      const int64_t t = 2 * i;
      const bool two = t + 1 < T;
      const int64_t ahead = std::min(t + 8, T - 1);  // prefetched into L2 while this pair is scored
      for (int64_t h = 0; h < nHeads; h++)
        p.dot2(key(t, h), two ? key(t + 1, h) : nullptr, q + h * hs, hs, sc + h * T + t, two ? sc + h * T + t + 1 : nullptr,
               key(ahead, h), key(std::min(ahead + 1, T - 1), h));
    }
  });

  // 2. Softmax per head, as attendHead.
  const double scale = 1.0 / std::sqrt(static_cast<double>(hs));
  parallel(std::min<int64_t>(parts, nHeads), [&](int part, int n) {
    int64_t h0, h1;
    share(nHeads, part, n, 1, &h0, &h1);
    std::vector<double> ex(static_cast<size_t>(T));
    for (int64_t h = h0; h < h1; h++) {
      float* s = sc + h * T;
      float mx = -INFINITY;
      for (int64_t t = 0; t < T; t++) {
        s[t] = static_cast<float>(s[t] * scale);
        mx = std::max(mx, s[t]);
      }
      double sum = 0;
      for (int64_t t = 0; t < T; t++) sum += (ex[t] = std::exp(static_cast<double>(s[t]) - mx));
      for (int64_t t = 0; t < T; t++) s[t] = static_cast<float>(ex[t] / sum);
    }
  });

  // 3. Each group's value sum for every head: rows four at a time, as rowSumRange.
  parallel(std::min<int64_t>(parts, nGroups), [&](int part, int n) {
    int64_t g0, g1;
    share(nGroups, part, n, 1, &g0, &g1);
    for (int64_t g = g0; g < g1; g++) {
      float* acc = gs + g * width;
      std::fill(acc, acc + width, 0.0f);
      const int64_t t0 = g * kGroup, t1 = std::min(T, t0 + kGroup);
      int64_t t = t0;
      for (; t + 4 <= t1; t += 4)
        for (int64_t h = 0; h < nHeads; h++) {
          const void* r[4] = {value(t, h), value(t + 1, h), value(t + 2, h), value(t + 3, h)};
          const int64_t u = std::min(t + 4, T - 1);
          const void* next[4] = {value(u, h), value(std::min(u + 1, T - 1), h), value(std::min(u + 2, T - 1), h),
                                 value(std::min(u + 3, T - 1), h)};
          const float w[4] = {sc[h * T + t], sc[h * T + t + 1], sc[h * T + t + 2], sc[h * T + t + 3]};
          p.axpy4(acc + h * hs, r, w, hs, next);
        }
      for (; t < t1; t++)
        for (int64_t h = 0; h < nHeads; h++) p.axpy1(acc + h * hs, value(t, h), sc[h * T + t], hs);
    }
  });

  // 4. The running total over groups, in order.
  std::copy(gs, gs + width, out);
  for (int64_t g = 1; g < nGroups; g++) p.add(out, gs + g * width, width);
}

void attention(float* out, const float* q, const float* keyCache, const float* valueCache, int64_t pos,
               int64_t nHeads, int64_t nKvHeads, int64_t headSize, int64_t kvDim) {
  attention(out, q, keyCache, valueCache, kF32, pos, nHeads, nKvHeads, headSize, kvDim);
}

// Causal attention for `count` tokens at positions pos0.. whose K/V rows are already
// in the cache: token t attends over rows 0..pos0+t only. Threads take whole heads and
// run every token of the block for their heads, so a head's K/V slice is read from
// cache once per block rather than once per token.
static void attentionBlock(float* out, int64_t ldo, const float* q, int64_t ldq, const void* keyCache,
                           const void* valueCache, WType kvt, int64_t pos0, int64_t count, int64_t nHeads,
                           int64_t nKvHeads, int64_t headSize, int64_t kvDim) {
  const int64_t Tmax = pos0 + count;
  const int64_t group = nHeads / nKvHeads;
  const int parts = std::min<int64_t>(partsFor(Tmax * count * nHeads * headSize), nHeads);
  parallel(parts, [&](int part, int n) {
    int64_t h0, h1;
    share(nHeads, part, n, 1, &h0, &h1);
    std::vector<float> sc(Tmax);
    std::vector<double> e(Tmax);
    for (int64_t h = h0; h < h1; h++)
      for (int64_t t = 0; t < count; t++)
        attendHead(out + t * ldo + h * headSize, q + t * ldq + h * headSize, keyCache, valueCache, kvt,
                   pos0 + t + 1, (h / group) * headSize, headSize, kvDim, sc.data(), e.data());
  });
}

// ---------------------------------------------------------------------------
// FFN (TDA paper, Appendix E): Eq 17 activations, Eq 19 down projection as a sum
// of neuron outputs over a kept set.
// ---------------------------------------------------------------------------
static double geluTanh(double x) {
  return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

float activate(FfnKind kind, float g, float u, float bias) {
  switch (kind) {
    case kSwiglu: {
      const double gd = g;
      return static_cast<float>(gd / (1.0 + std::exp(-gd)) * static_cast<double>(u));
    }
    case kGeglu:
      return static_cast<float>(geluTanh(g) * static_cast<double>(u));
    case kRelu: {
      const float pre = static_cast<float>(static_cast<double>(u) + bias);
      return pre > 0 ? pre : 0.0f;
    }
    case kGelu:
    default:
      return static_cast<float>(geluTanh(static_cast<float>(static_cast<double>(u) + bias)));
  }
}

// Activations of neurons row(k) for k in [k0, k1) into act[k]. Gated kinds read
// gate row i and up row i in one pass over x (dot2); non-gated kinds pair two
// neurons' up rows instead.
static void activationsRange(float* act, const float* x, const FfnView& f, const int32_t* idx, int64_t k0,
                             int64_t k1) {
  const Prims& p = P(f.wt);
  auto row = [&](const void* m, int64_t i) { return wat(m, f.wt, i * f.dim); };
  const int64_t d = f.dim;
  const bool gated = f.kind == kSwiglu || f.kind == kGeglu;
  int64_t k = k0;
  if (gated) {
    for (; k < k1; k++) {
      const int64_t i = idx ? idx[k] : k;
      const int64_t in = k + 1 < k1 ? (idx ? idx[k + 1] : k + 1) : i;  // next neuron, prefetched
      float g, u;
      p.dot2(row(f.gate, i), row(f.up, i), x, d, &g, &u, row(f.gate, in), row(f.up, in));
      act[k] = activate(f.kind, g, u, 0.0f);
    }
    return;
  }
  for (; k < k1; k += 2) {
    const int64_t i = idx ? idx[k] : k;
    if (k + 1 < k1) {
      const int64_t i2 = idx ? idx[k + 1] : k + 1;
      const int64_t n1 = k + 2 < k1 ? (idx ? idx[k + 2] : k + 2) : i2;
      const int64_t n2 = k + 3 < k1 ? (idx ? idx[k + 3] : k + 3) : n1;
      float u, u2;
      p.dot2(row(f.up, i), row(f.up, i2), x, d, &u, &u2, row(f.up, n1), row(f.up, n2));
      act[k] = activate(f.kind, 0, u, f.upBias ? f.upBias[i] : 0.0f);
      act[k + 1] = activate(f.kind, 0, u2, f.upBias ? f.upBias[i2] : 0.0f);
    } else {
      float u;
      p.dot2(row(f.up, i), nullptr, x, d, &u, nullptr, nullptr, nullptr);
      act[k] = activate(f.kind, 0, u, f.upBias ? f.upBias[i] : 0.0f);
    }
  }
}

// Threads take contiguous shares of the neuron list: each reads only its own
// gate/up rows (2 of the FFN's 3 weight matrices), no shared writes but act[].
static void activations(float* act, const float* x, const FfnView& f, const int32_t* idx, int64_t count) {
  const int64_t rowsRead = (f.gate ? 2 : 1) * count;
  parallel(partsFor(rowsRead * f.dim * wsize(f.wt) / 4), [&](int part, int n) {
    int64_t b, e;
    share(count, part, n, 16, &b, &e);  // 16 floats: no false sharing on act[]
    activationsRange(act, x, f, idx, b, e);
  });
}

void ffnActivations(float* a, const float* x, const FfnView& f) { activations(a, x, f, nullptr, f.hidden); }

// Down projection over the terms with a nonzero activation: a zero adds nothing
// to Eq 19, and skipping it means its down row is never read (ReLU models skip
// most rows this way). The compacted lists are what both ffnDown and ffnSliced
// sum, so the two give bit-identical outputs for the same kept list.
static void downCompact(float* out, const float* actOf, const FfnView& f, const int32_t* kept, int64_t count,
                        bool actIsCompact) {
  thread_local std::vector<int32_t> ids;
  thread_local std::vector<float> ws;
  ids.clear();
  ws.clear();
  for (int64_t k = 0; k < count; k++) {
    const int32_t i = kept ? kept[k] : static_cast<int32_t>(k);
    const float ai = actIsCompact ? actOf[k] : actOf[i];
    if (ai != 0.0f) {
      ids.push_back(i);
      ws.push_back(ai);
    }
  }
  RowSum s{f.downT, f.dim, ids.data(), ws.data(), static_cast<int64_t>(ids.size()), f.wt};
  rowSum(s, out, f.dim, f.downBias);
}

void ffnDown(float* out, const float* a, const FfnView& f, const int32_t* kept, int64_t count) {
  downCompact(out, a, f, kept, count, false);
}

// The sliced FFN reads only kept rows of gate, up and downT: phase 1 computes the
// kept activations (threads split the kept list), phase 2 the down projection
// (rowSum). Cost is proportional to the number of kept neurons.
void ffnSliced(float* out, const float* x, const FfnView& f, const int32_t* kept, int64_t count) {
  thread_local std::vector<float> act;
  act.resize(static_cast<size_t>(count));
  activations(act.data(), x, f, kept, count);
  downCompact(out, act.data(), f, kept, count, true);
}

// Threads take contiguous shares of the kept list; each row is one memcpy. Plain stores
// on purpose: the copy is read right after it is made (the same call computes on it), and
// a copy of one layer's kept rows (8.6 MB at the 341 M shape, F16, density 0.5) largely
// stays in the L3 cache for that.
void gatherRows(void* dst, const void* src, WType wt, int64_t rowLen, const int32_t* kept, int64_t count) {
  const int64_t rowBytes = rowLen * wsize(wt);
  parallel(partsFor(count * rowBytes / 4), [&](int part, int n) {
    int64_t b, e;
    share(count, part, n, 1, &b, &e);
    for (int64_t k = b; k < e; k++)
      std::memcpy(static_cast<char*>(dst) + k * rowBytes, static_cast<const char*>(src) + kept[k] * rowBytes,
                  static_cast<size_t>(rowBytes));
  });
}

// ---------------------------------------------------------------------------
// Batched prefill of one layer. Every step is the single-token kernel's arithmetic
// applied to a block of tokens (prims dotBlock / rowSumBlock keep dot2's and the row
// sum's order), so the block path equals the token-by-token path bit for bit: the
// TDA/Griffin statistics see the same activations and choose the same masks. Why it
// is faster: each weight row is read from memory once per block instead of once per
// token, and the GEMM loops use 12 FMAs per 7 loads (compute-bound, not memory-bound).
// ---------------------------------------------------------------------------

// out[t·ldo + r] = w_r · x_t for r < rows, t < tokens; threads take row ranges.
static void gemm(float* out, int64_t ldo, const void* w, WType wt, int64_t rows, int64_t cols, const float* x,
                 int64_t ldx, int64_t tokens) {
  parallel(partsFor(rows * cols * tokens, 8), [&](int part, int n) {
    int64_t b, e;
    share(rows, part, n, 3, &b, &e);
    if (b < e) P(wt).dotBlock(wat(w, wt, b * cols), cols, e - b, x, ldx, tokens, cols, out + b, ldo);
  });
}

// Dense down projection for a block (Eq 19 over all neurons), bias included. A token
// with a zero activation skips that term in the single-token path (ffnDown), which
// moves its group boundaries; such tokens take that path here too.
static void downBlock(float* out, const float* act, const FfnView& f, int64_t count) {
  thread_local std::vector<float> denseA, denseOut;
  thread_local std::vector<int64_t> dense;
  dense.clear();
  for (int64_t t = 0; t < count; t++) {
    const float* a = act + t * f.hidden;
    bool zero = false;
    for (int64_t i = 0; i < f.hidden && !zero; i++) zero = a[i] == 0.0f;
    if (zero)
      ffnDown(out + t * f.dim, a, f, nullptr, f.hidden);
    else
      dense.push_back(t);
  }
  if (dense.empty()) return;
  const bool contiguous = static_cast<int64_t>(dense.size()) == count;
  const int64_t m = static_cast<int64_t>(dense.size());
  const float* a = act;
  float* o = out;
  if (!contiguous) {
    denseA.resize(static_cast<size_t>(m * f.hidden));
    denseOut.resize(static_cast<size_t>(m * f.dim));
    for (int64_t k = 0; k < m; k++) std::copy(act + dense[k] * f.hidden, act + (dense[k] + 1) * f.hidden, denseA.data() + k * f.hidden);
    a = denseA.data();
    o = denseOut.data();
  }
  parallel(partsFor(f.hidden * f.dim * m, 8), [&](int part, int n) {
    int64_t b, e;
    share(f.dim, part, n, 16, &b, &e);
    if (b < e) P(f.wt).rowSumBlock(f.downT, f.dim, f.hidden, a, f.hidden, m, o, f.dim, b, e);
  });
  for (int64_t k = 0; k < m; k++) {
    float* dst = out + (contiguous ? k : dense[k]) * f.dim;
    const float* src = o + k * f.dim;
    if (f.downBias)
      for (int64_t j = 0; j < f.dim; j++) dst[j] = src[j] + f.downBias[j];
    else if (!contiguous)
      std::copy(src, src + f.dim, dst);
  }
}

void prefillLayer(float* x, float* act, const LayerView& L, void* keyCache, void* valueCache, WType kvt,
                  int64_t pos0, int64_t count) {
  const FfnView& f = L.ffn;
  const int64_t dim = f.dim, kv = L.kvDim, hidden = f.hidden;
  thread_local std::vector<float> xb, q, tmp, g, u, kStage, vStage;
  xb.resize(static_cast<size_t>(count * dim));
  q.resize(static_cast<size_t>(count * dim));
  tmp.resize(static_cast<size_t>(count * dim));

  // Attention block: x += Wo · attention(RoPE(Wq·xb), RoPE(Wk·xb), Wv·xb).
  for (int64_t t = 0; t < count; t++) rmsnorm(xb.data() + t * dim, x + t * dim, L.rmsAtt, dim, L.eps);
  // K and V go straight into float32 cache rows; for an F16 cache they are computed in
  // float32 first and rounded when stored, as the decoder stores a token's row.
  const bool f16Cache = kvt == kF16;
  if (f16Cache) {
    kStage.resize(static_cast<size_t>(count * kv));
    vStage.resize(static_cast<size_t>(count * kv));
  }
  float* kRows = f16Cache ? kStage.data() : static_cast<float*>(keyCache) + pos0 * kv;
  float* vRows = f16Cache ? vStage.data() : static_cast<float*>(valueCache) + pos0 * kv;
  const WType wt = f.wt;
  gemm(q.data(), dim, L.wq, wt, dim, dim, xb.data(), dim, count);
  gemm(kRows, kv, L.wk, wt, kv, dim, xb.data(), dim, count);
  gemm(vRows, kv, L.wv, wt, kv, dim, xb.data(), dim, count);
  for (int64_t t = 0; t < count; t++) {
    rope(q.data() + t * dim, dim, pos0 + t, L.headSize, L.theta);
    rope(kRows + t * kv, kv, pos0 + t, L.headSize, L.theta);
  }
  if (f16Cache) {
    convertWeights(static_cast<uint16_t*>(keyCache) + pos0 * kv, kRows, count * kv, kF16);
    convertWeights(static_cast<uint16_t*>(valueCache) + pos0 * kv, vRows, count * kv, kF16);
  }
  attentionBlock(xb.data(), dim, q.data(), dim, keyCache, valueCache, kvt, pos0, count, L.nHeads, L.nKvHeads,
                 L.headSize, kv);
  gemm(tmp.data(), dim, L.wo, wt, dim, dim, xb.data(), dim, count);
  for (int64_t i = 0; i < count * dim; i++) x[i] += tmp[i];

  // FFN block, dense (prefill): x += W_down · a(rmsnorm(x)).
  for (int64_t t = 0; t < count; t++) rmsnorm(xb.data() + t * dim, x + t * dim, L.rmsFfn, dim, L.eps);
  const bool gated = f.kind == kSwiglu || f.kind == kGeglu;
  u.resize(static_cast<size_t>(count * hidden));
  gemm(u.data(), hidden, f.up, wt, hidden, dim, xb.data(), dim, count);
  if (gated) {
    g.resize(static_cast<size_t>(count * hidden));
    gemm(g.data(), hidden, f.gate, wt, hidden, dim, xb.data(), dim, count);
    for (int64_t i = 0; i < count * hidden; i++) act[i] = activate(f.kind, g[i], u[i], 0.0f);
  } else {
    for (int64_t t = 0; t < count; t++)
      for (int64_t i = 0; i < hidden; i++)
        act[t * hidden + i] = activate(f.kind, 0, u[t * hidden + i], f.upBias ? f.upBias[i] : 0.0f);
  }
  downBlock(tmp.data(), act, f, count);
  for (int64_t i = 0; i < count * dim; i++) x[i] += tmp[i];
}

}  // namespace tda
