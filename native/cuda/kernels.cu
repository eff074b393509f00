// CUDA kernels of the native-cuda backends (fp32 weights, or fp16 weights with
// fp32 accumulation). Layout as everywhere in the kit: neuron i owns gate row i,
// up row i and downT row i, so the sliced FFN reads only kept rows.
//
// Summation order (for tolerance analysis):
//  - dot products (matvec, gate/up projections): lane l of a warp sums elements
//    c ≡ l (mod 32) in increasing c (one fp32 FMA each), then the 32 lane sums are
//    combined by a butterfly tree (xor 16, 8, 4, 2, 1).
//  - down projection (Eq 19): the kept list is cut into S consecutive chunks;
//    each chunk is a sequential FMA chain per output element, and the S chunk
//    sums are added in chunk order, then the bias.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels_cuda.h"

namespace tda_cuda {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

__device__ __forceinline__ float load(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float load(const __half* p, int64_t i) { return __half2float(p[i]); }

__device__ __forceinline__ float warpSum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// One warp per row: the 32 lanes read consecutive elements, so every load
// instruction of the warp is one coalesced 128-byte (fp32) or 64-byte (fp16)
// transaction, and a row is streamed exactly once. x (≤ a few KiB) is served from
// L1/L2 to all warps.
template <class W>
__device__ __forceinline__ float warpDot(const W* row, const float* x, int64_t n) {
  float s = 0.0f;
  for (int64_t c = threadIdx.x & 31; c < n; c += 32) s = fmaf(load(row, c), x[c], s);
  return warpSum(s);
}

template <class W>
__global__ void matvecKernel(float* out, const W* w, const float* x, int64_t rows, int64_t cols) {
  const int64_t r = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  if (r >= rows) return;
  const float s = warpDot(w + r * cols, x, cols);
  if ((threadIdx.x & 31) == 0) out[r] = s;
}

__device__ double geluTanh(double x) {
  return 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

// The activation in double, rounded once (as the reference does): it costs
// nothing next to the two dot products of dim FMAs each.
__device__ float activate(int kind, float g, float u, float bias) {
  switch (kind) {
    case 0: { const double gd = g; return static_cast<float>(gd / (1.0 + exp(-gd)) * static_cast<double>(u)); }
    case 1: return static_cast<float>(geluTanh(g) * static_cast<double>(u));
    case 2: { const float pre = static_cast<float>(static_cast<double>(u) + bias); return pre > 0.0f ? pre : 0.0f; }
    default: return static_cast<float>(geluTanh(static_cast<float>(static_cast<double>(u) + bias)));
  }
}

// Eq 17 for neurons idx[k] (or k), one warp per neuron: gate and up rows of a
// neuron are read by the same warp, its activation written to act[k].
template <class W>
__global__ void activationKernel(float* act, const float* x, const W* gate, const W* up, const float* upBias,
                                 const int32_t* idx, int64_t count, int64_t dim, int kind) {
  const int64_t k = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  if (k >= count) return;
  const int64_t i = idx ? idx[k] : k;
  const float u = warpDot(up + i * dim, x, dim);
  const float g = gate ? warpDot(gate + i * dim, x, dim) : 0.0f;
  if ((threadIdx.x & 31) == 0) act[k] = activate(kind, g, u, upBias ? upBias[i] : 0.0f);
}

// Eq 19 over a kept set, stage 1: block (bx, by) owns columns [bx·256, bx·256+256)
// and chunk by of the kept list. Threads of a warp read 32 consecutive floats of
// one downT row (coalesced); a zero activation skips its row for the whole warp.
template <class W>
__global__ void downPartialKernel(float* partial, const float* act, const int32_t* idx, const W* downT,
                                  int64_t count, int64_t dim, int64_t chunk) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t k0 = blockIdx.y * chunk, k1 = min(count, k0 + chunk);
  if (j >= dim) return;
  float s = 0.0f;
  for (int64_t k = k0; k < k1; k++) {
    const float a = act[k];
    if (a == 0.0f) continue;
    const int64_t i = idx ? idx[k] : k;
    s = fmaf(a, load(downT, i * dim + j), s);
  }
  partial[blockIdx.y * dim + j] = s;
}

// Stage 2: the chunk sums in chunk order, plus the bias.
__global__ void downReduceKernel(float* out, const float* partial, int chunks, int64_t dim, const float* bias) {
  const int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= dim) return;
  float s = 0.0f;
  for (int c = 0; c < chunks; c++) s += partial[c * dim + j];
  out[j] = bias ? s + bias[j] : s;
}

__global__ void toHalfKernel(__half* dst, const float* src, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) dst[i] = __float2half_rn(src[i]);
}

// Grow-only device scratch, reused across calls (no cudaMalloc per call).
struct Scratch {
  void* p = nullptr;
  size_t bytes = 0;
  void* get(size_t need) {
    if (need > bytes) {
      if (p) cudaFree(p);
      check(cudaMalloc(&p, need), "cudaMalloc scratch");
      bytes = need;
    }
    return p;
  }
};
Scratch sX, sOut, sAct, sIdx, sPartial;
int smCount = 0;

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

unsigned blocksFor(int64_t warps) { return static_cast<unsigned>((warps + kWarps - 1) / kWarps); }

template <class F>
void dispatch(const DeviceArray& w, F&& f) {
  if (w.precision == Precision::kF16)
    f(static_cast<const __half*>(w.ptr));
  else
    f(static_cast<const float*>(w.ptr));
}

const float* f32(const DeviceArray* a) { return a ? static_cast<const float*>(a->ptr) : nullptr; }

// Down projection of device activations act[0..count) over rows idx (device, or
// null = identity) into host out.
void downDevice(float* out, const float* dAct, const int32_t* dIdx, int64_t count, const Ffn& f) {
  const int64_t dim = f.dim;
  const unsigned colBlocks = static_cast<unsigned>((dim + kThreads - 1) / kThreads);
  // Enough chunks for ~4 blocks per SM, but at least 16 rows per chunk.
  int64_t chunks = std::max<int64_t>(1, (4 * smCount + colBlocks - 1) / colBlocks);
  chunks = std::min<int64_t>(chunks, std::max<int64_t>(1, count / 16));
  const int64_t chunk = count == 0 ? 1 : (count + chunks - 1) / chunks;
  chunks = count == 0 ? 1 : (count + chunk - 1) / chunk;
  float* dPartial = static_cast<float*>(sPartial.get(sizeof(float) * chunks * dim));
  float* dOut = static_cast<float*>(sOut.get(sizeof(float) * dim));
  dispatch(*f.downT, [&](auto* w) {
    downPartialKernel<<<dim3(colBlocks, static_cast<unsigned>(chunks)), kThreads>>>(dPartial, dAct, dIdx, w, count,
                                                                                     dim, chunk);
  });
  downReduceKernel<<<colBlocks, kThreads>>>(dOut, dPartial, static_cast<int>(chunks), dim, f32(f.downBias));
  check(cudaGetLastError(), "down kernels");
  check(cudaMemcpy(out, dOut, sizeof(float) * dim, cudaMemcpyDeviceToHost), "copy out");
}

// Activations of neurons kept[k] (or all) into device act[k].
float* activationsDevice(const float* x, const Ffn& f, const int32_t* dIdx, int64_t count) {
  float* dX = static_cast<float*>(sX.get(sizeof(float) * f.dim));
  check(cudaMemcpy(dX, x, sizeof(float) * f.dim, cudaMemcpyHostToDevice), "copy x");
  float* dAct = static_cast<float*>(sAct.get(sizeof(float) * std::max<int64_t>(count, 1)));
  if (count == 0) return dAct;
  dispatch(*f.up, [&](auto* up) {
    using W = std::remove_const_t<std::remove_pointer_t<decltype(up)>>;
    const W* gate = f.gate ? static_cast<const W*>(f.gate->ptr) : nullptr;
    activationKernel<<<blocksFor(count), kThreads>>>(dAct, dX, gate, up, f32(f.upBias), dIdx, count, f.dim, f.kind);
  });
  check(cudaGetLastError(), "activation kernel");
  return dAct;
}

const int32_t* uploadKept(const int32_t* kept, int64_t count) {
  if (!kept) return nullptr;
  int32_t* d = static_cast<int32_t*>(sIdx.get(sizeof(int32_t) * std::max<int64_t>(count, 1)));
  if (count) check(cudaMemcpy(d, kept, sizeof(int32_t) * count, cudaMemcpyHostToDevice), "copy kept");
  return d;
}

}  // namespace

std::string probeDevice(std::string* name, int* smMajor, int* smMinor) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) return std::string("no usable CUDA device (cudaGetDeviceCount: ") + cudaGetErrorString(e) + ")";
  if (n == 0) return "no CUDA device found";
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "cudaGetDeviceProperties failed";
  if (prop.major < 8) return std::string("GPU ") + prop.name + " is below sm_80, the oldest architecture built";
  *name = prop.name;
  *smMajor = prop.major;
  *smMinor = prop.minor;
  smCount = prop.multiProcessorCount;
  return "";
}

DeviceArray upload(const float* host, int64_t length, Precision p) {
  DeviceArray a;
  a.length = length;
  a.precision = p;
  const size_t n = static_cast<size_t>(std::max<int64_t>(length, 1));
  if (p == Precision::kF32) {
    check(cudaMalloc(&a.ptr, sizeof(float) * n), "cudaMalloc weights");
    check(cudaMemcpy(a.ptr, host, sizeof(float) * length, cudaMemcpyHostToDevice), "upload weights");
    return a;
  }
  // fp16: stage the fp32 values on the device and round them there (RN).
  float* tmp = nullptr;
  check(cudaMalloc(&tmp, sizeof(float) * n), "cudaMalloc staging");
  check(cudaMalloc(&a.ptr, sizeof(__half) * n), "cudaMalloc weights");
  check(cudaMemcpy(tmp, host, sizeof(float) * length, cudaMemcpyHostToDevice), "upload weights");
  toHalfKernel<<<static_cast<unsigned>((length + kThreads - 1) / kThreads), kThreads>>>(static_cast<__half*>(a.ptr),
                                                                                        tmp, length);
  check(cudaDeviceSynchronize(), "fp16 conversion");
  cudaFree(tmp);
  return a;
}

void release(DeviceArray& a) {
  if (a.ptr) cudaFree(a.ptr);
  a.ptr = nullptr;
}

void matvec(float* out, const DeviceArray& w, const float* x, int64_t rows, int64_t cols) {
  float* dX = static_cast<float*>(sX.get(sizeof(float) * std::max<int64_t>(cols, 1)));
  float* dOut = static_cast<float*>(sOut.get(sizeof(float) * std::max<int64_t>(rows, 1)));
  check(cudaMemcpy(dX, x, sizeof(float) * cols, cudaMemcpyHostToDevice), "copy x");
  dispatch(w, [&](auto* p) { matvecKernel<<<blocksFor(rows), kThreads>>>(dOut, p, dX, rows, cols); });
  check(cudaGetLastError(), "matvec kernel");
  check(cudaMemcpy(out, dOut, sizeof(float) * rows, cudaMemcpyDeviceToHost), "copy out");
}

void ffnActivations(float* a, const float* x, const Ffn& f) {
  const float* dAct = activationsDevice(x, f, nullptr, f.hidden);
  check(cudaMemcpy(a, dAct, sizeof(float) * f.hidden, cudaMemcpyDeviceToHost), "copy activations");
}

void ffnDown(float* out, const float* a, const Ffn& f, const int32_t* kept, int64_t count) {
  // Gather the kept activations on the host (count floats), so the device sees
  // the same compact (act[k], idx[k]) form as ffnSliced and sums in the same order.
  float* dAct = static_cast<float*>(sAct.get(sizeof(float) * std::max<int64_t>(count, 1)));
  if (kept) {
    std::vector<float> g(static_cast<size_t>(count));
    for (int64_t k = 0; k < count; k++) g[k] = a[kept[k]];
    if (count) check(cudaMemcpy(dAct, g.data(), sizeof(float) * count, cudaMemcpyHostToDevice), "copy activations");
  } else if (count) {
    check(cudaMemcpy(dAct, a, sizeof(float) * count, cudaMemcpyHostToDevice), "copy activations");
  }
  downDevice(out, dAct, uploadKept(kept, count), count, f);
}

// Only kept rows of gate, up and downT are read; activations never leave the GPU.
void ffnSliced(float* out, const float* x, const Ffn& f, const int32_t* kept, int64_t count) {
  const int32_t* dIdx = uploadKept(kept, count);
  const float* dAct = activationsDevice(x, f, dIdx, count);
  downDevice(out, dAct, dIdx, count, f);
}

}  // namespace tda_cuda
