// Decode worker: runs decodeExport for the collector's request thread, so decoding, mapping and
// encoding spans (most of the ingest CPU in JS) use another core than HTTP and the spool.
import { parentPort } from 'node:worker_threads';
import { decodeExport } from './decode-job.js';
import type { DecodeReady, DecodeReply, DecodeTask } from './decode-pool.js';

parentPort!.on('message', (task: DecodeTask) => {
  let reply: DecodeReply;
  const moved: ArrayBuffer[] = [];
  try {
    const result = decodeExport(task.enc, task.body);
    // The payload is a NativeWriter's own buffer (never pooled): moved, not copied.
    if (result.ok && result.payload.byteLength > 0) moved.push(result.payload.buffer as ArrayBuffer);
    reply = { id: task.id, result };
  } catch (err) {
    // A bug, not a bad body: the pool answers 500 for it.
    reply = { id: task.id, failure: (err as Error)?.message ?? String(err) };
  }
  parentPort!.postMessage(reply, moved);
});
// Tasks go here only from now on: until then the pool decodes in the request thread.
parentPort!.postMessage({ ready: true } satisfies DecodeReady);
