// The export worker: builds spans and metrics from request records and exports them over OTLP,
// so span building, protobuf serialisation and HTTP export stay off the request event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { logger } from '../logger.js';
import { createPipeline, type PipelineOptions } from './pipeline.js';
import { RecordDecoder } from './record-codec.js';
import type { ToWorker } from './worker-protocol.js';

const port = parentPort!;
const pipeline = createPipeline((workerData as { options: PipelineOptions }).options);
const decoder = new RecordDecoder();

port.on('message', (m: ToWorker) => {
  if (m.t === 'records') {
    try {
      pipeline.countDropped(m.dropped);
      pipeline.build(decoder.decode(m.batch));
    } catch (err) {
      logger.error('telemetry: building spans failed', { error: String(err) });
    }
    port.postMessage({ t: 'ack', spans: m.spans });
    return;
  }
  if (m.t === 'pricing') {
    pipeline.setPricing(m.table);
    return;
  }
  const run = m.t === 'metrics' ? pipeline.metricsText() : m.t === 'flush' ? pipeline.flush() : pipeline.shutdown();
  run.then(
    (value) => port.postMessage({ t: 'reply', id: m.id, value }),
    (err) => port.postMessage({ t: 'reply', id: m.id, error: String(err) }),
  );
});
