// N-API glue of the CUDA backends. Weights are uploaded once per Float32Array
// (the TS side keeps a WeakMap from array to the handle returned by upload()),
// then every kernel call names them by handle. rmsnorm, rope and attention run
// on the host with the native CPU kernels (native/src): they are a small share of
// a decode step, and keeping them on the host avoids copying the KV cache.
#include <napi.h>

#include <string>
#include <vector>

#include "../src/kernels.h"
#include "kernels_cuda.h"

namespace {

using tda_cuda::DeviceArray;

std::vector<DeviceArray> handles(1);  // handle 0 = none
std::vector<size_t> freeHandles;
bool deviceReady = false;

[[noreturn]] void fail(const Napi::Env& env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

float* f32(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t minLen) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (static_cast<int64_t>(a.ElementLength()) < minLen)
    fail(info.Env(), std::string(name) + " has " + std::to_string(a.ElementLength()) + " elements, needs " +
                         std::to_string(minLen));
  return a.Data();
}

int64_t num(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t lo = 0) {
  const Napi::Value v = info[i];
  if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(lo)) || d != static_cast<double>(static_cast<int64_t>(d)))
    fail(info.Env(), std::string(name) + " must be an integer >= " + std::to_string(lo));
  return static_cast<int64_t>(d);
}

// A weight handle with at least minLen elements; 0 allowed when optional.
const DeviceArray* weight(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t minLen,
                          bool optional = false) {
  const int64_t h = num(info, i, name);
  if (h == 0 && optional) return nullptr;
  if (h <= 0 || h >= static_cast<int64_t>(handles.size()) || !handles[h].ptr)
    fail(info.Env(), std::string(name) + ": invalid device handle");
  if (handles[h].length < minLen) fail(info.Env(), std::string(name) + " is too short on the device");
  return &handles[h];
}

template <class F>
void guarded(const Napi::Env& env, F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(env, std::string("CUDA: ") + e.what());
  }
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  std::string name;
  int major = 0, minor = 0;
  const std::string why = tda_cuda::probeDevice(&name, &major, &minor);
  deviceReady = why.empty();
  o.Set("ok", deviceReady);
  if (!deviceReady) {
    o.Set("reason", why);
    return o;
  }
  o.Set("device", name);
  o.Set("sm", "sm_" + std::to_string(major) + std::to_string(minor));
  o.Set("hostThreads", tda::threadCount());
  o.Set("hostMode", tda::simdMode());
  return o;
}

// upload(array, fp16) -> handle
Napi::Value Upload(const Napi::CallbackInfo& info) {
  if (!deviceReady) fail(info.Env(), "CUDA device not initialised");
  const float* p = f32(info, 0, "array", 0);
  Napi::Float32Array a = info[0].As<Napi::Float32Array>();
  const bool fp16 = info[1].ToBoolean();
  DeviceArray d;
  guarded(info.Env(), [&] {
    d = tda_cuda::upload(p, static_cast<int64_t>(a.ElementLength()),
                         fp16 ? tda_cuda::Precision::kF16 : tda_cuda::Precision::kF32);
  });
  size_t h;
  if (!freeHandles.empty()) {
    h = freeHandles.back();
    freeHandles.pop_back();
    handles[h] = d;
  } else {
    h = handles.size();
    handles.push_back(d);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(h));
}

Napi::Value Release(const Napi::CallbackInfo& info) {
  const int64_t h = num(info, 0, "handle");
  if (h > 0 && h < static_cast<int64_t>(handles.size()) && handles[h].ptr) {
    tda_cuda::release(handles[h]);
    freeHandles.push_back(static_cast<size_t>(h));
  }
  return info.Env().Undefined();
}

// matvec(out, wHandle, x, rows, cols)
Napi::Value Matvec(const Napi::CallbackInfo& info) {
  const int64_t rows = num(info, 3, "rows"), cols = num(info, 4, "cols");
  float* out = f32(info, 0, "out", rows);
  const DeviceArray* w = weight(info, 1, "w", rows * cols);
  const float* x = f32(info, 2, "x", cols);
  guarded(info.Env(), [&] { tda_cuda::matvec(out, *w, x, rows, cols); });
  return info.Env().Undefined();
}

// (gateH, upH, downTH, upBiasH, downBiasH, kind, dim, hidden) from argument i
tda_cuda::Ffn ffn(const Napi::CallbackInfo& info, size_t i) {
  tda_cuda::Ffn f{};
  f.kind = static_cast<int>(num(info, i + 5, "kind"));
  if (f.kind > 3) fail(info.Env(), "unknown FFN kind code");
  f.dim = num(info, i + 6, "dim", 1);
  f.hidden = num(info, i + 7, "hidden");
  const int64_t n = f.dim * f.hidden;
  const bool gated = f.kind <= 1;
  f.gate = weight(info, i, "ffn.gate", n, !gated);
  f.up = weight(info, i + 1, "ffn.up", n);
  f.downT = weight(info, i + 2, "ffn.downT", n);
  f.upBias = weight(info, i + 3, "ffn.upBias", f.hidden, true);
  f.downBias = weight(info, i + 4, "ffn.downBias", f.dim, true);
  if (gated) f.upBias = nullptr;
  return f;
}

const int32_t* keptList(const Napi::CallbackInfo& info, size_t i, int64_t hidden, int64_t* count) {
  const Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) {
    *count = hidden;
    return nullptr;
  }
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(info.Env(), "kept must be an Int32Array or null");
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  *count = static_cast<int64_t>(a.ElementLength());
  for (int64_t k = 0; k < *count; k++)
    if (a.Data()[k] < 0 || a.Data()[k] >= hidden) fail(info.Env(), "kept holds an id that is not a neuron");
  return a.Data();
}

// ffnActivations(a, x, gateH, upH, downTH, upBiasH, downBiasH, kind, dim, hidden)
Napi::Value FfnActivations(const Napi::CallbackInfo& info) {
  const tda_cuda::Ffn f = ffn(info, 2);
  float* a = f32(info, 0, "a", f.hidden);
  const float* x = f32(info, 1, "x", f.dim);
  guarded(info.Env(), [&] { tda_cuda::ffnActivations(a, x, f); });
  return info.Env().Undefined();
}

// ffnDown(out, a, gateH, upH, downTH, upBiasH, downBiasH, kind, dim, hidden, kept)
Napi::Value FfnDown(const Napi::CallbackInfo& info) {
  const tda_cuda::Ffn f = ffn(info, 2);
  float* out = f32(info, 0, "out", f.dim);
  const float* a = f32(info, 1, "a", f.hidden);
  int64_t count;
  const int32_t* kept = keptList(info, 10, f.hidden, &count);
  guarded(info.Env(), [&] { tda_cuda::ffnDown(out, a, f, kept, count); });
  return info.Env().Undefined();
}

// ffnSliced(out, x, gateH, upH, downTH, upBiasH, downBiasH, kind, dim, hidden, kept)
Napi::Value FfnSliced(const Napi::CallbackInfo& info) {
  const tda_cuda::Ffn f = ffn(info, 2);
  float* out = f32(info, 0, "out", f.dim);
  const float* x = f32(info, 1, "x", f.dim);
  int64_t count;
  const int32_t* kept = keptList(info, 10, f.hidden, &count);
  guarded(info.Env(), [&] { tda_cuda::ffnSliced(out, x, f, kept, count); });
  return info.Env().Undefined();
}

// Host kernels (same code and summation order as the native-cpu backend).
Napi::Value Rmsnorm(const Napi::CallbackInfo& info) {
  const float* x = f32(info, 1, "x", 0);
  const int64_t n = static_cast<int64_t>(info[1].As<Napi::Float32Array>().ElementLength());
  float* out = f32(info, 0, "out", n);
  const float* w = f32(info, 2, "weight", n);
  if (!info[3].IsNumber()) throw Napi::TypeError::New(info.Env(), "eps must be a number");
  tda::rmsnorm(out, x, w, n, info[3].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

Napi::Value Rope(const Napi::CallbackInfo& info) {
  float* v = f32(info, 0, "vec", 0);
  const int64_t n = static_cast<int64_t>(info[0].As<Napi::Float32Array>().ElementLength());
  const int64_t hs = num(info, 2, "headSize", 2);
  if (hs % 2 != 0) fail(info.Env(), "headSize must be even");
  if (!info[3].IsNumber()) throw Napi::TypeError::New(info.Env(), "theta must be a number");
  tda::rope(v, n, num(info, 1, "pos"), hs, info[3].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

Napi::Value Attention(const Napi::CallbackInfo& info) {
  const int64_t pos = num(info, 4, "pos");
  const int64_t nHeads = num(info, 5, "nHeads", 1), nKv = num(info, 6, "nKvHeads", 1);
  const int64_t hs = num(info, 7, "headSize", 1), kvDim = num(info, 8, "kvDim", 1);
  if (nHeads % nKv != 0) fail(info.Env(), "nHeads must be a multiple of nKvHeads");
  if (kvDim < nKv * hs) fail(info.Env(), "kvDim must be at least nKvHeads * headSize");
  float* out = f32(info, 0, "out", nHeads * hs);
  const float* q = f32(info, 1, "q", nHeads * hs);
  const float* kc = f32(info, 2, "keyCache", (pos + 1) * kvDim);
  const float* vc = f32(info, 3, "valueCache", (pos + 1) * kvDim);
  tda::attention(out, q, kc, vc, pos, nHeads, nKv, hs, kvDim);
  return info.Env().Undefined();
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("upload", Napi::Function::New(env, Upload));
  exports.Set("release", Napi::Function::New(env, Release));
  exports.Set("matvec", Napi::Function::New(env, Matvec));
  exports.Set("ffnActivations", Napi::Function::New(env, FfnActivations));
  exports.Set("ffnDown", Napi::Function::New(env, FfnDown));
  exports.Set("ffnSliced", Napi::Function::New(env, FfnSliced));
  exports.Set("rmsnorm", Napi::Function::New(env, Rmsnorm));
  exports.Set("rope", Napi::Function::New(env, Rope));
  exports.Set("attention", Napi::Function::New(env, Attention));
  return exports;
}

}  // namespace

NODE_API_MODULE(tda_native_cuda, InitModule)
