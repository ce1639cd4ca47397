// `switchyard sidecar`: the routing sidecar alone (127.0.0.1:8790).
import { flagString } from '../args.js';
import { COMMANDS } from './definitions.js';
import { parseArgs } from './options.js';
import { Sidecar } from '../gateway/sidecar.js';
import { logger } from '../logger.js';
import { createTelemetry } from '../telemetry/setup.js';
import { configPath, isLoopback, loadOrExit, onShutdown, portFrom } from './common.js';

export async function startSidecarFromFlags(argv: string[]): Promise<Sidecar> {
  const { flags } = parseArgs(COMMANDS.sidecar, argv);
  const path = configPath(flags);
  const config = await loadOrExit(path);
  const telemetry = config.file.telemetry.enabled
    ? await createTelemetry({
        captureContent: config.file.telemetry.capture_content,
        redactPatterns: config.file.telemetry.redact_patterns,
        pricing: config.file.pricing,
      })
    : undefined;
  const host = flagString(flags, 'host') ?? process.env.SWITCHYARD_HOST ?? '127.0.0.1';
  if (!isLoopback(host))
    logger.warn(
      'sidecar listens beyond this machine: anyone who can reach it calls providers with the configured keys',
      { host },
    );
  const sc = new Sidecar({
    config,
    configPath: path,
    telemetry,
    host,
    port: portFrom(flags, 'SWITCHYARD_PORT', 8790),
    watchConfig: true,
  });
  const port = await sc.listen();
  logger.info('sidecar listening', { url: `http://127.0.0.1:${port}/v1`, config: path });
  return sc;
}

export async function run(argv: string[]): Promise<void> {
  const sc = await startSidecarFromFlags(argv);
  onShutdown(async () => {
    await sc.close();
    await sc.telemetry.shutdown();
  });
}
