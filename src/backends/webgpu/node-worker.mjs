// Entry of the Node worker thread: worker threads do not inherit the TypeScript
// loader (tsx) registered in the main thread, so it is registered here before the
// worker's TypeScript module is loaded.
import { register } from 'tsx/esm/api';

register();
await import('./node-worker.ts');
