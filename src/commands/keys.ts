// `switchyard keys create NAME [--providers @a,@b] [--models 'gpt-4o*,claude-*'] [--rpm N]
// [--tpm N] [--budget-usd X --period 1d|7d|30d|month|never] [--expires-at ISO]`: mints a
// virtual key. Prints the secret once, on its own line, then the YAML entry to paste under
// `virtual_keys:`; the entry holds only the secret's SHA-256 (`key_sha256:`), so the config
// file never holds the secret. Bad arguments exit 2 with the problem on stderr.
import { randomBytes } from 'node:crypto';
import { Document, isScalar, visit } from 'yaml';
import { VirtualKeySpec } from '../policy/config.js';
import { sha256 } from '../policy/keys/registry.js';
import { BUDGET_PERIODS, type BudgetPeriod } from '../policy/limits/windows.js';
import { COMMANDS } from './definitions.js';
import { helpText, parseArgs, UsageError } from './options.js';

export const KEY_PREFIX = 'sk-sy-';
const NAME_RE = /^[A-Za-z0-9._-]+$/;
const SLUG_RE = /^[A-Za-z0-9._-]+$/;

export const KEYS_USAGE = helpText(COMMANDS.keys);

export { UsageError };

export interface KeyOptions {
  providers?: string[];
  models?: string[];
  rpm?: number;
  tpm?: number;
  budgetUsd?: number;
  period?: BudgetPeriod;
  expiresAt?: string;
}

export interface CreatedKey {
  name: string;
  /** The secret the app presents (shown once). */
  key: string;
  /** Hex SHA-256 of `key`, as the config holds it. */
  sha256: string;
  /** The config entry (validated against the virtual_keys schema). */
  spec: VirtualKeySpec;
  /** `spec` as YAML, indented to sit under `virtual_keys:`. */
  yaml: string;
}

/** `keys create` arguments → name and options; throws UsageError naming the problem. */
export function parseCreateArgs(argv: string[]): { name: string; options: KeyOptions } {
  const { flags, positional } = parseArgs(COMMANDS.keys, argv);
  const raw = new Map<string, string>();
  for (const [flag, v] of Object.entries(flags)) {
    if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${flag} needs a value`);
    raw.set(flag, v.trim());
  }
  if (positional.length === 0) throw new UsageError('missing NAME');
  if (positional.length > 1)
    throw new UsageError(`one NAME only (got ${positional.map((p) => JSON.stringify(p)).join(', ')})`);
  const name = positional[0];
  if (!NAME_RE.test(name)) throw new UsageError(`NAME ${JSON.stringify(name)} may use only letters, digits, . _ -`);

  const options: KeyOptions = {};
  const list = (flag: string) => {
    const items = raw
      .get(flag)!
      .split(',')
      .map((s) => s.trim());
    if (items.some((s) => s === '')) throw new UsageError(`--${flag}: empty entry in ${JSON.stringify(raw.get(flag))}`);
    return [...new Set(items)];
  };
  const positiveInt = (flag: string) => {
    const v = raw.get(flag)!;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n <= 0)
      throw new UsageError(`--${flag} must be a whole number above 0 (got ${JSON.stringify(v)})`);
    return n;
  };
  if (raw.has('providers')) {
    options.providers = list('providers').map((p) => {
      const slug = p.replace(/^@/, '');
      if (!SLUG_RE.test(slug))
        throw new UsageError(
          `--providers: ${JSON.stringify(p)} is not a provider slug (@ then letters, digits, . _ -)`,
        );
      return `@${slug}`;
    });
  }
  if (raw.has('models')) options.models = list('models');
  if (raw.has('rpm')) options.rpm = positiveInt('rpm');
  if (raw.has('tpm')) options.tpm = positiveInt('tpm');
  if (raw.has('budget-usd') !== raw.has('period')) {
    throw new UsageError(
      raw.has('period') ? '--period needs --budget-usd' : `--budget-usd needs --period (${BUDGET_PERIODS.join(', ')})`,
    );
  }
  if (raw.has('budget-usd')) {
    const v = raw.get('budget-usd')!;
    const usd = Number(v);
    if (!/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(usd) || usd <= 0)
      throw new UsageError(`--budget-usd must be an amount above 0, e.g. 50 or 12.5 (got ${JSON.stringify(v)})`);
    const period = raw.get('period')!;
    if (!(BUDGET_PERIODS as readonly string[]).includes(period))
      throw new UsageError(`--period must be one of ${BUDGET_PERIODS.join(', ')} (got ${JSON.stringify(period)})`);
    options.budgetUsd = usd;
    options.period = period as BudgetPeriod;
  }
  if (raw.has('expires-at')) {
    const v = raw.get('expires-at')!;
    const ms = Date.parse(v);
    if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) || Number.isNaN(ms)) {
      throw new UsageError(
        `--expires-at must be an ISO 8601 date-time, e.g. 2027-01-01T00:00:00Z (got ${JSON.stringify(v)})`,
      );
    }
    if (ms <= Date.now()) throw new UsageError(`--expires-at ${v} is in the past: the key would never work`);
    options.expiresAt = new Date(ms).toISOString();
  }
  return { name, options };
}

/** Mints a key: a fresh secret, its hash, and the config entry for it. */
export function createKey(
  name: string,
  options: KeyOptions = {},
  secret: string = KEY_PREFIX + randomBytes(32).toString('base64url'),
): CreatedKey {
  if (!NAME_RE.test(name)) throw new UsageError(`NAME ${JSON.stringify(name)} may use only letters, digits, . _ -`);
  const digest = sha256(secret).toString('hex');
  const entry: Record<string, unknown> = { key_sha256: digest };
  if (options.providers) entry.providers = options.providers;
  if (options.models) entry.models = options.models;
  if (options.rpm !== undefined || options.tpm !== undefined) {
    entry.rate_limit = {
      ...(options.rpm !== undefined && { requests_per_minute: options.rpm }),
      ...(options.tpm !== undefined && { tokens_per_minute: options.tpm }),
    };
  }
  if (options.budgetUsd !== undefined)
    entry.budget = { max_cost_usd: options.budgetUsd, period: options.period ?? 'month' };
  if (options.expiresAt !== undefined) entry.expires_at = options.expiresAt;
  // The same schema the config loader applies: what we print always loads.
  const checked = VirtualKeySpec.safeParse(entry);
  if (!checked.success)
    throw new UsageError(checked.error.issues.map((i) => `${i.path.join('.') || 'key'}: ${i.message}`).join('; '));

  const doc = new Document({ [name]: entry });
  // Lists and the small maps on one line each, as in the README's examples.
  visit(doc, {
    Seq: (_, node) => void (node.flow = true),
    Map: (_, node, path) => void (path.length > 3 && (node.flow = true)),
  });
  // Quoted, as YAML 1.1 parsers would otherwise read a timestamp.
  const expires = doc.getIn([name, 'expires_at'], true);
  if (isScalar(expires)) expires.type = 'QUOTE_DOUBLE';
  const text = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  const yaml = text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return { name, key: secret, sha256: digest, spec: checked.data, yaml: `${yaml}\n` };
}

/** What `keys create` prints: the key alone on the first line, then the entry. */
export function formatCreated(k: CreatedKey): string {
  return `${k.key}\n\n# The key above is shown only this once: give it to the app (Authorization: Bearer <key>).\n# Paste the entry below under virtual_keys: in the config (it holds only the key's SHA-256):\n${k.yaml}`;
}

/** The whole command without touching the process: what to print where, and the exit code. */
export function keysCommand(argv: string[]): { code: 0 | 2; stdout: string; stderr: string } {
  const [sub, ...rest] = argv;
  if (
    sub === '--help' ||
    sub === '-h' ||
    sub === 'help' ||
    (sub === 'create' && rest.some((a) => a === '--help' || a === '-h'))
  ) {
    return { code: 0, stdout: `${KEYS_USAGE}\n`, stderr: '' };
  }
  try {
    if (sub !== 'create')
      throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`);
    const { name, options } = parseCreateArgs(rest);
    return { code: 0, stdout: formatCreated(createKey(name, options)), stderr: '' };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return { code: 2, stdout: '', stderr: `switchyard keys: ${e.message}\n\n${KEYS_USAGE}\n` };
  }
}

export async function run(argv: string[]): Promise<void> {
  const r = keysCommand(argv);
  if (r.stdout) process.stdout.write(r.stdout);
  if (r.stderr) process.stderr.write(r.stderr);
  if (r.code !== 0) process.exitCode = r.code;
}
