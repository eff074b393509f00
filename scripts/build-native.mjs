// Builds the optional native backends (npm run build:native; also npm's postinstall):
//   native-cpu  — native/build/Release/tda_native_cpu.node, with node-gyp;
//   native-cuda — native/build/Release/tda_native_cuda.node, with nvcc, only when
//                 nvcc is installed and an NVIDIA GPU is visible (or TDA_BUILD_CUDA=1):
//                 the nvcc build takes minutes, and without a GPU the addon could only
//                 report itself unavailable, so an install on a GPU-less machine skips it.
// It never fails an install: any problem is reported in one line and the script
// exits 0, since every other backend works without these.
//
// Environment: TDA_SKIP_NATIVE=1 skips both; TDA_BUILD_CUDA=1 builds native-cuda with
// no GPU visible (e.g. to check that it compiles); TDA_NODE_GYP / TDA_NVCC override the
// tool paths ("none" disables that tool).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const releaseDir = path.join(nativeDir, 'build', 'Release');
const require = createRequire(import.meta.url);

/** The last meaningful line of a tool's output: the reason, in one line. */
function lastError(res) {
  if (res.error) return res.error.message;
  const lines = `${res.stderr ?? ''}\n${res.stdout ?? ''}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^gyp (info|http)/.test(l));
  const err = lines.find((l) => /error[: ]/i.test(l) && !/^gyp ERR! (stack|System|command|cwd|node|node-gyp|not ok)/.test(l));
  return (err ?? lines.at(-1) ?? `exit status ${res.status}`).slice(0, 300);
}

function run(cmd, args, cwd) {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 15 * 60 * 1000, maxBuffer: 64 << 20 });
}

/** Node's headers: <prefix>/include/node for the running node (e.g. /usr). */
function nodeDir() {
  const prefix = path.dirname(path.dirname(process.execPath));
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

function findNodeGyp() {
  if (process.env.TDA_NODE_GYP) return process.env.TDA_NODE_GYP === 'none' ? null : process.env.TDA_NODE_GYP;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

function findNvcc() {
  if (process.env.TDA_NVCC) return process.env.TDA_NVCC === 'none' ? null : process.env.TDA_NVCC;
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/cuda/bin']) {
    if (dir && existsSync(path.join(dir, 'nvcc'))) return path.join(dir, 'nvcc');
  }
  return null;
}

/** An NVIDIA GPU this machine can use: the driver's device nodes (no process is started). */
function gpuVisible() {
  return existsSync('/dev/nvidiactl') || existsSync('/dev/nvidia0') || existsSync('/dev/dxg');
}

function addonApiInclude() {
  try {
    return path.dirname(require.resolve('node-addon-api/package.json'));
  } catch {
    return null;
  }
}

function buildCpu() {
  const gyp = findNodeGyp();
  if (!gyp) return 'node-gyp not found (it is a dependency: run npm install)';
  const dir = nodeDir();
  if (!dir) return `node headers not found under ${path.dirname(path.dirname(process.execPath))}/include/node`;
  if (!addonApiInclude()) return 'node-addon-api not found (it is a dependency: run npm install)';
  const res = run(process.execPath, [gyp, 'rebuild', `--nodedir=${dir}`], nativeDir);
  if (res.status !== 0) return `node-gyp failed: ${lastError(res)}`;
  if (!existsSync(path.join(releaseDir, 'tda_native_cpu.node'))) return 'node-gyp produced no tda_native_cpu.node';
  return null;
}

function buildCuda() {
  const nvcc = findNvcc();
  if (!nvcc) return 'nvcc not found';
  if (process.env.TDA_BUILD_CUDA !== '1' && !gpuVisible()) {
    return 'no NVIDIA GPU found (TDA_BUILD_CUDA=1 npm run build:native builds it anyway)';
  }
  const dir = nodeDir();
  const napi = addonApiInclude();
  if (!dir || !napi) return 'node headers or node-addon-api not found';
  const cu = readdirSync(path.join(nativeDir, 'cuda'))
    .filter((f) => f.endsWith('.cu') || f.endsWith('.cc'))
    .map((f) => path.join('cuda', f));
  const cpu = ['kernels.cc', 'prims_avx2.cc', 'prims_scalar.cc', 'thread_pool.cc'].map((f) => path.join('src', f));
  mkdirSync(releaseDir, { recursive: true });
  const args = [
    '-O3', '-std=c++17', '-shared',
    '-gencode', 'arch=compute_80,code=sm_80',
    '-gencode', 'arch=compute_90,code=sm_90',
    '-Xcompiler', '-fPIC,-pthread,-fexceptions,-ffp-contract=off,-fvisibility=hidden',
    '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DBUILDING_NODE_EXTENSION',
    `-I${path.join(dir, 'include', 'node')}`, `-I${napi}`,
    ...cu, ...cpu,
    '-o', path.join(releaseDir, 'tda_native_cuda.node'),
    '-lcudart_static', '-lrt', '-ldl', '-lpthread',
  ];
  const res = run(nvcc, args, nativeDir);
  if (res.status !== 0) return `nvcc failed: ${lastError(res)}`;
  return null;
}

function main() {
  if (process.env.TDA_SKIP_NATIVE === '1') {
    console.log('native backends not built: TDA_SKIP_NATIVE=1; other backends unaffected');
    return;
  }
  let cpuWhy;
  try {
    cpuWhy = buildCpu();
  } catch (e) {
    cpuWhy = e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
  console.log(
    cpuWhy
      ? `native-cpu backend not built: ${cpuWhy}; other backends unaffected`
      : 'native-cpu backend built: native/build/Release/tda_native_cpu.node',
  );
  let cudaWhy;
  try {
    cudaWhy = buildCuda();
  } catch (e) {
    cudaWhy = e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
  console.log(
    cudaWhy
      ? `native-cuda backend not built: ${cudaWhy}; other backends unaffected`
      : 'native-cuda backend built: native/build/Release/tda_native_cuda.node (needs a GPU at run time)',
  );
}

try {
  main();
} catch (e) {
  console.log(`native backends not built: ${e instanceof Error ? e.message.split('\n')[0] : e}; other backends unaffected`);
}
process.exit(0);
