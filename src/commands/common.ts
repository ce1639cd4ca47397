// Flags and environment shared by the commands that run a sidecar.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { flagString } from '../args.js';
import { ConfigError } from '../config/errors.js';
import { loadConfigFile, type LoadedConfig } from '../config/load.js';
import { checkProviders } from '../providers/registry.js';

export const EXAMPLE_CONFIG = fileURLToPath(new URL('../../examples/simulated.yaml', import.meta.url));

export function configPath(flags: Record<string, string | true>): string {
  const p = flagString(flags, 'config') ?? process.env.SWITCHYARD_CONFIG;
  if (p) return p;
  return existsSync('switchyard.yaml') ? 'switchyard.yaml' : EXAMPLE_CONFIG;
}

/** Loads the config or exits non-zero with the path and the problem. */
export async function loadOrExit(path: string): Promise<LoadedConfig> {
  try {
    const c = await loadConfigFile(path);
    checkProviders(c.file);
    return c;
  } catch (e) {
    const msg = e instanceof ConfigError ? e.message : (e as Error).message;
    console.error(`switchyard: invalid config ${path}: ${msg}`);
    process.exit(1);
  }
}

export function portFrom(flags: Record<string, string | true>, envName: string, fallback: number): number {
  const raw = flagString(flags, 'port') ?? process.env[envName];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`switchyard: invalid port "${raw}"`);
    process.exit(2);
  }
  return n;
}

export function onShutdown(fn: () => Promise<void>): void {
  let closing = false;
  const stop = (sig: string) => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(0), 5_000);
    force.unref();
    fn().then(
      () => process.exit(0),
      (e) => {
        console.error(`switchyard: error during ${sig} shutdown: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** True for addresses only this machine can reach (a non-loopback listener deserves auth). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
