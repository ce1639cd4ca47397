// Transport failures are 502 connect_error: refused (bad-input test), DNS and TLS.
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCerts } from '../../src/injector/certs.js';
import { chat, post, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

let sc: TestSidecar;
let tls: ReturnType<typeof createServer>;

beforeAll(async () => {
  // An HTTPS upstream whose certificate no public CA signed.
  const certs = await generateCerts({ service: 'upstream', namespace: 'test', extraDnsNames: ['localhost'] });
  tls = createServer({ cert: certs.cert, key: certs.key }, (_req, res) => res.end('{}'));
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  const port = (tls.address() as AddressInfo).port;
  sc = await startSidecar(`
providers:
  tls: {type: openai, api_key: k, base_url: "https://localhost:${port}/v1"}
  dns: {type: openai, api_key: k, base_url: "http://no-such-host.invalid/v1"}
configs:
  tls: {provider: "@tls"}
  dns: {provider: "@dns", request_timeout: 5000}
`);
});
afterAll(async () => {
  await sc.close();
  tls.close();
});

describe('transport errors', () => {
  it('an untrusted TLS certificate → 502 connect_error', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'tls' });
    expect(r.status).toBe(502);
    expect(r.json.error.attempts[0]).toMatchObject({ status: 502, error_type: 'connect_error' });
    expect(r.json.error.message).toMatch(/certificate|self.signed|CERT/i);
  });

  it('a name that does not resolve → 502 connect_error', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'dns' });
    expect(r.status).toBe(502);
    expect(r.json.error.attempts[0].error_type).toBe('connect_error');
  });
});
