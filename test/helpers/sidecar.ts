// Starts a real Sidecar on 127.0.0.1 with a YAML config, optionally with in-memory telemetry.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { parseConfigText } from '../../src/config/load.js';
import { Sidecar } from '../../src/gateway/sidecar.js';
import { createTelemetry } from '../../src/telemetry/setup.js';
import type { Telemetry } from '../../src/telemetry/types.js';

export interface TestSidecar {
  sc: Sidecar;
  url: string; // http://127.0.0.1:PORT
  spans?: InMemorySpanExporter;
  close(): Promise<void>;
}

export async function startSidecar(
  yaml: string,
  opts: { telemetry?: boolean; captureContent?: boolean } = {},
): Promise<TestSidecar> {
  const config = parseConfigText(yaml, 'test.yaml', { ...process.env });
  let spans: InMemorySpanExporter | undefined;
  let telemetry: Telemetry | undefined;
  if (opts.telemetry) {
    spans = new InMemorySpanExporter();
    telemetry = await createTelemetry({
      spanProcessor: new SimpleSpanProcessor(spans),
      otlpMetrics: false,
      metricReaders: [],
      captureContent: opts.captureContent ?? config.file.telemetry.capture_content,
      redactPatterns: config.file.telemetry.redact_patterns,
      pricing: config.file.pricing,
    });
  }
  const sc = new Sidecar({ config, telemetry, port: 0 });
  const port = await sc.listen();
  return {
    sc,
    url: `http://127.0.0.1:${port}`,
    spans,
    async close() {
      await sc.close();
      await telemetry?.shutdown();
    },
  };
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, json, text };
}

export const chat = (content = 'hi', extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o',
  messages: [{ role: 'user', content }],
  ...extra,
});

/** Parses an SSE body into its data payloads. */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .map((f) => f.trim())
    .filter((f) => f.startsWith('data: '))
    .map((f) => f.slice(6));
}
