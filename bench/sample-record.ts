// What one benchmark request through the sidecar records (bench/overhead's request), with fresh
// random ids: the request record the export worker turns into two spans.
import { RandomIdGenerator } from '@opentelemetry/sdk-trace-base';
import type { RequestRecord } from '../src/telemetry/records.js';

const ids = new RandomIdGenerator();
export function sampleRecord(t: number): RequestRecord {
  const traceId = ids.generateTraceId();
  return {
    op: 'chat',
    route: '/v1/chat/completions',
    traceId,
    spanId: ids.generateSpanId(),
    start: t,
    end: t + 1.2,
    switchyardTraceId: traceId,
    metadata: {},
    configId: 'd',
    strategy: 'single',
    status: 200,
    retries: 0,
    rescued: false,
    attemptCount: 1,
    answered: { providerName: 'openai', model: 'gpt-4o', target: '0', responseModel: 'gpt-4o-2024-08-06' },
    attempts: [
      {
        spanId: ids.generateSpanId(),
        info: {
          op: 'chat',
          attempt: 0,
          target: '0',
          providerSlug: 'up',
          providerName: 'openai',
          model: 'gpt-4o',
          stream: false,
          serverAddress: '127.0.0.1',
          serverPort: 40000,
          resendCount: 0,
        },
        start: t + 0.1,
        end: t + 1.1,
        result: {
          outcome: 'ok',
          status: 200,
          usage: { input_tokens: 12, output_tokens: 30 },
          responseModel: 'gpt-4o-2024-08-06',
          responseId: 'chatcmpl-abc123',
          finishReasons: ['stop'],
        },
      },
    ],
    backoffs: [],
  };
}
