// SigV4 verification as Bedrock does it: parse the Authorization header, check the key, scope and
// clock, then recompute the signature over the received request with the same signer the SDK uses.
import { createHash } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface AwsKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export type SigV4Result = { ok: true } | { ok: false; type: string; message: string };

const AUTH_RE =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

function amzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

export async function verifySigV4(
  req: { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: Buffer },
  keys: AwsKey[],
  region: string,
  service = 'bedrock',
): Promise<SigV4Result> {
  const auth = req.headers.authorization as string | undefined;
  if (!auth) return { ok: false, type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const m = AUTH_RE.exec(auth);
  if (!m)
    return {
      ok: false,
      type: 'IncompleteSignatureException',
      message: `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.`,
    };
  const [, akid, day, scopeRegion, scopeService, signedHeaders, signature] = m;
  const key = keys.find((k) => k.accessKeyId === akid);
  if (!key)
    return {
      ok: false,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  if (key.sessionToken !== undefined && req.headers['x-amz-security-token'] !== key.sessionToken) {
    return {
      ok: false,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  }
  if (scopeRegion !== region || scopeService !== service) {
    return {
      ok: false,
      type: 'InvalidSignatureException',
      message: `Credential should be scoped to a valid region. Credential should be scoped to correct service: '${service}'.`,
    };
  }
  const date = amzDate(String(req.headers['x-amz-date'] ?? ''));
  if (!date?.toISOString().replace(/-/g, '').startsWith(day))
    return {
      ok: false,
      type: 'IncompleteSignatureException',
      message: 'Date must be in ISO-8601 basic format and match the credential scope.',
    };
  if (Math.abs(Date.now() - date.getTime()) > 5 * 60_000) {
    return {
      ok: false,
      type: 'InvalidSignatureException',
      message: 'Signature expired: the request time is more than 5 minutes from the server time.',
    };
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host'))
    return {
      ok: false,
      type: 'InvalidSignatureException',
      message: "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    };
  const headers: Record<string, string> = {};
  for (const n of names) {
    const v = req.headers[n];
    if (v === undefined)
      return {
        ok: false,
        type: 'InvalidSignatureException',
        message: `Signed header ${n} is missing from the request.`,
      };
    headers[n] = Array.isArray(v) ? v.join(',') : v;
  }
  const declared = req.headers['x-amz-content-sha256'];
  if (
    typeof declared === 'string' &&
    declared !== 'UNSIGNED-PAYLOAD' &&
    declared !== createHash('sha256').update(req.body).digest('hex')
  ) {
    return {
      ok: false,
      type: 'InvalidSignatureException',
      message: 'The provided x-amz-content-sha256 header does not match what was computed.',
    };
  }
  const url = new URL(req.path, 'http://placeholder');
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    query[k] = v;
  });

  const signer = new SignatureV4({ service, region, credentials: key, sha256: Sha256 });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'https:',
      hostname: headers.host,
      path: url.pathname,
      query,
      headers,
      body: req.body.toString('utf8'),
    },
    { signingDate: date },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1];
  if (expected !== signature) {
    return {
      ok: false,
      type: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    };
  }
  return { ok: true };
}
