// `tda serve [--port P]`: serves the conformance page (src/web/) on 127.0.0.1 —
// the same harness, run in a browser on reference, tfjs-wasm, gpujs (WebGL) and
// webgpu (navigator.gpu) with the embedded stories260K. Runs until interrupted.

import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { integer } from '../options.js';

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the conformance page on 127.0.0.1: run the harness in a browser (reference, tfjs-wasm, gpujs, webgpu)')
    .option('--port <p>', 'TCP port (0: any free port)', integer('--port', 0, 65535), 8750)
    .action(async (o: { port: number }) => {
      process.stderr.write('bundling the page …\n');
      const { startPageServer } = await import('../../web/server.js');
      let server;
      try {
        server = await startPageServer(o.port);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EADDRINUSE') throw new UserError(`port ${o.port} is in use (choose another with --port)`);
        throw e;
      }
      process.stdout.write(`${server.url}\n`);
      process.stderr.write(`open ${server.url}?backend=webgpu (or reference, tfjs-wasm, gpujs); Ctrl-C stops\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
    });
}
