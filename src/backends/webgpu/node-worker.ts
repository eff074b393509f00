// The Node worker thread that owns the WebGPU device (dawn.node, from the `webgpu`
// package). Started by node.ts through node-worker.mjs.

import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import { create, globals } from 'webgpu';
import { serveGpu } from './serve.js';

// GPUBufferUsage, GPUMapMode, … are globals in a browser; dawn.node hands them over.
Object.assign(globalThis, globals);
const version = (createRequire(import.meta.url)('webgpu/package.json') as { version: string }).version;
const port = parentPort!;
await serveGpu({ postMessage: (m) => port.postMessage(m), onMessage: (h) => port.on('message', h) }, create([]), `dawn.node ${version}`);
