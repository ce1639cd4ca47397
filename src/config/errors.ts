// Config problems carry the path into the document so users can find them.
import type { z } from 'zod';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: string[] = [message],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

export function fromZod(err: z.ZodError, prefix = ''): ConfigError {
  const issues = err.issues.map((i) => {
    const path = formatPath([...(prefix ? [prefix] : []), ...i.path]);
    return `${path}: ${i.message}`;
  });
  return new ConfigError(issues.join('; '), issues);
}
