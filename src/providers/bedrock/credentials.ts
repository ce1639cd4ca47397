// AWS credentials for SigV4: static keys from the provider entry, else the AWS default chain
// (environment, SSO, shared config/credentials files, credential_process, web identity, ECS/EC2
// roles) from @aws-sdk/credential-provider-node, memoized per profile as the SDK does.
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { AuthError } from '../common/oauth.js';

export interface StaticKeys {
  access_key_id?: string;
  secret_access_key?: string;
  session_token?: string;
  profile?: string;
}

const chains = new Map<string, AwsCredentialIdentityProvider>();

function chainFor(profile: string | undefined): AwsCredentialIdentityProvider {
  const key = profile ?? '';
  let c = chains.get(key);
  if (!c) {
    // Loaded on first use: the chain's modules cost startup time that configs without Bedrock need not pay.
    const base: AwsCredentialIdentityProvider = async () => {
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      return defaultProvider(profile ? { profile } : {})();
    };
    // Refresh a minute before temporary credentials expire.
    let cached: Promise<AwsCredentialIdentity> | undefined;
    c = async () => {
      const now = Date.now();
      if (cached !== undefined) {
        const got = await cached.catch(() => undefined);
        if (got && (!got.expiration || got.expiration.getTime() - 60_000 > now)) return got;
      }
      cached = base();
      cached.catch(() => (cached = undefined));
      return cached;
    };
    chains.set(key, c);
  }
  return c;
}

/** Forget memoized chains (tests that change the environment). */
export function resetCredentialChains(): void {
  chains.clear();
}

export async function awsCredentials(keys: StaticKeys, slug: string): Promise<AwsCredentialIdentity> {
  if (keys.access_key_id && keys.secret_access_key) {
    return {
      accessKeyId: keys.access_key_id,
      secretAccessKey: keys.secret_access_key,
      ...(keys.session_token ? { sessionToken: keys.session_token } : {}),
    };
  }
  try {
    return await chainFor(keys.profile)();
  } catch (e) {
    // The chain's message says which sources it tried; it never includes key material.
    throw new AuthError(
      401,
      `providers.${slug}: no AWS credentials found (access_key_id/secret_access_key, AWS_* environment, shared files, or an instance role): ${(e as Error).message}`,
    );
  }
}
