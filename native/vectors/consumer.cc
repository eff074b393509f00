// An example consumer of the conformance vectors (docs/vectors.md), written
// without any of the kit's code: it reads DIR/manifest.json and every case's
// safetensors file, runs its own naive kernels (double accumulation, float32
// storage), and writes OUT/<id>.safetensors with tensor "out" (and "tokens" for
// generation cases). `tda vectors check DIR OUT` then judges the results.
//
// Build: make -C native/vectors   Run: native/vectors/consumer DIR OUT

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

// ---------------------------------------------------------------------------
// A small JSON reader: objects, arrays, strings, numbers, true/false/null.

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  double num = 0;
  bool b = false;
  std::string str;
  std::vector<Json> arr;
  std::map<std::string, Json> obj;
  const Json& operator[](const std::string& k) const {
    auto it = obj.find(k);
    if (it == obj.end()) throw std::runtime_error("missing JSON key " + k);
    return it->second;
  }
  bool has(const std::string& k) const { return obj.count(k) > 0; }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : s_(s) {}
  Json parse() {
    Json v = value();
    ws();
    return v;
  }

 private:
  const std::string& s_;
  size_t i_ = 0;
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) i_++;
  }
  char peek() {
    ws();
    if (i_ >= s_.size()) throw std::runtime_error("unexpected end of JSON");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) throw std::runtime_error(std::string("JSON: expected ") + c);
    i_++;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c == '\\') {
        char e = s_[i_++];
        if (e == 'n') out += '\n';
        else if (e == 't') out += '\t';
        else if (e == 'u') {  // the manifests only hold ASCII; keep the code point's low byte
          out += static_cast<char>(std::stoi(s_.substr(i_, 4), nullptr, 16) & 0x7f);
          i_ += 4;
        } else out += e;
      } else out += c;
    }
    i_++;
    return out;
  }
  Json value() {
    Json v;
    char c = peek();
    if (c == '{') {
      v.kind = Json::Object;
      i_++;
      if (peek() == '}') return i_++, v;
      for (;;) {
        std::string k = string();
        expect(':');
        v.obj[k] = value();
        if (peek() == ',') { i_++; continue; }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = Json::Array;
      i_++;
      if (peek() == ']') return i_++, v;
      for (;;) {
        v.arr.push_back(value());
        if (peek() == ',') { i_++; continue; }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = Json::String;
      v.str = string();
      return v;
    }
    if (s_.compare(i_, 4, "true") == 0) { i_ += 4; v.kind = Json::Bool; v.b = true; return v; }
    if (s_.compare(i_, 5, "false") == 0) { i_ += 5; v.kind = Json::Bool; return v; }
    if (s_.compare(i_, 4, "null") == 0) { i_ += 4; return v; }
    size_t end = i_;
    while (end < s_.size() && std::strchr("+-0123456789.eE", s_[end])) end++;
    v.kind = Json::Number;
    v.num = std::stod(s_.substr(i_, end - i_));
    i_ = end;
    return v;
  }
};

static std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------------------
// Safetensors: u64 little-endian header length, JSON header, raw data.

struct Tensor {
  std::string dtype;  // F64, F32, I32
  std::vector<double> f64;
  std::vector<float> f32;
  std::vector<int32_t> i32;
  size_t size() const { return dtype == "F64" ? f64.size() : dtype == "F32" ? f32.size() : i32.size(); }
};
using Tensors = std::map<std::string, Tensor>;

static Tensors readSafetensors(const std::string& path) {
  std::string bytes = readFile(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);  // little-endian hosts only (x86, ARM)
  Json h = JsonParser(bytes.substr(8, n)).parse();
  const char* data = bytes.data() + 8 + n;
  Tensors out;
  for (auto& [name, info] : h.obj) {
    if (name == "__metadata__") continue;
    Tensor t;
    t.dtype = info["dtype"].str;
    size_t b = static_cast<size_t>(info["data_offsets"].arr[0].num), e = static_cast<size_t>(info["data_offsets"].arr[1].num);
    if (t.dtype == "F64") { t.f64.resize((e - b) / 8); std::memcpy(t.f64.data(), data + b, e - b); }
    else if (t.dtype == "F32") { t.f32.resize((e - b) / 4); std::memcpy(t.f32.data(), data + b, e - b); }
    else if (t.dtype == "I32") { t.i32.resize((e - b) / 4); std::memcpy(t.i32.data(), data + b, e - b); }
    else throw std::runtime_error(path + ": unsupported dtype " + t.dtype);
    out[name] = std::move(t);
  }
  return out;
}

static void writeSafetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors) {
  std::string header = "{", data;
  for (auto& [name, t] : tensors) {
    size_t begin = data.size();
    const char* p = t.dtype == "F64" ? reinterpret_cast<const char*>(t.f64.data())
                    : t.dtype == "F32" ? reinterpret_cast<const char*>(t.f32.data())
                                       : reinterpret_cast<const char*>(t.i32.data());
    size_t bytes = t.size() * (t.dtype == "F64" ? 8 : 4);
    data.append(p, bytes);
    if (header.size() > 1) header += ",";
    header += "\"" + name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[" + std::to_string(t.size()) + "],\"data_offsets\":[" +
              std::to_string(begin) + "," + std::to_string(data.size()) + "]}";
  }
  header += "}";
  while ((8 + header.size()) % 8) header += ' ';
  std::ofstream f(path, std::ios::binary);
  uint64_t n = header.size();
  f.write(reinterpret_cast<const char*>(&n), 8);
  f.write(header.data(), header.size());
  f.write(data.data(), data.size());
  if (!f) throw std::runtime_error("cannot write " + path);
}

static Tensor f32Tensor(std::vector<float> v) { Tensor t; t.dtype = "F32"; t.f32 = std::move(v); return t; }
static Tensor i32Tensor(std::vector<int32_t> v) { Tensor t; t.dtype = "I32"; t.i32 = std::move(v); return t; }

// ---------------------------------------------------------------------------
// The kernels: float32 storage, double accumulation (docs/vectors.md gives the
// definitions; the layouts are row-major, FFN neuron i owns row i of gate, up
// and the transposed down matrix).

static void matvec(float* out, const float* w, const float* x, int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    double s = 0;
    for (int c = 0; c < cols; c++) s += static_cast<double>(w[static_cast<size_t>(r) * cols + c]) * x[c];
    out[r] = static_cast<float>(s);
  }
}

static void rmsnorm(float* out, const float* x, const float* weight, int n, double eps) {
  double ss = 0;
  for (int i = 0; i < n; i++) ss += static_cast<double>(x[i]) * x[i];
  double scale = 1.0 / std::sqrt(ss / n + eps);
  for (int i = 0; i < n; i++) out[i] = static_cast<float>(weight[i] * (scale * x[i]));
}

static void rope(float* v, int n, int pos, int headSize, double theta) {
  for (int i = 0; i < n; i += 2) {
    int j = i % headSize;
    double angle = pos / std::pow(theta, static_cast<double>(j) / headSize);
    double c = std::cos(angle), s = std::sin(angle);
    double v0 = v[i], v1 = v[i + 1];
    v[i] = static_cast<float>(v0 * c - v1 * s);
    v[i + 1] = static_cast<float>(v0 * s + v1 * c);
  }
}

static void attention(float* out, const float* q, const float* keys, const float* values, int pos, int nHeads, int nKvHeads, int headSize, int kvDim) {
  int group = nHeads / nKvHeads;
  std::vector<double> p(pos + 1);
  for (int h = 0; h < nHeads; h++) {
    int kvOff = (h / group) * headSize;
    double mx = -INFINITY;
    for (int t = 0; t <= pos; t++) {
      double d = 0;
      for (int i = 0; i < headSize; i++) d += static_cast<double>(q[h * headSize + i]) * keys[static_cast<size_t>(t) * kvDim + kvOff + i];
      p[t] = d / std::sqrt(static_cast<double>(headSize));
      mx = std::max(mx, p[t]);
    }
    double z = 0;
    for (int t = 0; t <= pos; t++) z += (p[t] = std::exp(p[t] - mx));
    for (int i = 0; i < headSize; i++) {
      double s = 0;
      for (int t = 0; t <= pos; t++) s += p[t] / z * values[static_cast<size_t>(t) * kvDim + kvOff + i];
      out[h * headSize + i] = static_cast<float>(s);
    }
  }
}

struct Ffn {
  const float *gate = nullptr, *up = nullptr, *downT = nullptr, *upBias = nullptr, *downBias = nullptr;
};

static double gelu(double x) { return 0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); }

static float activation(const Ffn& f, const std::string& kind, const float* x, int dim, int i) {
  double up = 0, gate = 0;
  for (int c = 0; c < dim; c++) up += static_cast<double>(f.up[static_cast<size_t>(i) * dim + c]) * x[c];
  if (kind == "swiglu" || kind == "geglu") {
    for (int c = 0; c < dim; c++) gate += static_cast<double>(f.gate[static_cast<size_t>(i) * dim + c]) * x[c];
    double g = static_cast<float>(gate), u = static_cast<float>(up);  // each projection stored as float32
    return static_cast<float>((kind == "swiglu" ? g / (1 + std::exp(-g)) : gelu(g)) * u);
  }
  double pre = static_cast<float>(up + (f.upBias ? f.upBias[i] : 0.0));
  return static_cast<float>(kind == "relu" ? std::max(pre, 0.0) : gelu(pre));
}

// out = Σ_{i ∈ ids} a_i · downT[i] (+ downBias)
static void down(float* out, const std::vector<float>& a, const Ffn& f, const std::vector<int32_t>& ids, int dim) {
  std::vector<double> acc(dim, 0.0);
  for (int i : ids)
    for (int j = 0; j < dim; j++) acc[j] += static_cast<double>(a[i]) * f.downT[static_cast<size_t>(i) * dim + j];
  for (int j = 0; j < dim; j++) out[j] = static_cast<float>(acc[j] + (f.downBias ? f.downBias[j] : 0.0));
}

// ---------------------------------------------------------------------------
// Cases.

static const float* f32(const Tensors& t, const std::string& n) {
  auto it = t.find(n);
  if (it == t.end()) return nullptr;
  if (it->second.dtype != "F32") throw std::runtime_error("tensor " + n + " is not F32");
  return it->second.f32.data();
}

static std::vector<int32_t> keptOrAll(const Tensors& t, const std::string& name, int hidden) {
  auto it = t.find(name);
  if (it != t.end()) return it->second.i32;
  std::vector<int32_t> all(hidden);
  std::iota(all.begin(), all.end(), 0);
  return all;
}

static Ffn ffnOf(const Tensors& t, const std::string& prefix) {
  return {f32(t, prefix + "gate"), f32(t, prefix + "up"), f32(t, prefix + "downT"), f32(t, prefix + "upBias"), f32(t, prefix + "downBias")};
}

static std::vector<float> runKernel(const std::string& k, const Json& p, const Tensors& t) {
  auto P = [&](const char* n) { return p[n].num; };
  if (k == "matvec") {
    std::vector<float> out(static_cast<size_t>(P("rows")));
    matvec(out.data(), f32(t, "w"), f32(t, "x"), static_cast<int>(P("rows")), static_cast<int>(P("cols")));
    return out;
  }
  if (k == "rmsnorm") {
    int n = static_cast<int>(t.at("x").size());
    std::vector<float> out(n);
    rmsnorm(out.data(), f32(t, "x"), f32(t, "weight"), n, P("eps"));
    return out;
  }
  if (k == "rope") {
    std::vector<float> v = t.at("vec").f32;
    rope(v.data(), static_cast<int>(v.size()), static_cast<int>(P("pos")), static_cast<int>(P("headSize")), P("theta"));
    return v;
  }
  if (k == "attention") {
    std::vector<float> out(static_cast<size_t>(P("nHeads") * P("headSize")));
    attention(out.data(), f32(t, "q"), f32(t, "keyCache"), f32(t, "valueCache"), static_cast<int>(P("pos")), static_cast<int>(P("nHeads")),
              static_cast<int>(P("nKvHeads")), static_cast<int>(P("headSize")), static_cast<int>(P("kvDim")));
    return out;
  }
  int dim = static_cast<int>(P("dim")), hidden = static_cast<int>(P("hidden"));
  Ffn f = ffnOf(t, "ffn.");
  std::string kind = p.has("kind") ? p["kind"].str : "";
  if (k == "ffnActivations") {
    std::vector<float> a(hidden);
    for (int i = 0; i < hidden; i++) a[i] = activation(f, kind, f32(t, "x"), dim, i);
    return a;
  }
  std::vector<int32_t> ids = keptOrAll(t, "kept", hidden);
  std::vector<float> out(dim);
  if (k == "ffnDown") {
    const float* a = f32(t, "a");
    down(out.data(), std::vector<float>(a, a + hidden), f, ids, dim);
    return out;
  }
  if (k == "ffnSliced") {
    std::vector<float> a(hidden, 0.0f);
    for (int i : ids) a[i] = activation(f, kind, f32(t, "x"), dim, i);  // kept rows only
    down(out.data(), a, f, ids, dim);
    return out;
  }
  throw std::runtime_error("unknown kernel " + k);
}

// Masks from the given activations a.{l} ([tokens][hidden] per layer).
static std::vector<int32_t> runMask(const Json& p, const Tensors& t) {
  std::string method = p["method"].str;
  int L = static_cast<int>(p["n_layers"].num), T = static_cast<int>(p["tokens"].num), H = static_cast<int>(p["hidden"].num);
  const std::vector<double>& thr = t.at("threshold").f64;
  std::vector<int32_t> out(method == "tt" ? static_cast<size_t>(L) * T * H : static_cast<size_t>(L) * H, 0);
  for (int l = 0; l < L; l++) {
    const float* a = f32(t, "a." + std::to_string(l));
    const std::vector<double>& norms = t.at("down_norms." + std::to_string(l)).f64;
    if (method == "tt") {
      for (int k = 0; k < T; k++)
        for (int i = 0; i < H; i++) {
          size_t at = (static_cast<size_t>(l) * T + k) * H + i;
          out[at] = std::fabs(a[k * H + i]) * norms[i] >= thr[at] ? 1 : 0;
        }
      continue;
    }
    std::vector<double> s(H, 0.0);
    for (int k = 0; k < T; k++) {
      std::vector<double> m(H);
      double n2 = 0;
      for (int i = 0; i < H; i++) {
        m[i] = method == "tda" ? std::fabs(a[k * H + i]) * norms[i] : a[k * H + i];
        n2 += m[i] * m[i];
      }
      if (n2 > 0)
        for (int i = 0; i < H; i++) s[i] += m[i] * m[i] / n2;
    }
    if (method == "tda") {
      for (int i = 0; i < H; i++) out[static_cast<size_t>(l) * H + i] = std::sqrt(s[i] / std::max(T, 1)) >= thr[static_cast<size_t>(l) * H + i] ? 1 : 0;
    } else {  // griffin: top k of sqrt(s), ties to the lower id
      std::vector<int> order(H);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return s[x] > s[y]; });
      int kk = static_cast<int>(std::lround(p["density"].num * H));
      for (int r = 0; r < kk; r++) out[static_cast<size_t>(l) * H + order[r]] = 1;
    }
  }
  return out;
}

// Greedy generation with the model of the case (llama2.c's forward pass).
struct Model {
  Json cfg;
  Tensors w;
};

static std::pair<std::vector<float>, std::vector<int32_t>> runGenerate(const Model& m, const Json& p, const Tensors& t) {
  auto C = [&](const char* n) { return static_cast<int>(p[n].num); };
  int dim = C("dim"), hidden = C("hidden_dim"), L = C("n_layers"), nH = C("n_heads"), nKv = C("n_kv_heads"), V = C("vocab_size"), seqLen = C("seq_len");
  int hs = dim / nH, kvDim = nKv * hs;
  double eps = p["norm_eps"].num, theta = p["rope_theta"].num;
  std::string kind = p["ffn_kind"].str, method = p["method"].str;
  const std::vector<int32_t>& prompt = t.at("prompt").i32;
  int steps = std::min(C("steps"), seqLen), n = static_cast<int>(prompt.size());
  std::vector<std::vector<float>> kc(L, std::vector<float>(static_cast<size_t>(seqLen) * kvDim)), vc = kc;
  std::vector<float> x(dim), xb(dim), xb2(dim), q(dim), k(kvDim), v(kvDim), logits(V), allLogits;
  std::vector<int32_t> tokens;
  auto W = [&](const std::string& name) { return f32(m.w, name); };
  for (int pos = 0; pos < steps; pos++) {
    int token = pos < n ? prompt[pos] : tokens[pos - n];
    bool prefill = pos < n;
    std::copy(W("token_embedding") + static_cast<size_t>(token) * dim, W("token_embedding") + static_cast<size_t>(token + 1) * dim, x.begin());
    for (int l = 0; l < L; l++) {
      std::string pre = "layers." + std::to_string(l) + ".";
      rmsnorm(xb.data(), x.data(), W(pre + "rms_att"), dim, eps);
      matvec(q.data(), W(pre + "wq"), xb.data(), dim, dim);
      matvec(k.data(), W(pre + "wk"), xb.data(), kvDim, dim);
      matvec(v.data(), W(pre + "wv"), xb.data(), kvDim, dim);
      rope(q.data(), dim, pos, hs, theta);
      rope(k.data(), kvDim, pos, hs, theta);
      std::copy(k.begin(), k.end(), kc[l].begin() + static_cast<size_t>(pos) * kvDim);
      std::copy(v.begin(), v.end(), vc[l].begin() + static_cast<size_t>(pos) * kvDim);
      attention(xb.data(), q.data(), kc[l].data(), vc[l].data(), pos, nH, nKv, hs, kvDim);
      matvec(xb2.data(), W(pre + "wo"), xb.data(), dim, dim);
      for (int i = 0; i < dim; i++) x[i] += xb2[i];
      rmsnorm(xb.data(), x.data(), W(pre + "rms_ffn"), dim, eps);
      Ffn f = ffnOf(m.w, pre + "ffn.");
      // Prefill and Dense: every neuron; TDA / Griffin generation: the given mask.
      std::vector<int32_t> ids = prefill || method == "dense" ? keptOrAll(t, "", hidden) : keptOrAll(t, "kept." + std::to_string(l), hidden);
      std::vector<float> a(hidden, 0.0f);
      for (int i : ids) a[i] = activation(f, kind, xb.data(), dim, i);
      down(xb2.data(), a, f, ids, dim);
      for (int i = 0; i < dim; i++) x[i] += xb2[i];
    }
    rmsnorm(x.data(), x.data(), W("rms_final"), dim, eps);
    matvec(logits.data(), W("classifier"), x.data(), V, dim);
    if (pos < n - 1) continue;
    allLogits.insert(allLogits.end(), logits.begin(), logits.end());
    int next = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());  // first maximum
    tokens.push_back(next);
    if (next == 1) break;  // BOS ends a generation, as in llama2.c
  }
  return {allLogits, tokens};
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: consumer VECTORS_DIR RESULTS_DIR\n");
    return 2;
  }
  std::string dir = argv[1], outDir = argv[2];
  try {
    Json manifest = JsonParser(readFile(dir + "/manifest.json")).parse();
    if (manifest["format"].str != "tda-kit/vectors@1") throw std::runtime_error("unknown format " + manifest["format"].str);
    std::map<std::string, std::unique_ptr<Model>> models;
    for (const Json& c : manifest["cases"].arr) {
      const std::string id = c["id"].str, kernel = c["kernel"].str;
      Tensors t = readSafetensors(dir + "/" + c["file"].str);
      std::vector<std::pair<std::string, Tensor>> result;
      if (kernel == "mask") result.push_back({"out", i32Tensor(runMask(c["params"], t))});
      else if (kernel == "generate") {
        const std::string file = c["params"]["model_file"].str;
        if (!models.count(file)) models[file] = std::make_unique<Model>(Model{c["params"], readSafetensors(dir + "/" + file)});
        auto [logits, tokens] = runGenerate(*models[file], c["params"], t);
        result.push_back({"out", f32Tensor(logits)});
        result.push_back({"tokens", i32Tensor(tokens)});
      } else result.push_back({"out", f32Tensor(runKernel(kernel, c["params"], t))});
      writeSafetensors(outDir + "/" + id + ".safetensors", result);
    }
    std::printf("%zu results in %s\n", manifest["cases"].arr.size(), outDir.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 2;
  }
  return 0;
}
