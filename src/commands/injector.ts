// `switchyard injector`: the Kubernetes mutating admission webhook that injects the sidecar.
// `switchyard injector certs`: a self-signed CA + serving cert for clusters without cert-manager.
import { flagString } from '../args.js';
import { COMMANDS } from './definitions.js';
import { helpText, parseArgs } from './options.js';
import { logger } from '../logger.js';
import { generateCerts, writeCerts } from '../injector/certs.js';
import { loadInjectorOptions } from '../injector/options.js';
import { startInjectorServer } from '../injector/server.js';
import { logCertExpiry, readKeyPair, watchKeyPair } from '../injector/tls-reload.js';

const usage = helpText(COMMANDS.injector);

function fail(message: string): never {
  console.error(`switchyard injector: ${message}\n\n${usage}`);
  process.exit(2);
}

async function certs(argv: string[]): Promise<void> {
  const { flags } = parseArgs(COMMANDS.injector, argv);
  const out = flagString(flags, 'out') ?? fail('--out DIR is required');
  const service = flagString(flags, 'service') ?? 'switchyard-injector';
  const namespace = flagString(flags, 'namespace') ?? 'switchyard-system';
  const days = Number(flagString(flags, 'days') ?? '365');
  if (!Number.isInteger(days) || days < 1) fail('--days must be a positive integer');
  const generated = await generateCerts({ service, namespace, days });
  const files = await writeCerts(out, generated);
  console.error(
    `wrote ${files.ca}, ${files.cert}, ${files.key}, ${files.patch}\n` +
      `SANs: ${generated.dnsNames.join(', ')}; valid until ${generated.notAfter.toISOString()}\n` +
      `caBundle (clientConfig.caBundle of both webhook entries) on stdout:`,
  );
  console.log(generated.caBundle);
}

export async function run(argv: string[]): Promise<void> {
  if (argv[0] === 'certs') return certs(argv.slice(1));
  const { flags } = parseArgs(COMMANDS.injector, argv);
  if (flags.help || flags.h) {
    console.log(usage);
    return;
  }
  const certFile =
    flagString(flags, 'tls-cert') ?? process.env.SWITCHYARD_TLS_CERT ?? fail('--tls-cert FILE is required');
  const keyFile = flagString(flags, 'tls-key') ?? process.env.SWITCHYARD_TLS_KEY ?? fail('--tls-key FILE is required');
  const port = Number(flagString(flags, 'port') ?? process.env.SWITCHYARD_PORT ?? '8443');
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be an integer 0..65535');
  const host = flagString(flags, 'host') ?? '0.0.0.0';

  let options;
  try {
    options = loadInjectorOptions(flags, process.env);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  const pair = await readKeyPair(certFile, keyFile);
  logCertExpiry(pair.cert);
  const server = await startInjectorServer({ host, port, ...pair, options });
  const stopWatching = watchKeyPair(server.server, certFile, keyFile, pair);
  logger.info('injector ready', { image: options.image, collector: options.collectorEndpoint });

  const shutdown = (signal: string) => {
    logger.info('injector stopping', { signal });
    stopWatching();
    // Bounded: in-flight reviews are tiny; the API server retries nothing, so don't hang.
    const timer = setTimeout(() => process.exit(0), 5_000);
    timer.unref();
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
