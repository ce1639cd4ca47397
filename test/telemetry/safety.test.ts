// Telemetry never blocks or fails a request: bounded queue with counted drops, bounded shutdown;
// content capture only on opt-in, through the redaction hook; Kubernetes resource attributes.
import { SpanKind } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildResource } from '../../src/telemetry/pipeline.js';
import { createTelemetry } from '../../src/telemetry/setup.js';
import { parseConfigText } from '../../src/config/load.js';
import { Sidecar } from '../../src/gateway/sidecar.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { chat, post, startSidecar } from '../helpers/sidecar.js';

/** An exporter whose backend never answers: the worst case for a sidecar. */
class StuckExporter implements SpanExporter {
  received = 0;
  export(spans: ReadableSpan[], _cb: (r: ExportResult) => void): void {
    this.received += spans.length;
  }
  shutdown(): Promise<void> {
    return new Promise(() => {});
  }
  forceFlush(): Promise<void> {
    return new Promise(() => {});
  }
}

let oai: FakeServer;
beforeAll(async () => {
  oai = await startFakeOpenAI();
});
afterAll(async () => oai.close());

const yaml = () =>
  `providers: {a: {type: openai, base_url: "${oai.url}/v1"}}\nconfigs: {d: {provider: "@a"}}\ndefault_config: d`;

describe('telemetry never blocks a request', () => {
  it('a stuck exporter: requests still answer, the queue stays bounded, drops are counted', async () => {
    const exporter = new StuckExporter();
    const telemetry = await createTelemetry({
      spanExporter: exporter,
      maxQueueSize: 20,
      otlpMetrics: false,
      metricReaders: [],
    });
    const sc = new Sidecar({ config: parseConfigText(yaml(), 't.yaml', {}), telemetry, port: 0 });
    const port = await sc.listen();
    try {
      for (let i = 0; i < 30; i++) {
        const r = await post(`http://127.0.0.1:${port}/v1/chat/completions`, chat());
        expect(r.status).toBe(200);
      }
      const text = (await telemetry.metricsText()).body;
      const m = /switchyard_telemetry_dropped_spans(?:_total)?\{[^}]*\} (\d+)/.exec(text);
      expect(m).not.toBeNull();
      // 30 requests × 2 spans = 60; at most 20 queued; the rest counted as dropped
      expect(Number(m![1])).toBeGreaterThanOrEqual(60 - 20 - exporter.received);
      expect(Number(m![1])).toBeGreaterThan(0);
    } finally {
      await sc.close();
      const t0 = Date.now();
      await telemetry.shutdown();
      // flush on SIGTERM is bounded: ~2 s even when the backend never answers
      expect(Date.now() - t0).toBeLessThan(3000);
    }
  });
});

describe('content capture', () => {
  it('records prompts and completions only when opted in, redacted by the configured patterns', async () => {
    const sc = await startSidecar(
      yaml() +
        `\ntelemetry: {capture_content: true, redact_patterns: ["\\\\b\\\\d{4}-\\\\d{4}-\\\\d{4}-\\\\d{4}\\\\b"]}`,
      { telemetry: true },
    );
    try {
      await post(`${sc.url}/v1/chat/completions`, chat('my card is 1234-5678-9012-3456 ok'));
      const attempt = sc.spans!.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)!;
      const input = String(attempt.attributes['gen_ai.input.messages']);
      const output = String(attempt.attributes['gen_ai.output.messages']);
      expect(input).toContain('my card is [REDACTED] ok');
      expect(input).not.toContain('1234-5678');
      expect(output).toContain('Hello from fake-openai');
      expect(output).not.toContain('1234-5678');
    } finally {
      await sc.close();
    }
  });

  it('rejects an invalid redaction pattern at load time', () => {
    expect(() =>
      parseConfigText(`${yaml()}\ntelemetry: {capture_content: true, redact_patterns: ["("]}`, 't.yaml', {}),
    ).toThrow(/telemetry\.redact_patterns\[0\]: not a valid regular expression/);
  });
});

describe('resource', () => {
  it('takes Kubernetes attributes from Downward-API env and OTEL_* variables win', async () => {
    const r = buildResource(
      {
        K8S_POD_NAME: 'web-1',
        K8S_NAMESPACE_NAME: 'shop',
        K8S_NODE_NAME: 'n1',
        OTEL_SERVICE_NAME: 'checkout',
      } as NodeJS.ProcessEnv,
      'switchyard-sidecar',
    );
    await r.waitForAsyncAttributes?.();
    expect(r.attributes['k8s.pod.name']).toBe('web-1');
    expect(r.attributes['k8s.namespace.name']).toBe('shop');
    expect(r.attributes['k8s.node.name']).toBe('n1');
  });
});

describe('OTEL_* sampler variables', () => {
  it('OTEL_TRACES_SAMPLER=always_off records no spans and requests still answer with a trace id', async () => {
    const { InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const spans = new InMemorySpanExporter();
    const telemetry = await createTelemetry({
      spanProcessor: new SimpleSpanProcessor(spans),
      otlpMetrics: false,
      metricReaders: [],
      env: { OTEL_TRACES_SAMPLER: 'always_off' },
    });
    const sc = new Sidecar({ config: parseConfigText(yaml(), 't.yaml', {}), telemetry, port: 0 });
    const port = await sc.listen();
    try {
      const r = await post(`http://127.0.0.1:${port}/v1/chat/completions`, chat());
      expect(r.status).toBe(200);
      expect(r.headers.get('x-switchyard-trace-id')).toMatch(/^[0-9a-f]{32}$/);
      expect(spans.getFinishedSpans()).toHaveLength(0);
    } finally {
      await sc.close();
      await telemetry.shutdown();
    }
  });

  it('traceidratio with OTEL_TRACES_SAMPLER_ARG', async () => {
    const { samplerFromEnv } = await import('../../src/telemetry/sampler.js');
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).toString()).toMatch(
      /TraceIdRatioBased\{0\.25\}/,
    );
    expect(samplerFromEnv({}).toString()).toMatch(/ParentBased\{root=AlwaysOnSampler/);
  });
});

describe('metrics over OTLP', () => {
  it('pushes metrics to OTEL_EXPORTER_OTLP_ENDPOINT/v1/metrics and serves the same reader at /metrics', async () => {
    const { createServer } = await import('node:http');
    const posts: string[] = [];
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        posts.push(req.url ?? '');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
    const saved = { ...process.env };
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
    const telemetry = await createTelemetry({
      env: { OTEL_METRIC_EXPORT_INTERVAL: '200', OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
    const sc = new Sidecar({ config: parseConfigText(yaml(), 't.yaml', {}), telemetry, port: 0 });
    const port = await sc.listen();
    try {
      expect((await post(`http://127.0.0.1:${port}/v1/chat/completions`, chat())).status).toBe(200);
      // Bounded wait for both pushes; it ends as soon as they arrive. The export worker boots through
      // tsx here, which alone took most of 5 s beside other test files on the loaded 2-core machine.
      const end = Date.now() + 20_000;
      while (!(posts.includes('/v1/metrics') && posts.includes('/v1/traces')) && Date.now() < end)
        await new Promise((r) => setTimeout(r, 50));
      expect(posts).toContain('/v1/metrics');
      expect(posts).toContain('/v1/traces');
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/gen_ai_client_operation_duration_count\{[^}]*\} 1/);
    } finally {
      await sc.close();
      await telemetry.shutdown();
      process.env = saved;
      receiver.close();
    }
  });
});

describe('pricing follows config reloads', () => {
  it('a reloaded pricing: section prices the next request', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const { loadConfigFile } = await import('../../src/config/load.js');
    const dir = mkdtempSync(join(tmpdir(), 'sy-pricing-'));
    const path = join(dir, 'c.yaml');
    const withPrice = (input: number) => `${yaml()}\npricing: {openai: {gpt-4o: {input: ${input}, output: 0}}}\n`;
    writeFileSync(path, withPrice(1));
    const config = await loadConfigFile(path);
    const spans = new InMemorySpanExporter();
    const telemetry = await createTelemetry({
      spanProcessor: new SimpleSpanProcessor(spans),
      otlpMetrics: false,
      metricReaders: [],
      pricing: config.file.pricing,
    });
    const sc = new Sidecar({ config, configPath: path, telemetry, port: 0 });
    const port = await sc.listen();
    const cost = async () => {
      spans.reset();
      const r = await post(`http://127.0.0.1:${port}/v1/chat/completions`, chat());
      const attempt = spans.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)!;
      return { perToken: (attempt.attributes['switchyard.cost_usd'] as number) / r.json.usage.prompt_tokens };
    };
    try {
      expect((await cost()).perToken).toBeCloseTo(1 / 1e6, 15);
      writeFileSync(path, withPrice(7));
      expect(await sc.config.reload('test')).toBe(true);
      expect((await cost()).perToken).toBeCloseTo(7 / 1e6, 15);
    } finally {
      await sc.close();
      await telemetry.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
