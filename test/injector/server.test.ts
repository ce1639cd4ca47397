// The webhook over real TLS, with a CA and serving cert made by the certs command's code, called
// the way the API server calls it: HTTPS to <service>.<namespace>.svc, trusting caBundle only.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdmissionResponseReview } from '../../src/injector/admission.js';
import { setLogSink, type LogSink } from '../../src/logger.js';
import { generateCerts, type GeneratedCerts } from '../../src/injector/certs.js';
import { DEFAULT_OPTIONS } from '../../src/injector/options.js';
import { startInjectorServer, type InjectorServer } from '../../src/injector/server.js';
import { readKeyPair, watchKeyPair } from '../../src/injector/tls-reload.js';
import type { ErrorBody } from '../helpers/bodies.js';
import { applyPatch, decodePatch, deploymentPod, review } from './fixtures.js';

const SERVICE = 'switchyard-injector';
const NAMESPACE = 'switchyard-system';
const SERVERNAME = `${SERVICE}.${NAMESPACE}.svc`;

let certs: GeneratedCerts;
let server: InjectorServer;
let agent: Agent;
let base: string;
const logs: string[] = [];
let prevSink: LogSink;

beforeAll(async () => {
  prevSink = setLogSink((line) => logs.push(line));
  certs = await generateCerts({ service: SERVICE, namespace: NAMESPACE });
  server = await startInjectorServer({
    host: '127.0.0.1',
    port: 0,
    cert: certs.cert,
    key: certs.key,
    options: DEFAULT_OPTIONS,
  });
  agent = new Agent({ connect: { ca: Buffer.from(certs.caBundle, 'base64').toString(), servername: SERVERNAME } });
  base = `https://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await agent?.close();
  await server?.close();
  setLogSink(prevSink);
});

async function post(
  pathname: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) {
  const res = await request(`${base}${pathname}`, { method: 'POST', body, headers, dispatcher: agent });
  // An admission review answer, or the server's error body for a request it refuses.
  const json = (await res.body.json()) as AdmissionResponseReview & ErrorBody;
  return { status: res.statusCode, type: res.headers['content-type'], body: json };
}

describe('certs', () => {
  it('signs a serving cert for the Service DNS names with a CA whose PEM is the caBundle', () => {
    const ca = new X509Certificate(Buffer.from(certs.caBundle, 'base64'));
    const leaf = new X509Certificate(certs.cert);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    for (const name of [SERVICE, `${SERVICE}.${NAMESPACE}`, SERVERNAME, `${SERVERNAME}.cluster.local`]) {
      expect(leaf.checkHost(name)).toBe(name);
    }
    expect(leaf.checkHost('evil.example.com')).toBeUndefined();
    expect(leaf.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    const days = (new Date(leaf.validTo).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(360);
  });
});

describe('webhook over TLS', () => {
  it('answers an AdmissionReview on /mutate with a JSON Patch that injects the sidecar', async () => {
    const pod = deploymentPod();
    const rev = review(pod);
    // The API server adds ?timeout=…s to the configured path.
    const res = await post('/mutate?timeout=5s', JSON.stringify(rev));
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    expect(res.body.response.uid).toBe(rev.request.uid);
    expect(res.body.response.allowed).toBe(true);
    const patched = applyPatch(pod, decodePatch(res.body));
    expect(patched.spec.initContainers[0].name).toBe('switchyard-sidecar');
    const line = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'admission' && l.uid === rev.request.uid);
    expect(line).toMatchObject({
      scope: 'annotation',
      namespace: 'shop',
      pod: 'chat-api-7d9f8b6c5d-',
      result: 'injected',
    });
  });

  it('injects an unannotated pod on /mutate/namespace but not on /mutate', async () => {
    const pod = deploymentPod({ annotations: null });
    const ns = await post('/mutate/namespace', JSON.stringify(review(pod)));
    const plain = await post('/mutate', JSON.stringify(review(pod)));
    expect(decodePatch(ns.body).length).toBeGreaterThan(0);
    expect(plain.body.response).toEqual({ uid: expect.any(String), allowed: true });
  });

  it('refuses a client that does not trust the CA', async () => {
    const stranger = new Agent({ connect: { servername: SERVERNAME } });
    try {
      await expect(request(`${base}/healthz`, { dispatcher: stranger })).rejects.toThrow(
        /self-signed|unable to (get|verify)/i,
      );
    } finally {
      await stranger.close();
    }
  });

  it('serves /healthz and counts admissions on /metrics', async () => {
    const health = await request(`${base}/healthz`, { dispatcher: agent });
    expect(health.statusCode).toBe(200);
    expect(await health.body.json()).toEqual({ status: 'ok' });
    const metrics = await request(`${base}/metrics`, { dispatcher: agent });
    const text = await metrics.body.text();
    expect(text).toMatch(/switchyard_injector_admissions_total\{scope="annotation",result="injected"\} [1-9]/);
    expect(text).toMatch(/switchyard_injector_admissions_total\{scope="namespace",result="injected"\} [1-9]/);
  });

  it('answers bad input with a JSON error and the right status', async () => {
    const bad = await post('/mutate', '{"apiVersion":');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_json', status: 400, type: 'invalid_request_error' });

    const notReview = await post('/mutate', JSON.stringify({ hello: 'world' }));
    expect(notReview.status).toBe(400);
    expect(notReview.body.error.code).toBe('invalid_admission_review');

    const yaml = await post('/mutate', 'kind: AdmissionReview', { 'content-type': 'application/yaml' });
    expect(yaml.status).toBe(415);

    const big = await post('/mutate', JSON.stringify({ pad: 'x'.repeat(5 * 1024 * 1024) }));
    expect(big.status).toBe(413);

    const get = await request(`${base}/mutate`, { dispatcher: agent });
    expect(get.statusCode).toBe(405);
    expect(((await get.body.json()) as ErrorBody).error.status).toBe(405);

    const missing = await request(`${base}/validate`, { method: 'POST', body: '{}', dispatcher: agent });
    expect(missing.statusCode).toBe(404);
    await missing.body.dump();

    // Still serving after all of that.
    const after = await post('/mutate', JSON.stringify(review(deploymentPod())));
    expect(after.status).toBe(200);
  });
});

describe('certificate rotation', () => {
  it('picks up a renewed key pair from disk without a restart', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'switchyard-injector-'));
    const certFile = path.join(dir, 'tls.crt');
    const keyFile = path.join(dir, 'tls.key');
    const first = await generateCerts({ service: SERVICE, namespace: NAMESPACE });
    await writeFile(certFile, first.cert);
    await writeFile(keyFile, first.key);
    const pair = await readKeyPair(certFile, keyFile);
    const srv = await startInjectorServer({ host: '127.0.0.1', port: 0, ...pair, options: DEFAULT_OPTIONS });
    const stop = watchKeyPair(srv.server, certFile, keyFile, pair, 50);
    const url = `https://127.0.0.1:${srv.port}/healthz`;
    const trusting = (c: GeneratedCerts) => new Agent({ connect: { ca: c.caCert, servername: SERVERNAME } });
    const second = await generateCerts({ service: SERVICE, namespace: NAMESPACE });
    const [a1, a2] = [trusting(first), trusting(second)];
    try {
      expect((await request(url, { dispatcher: a1 })).statusCode).toBe(200);
      await writeFile(certFile, second.cert);
      await writeFile(keyFile, second.key);
      let served = false;
      for (let i = 0; i < 100 && !served; i++) {
        await new Promise((r) => setTimeout(r, 50));
        served = await request(url, { dispatcher: a2, reset: true }).then(
          (r) => (r.body.dump(), r.statusCode === 200),
          () => false,
        );
      }
      expect(served).toBe(true);
    } finally {
      stop();
      await Promise.all([a1.close(), a2.close()]);
      await srv.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
