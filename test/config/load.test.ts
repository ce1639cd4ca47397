import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfigText } from '../../src/config/load.js';
import { ConfigHolder } from '../../src/config/store.js';
import { setLogSink } from '../../src/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'sy-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = `
providers:
  openai-prod: {type: openai, api_key: "\${TEST_KEY}"}
configs:
  default: {provider: "@openai-prod", override_params: {model: gpt-4o}}
default_config: default
`;

describe('config loading', () => {
  it('reads YAML with ${ENV} interpolation and defaults', () => {
    const c = parseConfigText(good, 'a.yaml', { TEST_KEY: 'sk-123' });
    expect(c.file.providers['openai-prod'].api_key).toBe('sk-123');
    expect(c.file.server.max_body_bytes).toBe(10 * 1024 * 1024);
    expect(c.file.telemetry.capture_content).toBe(false);
  });

  it('reads JSON', () => {
    const c = parseConfigText(
      JSON.stringify({ providers: { p: { type: 'openai' } }, configs: { d: { provider: '@p' } } }),
      'a.json',
      {},
    );
    expect(Object.keys(c.file.configs)).toEqual(['d']);
  });

  it('names an unset variable and its path; ${VAR:-} allows empty', () => {
    expect(() => parseConfigText(good, 'a.yaml', {})).toThrow(
      /providers\.openai-prod\.api_key: environment variable TEST_KEY is not set/,
    );
    const c = parseConfigText(good.replace('${TEST_KEY}', '${TEST_KEY:-}'), 'a.yaml', {});
    expect(c.file.providers['openai-prod'].api_key).toBe('');
  });

  it('a secret holding quotes cannot break the document structure', () => {
    const c = parseConfigText(good, 'a.yaml', { TEST_KEY: 'a"b\nc: d' });
    expect(c.file.providers['openai-prod'].api_key).toBe('a"b\nc: d');
  });

  it('validation errors name the path and the problem', () => {
    const bad = `
providers:
  p: {type: openai}
configs:
  c:
    strategy: {mode: fallback}
    targets:
      - {provider: "@p", request_timeout: "soon"}
`;
    expect(() => parseConfigText(bad, 'x.yaml', {})).toThrow(/configs\.c\.targets\[0\]\.request_timeout/);
    expect(() =>
      parseConfigText('configs: {c: {strategy: {mode: sideways}, targets: [{provider: "@p"}]}}', 'x.yaml', {}),
    ).toThrow(/configs\.c\.strategy\.mode/);
    expect(() => parseConfigText('configs: {c: {provider: "@missing"}}', 'x.yaml', {})).toThrow(
      /configs\.c\.provider: unknown provider "@missing"/,
    );
    expect(() => parseConfigText('default_config: nope', 'x.yaml', {})).toThrow(/default_config/);
    expect(() =>
      parseConfigText(
        'providers: {p: {type: openai}}\nconfigs: {c: {strategy: {mode: loadbalance}, targets: [{provider: "@p", weight: 0}]}}',
        'x.yaml',
        {},
      ),
    ).toThrow(/all weights are 0/);
    expect(() =>
      parseConfigText(
        'providers: {p: {type: openai}}\nconfigs: {c: {strategy: {mode: conditional, conditions: [{query: {}, then: ghost}]}, targets: [{name: a, provider: "@p"}]}}',
        'x.yaml',
        {},
      ),
    ).toThrow(/no target named "ghost"/);
    expect(() => parseConfigText('providers: [1', 'x.yaml', {})).toThrow(/not valid YAML/);
  });

  it('accepts a Portkey gateway config object as a routing config', () => {
    const portkey = {
      strategy: { mode: 'fallback', on_status_codes: [429, 500] },
      retry: { attempts: 3, on_status_codes: [429] },
      request_timeout: 10000,
      targets: [
        { provider: 'openai', api_key: 'sk-x', override_params: { model: 'gpt-4o' } },
        {
          provider: 'anthropic',
          api_key: 'sk-y',
          custom_host: 'https://proxy.example.com/v1',
          override_params: { model: 'claude-sonnet-4-6' },
        },
      ],
    };
    const c = parseConfigText(JSON.stringify({ configs: { pk: portkey } }), 'p.json', {});
    expect(c.file.configs.pk.targets).toHaveLength(2);
  });

  it('refuses a policy it does not act on, naming it, instead of ignoring it', () => {
    const nested = {
      configs: {
        pk: {
          strategy: { mode: 'fallback' },
          targets: [{ provider: 'openai', api_key: 'k', output_guardrails: ['g'] }],
        },
      },
    };
    expect(() => parseConfigText(JSON.stringify(nested), 'p.json', {})).toThrow(
      /configs\.pk\.targets\[0\]\.output_guardrails: guardrails on a target are not implemented/,
    );
  });
});

describe('routing additions: balancer, hedge, ejection', () => {
  const group = (extra: Record<string, unknown>, strategy: Record<string, unknown> = { mode: 'loadbalance' }) =>
    JSON.stringify({
      providers: { a: { type: 'openai', api_key: 'k' }, b: { type: 'openai', api_key: 'k' } },
      configs: { c: { strategy, targets: [{ provider: '@a' }, { provider: '@b' }], ...extra } },
    });
  const load = (text: string) => parseConfigText(text, 'r.json', {});

  it('accepts a latency balancer and a hedge on a config or a nested group, with defaults', () => {
    const c = load(group({ hedge: { delay_ms: 'p95' } }, { mode: 'loadbalance', balancer: 'latency' }));
    expect(c.file.configs.c.strategy?.balancer).toBe('latency');
    expect(c.file.configs.c.hedge).toEqual({ delay_ms: 'p95', max_attempts: 2, budget_percent: 5 });
    expect(c.file.ejection).toMatchObject({ enabled: true, factor: 3, min_samples: 20 });
    expect(c.file.latency.decay_ms).toBe(10_000);
    const nested = JSON.stringify({
      providers: { a: { type: 'openai', api_key: 'k' } },
      configs: {
        c: {
          strategy: { mode: 'fallback' },
          targets: [
            {
              strategy: { mode: 'fallback' },
              hedge: { delay_ms: 200, max_attempts: 3 },
              targets: [{ provider: '@a' }],
            },
          ],
        },
      },
    });
    expect(load(nested).file.configs.c.targets?.[0].hedge?.max_attempts).toBe(3);
  });

  it.each([
    [{ hedge: { delay_ms: 100, max_attempts: 1 } }, undefined, /configs\.c\.hedge\.max_attempts: .*>=2/],
    [{ hedge: { delay_ms: 100, max_attempts: 6 } }, undefined, /configs\.c\.hedge\.max_attempts: .*<=5/],
    [{ hedge: { delay_ms: -1 } }, undefined, /configs\.c\.hedge\.delay_ms: Too small: expected number to be >=0/],
    [{ hedge: { delay_ms: 'p99' } }, undefined, /configs\.c\.hedge\.delay_ms: must be a whole number/],
    [{ hedge: { delay_ms: 10, budget: 5 } }, undefined, /configs\.c\.hedge: Unrecognized key: "budget"/],
    [
      {},
      { mode: 'loadbalance', balancer: 'fastest' },
      /configs\.c\.strategy\.balancer: Invalid option: expected one of "weighted"\|"latency"/,
    ],
    [
      {},
      { mode: 'fallback', balancer: 'latency' },
      /configs\.c\.strategy\.balancer: a balancer applies to mode "loadbalance" only/,
    ],
  ])('refuses %j (strategy %j), naming the path', (extra, strategy, re) => {
    expect(() => load(group(extra, strategy))).toThrow(re);
  });

  it('refuses a hedge on a single target and bad ejection settings', () => {
    const single = JSON.stringify({ configs: { c: { provider: 'openai', api_key: 'k', hedge: { delay_ms: 10 } } } });
    expect(() => load(single)).toThrow(/configs\.c\.hedge: hedging needs a target group/);
    const ej = JSON.stringify({ ejection: { factor: 0.5 } });
    expect(() => load(ej)).toThrow(/ejection\.factor: .*>=1/);
    const decay = JSON.stringify({ latency: { decay_ms: 0 } });
    expect(() => load(decay)).toThrow(/latency\.decay_ms: .*>0/);
  });
});

describe('reload', () => {
  it('swaps on a good file and keeps the last good config on a bad one, logging why', async () => {
    const path = join(dir, 'reload.yaml');
    writeFileSync(path, good.replace('${TEST_KEY}', 'k1'));
    const holder = new ConfigHolder(await loadConfigFile(path), path);
    writeFileSync(path, good.replace('${TEST_KEY}', 'k2'));
    expect(await holder.reload('test')).toBe(true);
    expect(holder.current.file.providers['openai-prod'].api_key).toBe('k2');
    const lines: string[] = [];
    const prev = setLogSink((l) => lines.push(l));
    writeFileSync(path, 'configs: {c: {provider: "@ghost"}}');
    expect(await holder.reload('test')).toBe(false);
    setLogSink(prev);
    expect(holder.current.file.providers['openai-prod'].api_key).toBe('k2');
    const logged = lines.map((l) => JSON.parse(l)).find((l) => /keeping the last good config/.test(l.msg));
    expect(logged.level).toBe('error');
    expect(logged.error).toContain('unknown provider "@ghost"');
  });

  it('reloads on file change and on SIGHUP', async () => {
    const path = join(dir, 'watch.yaml');
    writeFileSync(path, good.replace('${TEST_KEY}', 'w1'));
    const holder = new ConfigHolder(await loadConfigFile(path), path);
    holder.watch();
    try {
      writeFileSync(path, good.replace('${TEST_KEY}', 'w2'));
      await waitFor(() => holder.current.file.providers['openai-prod'].api_key === 'w2');
      holder.close();
      holder.watch();
      writeFileSync(path, good.replace('${TEST_KEY}', 'w3'));
      process.emit('SIGHUP', 'SIGHUP');
      await waitFor(() => holder.current.file.providers['openai-prod'].api_key === 'w3');
    } finally {
      holder.close();
    }
  });
});

describe('start-up', () => {
  it('a bad config file exits non-zero with the path and the problem', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'configs: {c: {provider: "@ghost"}}');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'sidecar', '--config', path, '--port', '0'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toContain('unknown provider "@ghost"');
  });
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('reload through a ConfigMap-style symlink swap', () => {
  it('keeps reloading after the watched file is replaced by a new symlink target, twice', async () => {
    const { mkdirSync, symlinkSync, renameSync } = await import('node:fs');
    const root = join(dir, 'cm');
    mkdirSync(root);
    const version = (n: number) => {
      const d = join(root, `..v${n}`);
      mkdirSync(d);
      writeFileSync(join(d, 'config.yaml'), good.replace('${TEST_KEY}', `cm${n}`));
      symlinkSync(`..v${n}`, join(root, `..data_tmp`));
      renameSync(join(root, '..data_tmp'), join(root, '..data'));
    };
    version(1);
    symlinkSync('..data/config.yaml', join(root, 'config.yaml'));
    const path = join(root, 'config.yaml');
    const holder = new ConfigHolder(await loadConfigFile(path), path);
    holder.watch();
    try {
      version(2);
      await waitFor(() => holder.current.file.providers['openai-prod'].api_key === 'cm2');
      version(3);
      await waitFor(() => holder.current.file.providers['openai-prod'].api_key === 'cm3');
    } finally {
      holder.close();
    }
  });
});

describe('provider entries are checked at load time', () => {
  it('unknown types and bad adapter fields fail at start-up with the field path', async () => {
    const { checkProviders } = await import('../../src/providers/registry.js');
    const bogus = parseConfigText('providers: {x: {type: bogus}}', 'x.yaml', {});
    expect(() => checkProviders(bogus.file)).toThrow(/providers\.x\.type: unknown provider type "bogus"/);
    const badRegion = parseConfigText('providers: {br: {type: bedrock, region: "not a region"}}', 'x.yaml', {});
    expect(() => checkProviders(badRegion.file)).toThrow(/providers\.br\.region: must be an AWS region/);
    const path = join(dir, 'bad-provider.yaml');
    writeFileSync(path, 'providers: {x: {type: bogus}}');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'sidecar', '--config', path, '--port', '0'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('unknown provider type "bogus"');
  });
});
