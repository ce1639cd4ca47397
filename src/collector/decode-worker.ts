// Decode worker: runs decodeExport for the collector's request thread, so decoding, mapping and
// encoding spans (most of the ingest CPU in JS) use another core than HTTP and the spool.
import { parentPort } from 'node:worker_threads';
import { decodeExport } from './decode-job.js';
import type { DecodeReady, DecodeReply, DecodeTask } from './decode-pool.js';

parentPort!.on('message', (task: DecodeTask) => {
  let reply: DecodeReply;
  try {
    // The body arrives as a plain Uint8Array; as a Buffer, protobufjs reads strings with Node's
    // native UTF-8 decoder instead of its JS fallback (~2x the decode cost).
    const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
    reply = { id: task.id, result: decodeExport(task.enc, body) };
  } catch (err) {
    // A bug, not a bad body: the pool answers 500 for it.
    reply = { id: task.id, failure: (err as Error)?.message ?? String(err) };
  }
  parentPort!.postMessage(reply);
});
// Tasks go here only from now on: until then the pool decodes in the request thread.
parentPort!.postMessage({ ready: true } satisfies DecodeReady);
