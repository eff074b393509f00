// Portable inner loops for CPUs without AVX2/FMA. Same partial-sum layout and
// reduction tree as prims_avx2.cc; each term is a multiply then an add (two
// roundings) instead of one fused multiply-add, so results can differ from the
// AVX2 build in the last bits but the error bound has the same form.
#include <cstring>

#include "prims.h"

namespace tda {

float fromF16(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);  // Inf / NaN
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal half: normalise
    int e = -1;
    do {
      e++;
      man <<= 1;
    } while ((man & 0x400) == 0);
    bits = sign | ((112 - e) << 23) | ((man & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float fromBF16(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t toBF16(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  if ((b & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((b >> 16) | 0x40);  // quiet NaN
  b += 0x7fff + ((b >> 16) & 1);  // round to nearest, ties to even
  return static_cast<uint16_t>(b >> 16);
}

uint16_t toF16(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((b >> 16) & 0x8000);
  const uint32_t a = b & 0x7fffffffu;
  if (a > 0x7f800000u) return sign | 0x7e00;           // NaN
  if (a >= 0x477ff000u) return sign | 0x7c00;          // rounds past 65504: Inf
  if (a >= 0x38800000u) {                              // normal half
    uint32_t r = a - 0x38000000u;                      // rebias exponent 127 -> 15
    r += 0xfff + ((r >> 13) & 1);                      // round to nearest even at bit 13
    return sign | static_cast<uint16_t>(r >> 13);
  }
  if (a < 0x33000000u) return sign;                    // below half the smallest subnormal
  // Subnormal half: value = m · 2^-24, m = round(a's value · 2^24).
  const uint32_t e = a >> 23, man = (a & 0x7fffff) | 0x800000;
  const int shift = 126 - static_cast<int>(e);         // 2^-24 units: man · 2^(e-150+24)
  const uint32_t q = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
  const uint32_t m = q + ((rem > half || (rem == half && (q & 1))) ? 1 : 0);
  return sign | static_cast<uint16_t>(m);
}

namespace {


// The weight element loader of one storage type.
template <WType T>
struct W {
  static float at(const void* p, int64_t i) {
    if constexpr (T == kF32)
      return static_cast<const float*>(p)[i];
    else if constexpr (T == kF16)
      return fromF16(static_cast<const uint16_t*>(p)[i]);
    else
      return fromBF16(static_cast<const uint16_t*>(p)[i]);
  }
};

float reduce32(const float p[32]) {
  float v[8];
  for (int l = 0; l < 8; l++) v[l] = (p[l] + p[8 + l]) + (p[16 + l] + p[24 + l]);
  float s4[4];
  for (int l = 0; l < 4; l++) s4[l] = v[l] + v[l + 4];
  const float s2a = s4[0] + s4[2], s2b = s4[1] + s4[3];
  return s2a + s2b;
}

template <WType T>
void dotOne(const void* a, const float* x, int64_t n, float* r) {
  float p[32] = {0};
  for (int64_t c = 0; c < n; c++) {
    const float prod = W<T>::at(a, c) * x[c];
    p[((c >> 3) & 3) * 8 + (c & 7)] += prod;
  }
  *r = reduce32(p);
}

template <WType T>
void dot2(const void* a, const void* b, const float* x, int64_t n, float* ra, float* rb, const void*, const void*) {
  dotOne<T>(a, x, n, ra);
  if (b) dotOne<T>(b, x, n, rb);
}

template <WType T>
void axpy4(float* acc, const void* const r[4], const float w[4], int64_t len, const void* const*) {
  for (int64_t j = 0; j < len; j++) {
    float s = acc[j];
    s += w[0] * W<T>::at(r[0], j);
    s += w[1] * W<T>::at(r[1], j);
    s += w[2] * W<T>::at(r[2], j);
    s += w[3] * W<T>::at(r[3], j);
    acc[j] = s;
  }
}

template <WType T>
void axpy1(float* acc, const void* r, float w, int64_t len) {
  for (int64_t j = 0; j < len; j++) acc[j] += w * W<T>::at(r, j);
}

void add(float* dst, const float* src, int64_t len) {
  for (int64_t j = 0; j < len; j++) dst[j] += src[j];
}

void scaleMul(float* out, const float* x, const float* w, double scale, int64_t len) {
  for (int64_t j = 0; j < len; j++)
    out[j] = static_cast<float>(static_cast<double>(w[j]) * (scale * static_cast<double>(x[j])));
}

// The batched forms are the single-token loops applied per token: same order by construction.
template <WType T>
void dotBlock(const void* w, int64_t ldw, int64_t rows, const float* x, int64_t ldx, int64_t tokens, int64_t n,
              float* out, int64_t ldo) {
  for (int64_t t = 0; t < tokens; t++)
    for (int64_t r = 0; r < rows; r++) dotOne<T>(wat(w, T, r * ldw), x + t * ldx, n, out + t * ldo + r);
}

template <WType T>
void rowSumBlock(const void* rows, int64_t ldr, int64_t nterms, const float* a, int64_t lda, int64_t tokens,
                 float* out, int64_t ldo, int64_t c0, int64_t c1) {
  for (int64_t t = 0; t < tokens; t++) {
    const float* at = a + t * lda;
    float* o = out + t * ldo;
    for (int64_t c = c0; c < c1; c++) {
      float total = 0.0f;
      for (int64_t g0 = 0; g0 < nterms; g0 += kRowSumGroup) {
        const int64_t g1 = g0 + kRowSumGroup < nterms ? g0 + kRowSumGroup : nterms;
        float group = 0.0f;
        for (int64_t k = g0; k < g1; k++) group += at[k] * W<T>::at(rows, k * ldr + c);
        total = g0 == 0 ? group : total + group;
      }
      o[c] = total;
    }
  }
}

template <WType T>
constexpr Prims table() {
  return {"scalar", false, dot2<T>, axpy4<T>, axpy1<T>, add, scaleMul, dotBlock<T>, rowSumBlock<T>};
}

}  // namespace

const Prims kScalarPrims[3] = {table<kF32>(), table<kF16>(), table<kBF16>()};

}  // namespace tda
