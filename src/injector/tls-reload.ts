// cert-manager renews the serving cert in place (the Secret volume swaps its files); reload
// it into the running server so the webhook does not start failing TLS at the old cert's expiry.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type https from 'node:https';
import { logger } from '../logger.js';

export async function readKeyPair(certFile: string, keyFile: string): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  return { cert, key };
}

/** Logs the cert's expiry, and warns when it is near: with failurePolicy Ignore an expired cert fails silently. */
export function logCertExpiry(cert: Buffer): void {
  const notAfter = new Date(new X509Certificate(cert).validTo);
  const daysLeft = Math.floor((notAfter.getTime() - Date.now()) / 86_400_000);
  const fields = { notAfter: notAfter.toISOString(), daysLeft };
  if (daysLeft < 30) logger.warn('injector serving certificate expires soon', fields);
  else logger.info('injector serving certificate', fields);
}

export function watchKeyPair(
  server: https.Server,
  certFile: string,
  keyFile: string,
  current: { cert: Buffer; key: Buffer },
  intervalMs = 30_000,
): () => void {
  let last = current;
  const timer = setInterval(() => {
    readKeyPair(certFile, keyFile)
      .then((next) => {
        if (next.cert.equals(last.cert) && next.key.equals(last.key)) return;
        server.setSecureContext({ cert: next.cert, key: next.key }); // throws on a mismatched pair
        last = next;
        logger.info('injector serving certificate reloaded');
        logCertExpiry(next.cert);
      })
      .catch((err: unknown) => {
        // Mid-rotation the two files can briefly disagree; keep serving the old pair and retry.
        logger.warn('injector certificate reload failed', { error: err instanceof Error ? err.message : String(err) });
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
