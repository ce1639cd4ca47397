// `switchyard keys create` as a user runs it (a child process), and its functions directly: the
// printed entry loads under virtual_keys:, holds only the key's SHA-256, and a real sidecar in
// front of the fake OpenAI server accepts the printed key as a bearer token and enforces the
// limits it was minted with.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKey,
  formatCreated,
  KEY_PREFIX,
  keysCommand,
  parseCreateArgs,
  UsageError,
} from '../../src/commands/keys.js';
import { parseConfigText } from '../../src/config/load.js';
import { sha256 } from '../../src/policy/keys/registry.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { chat, post, startSidecar } from '../helpers/sidecar.js';

const CLI = path.resolve('src/cli.ts');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The printed key (first line) and the rest of the output. */
function split(stdout: string): { key: string; rest: string } {
  const [key, ...rest] = stdout.split('\n');
  return { key, rest: rest.join('\n') };
}

const configWith = (fakeUrl: string, snippet: string) => `
providers:
  a: {type: openai, api_key: sk-real-a, base_url: "${fakeUrl}/v1"}
  b: {type: openai, api_key: sk-real-a, base_url: "${fakeUrl}/v1"}
configs:
  main: {provider: "@a", override_params: {model: gpt-4o}}
  mini: {provider: "@a", override_params: {model: gpt-4o-mini}}
  on-b: {provider: "@b", override_params: {model: gpt-4o}}
default_config: main
telemetry: {enabled: false}
virtual_keys:
${snippet}`;

let fake: FakeServer;
beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: 'sk-real-a', record: false });
});
afterAll(async () => {
  await fake?.close();
});

describe('switchyard keys create (child process)', () => {
  it('prints a fresh key on its own line and an entry that loads, and a sidecar accepts the key', async () => {
    const args = [
      'keys',
      'create',
      'support-chat',
      '--providers',
      '@a',
      '--models',
      'gpt-4o,claude-*',
      '--rpm',
      '2',
      '--tpm',
      '200000',
      '--budget-usd',
      '50',
      '--period',
      '1d',
      '--expires-at',
      '2099-01-01T00:00:00Z',
    ];
    const r = await runCli(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { key, rest } = split(r.stdout);
    expect(key).toMatch(new RegExp(`^${KEY_PREFIX}[A-Za-z0-9_-]{43}$`));
    // The config holds the hash, never the secret.
    expect(rest).not.toContain(key);
    expect(rest).not.toContain(key.slice(KEY_PREFIX.length));
    expect(rest).toContain(`key_sha256: ${sha256(key).toString('hex')}`);

    const yaml = configWith(fake.url, rest);
    const loaded = parseConfigText(yaml, 'keys.yaml', {});
    expect(loaded.file.virtual_keys['support-chat']).toEqual({
      key_sha256: sha256(key).toString('hex'),
      providers: ['@a'],
      models: ['gpt-4o', 'claude-*'],
      rate_limit: { requests_per_minute: 2, tokens_per_minute: 200000 },
      budget: { max_cost_usd: 50, period: '1d', reserve_output_tokens: 1024 },
      expires_at: '2099-01-01T00:00:00.000Z',
      disabled: false,
    });

    const sc = await startSidecar(yaml);
    try {
      const ok = await post(`${sc.url}/v1/chat/completions`, chat(), { authorization: `Bearer ${key}` });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.headers.get('ratelimit-limit')).toBe('2');
      // Another key, the minted key on a provider or model it was not given, then its rpm.
      expect(
        (
          await post(`${sc.url}/v1/chat/completions`, chat(), {
            authorization: `Bearer ${KEY_PREFIX}not-the-key-0123456789`,
          })
        ).status,
      ).toBe(401);
      expect(
        (
          await post(`${sc.url}/v1/chat/completions`, chat(), {
            authorization: `Bearer ${key}`,
            'x-switchyard-config': 'on-b',
          })
        ).status,
      ).toBe(403);
      expect(
        (
          await post(`${sc.url}/v1/chat/completions`, chat(), {
            authorization: `Bearer ${key}`,
            'x-switchyard-config': 'mini',
          })
        ).status,
      ).toBe(403);
      expect((await post(`${sc.url}/v1/chat/completions`, chat(), { authorization: `Bearer ${key}` })).status).toBe(
        200,
      );
      expect((await post(`${sc.url}/v1/chat/completions`, chat(), { authorization: `Bearer ${key}` })).status).toBe(
        429,
      );
    } finally {
      await sc.close();
    }
  }, 60_000);

  it('mints a different key each time; with no flags the entry is the hash alone', async () => {
    const [r1, r2] = await Promise.all([runCli(['keys', 'create', 'plain']), runCli(['keys', 'create', 'plain'])]);
    expect([r1.code, r2.code]).toEqual([0, 0]);
    const k1 = split(r1.stdout);
    const k2 = split(r2.stdout);
    expect(k1.key).not.toBe(k2.key);
    const loaded = parseConfigText(configWith(fake.url, k1.rest), 'keys.yaml', {});
    expect(loaded.file.virtual_keys.plain).toEqual({ key_sha256: sha256(k1.key).toString('hex'), disabled: false });
  }, 60_000);

  it('refuses bad arguments with exit code 2, the problem and the usage on stderr', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['keys', 'create', 'has space'], /NAME "has space" may use only letters, digits/],
      [['keys', 'create', 'x', '--rpm', '0'], /--rpm must be a whole number above 0/],
      [['keys', 'rotate', 'x'], /unknown subcommand "rotate"/],
    ];
    for (const [args, want] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(want);
      expect(r.stderr).toContain('usage: switchyard keys create NAME');
    }
  }, 60_000);
});

describe('createKey / parseCreateArgs (in process)', () => {
  it('refuses each kind of bad argument with code 2 and a message naming it', () => {
    const cases: Array<[string[], RegExp]> = [
      [['create'], /missing NAME/],
      [['create', 'has space'], /NAME "has space" may use only letters, digits/],
      [['create', 'a/b'], /NAME "a\/b"/],
      [['create', 'x', 'y'], /one NAME only/],
      [['create', 'x', '--rpm', '0'], /--rpm must be a whole number above 0/],
      [['create', 'x', '--rpm', '-5'], /--rpm must be a whole number above 0/],
      [['create', 'x', '--tpm', '1.5'], /--tpm must be a whole number/],
      [['create', 'x', '--rpm'], /--rpm needs a value/],
      [['create', 'x', '--rpm', '--tpm', '5'], /--rpm needs a value/],
      [['create', 'x', '--budget-usd', '5'], /--budget-usd needs --period/],
      [['create', 'x', '--period', '1d'], /--period needs --budget-usd/],
      [['create', 'x', '--budget-usd', '-5', '--period', '1d'], /--budget-usd must be an amount above 0/],
      [['create', 'x', '--budget-usd', '0', '--period', '1d'], /--budget-usd must be an amount above 0/],
      [['create', 'x', '--budget-usd', '5', '--period', '1w'], /--period must be one of 1d, 7d, 30d, month, never/],
      [['create', 'x', '--expires-at', 'next tuesday'], /--expires-at must be an ISO 8601 date-time/],
      [['create', 'x', '--expires-at', '2099-13-45T00:00:00Z'], /--expires-at must be an ISO 8601 date-time/],
      [['create', 'x', '--expires-at', '2001-01-01T00:00:00Z'], /in the past/],
      [['create', 'x', '--providers', '@a,,@b'], /--providers: empty entry/],
      [['create', 'x', '--providers', '@a b'], /not a provider slug/],
      [['create', 'x', '--models', ' '], /--models needs a value/],
      [['create', 'x', '--budget', '5'], /unknown flag --budget/],
      [['create', 'x', '--rpm', '5', '--rpm', '6'], /--rpm given twice/],
      [['rotate', 'x'], /unknown subcommand "rotate"/],
      [[], /missing subcommand/],
    ];
    for (const [args, want] of cases) {
      const r = keysCommand(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(want);
    }
    expect(keysCommand(['create', '--help'])).toMatchObject({ code: 0, stderr: '' });
    expect(keysCommand(['create', 'ok', '--rpm', '1'])).toMatchObject({ code: 0, stderr: '' });
  });

  it('parses every flag, both --flag value and --flag=value, and normalises the values', () => {
    const { name, options } = parseCreateArgs([
      'team.a_1-x',
      '--providers=openai-prod, @anthropic-prod',
      '--models',
      'gpt-4o*',
      '--rpm=600',
      '--tpm',
      '200000',
      '--budget-usd',
      '12.5',
      '--period=month',
      '--expires-at',
      '2099-06-01',
    ]);
    expect(name).toBe('team.a_1-x');
    expect(options).toEqual({
      providers: ['@openai-prod', '@anthropic-prod'],
      models: ['gpt-4o*'],
      rpm: 600,
      tpm: 200000,
      budgetUsd: 12.5,
      period: 'month',
      expiresAt: '2099-06-01T00:00:00.000Z',
    });
    expect(() => parseCreateArgs(['x', '--rpm', 'ten'])).toThrow(UsageError);
  });

  it('quotes what YAML would misread (a glob starting with *, "@" slugs, dates) and the entry round-trips', () => {
    const k = createKey(
      'weird',
      {
        providers: ['@a'],
        models: ['*-mini', 'o3?', 'gpt-4o'],
        expiresAt: '2099-01-01T00:00:00.000Z',
        budgetUsd: 0.25,
        period: 'never',
      },
      `${KEY_PREFIX}fixed-secret-for-the-test`,
    );
    expect(k.sha256).toBe(sha256(`${KEY_PREFIX}fixed-secret-for-the-test`).toString('hex'));
    expect(k.yaml).toContain('expires_at: "2099-01-01T00:00:00.000Z"');
    const out = formatCreated(k);
    expect(out.split('\n')[0]).toBe(`${KEY_PREFIX}fixed-secret-for-the-test`);
    const loaded = parseConfigText(configWith(fake.url, split(out).rest), 'keys.yaml', {});
    expect(loaded.file.virtual_keys.weird).toMatchObject({
      providers: ['@a'],
      models: ['*-mini', 'o3?', 'gpt-4o'],
      budget: { max_cost_usd: 0.25, period: 'never' },
      expires_at: '2099-01-01T00:00:00.000Z',
    });
    expect(loaded.file.virtual_keys.weird.key).toBeUndefined();
  });

  it('two entries pasted one after the other load as two keys', () => {
    const a = createKey('one', { rpm: 5 });
    const b = createKey('two', { models: ['gpt-4o'] });
    const loaded = parseConfigText(configWith(fake.url, a.yaml + b.yaml), 'keys.yaml', {});
    expect(Object.keys(loaded.file.virtual_keys)).toEqual(['one', 'two']);
  });
});
