// SigV4 signing of an upstream request with Smithy's signer, the one the AWS SDK uses.
import type { AwsCredentialIdentity } from '@smithy/types';
import type { UpstreamRequest } from '../types.js';

export const BEDROCK_SIGNING_NAME = 'bedrock';

export async function signRequest(
  req: UpstreamRequest,
  region: string,
  credentials: AwsCredentialIdentity,
  signingDate?: Date,
): Promise<UpstreamRequest> {
  const url = new URL(req.url);
  // The signer is loaded on the first Bedrock request, not in every sidecar's memory.
  const [{ Sha256 }, { SignatureV4 }] = await Promise.all([
    import('@aws-crypto/sha256-js'),
    import('@smithy/signature-v4'),
  ]);
  const signer = new SignatureV4({ service: BEDROCK_SIGNING_NAME, region, credentials, sha256: Sha256 });
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    query[k] = v;
  });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { ...req.headers, host: url.host },
      body: req.body,
    },
    signingDate ? { signingDate } : undefined,
  );
  return { ...req, headers: signed.headers as Record<string, string> };
}
