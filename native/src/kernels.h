// The CPU kernels of the backend interface (src/core/kernels.ts), on raw
// pointers. The N-API glue (addon_cpu.cc) validates lengths before calling these.
#pragma once

#include <cstdint>

#include "prims.h"

namespace tda {

enum FfnKind : int { kSwiglu = 0, kGeglu = 1, kRelu = 2, kGelu = 3 };

// Weight matrices are of storage type `wt` (prims.h: float32, F16 or BF16); biases,
// norm gains, activations and caches are float32.
struct FfnView {
  const void* gate;       // hidden × dim, null for non-gated kinds
  const void* up;         // hidden × dim
  const void* downT;      // hidden × dim, row i = column i of W_down
  const float* upBias;    // hidden or null
  const float* downBias;  // dim or null
  int64_t dim;
  int64_t hidden;
  FfnKind kind;
  WType wt;
};

const char* simdMode();  // "avx2+fma" or "scalar"
bool simdEnabled();
int threadCount();

void matvec(float* out, const void* w, WType wt, const float* x, int64_t rows, int64_t cols);
// Converts n float32 values to F16 or BF16 (round to nearest even).
void convertWeights(uint16_t* dst, const float* src, int64_t n, WType wt);
void rmsnorm(float* out, const float* x, const float* weight, int64_t n, double eps);
void rope(float* vec, int64_t n, int64_t pos, int64_t headSize, double theta);
void attention(float* out, const float* q, const float* keyCache, const float* valueCache, int64_t pos,
               int64_t nHeads, int64_t nKvHeads, int64_t headSize, int64_t kvDim);
// The same over a KV cache of element type kvt (float32 or F16 bits): F16 rows are
// widened exactly on load, so over an F16 cache it computes what the float32 form
// computes over the cache's float32 values, bit for bit.
void attention(float* out, const float* q, const void* keyCache, const void* valueCache, WType kvt, int64_t pos,
               int64_t nHeads, int64_t nKvHeads, int64_t headSize, int64_t kvDim);
void ffnActivations(float* a, const float* x, const FfnView& f);
// kept: ascending neuron ids, count of them; kept == null means all f.hidden neurons.
void ffnDown(float* out, const float* a, const FfnView& f, const int32_t* kept, int64_t count);
void ffnSliced(float* out, const float* x, const FfnView& f, const int32_t* kept, int64_t count);
// dst row k = src row kept[k], k < count; rows of rowLen elements of type wt. Builds the
// compact copy of a kept list's rows that the backend's sliced FFN then reads.
void gatherRows(void* dst, const void* src, WType wt, int64_t rowLen, const int32_t* kept, int64_t count);

// One decoder layer's weights and shape, for the batched prefill.
struct LayerView {
  const float* rmsAtt;  // dim
  const void* wq;       // dim × dim, type ffn.wt
  const void* wk;       // kvDim × dim
  const void* wv;       // kvDim × dim
  const void* wo;       // dim × dim
  const float* rmsFfn;  // dim
  FfnView ffn;
  int64_t nHeads, nKvHeads, headSize, kvDim;
  double eps, theta;
};

// Batched prefill of one layer for `count` prompt tokens at positions pos0..pos0+count-1:
// x [count][dim] is the residual stream, updated in place (attention block, then the
// dense FFN block); act [count][hidden] receives each token's FFN activations (Eq 17);
// K/V rows pos0.. of this layer's caches (element type kvt: float32, or F16 rounded to
// nearest even as the decoder stores a row) are written. Bit-identical to running the
// single-token kernels token by token in the decoder's order.
void prefillLayer(float* x, float* act, const LayerView& L, void* keyCache, void* valueCache, WType kvt,
                  int64_t pos0, int64_t count);

// The activation a_i = act(g)·u (gated) or act(u + b) (non-gated), evaluated in
// double and rounded once, as the reference does (Appendix E, Eq 17 inner part).
float activate(FfnKind kind, float g, float u, float bias);

}  // namespace tda
