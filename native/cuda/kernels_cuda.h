// Device side of the CUDA backend: weights live on the GPU as fp32 or fp16
// buffers, uploaded once; activations and outputs are copied per call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tda_cuda {

enum class Precision { kF32, kF16 };

// A device copy of one weight array (fp16 stores half-precision values).
struct DeviceArray {
  void* ptr = nullptr;
  int64_t length = 0;
  Precision precision = Precision::kF32;
};

// Empty string when a device is usable; otherwise why not (one line).
std::string probeDevice(std::string* name, int* smMajor, int* smMinor);

DeviceArray upload(const float* host, int64_t length, Precision p);
void release(DeviceArray& a);

// All pointers below are host pointers; the launchers stage them through
// reusable device scratch buffers and synchronize before returning.
void matvec(float* out, const DeviceArray& w, const float* x, int64_t rows, int64_t cols);

struct Ffn {
  const DeviceArray* gate;      // null for non-gated kinds
  const DeviceArray* up;
  const DeviceArray* downT;
  const DeviceArray* upBias;    // fp32, null if absent
  const DeviceArray* downBias;  // fp32, null if absent
  int64_t dim;
  int64_t hidden;
  int kind;  // 0 swiglu, 1 geglu, 2 relu, 3 gelu (native/src/kernels.h)
};

void ffnActivations(float* a, const float* x, const Ffn& f);
void ffnDown(float* out, const float* a, const Ffn& f, const int32_t* kept, int64_t count);
void ffnSliced(float* out, const float* x, const Ffn& f, const int32_t* kept, int64_t count);

}  // namespace tda_cuda
