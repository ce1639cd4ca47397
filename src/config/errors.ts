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

// Keys written as they are; any other key (empty, with whitespace, quotes, brackets or control
// characters, e.g. a YAML collection used as a key) is quoted so the path stays on one line.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the class excludes
const PLAIN_KEY = /^[^\s"'[\]\\\u0000-\u001f\u007f]+$/;

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (!PLAIN_KEY.test(String(p))) out += `[${JSON.stringify(String(p))}]`;
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
