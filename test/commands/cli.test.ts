// The CLI's front door: --version, help for every command from the same definitions the
// commands parse with, and unknown flags refused (exit 2) instead of ignored.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/definitions.js';
import { helpText, parseArgs, UsageError } from '../../src/commands/options.js';

const BIN = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('switchyard CLI', () => {
  it('prints the package version for --version and -v', () => {
    for (const flag of ['--version', '-v']) {
      const r = cli(flag);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    }
  });

  it('lists every command, and `help <command>` prints its flags and environment', () => {
    const top = cli('help');
    expect(top.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(top.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    for (const def of Object.values(COMMANDS)) {
      const r = cli('help', def.name);
      expect(r.code, def.name).toBe(0);
      expect(r.stdout.trim()).toBe(helpText(def));
      for (const f of def.flags) expect(r.stdout, `${def.name} --${f.name}`).toContain(`--${f.name}`);
      // `<command> --help` is the same text.
      expect(cli(def.name, '--help').stdout).toBe(r.stdout);
    }
    expect(cli('help', 'sidecar').stdout).toContain('SWITCHYARD_CONFIG');
    expect(cli('help', 'collector').stdout).toContain('SWITCHYARD_COLLECTOR_MAX_BODY_BYTES');
  }, 120_000);

  it('refuses an unknown command or flag with exit 2, the problem and the help', () => {
    const bad = cli('sidecar', '--prot', '9000');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown flag --prot for "switchyard sidecar"');
    expect(bad.stderr).toContain('usage: switchyard sidecar [flags]');
    const unknown = cli('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(cli('help', 'frobnicate').code).toBe(2);
  }, 60_000);
});

describe('parseArgs', () => {
  const def = COMMANDS.migrate;
  it('takes --flag value, --flag=value and switches; reads the env var when the flag is absent', () => {
    const a = parseArgs(def, ['--cluster', 'c1', '--ttl-days=30', '--print']);
    expect(a.flags).toEqual({ cluster: 'c1', 'ttl-days': '30', print: true });
    const sidecar = parseArgs(COMMANDS.sidecar, [], { SWITCHYARD_PORT: '9001' });
    expect(sidecar.value('port')).toBe('9001');
    expect(parseArgs(COMMANDS.sidecar, ['--port', '7'], { SWITCHYARD_PORT: '9001' }).value('port')).toBe('7');
    // A command reading a flag its definition lacks is a bug, caught where it happens.
    expect(() => sidecar.value('prot')).toThrow(/definition lacks/);
  });

  it('refuses unknown, repeated, missing and unwanted values', () => {
    expect(() => parseArgs(def, ['--nope'])).toThrow(UsageError);
    expect(() => parseArgs(def, ['--cluster', 'a', '--cluster', 'b'])).toThrow(/given twice/);
    expect(() => parseArgs(def, ['--cluster'])).toThrow(/needs a value/);
    expect(() => parseArgs(def, ['--cluster', '--print'])).toThrow(/needs a value/);
    expect(() => parseArgs(def, ['--print=yes'])).toThrow(/takes no value/);
  });
});
