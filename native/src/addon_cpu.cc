// N-API glue for the CPU kernels: unwraps arguments, checks every length (a bad
// call must throw, never read out of bounds) and passes the Float32Array storage
// straight to the kernels — no copies of weights or activations.
#include <napi.h>

#include <string>

#include "kernels.h"

namespace {

using tda::FfnKind;

[[noreturn]] void fail(const Napi::Env& env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

// A Float32Array's data pointer; null allowed only when nullable. minLen is the
// element count the kernel will touch.
float* f32(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t minLen, bool nullable = false) {
  const Napi::Env env = info.Env();
  const Napi::Value v = info[i];
  if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, std::string(name) + " must be a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (static_cast<int64_t>(a.ElementLength()) < minLen)
    fail(env, std::string(name) + " has " + std::to_string(a.ElementLength()) + " elements, needs " +
                  std::to_string(minLen));
  return a.Data();
}

// Weight storage type code (prims.h WType) at argument i; absent means float32.
tda::WType wtype(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined()) return tda::kF32;
  const Napi::Value v = info[i];
  if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), "weight type must be a number");
  const int t = v.As<Napi::Number>().Int32Value();
  if (t < 0 || t > 2) fail(info.Env(), "unknown weight type code " + std::to_string(t));
  return static_cast<tda::WType>(t);
}

// A weight matrix: a Float32Array for float32 weights, a Uint16Array holding F16 or
// BF16 bits otherwise (converted once by convertWeights); minLen in elements.
const void* weights(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t minLen, tda::WType wt,
                    bool nullable = false) {
  if (wt == tda::kF32) return f32(info, i, name, minLen, nullable);
  const Napi::Env env = info.Env();
  const Napi::Value v = info[i];
  if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array)
    throw Napi::TypeError::New(env, std::string(name) + " must be a Uint16Array of half-precision weights");
  Napi::Uint16Array a = v.As<Napi::Uint16Array>();
  if (static_cast<int64_t>(a.ElementLength()) < minLen)
    fail(env, std::string(name) + " has " + std::to_string(a.ElementLength()) + " elements, needs " +
                  std::to_string(minLen));
  return a.Data();
}

// Element count of a Float32Array or (half-precision weights) Uint16Array.
size_t weightLen(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const Napi::Value v = info[i];
  if (v.IsTypedArray()) {
    const Napi::TypedArray a = v.As<Napi::TypedArray>();
    if (a.TypedArrayType() == napi_float32_array || a.TypedArrayType() == napi_uint16_array) return a.ElementLength();
  }
  throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a Float32Array or Uint16Array");
}

// A KV cache's element type: float32 (Float32Array) or F16 bits (Uint16Array), the
// type of argument i; the value cache at argument j must be of the same type.
tda::WType kvType(const Napi::CallbackInfo& info, size_t i, size_t j) {
  auto typeOf = [&](size_t k) {
    const Napi::Value v = info[k];
    if (v.IsTypedArray()) {
      const napi_typedarray_type t = v.As<Napi::TypedArray>().TypedArrayType();
      if (t == napi_float32_array) return tda::kF32;
      if (t == napi_uint16_array) return tda::kF16;
    }
    throw Napi::TypeError::New(info.Env(), "KV caches must be Float32Arrays or Uint16Arrays of F16 bits");
  };
  const tda::WType t = typeOf(i);
  if (typeOf(j) != t) throw Napi::TypeError::New(info.Env(), "keyCache and valueCache must be of the same type");
  return t;
}

size_t f32len(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a Float32Array");
  return v.As<Napi::Float32Array>().ElementLength();
}

int64_t num(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t lo = 0) {
  const Napi::Value v = info[i];
  if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(lo)) || d != static_cast<double>(static_cast<int64_t>(d)))
    fail(info.Env(), std::string(name) + " must be an integer >= " + std::to_string(lo));
  return static_cast<int64_t>(d);
}

// kept: Int32Array of ascending ids < hidden, or null (all neurons). Ids are
// checked here because a kernel indexes weight rows with them.
const int32_t* keptList(const Napi::CallbackInfo& info, size_t i, int64_t hidden, int64_t* count) {
  const Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) {
    *count = hidden;
    return nullptr;
  }
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(info.Env(), "kept must be an Int32Array or null");
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  const int32_t* p = a.Data();
  *count = static_cast<int64_t>(a.ElementLength());
  for (int64_t k = 0; k < *count; k++)
    if (p[k] < 0 || p[k] >= hidden)
      fail(info.Env(), "kept[" + std::to_string(k) + "] = " + std::to_string(p[k]) + " is not a neuron id < " +
                           std::to_string(hidden));
  return p;
}

// (gate|null, up, downT, upBias|null, downBias|null, kind) starting at argument i;
// gate, up and downT of weight type wt.
tda::FfnView ffnView(const Napi::CallbackInfo& info, size_t i, int64_t dim, tda::WType wt) {
  const Napi::Env env = info.Env();
  tda::FfnView f{};
  f.dim = dim;
  const int64_t kind = num(info, i + 5, "kind");
  if (kind > 3) fail(env, "unknown FFN kind code " + std::to_string(kind));
  f.kind = static_cast<FfnKind>(kind);
  if (dim <= 0) fail(env, "dim must be positive");
  f.wt = wt;
  const size_t upLen = weightLen(info, i + 1, "ffn.up");
  if (upLen % dim != 0) fail(env, "ffn.up length is not a multiple of dim");
  f.hidden = static_cast<int64_t>(upLen / dim);
  const bool gated = f.kind == tda::kSwiglu || f.kind == tda::kGeglu;
  f.gate = weights(info, i, "ffn.gate", f.hidden * dim, wt, !gated);
  f.up = weights(info, i + 1, "ffn.up", f.hidden * dim, wt);
  f.downT = weights(info, i + 2, "ffn.downT", f.hidden * dim, wt);
  f.upBias = f32(info, i + 3, "ffn.upBias", f.hidden, true);
  f.downBias = f32(info, i + 4, "ffn.downBias", dim, true);
  if (gated) f.upBias = nullptr;  // gated kinds have no up bias (Eq 17)
  return f;
}

Napi::Value Matvec(const Napi::CallbackInfo& info) {
  const int64_t rows = num(info, 3, "rows"), cols = num(info, 4, "cols");
  float* out = f32(info, 0, "out", rows);
  const tda::WType wt = wtype(info, 5);
  const void* w = weights(info, 1, "w", rows * cols, wt);
  const float* x = f32(info, 2, "x", cols);
  tda::matvec(out, w, wt, x, rows, cols);
  return info.Env().Undefined();
}

Napi::Value Rmsnorm(const Napi::CallbackInfo& info) {
  const int64_t n = static_cast<int64_t>(f32len(info, 1, "x"));
  float* out = f32(info, 0, "out", n);
  const float* x = f32(info, 1, "x", n);
  const float* w = f32(info, 2, "weight", n);
  if (!info[3].IsNumber()) throw Napi::TypeError::New(info.Env(), "eps must be a number");
  tda::rmsnorm(out, x, w, n, info[3].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

Napi::Value Rope(const Napi::CallbackInfo& info) {
  const int64_t n = static_cast<int64_t>(f32len(info, 0, "vec"));
  float* v = f32(info, 0, "vec", n);
  const int64_t pos = num(info, 1, "pos");
  const int64_t hs = num(info, 2, "headSize", 2);
  if (hs % 2 != 0) fail(info.Env(), "headSize must be even");
  if (!info[3].IsNumber()) throw Napi::TypeError::New(info.Env(), "theta must be a number");
  tda::rope(v, n, pos, hs, info[3].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

// (out, q, keyCache, valueCache, pos, nHeads, nKvHeads, headSize, kvDim)
Napi::Value Attention(const Napi::CallbackInfo& info) {
  const int64_t pos = num(info, 4, "pos");
  const int64_t nHeads = num(info, 5, "nHeads", 1), nKv = num(info, 6, "nKvHeads", 1);
  const int64_t hs = num(info, 7, "headSize", 1), kvDim = num(info, 8, "kvDim", 1);
  if (nHeads % nKv != 0) fail(info.Env(), "nHeads must be a multiple of nKvHeads");
  if (kvDim < nKv * hs) fail(info.Env(), "kvDim must be at least nKvHeads * headSize");
  float* out = f32(info, 0, "out", nHeads * hs);
  const float* q = f32(info, 1, "q", nHeads * hs);
  const int64_t cache = (pos + 1) * kvDim;
  const tda::WType kvt = kvType(info, 2, 3);
  const void* kc = weights(info, 2, "keyCache", cache, kvt);
  const void* vc = weights(info, 3, "valueCache", cache, kvt);
  tda::attention(out, q, kc, vc, kvt, pos, nHeads, nKv, hs, kvDim);
  return info.Env().Undefined();
}

// (a, x, gate, up, downT, upBias, downBias, kind)
Napi::Value FfnActivations(const Napi::CallbackInfo& info) {
  const int64_t dim = static_cast<int64_t>(f32len(info, 1, "x"));
  const tda::FfnView f = ffnView(info, 2, dim, wtype(info, 8));
  float* a = f32(info, 0, "a", f.hidden);
  const float* x = f32(info, 1, "x", dim);
  tda::ffnActivations(a, x, f);
  return info.Env().Undefined();
}

// (out, a, gate, up, downT, upBias, downBias, kind, kept)
Napi::Value FfnDown(const Napi::CallbackInfo& info) {
  const int64_t dim = static_cast<int64_t>(f32len(info, 0, "out"));
  const tda::FfnView f = ffnView(info, 2, dim, wtype(info, 9));
  float* out = f32(info, 0, "out", dim);
  const float* a = f32(info, 1, "a", f.hidden);
  int64_t count;
  const int32_t* kept = keptList(info, 8, f.hidden, &count);
  tda::ffnDown(out, a, f, kept, count);
  return info.Env().Undefined();
}

// (out, x, gate, up, downT, upBias, downBias, kind, kept)
Napi::Value FfnSliced(const Napi::CallbackInfo& info) {
  const int64_t dim = static_cast<int64_t>(f32len(info, 0, "out"));
  const tda::FfnView f = ffnView(info, 2, dim, wtype(info, 9));
  float* out = f32(info, 0, "out", dim);
  const float* x = f32(info, 1, "x", dim);
  int64_t count;
  const int32_t* kept = keptList(info, 8, f.hidden, &count);
  tda::ffnSliced(out, x, f, kept, count);
  return info.Env().Undefined();
}

double real(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

// (x, act, rmsAtt, wq, wk, wv, wo, rmsFfn, gate, up, downT, upBias, downBias, kind,
//  keyCache, valueCache, pos0, count, nHeads, nKvHeads, headSize, kvDim, eps, theta[, weightType])
Napi::Value PrefillLayer(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 24) fail(env, "prefillLayer needs 24 arguments");
  const int64_t dim = static_cast<int64_t>(f32len(info, 2, "rmsAtt"));
  const int64_t pos0 = num(info, 16, "pos0"), count = num(info, 17, "count", 1);
  tda::LayerView L{};
  L.nHeads = num(info, 18, "nHeads", 1);
  L.nKvHeads = num(info, 19, "nKvHeads", 1);
  L.headSize = num(info, 20, "headSize", 2);
  L.kvDim = num(info, 21, "kvDim", 1);
  L.eps = real(info, 22, "eps");
  L.theta = real(info, 23, "theta");
  if (L.nHeads % L.nKvHeads != 0) fail(env, "nHeads must be a multiple of nKvHeads");
  if (L.headSize % 2 != 0 || L.nHeads * L.headSize != dim) fail(env, "nHeads * headSize must equal dim, headSize even");
  if (L.kvDim != L.nKvHeads * L.headSize) fail(env, "kvDim must equal nKvHeads * headSize");
  const tda::WType wt = wtype(info, 24);
  L.ffn = ffnView(info, 8, dim, wt);
  const int64_t kv = L.kvDim;
  float* x = f32(info, 0, "x", count * dim);
  float* act = f32(info, 1, "act", count * L.ffn.hidden);
  L.rmsAtt = f32(info, 2, "rmsAtt", dim);
  L.wq = weights(info, 3, "wq", dim * dim, wt);
  L.wk = weights(info, 4, "wk", kv * dim, wt);
  L.wv = weights(info, 5, "wv", kv * dim, wt);
  L.wo = weights(info, 6, "wo", dim * dim, wt);
  L.rmsFfn = f32(info, 7, "rmsFfn", dim);
  const tda::WType kvt = kvType(info, 14, 15);
  void* kc = const_cast<void*>(weights(info, 14, "keyCache", (pos0 + count) * kv, kvt));
  void* vc = const_cast<void*>(weights(info, 15, "valueCache", (pos0 + count) * kv, kvt));
  tda::prefillLayer(x, act, L, kc, vc, kvt, pos0, count);
  return env.Undefined();
}

// (src: Float32Array, weightType 1 | 2) -> Uint16Array of F16 / BF16 bits.
Napi::Value ConvertWeights(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const int64_t n = static_cast<int64_t>(f32len(info, 0, "src"));
  const float* src = f32(info, 0, "src", n);
  const tda::WType wt = wtype(info, 1);
  if (wt == tda::kF32) fail(env, "convertWeights converts to F16 (1) or BF16 (2)");
  Napi::Uint16Array dst = Napi::Uint16Array::New(env, static_cast<size_t>(n));
  tda::convertWeights(dst.Data(), src, n, wt);
  return dst;
}

// (dst, src, kept, rowLen, weightType): dst row k = src row kept[k]. dst and src are
// weights of that type (Float32Array or Uint16Array); dst holds kept.length rows.
Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const tda::WType wt = wtype(info, 4);
  const int64_t rowLen = num(info, 3, "rowLen", 1);
  const size_t srcLen = weightLen(info, 1, "src");
  if (srcLen % rowLen != 0) fail(env, "src length is not a multiple of rowLen");
  int64_t count;
  const int32_t* kept = keptList(info, 2, static_cast<int64_t>(srcLen) / rowLen, &count);
  if (!kept) fail(env, "kept must be an Int32Array");
  const void* src = weights(info, 1, "src", static_cast<int64_t>(srcLen), wt);
  void* dst = const_cast<void*>(weights(info, 0, "dst", count * rowLen, wt));
  tda::gatherRows(dst, src, wt, rowLen, kept, count);
  return env.Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("mode", tda::simdMode());
  o.Set("simd", tda::simdEnabled());
  o.Set("threads", tda::threadCount());
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("matvec", Napi::Function::New(env, Matvec));
  exports.Set("rmsnorm", Napi::Function::New(env, Rmsnorm));
  exports.Set("rope", Napi::Function::New(env, Rope));
  exports.Set("attention", Napi::Function::New(env, Attention));
  exports.Set("ffnActivations", Napi::Function::New(env, FfnActivations));
  exports.Set("ffnDown", Napi::Function::New(env, FfnDown));
  exports.Set("ffnSliced", Napi::Function::New(env, FfnSliced));
  exports.Set("prefillLayer", Napi::Function::New(env, PrefillLayer));
  exports.Set("convertWeights", Napi::Function::New(env, ConvertWeights));
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows));
  exports.Set("info", Napi::Function::New(env, Info));
  return exports;
}

}  // namespace

NODE_API_MODULE(tda_native_cpu, Init)
