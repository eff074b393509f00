// Importing this module registers every backend that ships with the kit.
// Each backend folder registers itself in its own index.ts (registerBackend).
import './registry.js';
import './tfjs-wasm/index.js';
import './gpujs/index.js';
import './native-cpu/index.js';
import './native-cuda/index.js';
import './webgpu/index.js';
