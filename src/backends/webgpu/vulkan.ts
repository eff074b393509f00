// Making Dawn (the `webgpu` package) find a Vulkan driver in Node on Linux.
//
// Dawn loads the Vulkan loader by its soname, libvulkan.so.1, and the loader finds
// drivers through ICD manifests. A machine with a GPU driver has both. A machine
// without one can still run WebGPU on SwiftShader, the CPU Vulkan driver Debian's
// `chromium` package ships in /usr/lib/chromium with a loader beside it. Two steps,
// each only when needed, each said in info().notes:
//  - no libvulkan.so.1 on the library path: load chromium's copy first, so that
//    Dawn's dlopen of the same soname finds it already loaded (glibc matches loaded
//    libraries by soname);
//  - VK_ICD_FILENAMES unset and no ICD manifest in the standard folders: point it
//    at the SwiftShader manifest. It is set in the calling thread, where it changes
//    the process environment the loader reads (a worker's process.env is a copy).

import fs from 'node:fs';
import path from 'node:path';

const CHROMIUM_DIR = '/usr/lib/chromium';
export const SWIFTSHADER_ICD = path.join(CHROMIUM_DIR, 'vk_swiftshader_icd.json');
const CHROMIUM_LOADER = path.join(CHROMIUM_DIR, 'libvulkan.so.1');
const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d'];

// dlopen flags: RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE (glibc's 0x1000; Node does not export it).
const DLOPEN_FLAGS = 0x2 | 0x100 | 0x1000;

/**
 * Loads a shared library and keeps it loaded. process.dlopen expects a Node addon,
 * so for a plain library it throws "did not self-register" *after* loading it;
 * RTLD_NODELETE keeps the library mapped when Node then closes its handle.
 */
function preload(file: string): boolean {
  try {
    process.dlopen({ exports: {} }, file, DLOPEN_FLAGS);
    return true;
  } catch (e) {
    return /did not self-register/.test((e as Error).message);
  }
}

/** Prepares the process for Dawn's Vulkan backend; returns what it changed, for info().notes. */
export function prepareVulkan(): string[] {
  if (process.platform !== 'linux') return [];
  const notes: string[] = [];
  if (!preload('libvulkan.so.1') && fs.existsSync(CHROMIUM_LOADER) && preload(CHROMIUM_LOADER)) {
    notes.push(`Vulkan loader: ${CHROMIUM_LOADER} (none on the library path)`);
  }
  const hasIcd = ICD_DIRS.some((d) => fs.existsSync(d) && fs.readdirSync(d).some((f) => f.endsWith('.json')));
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && !hasIcd && fs.existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    notes.push(`VK_ICD_FILENAMES=${SWIFTSHADER_ICD} set by the backend (no Vulkan driver installed; SwiftShader runs on the CPU)`);
  }
  return notes;
}
