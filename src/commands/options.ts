// One definition per command of its flags and environment variables: the command parses its
// argv with it and `switchyard help <command>` prints it, so the two cannot drift. A flag the
// definition does not name is a usage error (exit 2), not silently ignored.

export interface FlagDef {
  /** Without the leading dashes: `config` is `--config`. */
  readonly name: string;
  /** What the value is (`FILE`, `N`); absent for a boolean switch. */
  readonly arg?: string;
  /** The environment variable read when the flag is absent. */
  readonly env?: string;
  /** The default, as the help shows it (the command applies it). */
  readonly default?: string;
  readonly help: string;
}

export interface EnvDef {
  readonly name: string;
  readonly help: string;
}

export interface CommandDef {
  readonly name: string;
  readonly summary: string;
  /** What follows `switchyard <name>`, e.g. `[flags]` or `create NAME [flags]`. */
  readonly usage: string;
  readonly flags: readonly FlagDef[];
  /** Environment variables the command reads that no flag stands for. */
  readonly env?: readonly EnvDef[];
  /** Free text after the flags (examples, notes). */
  readonly notes?: string;
}

/** A mistake on the command line: the CLI prints it with the command's help and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type Flags = Record<string, string | true>;

export interface ParsedArgs {
  readonly flags: Flags;
  readonly positional: string[];
  /** The flag's value, else its environment variable's (empty counts as unset). */
  value(name: string): string | undefined;
}

/**
 * argv → flags and positionals: `--name value`, `--name=value`, `--switch`. A name the
 * definition lacks, a value on a switch or a missing value is a UsageError. `--help`/`-h` is
 * always accepted (the caller prints the help).
 */
export function parseArgs(def: CommandDef, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const byName = new Map(def.flags.map((f) => [f.name, f]));
  const flags: Flags = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      flags.help = true;
      continue;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const f = byName.get(name);
    if (!f) throw new UsageError(`unknown flag --${name} for "switchyard ${def.name}"`);
    if (name in flags) throw new UsageError(`--${name} given twice`);
    if (!f.arg) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const v =
      eq > 0 ? a.slice(eq + 1) : argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : undefined;
    if (v === undefined) throw new UsageError(`--${name} needs a value (${f.arg})`);
    flags[name] = v;
  }
  return {
    flags,
    positional,
    value(name: string): string | undefined {
      const f = byName.get(name);
      if (!f) throw new Error(`"switchyard ${def.name}" reads --${name}, which its definition lacks`);
      const v = flags[name];
      if (typeof v === 'string') return v;
      return (f.env && env[f.env]) || undefined;
    },
  };
}

/** The help `switchyard help <command>` prints. */
export function helpText(def: CommandDef): string {
  const rows = def.flags.map((f) => {
    const head = `--${f.name}${f.arg ? ` ${f.arg}` : ''}`;
    const extra = [f.env && `env ${f.env}`, f.default && `default ${f.default}`].filter(Boolean).join(', ');
    return [head, extra ? `${f.help} (${extra})` : f.help];
  });
  const env = (def.env ?? []).map((e) => [e.name, e.help]);
  const width = Math.max(0, ...[...rows, ...env].map(([h]) => h.length)) + 2;
  const table = (list: string[][]) => list.map(([h, t]) => `  ${h.padEnd(width)}${t}`).join('\n');
  const parts = [`usage: switchyard ${def.name} ${def.usage}`, '', def.summary];
  if (rows.length) parts.push('', 'flags:', table(rows));
  if (env.length) parts.push('', 'environment:', table(env));
  if (def.notes) parts.push('', def.notes);
  return parts.join('\n');
}
