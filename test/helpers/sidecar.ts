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

/** One upstream attempt in the gateway's error body. */
export interface AttemptJson {
  target: string;
  provider: string;
  model: string;
  status: number;
  error_type: string;
  duration_ms: number;
}

/**
 * The fields tests read from a sidecar answer, all declared present: an OpenAI-style chat or text
 * completion, an Anthropic message (`type`, `content`), or the gateway's error body (`error`, and a
 * guardrail's `hook_results`). A test asserts the status (or checks toBeUndefined) before it reads
 * the part that answer has; a field the answer lacks reads as undefined and fails the assertion.
 */
export interface SidecarJson {
  id: string;
  object: string;
  model: string;
  type: string;
  choices: {
    index: number;
    text: string;
    finish_reason: string | null;
    message: {
      role: string;
      content: string;
      tool_calls: { id: string; type: string; function: { name: string; arguments: string } }[];
    };
  }[];
  content: { type: string; text: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  error: { message: string; type: string; code: string | null; status: number; attempts: AttemptJson[] };
  hook_results: { before_request_hooks: Record<string, unknown>[]; after_request_hooks: Record<string, unknown>[] };
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<{ status: number; headers: Headers; json: SidecarJson; text: string }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // Not JSON: json is undefined, so reading a field fails the test; such tests read `text`.
  return { status: r.status, headers: r.headers, json: json as SidecarJson, text };
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
