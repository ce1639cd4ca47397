// Self-signed CA + serving certificate for the webhook, for clusters without cert-manager.
// X.509 through @peculiar/x509 (its DI container needs the reflect-metadata polyfill).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface GeneratedCerts {
  caCert: string;
  cert: string;
  key: string;
  /** base64 of the CA PEM: the value of clientConfig.caBundle. */
  caBundle: string;
  dnsNames: string[];
  notAfter: Date;
}

/** The names the API server may use to reach the Service (it uses <svc>.<ns>.svc). */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f; // positive INTEGER
  return bytes.toString('hex');
}

function keyPem(der: ArrayBuffer): string {
  return `${x509.PemConverter.encode(der, 'PRIVATE KEY')}\n`;
}

export async function generateCerts(opts: {
  service: string;
  namespace: string;
  days?: number;
  extraDnsNames?: string[];
}): Promise<GeneratedCerts> {
  const days = opts.days ?? 365;
  const notBefore = new Date(Date.now() - 5 * 60_000); // small allowance for clock skew
  const notAfter = new Date(notBefore.getTime() + days * DAY_MS);
  const dnsNames = [...serviceDnsNames(opts.service, opts.namespace), ...(opts.extraDnsNames ?? [])];

  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${opts.service}-ca.${opts.namespace}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (days + 30) * DAY_MS),
    keys: caKeys as CryptoKeyPair,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey as CryptoKey),
    ],
  });

  const leafKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${opts.service}.${opts.namespace}.svc`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey as CryptoKey,
    signingKey: caKeys.privateKey as CryptoKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value }))),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });

  const caCert = `${ca.toString('pem')}\n`;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey as CryptoKey);
  return {
    caCert,
    cert: `${leaf.toString('pem')}\n`,
    key: keyPem(pkcs8),
    caBundle: Buffer.from(caCert).toString('base64'),
    dnsNames,
    notAfter,
  };
}

/** The JSON6902 patch the self-signed overlay applies to both webhook entries. */
export function caBundlePatch(caBundle: string, webhookCount = 2): string {
  const lines = ['# Written by `switchyard injector certs`: the CA that signed tls.crt, for both webhook entries.'];
  for (let i = 0; i < webhookCount; i++) {
    lines.push(`- op: add`, `  path: /webhooks/${i}/clientConfig/caBundle`, `  value: ${caBundle}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes ca.crt, tls.crt, tls.key (0600) and cabundle-patch.yaml into dir. Returns the paths. */
export async function writeCerts(dir: string, certs: GeneratedCerts): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const files = {
    ca: path.join(dir, 'ca.crt'),
    cert: path.join(dir, 'tls.crt'),
    key: path.join(dir, 'tls.key'),
    patch: path.join(dir, 'cabundle-patch.yaml'),
  };
  await writeFile(files.ca, certs.caCert);
  await writeFile(files.cert, certs.cert);
  await writeFile(files.key, certs.key, { mode: 0o600 });
  await writeFile(files.patch, caBundlePatch(certs.caBundle));
  return files;
}
