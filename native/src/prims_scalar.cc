// Portable inner loops for CPUs without AVX2/FMA. Same partial-sum layout and
// reduction tree as prims_avx2.cc; each term is a multiply then an add (two
// roundings) instead of one fused multiply-add, so results can differ from the
// AVX2 build in the last bits but the error bound has the same form.
#include <cstring>

#include "prims.h"

namespace tda {
namespace {

float reduce32(const float p[32]) {
  float v[8];
  for (int l = 0; l < 8; l++) v[l] = (p[l] + p[8 + l]) + (p[16 + l] + p[24 + l]);
  float s4[4];
  for (int l = 0; l < 4; l++) s4[l] = v[l] + v[l + 4];
  const float s2a = s4[0] + s4[2], s2b = s4[1] + s4[3];
  return s2a + s2b;
}

void dotOne(const float* a, const float* x, int64_t n, float* r) {
  float p[32] = {0};
  for (int64_t c = 0; c < n; c++) {
    const float prod = a[c] * x[c];
    p[((c >> 3) & 3) * 8 + (c & 7)] += prod;
  }
  *r = reduce32(p);
}

void dot2(const float* a, const float* b, const float* x, int64_t n, float* ra, float* rb, const float*,
          const float*) {
  dotOne(a, x, n, ra);
  if (b) dotOne(b, x, n, rb);
}

void axpy4(float* acc, const float* const r[4], const float w[4], int64_t len, const float* const*) {
  for (int64_t j = 0; j < len; j++) {
    float s = acc[j];
    s += w[0] * r[0][j];
    s += w[1] * r[1][j];
    s += w[2] * r[2][j];
    s += w[3] * r[3][j];
    acc[j] = s;
  }
}

void axpy1(float* acc, const float* r, float w, int64_t len) {
  for (int64_t j = 0; j < len; j++) acc[j] += w * r[j];
}

void add(float* dst, const float* src, int64_t len) {
  for (int64_t j = 0; j < len; j++) dst[j] += src[j];
}

void scaleMul(float* out, const float* x, const float* w, double scale, int64_t len) {
  for (int64_t j = 0; j < len; j++)
    out[j] = static_cast<float>(static_cast<double>(w[j]) * (scale * static_cast<double>(x[j])));
}

// The batched forms are the single-token loops applied per token: same order by construction.
void dotBlock(const float* w, int64_t ldw, int64_t rows, const float* x, int64_t ldx, int64_t tokens, int64_t n,
              float* out, int64_t ldo) {
  for (int64_t t = 0; t < tokens; t++)
    for (int64_t r = 0; r < rows; r++) dotOne(w + r * ldw, x + t * ldx, n, out + t * ldo + r);
}

void rowSumBlock(const float* rows, int64_t ldr, int64_t nterms, const float* a, int64_t lda, int64_t tokens,
                 float* out, int64_t ldo, int64_t c0, int64_t c1) {
  for (int64_t t = 0; t < tokens; t++) {
    const float* at = a + t * lda;
    float* o = out + t * ldo;
    for (int64_t c = c0; c < c1; c++) {
      float total = 0.0f;
      for (int64_t g0 = 0; g0 < nterms; g0 += kRowSumGroup) {
        const int64_t g1 = g0 + kRowSumGroup < nterms ? g0 + kRowSumGroup : nterms;
        float group = 0.0f;
        for (int64_t k = g0; k < g1; k++) group += at[k] * rows[k * ldr + c];
        total = g0 == 0 ? group : total + group;
      }
      o[c] = total;
    }
  }
}

}  // namespace

const Prims kScalarPrims = {"scalar", false, dot2, axpy4, axpy1, add, scaleMul, dotBlock, rowSumBlock};

}  // namespace tda
