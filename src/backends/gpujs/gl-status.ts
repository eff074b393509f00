// Why headless GL is or is not usable in this process, in one line.
//
// gpu.js runs GLSL kernels in Node through the optional `gl` package (headless-gl,
// a native addon built from source on install). It needs an X display — a virtual
// one (Xvfb, via `xvfb-run -a`) is enough, rendered by Mesa's software rasterizer.
// Without either, gpu.js silently picks another mode; this probe says which cause.

import { createRequire } from 'node:module';

export interface GlStatus {
  available: boolean;
  /** One line: what the context reports, or why there is none. */
  detail: string;
}

type CreateGl = (w: number, h: number, o?: object) => WebGLRenderingContext | null;

export function probeHeadlessGl(): GlStatus {
  let createGl: CreateGl;
  try {
    createGl = createRequire(import.meta.url)('gl') as CreateGl;
  } catch (e) {
    const message = (e as Error).message;
    const why = /Cannot find module 'gl'/.test(message)
      ? 'not installed'
      : /bindings file/.test(message)
        ? 'native addon webgl.node missing'
        : message.split('\n')[0];
    return { available: false, detail: `gl package not built (${why}); building it adds gpu.js's WebGL mode (README: optional extras)` };
  }
  let ctx: WebGLRenderingContext | null = null;
  try {
    ctx = createGl(2, 2);
  } catch {
    ctx = null;
  }
  if (!ctx) {
    return {
      available: false,
      detail: process.env.DISPLAY
        ? `no GL context on display ${process.env.DISPLAY}`
        : 'no display: run under xvfb-run -a',
    };
  }
  const renderer = `${ctx.getParameter(ctx.VERSION)}, ${ctx.getParameter(ctx.RENDERER)}`;
  const floatTextures = ctx.getExtension('OES_texture_float') !== null;
  (ctx.getExtension('STACKGL_destroy_context') as { destroy(): void } | null)?.destroy();
  if (!floatTextures) return { available: false, detail: `${renderer} lacks OES_texture_float (float32 textures)` };
  return { available: true, detail: renderer };
}
