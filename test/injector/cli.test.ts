// `switchyard injector certs` and `switchyard injector` as a user runs them: a real process,
// files on disk, the caBundle on stdout, a TLS webhook that stops cleanly on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { parse as parseYaml } from 'yaml';
import type { AdmissionResponseReview, JsonPatchOp } from '../../src/injector/admission.js';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
let dir: string;

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli.ts'), ...args], {
    cwd: root,
    env: { ...process.env, SWITCHYARD_SIDECAR_IMAGE: 'registry.local/sidecar:test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function finished(
  child: ChildProcess,
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'switchyard-certs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('switchyard injector certs', () => {
  it('writes CA, serving cert, private key and the caBundle patch, and prints the caBundle', async () => {
    const out = path.join(dir, 'certs');
    const run = await finished(
      cli(['injector', 'certs', '--out', out, '--service', 'hook', '--namespace', 'infra', '--days', '30']),
    );
    expect(run.code).toBe(0);
    const caPem = await readFile(path.join(out, 'ca.crt'), 'utf8');
    expect(run.stdout.trim()).toBe(Buffer.from(caPem).toString('base64'));
    const leaf = new X509Certificate(await readFile(path.join(out, 'tls.crt')));
    expect(leaf.checkIssued(new X509Certificate(caPem))).toBe(true);
    expect(leaf.subjectAltName).toContain('DNS:hook.infra.svc');
    expect((await stat(path.join(out, 'tls.key'))).mode & 0o777).toBe(0o600);
    const patch = parseYaml(await readFile(path.join(out, 'cabundle-patch.yaml'), 'utf8'));
    expect(patch).toEqual(
      [0, 1].map((i) => ({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: run.stdout.trim() })),
    );
  });

  it('exits 2 with usage when --out is missing', async () => {
    const run = await finished(cli(['injector', 'certs']));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--out DIR is required');
  });
});

describe('switchyard injector', () => {
  it('serves the webhook over TLS with the env-configured image and stops on SIGTERM', async () => {
    const out = path.join(dir, 'serve');
    expect((await finished(cli(['injector', 'certs', '--out', out]))).code).toBe(0);
    const child = cli([
      'injector',
      '--tls-cert',
      path.join(out, 'tls.crt'),
      '--tls-key',
      path.join(out, 'tls.key'),
      '--port',
      '0',
      '--host',
      '127.0.0.1',
    ]);
    const done = finished(child);
    const port = await new Promise<number>((resolve, reject) => {
      let buf = '';
      child.stderr!.on('data', (d) => {
        buf += d;
        const m = buf.match(/"msg":"injector listening".*?"port":(\d+)/);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', () => reject(new Error(`exited early: ${buf}`)));
    });
    const agent = new Agent({
      connect: {
        ca: await readFile(path.join(out, 'ca.crt')),
        servername: 'switchyard-injector.switchyard-system.svc',
      },
    });
    try {
      const res = await request(`https://127.0.0.1:${port}/mutate`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: {
            uid: 'u1',
            kind: { group: '', version: 'v1', kind: 'Pod' },
            operation: 'CREATE',
            namespace: 'default',
            object: {
              metadata: { annotations: { 'switchyard.dev/inject': 'true' } },
              spec: { containers: [{ name: 'app', image: 'app' }] },
            },
          },
        }),
      });
      const body = (await res.body.json()) as AdmissionResponseReview;
      expect(res.statusCode).toBe(200);
      const ops = JSON.parse(Buffer.from(body.response.patch!, 'base64').toString()) as JsonPatchOp[];
      const initContainers = ops.find((o) => o.path === '/spec/initContainers')!.value as { image: string }[];
      expect(initContainers[0].image).toBe('registry.local/sidecar:test');
    } finally {
      await agent.close();
    }
    child.kill('SIGTERM');
    const run = await done;
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('"msg":"injector stopping"');
  });

  it('exits 2 on a bad resource setting instead of starting with it', async () => {
    const child = cli([
      'injector',
      '--tls-cert',
      '/nonexistent/tls.crt',
      '--tls-key',
      '/nonexistent/tls.key',
      '--memory-limit',
      'lots',
    ]);
    const run = await finished(child);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('invalid injector option memoryLimit: not a Kubernetes quantity');
  });
});
