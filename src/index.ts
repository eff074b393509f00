// tda-kit's library API: everything the `tda` command does, as typed functions.
//
//   import { loadModelFiles, generateText, compareWithDense, calibrate, runConformance,
//            registerBackend, loadBackend } from 'tda-kit';
//
//   const { model, tokenizer } = await loadModelFiles({});          // the embedded stories260K
//   const g = generateText({ model, tokenizer, prompt: 'Once upon a time', method: 'tda', cett: 0.2 });
//   console.log(g.text, g.summary.thresholds, g.density);
//
// The README's "The library" and docs/plugins.md show them in use. Deeper modules
// are not part of the API: import from the package root only.

// The kernel contract and the model record.
export type { AttentionShape, Backend, BackendInfo, Kernels } from './core/kernels.js';
export type { FfnKind, FfnWeights, HalfLoad, KeepHalf, LayerWeights, Model, ModelConfig, ModelWeights, StoredHalf } from './core/model.js';
// storedHalf: an F16/BF16 weight's own file words, kept by loading with `keepHalf` (a backend of your own may use them);
// fillPendingWeights / fillStoredHalf: the float32 values of a `wordsOnly` load, for code that reads them itself.
export { FFN_KINDS, fillPendingWeights, fillStoredHalf, headSize, isGated, kvDim, storedHalf } from './core/model.js';
export { UserError } from './errors.js';
// The KV cache's element type (float32 or F16 words): what a backend of your own declares in
// Kernels.kvCacheTypes, and the helpers to write and read such a cache.
export type { KvRows, KvType } from './core/kv-cache.js';
export { KV_TYPES, allocKv, f16Table, kvTypeOf, widenKv, writeKvRow } from './core/kv-cache.js';

// Models and tokenizers.
export { DEFAULT_MODEL, DEFAULT_TOKENIZER, defaultModelDir, embeddedModelDir, goldenFile, loadModel, loadModelFiles } from './models/discovery.js';
export type { ModelFileOptions } from './models/discovery.js';
export { loadCheckpoint, parseCheckpoint } from './models/llama2c.js';
export { BOS, EOS, Tokenizer, loadTokenizer, parseTokenizer } from './models/tokenizer.js';
export { syntheticModel } from './reference/synthetic.js';
export type { SyntheticShape } from './reference/synthetic.js';

// Generation with Dense / TT / Griffin / TDA.
export { compareWithDense, generateText, meanDensity } from './api/run-method.js';
export type { GenerateTextOptions, MethodComparison, MethodRunOptions, PromptComparison, TextGeneration } from './api/run-method.js';
export { generate, generatedText } from './reference/generate.js';
export type { GenerateOptions, GenerationResult, LayerDensity } from './reference/generate.js';
export { Decoder } from './reference/decoder.js';
export type { DecoderOptions } from './reference/decoder.js';
export { Sampler } from './reference/sampler.js';
export { DEFAULT_CETT, DEFAULT_GRIFFIN_DENSITY, parseMethod, policyFactory, prepareMethod, resolveThresholds } from './reference/methods.js';
export type { MethodSetting, MethodSummary, ResolvedThresholds } from './reference/methods.js';
export { METHODS } from './reference/policies/types.js';
export type { FfnPolicy, LayerPlan, Method } from './reference/policies/types.js';
export { densePolicy } from './reference/policies/dense.js';
export { ttPolicy } from './reference/policies/tt.js';
export { griffinPolicy } from './reference/policies/griffin.js';
export { tdaPolicy } from './reference/policies/tda.js';
export { compareLogits, klDivergence } from './reference/compare.js';

// Calibration (CETT, Eq 20) and the thresholds artefact.
export { calibrate, keepsEverything, sampledCalibrationSet, textCalibrationSet } from './reference/calibrate.js';
export type { CalibratedMethod, CalibrationResult, CalibrationSet, LayerThreshold, Objective } from './reference/calibrate.js';
export { THRESHOLDS_FORMAT, loadThresholds, thresholdsArtefact } from './reference/thresholds.js';
export type { ThresholdsFile } from './reference/thresholds.js';

// Backends.
import './backends/all.js';
export { BackendUnavailableError, loadBackend, loadBackendModule, registerBackend, registeredBackendNames } from './backends/registry.js';
export type { BackendFactory } from './backends/registry.js';
export { referenceBackend, referenceKernels } from './backends/reference/index.js';
// The loader options under which native-cpu-f16 / -bf16 use the file's words instead of converting
// (keepHalfFor), with no float32 copy of the weight matrices (halfLoadFor).
export { halfLoadFor, keepHalfFor } from './backends/native-cpu/index.js';

// Conformance.
export { formatReport, reportJson, runConformance } from './conformance/index.js';
export type { ConformanceOptions, ConformanceReport, ReportRow } from './conformance/index.js';
