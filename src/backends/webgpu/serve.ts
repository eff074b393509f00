// The worker's side of the protocol (protocol.ts): answers requests one at a time,
// in the order they were posted, writing each result (or error) into the shared
// reply buffers and waking the caller blocked in Atomics.wait. Used by the Node
// worker (node-worker.ts) and the browser's (src/web/gpu-worker.ts).

import { GpuExecutor } from './executor.js';
import { type Envelope, ERROR_BYTES, type Hello, type ReplyBuffers, STATE_DONE, STATE_ERROR } from './protocol.js';

export interface WorkerPort {
  postMessage(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
}

export async function serveGpu(port: WorkerPort, gpu: GPU | undefined, runtime: string): Promise<void> {
  let exec: GpuExecutor | string;
  try {
    exec = await GpuExecutor.create(gpu, runtime);
  } catch (e) {
    exec = `${runtime}: ${(e as Error).message.split('\n')[0]}`;
  }
  if (typeof exec === 'string') {
    port.postMessage({ type: 'unavailable', reason: exec } satisfies Hello);
    return;
  }
  const executor = exec;
  let reply: { signal: Int32Array; error: Uint8Array; result: Float32Array } | null = null;
  const adopt = (r: ReplyBuffers) => {
    reply = { signal: new Int32Array(r.signal), error: new Uint8Array(r.error), result: new Float32Array(r.result) };
  };

  async function handle(env: Envelope): Promise<void> {
    if (env.reply) adopt(env.reply);
    if (env.req.op === 'release') {
      await executor.run(env.req).catch(() => undefined); // nobody waits for a release
      return;
    }
    const r = reply!;
    try {
      const out = await executor.run(env.req);
      const n = out?.length ?? 0;
      if (out) r.result.set(out);
      Atomics.store(r.signal, 1, n);
      Atomics.store(r.signal, 0, STATE_DONE);
    } catch (e) {
      const text = new TextEncoder().encode(((e as Error).message ?? String(e)).split('\n')[0]).subarray(0, ERROR_BYTES);
      r.error.set(text);
      Atomics.store(r.signal, 2, text.length);
      Atomics.store(r.signal, 0, STATE_ERROR);
    }
    Atomics.notify(r.signal, 0);
  }

  let queue = Promise.resolve();
  port.onMessage((m) => {
    queue = queue.then(() => handle(m as Envelope));
  });
  port.postMessage({ type: 'ready', adapter: executor.adapter } satisfies Hello);
}
