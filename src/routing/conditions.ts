// Portkey-style condition queries over request metadata and params:
// {"metadata.plan": {"$eq": "paid"}, "$or": [{"params.model": {"$regex": "^gpt"}}, …]}.
export interface ConditionInput {
  metadata: Record<string, string>;
  params: Record<string, unknown>;
}

function lookup(input: ConditionInput, path: string): unknown {
  const [root, ...rest] = path.split('.');
  let cur: unknown = root === 'metadata' ? input.metadata : root === 'params' ? input.params : undefined;
  for (const k of rest) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // Metadata values are strings; let {"metadata.tier": {"$eq": 2}} match "2".
  const na = num(a);
  const nb = num(b);
  return na !== undefined && nb !== undefined && na === nb;
}

function compare(a: unknown, b: unknown, op: (x: number, y: number) => boolean): boolean {
  const na = num(a);
  const nb = num(b);
  return na !== undefined && nb !== undefined && op(na, nb);
}

function matchOperators(value: unknown, ops: Record<string, unknown>): boolean {
  for (const [op, arg] of Object.entries(ops)) {
    let ok: boolean;
    switch (op) {
      case '$eq':
        ok = equal(value, arg);
        break;
      case '$ne':
        ok = !equal(value, arg);
        break;
      case '$gt':
        ok = compare(value, arg, (x, y) => x > y);
        break;
      case '$gte':
        ok = compare(value, arg, (x, y) => x >= y);
        break;
      case '$lt':
        ok = compare(value, arg, (x, y) => x < y);
        break;
      case '$lte':
        ok = compare(value, arg, (x, y) => x <= y);
        break;
      case '$in':
        ok = Array.isArray(arg) && arg.some((a) => equal(value, a));
        break;
      case '$nin':
        ok = Array.isArray(arg) && !arg.some((a) => equal(value, a));
        break;
      case '$regex':
        ok = typeof value === 'string' && new RegExp(String(arg)).test(value);
        break;
      default:
        throw new ConditionError(`unknown operator "${op}"`);
    }
    if (!ok) return false;
  }
  return true;
}

export class ConditionError extends Error {}

export function matches(query: Record<string, unknown>, input: ConditionInput): boolean {
  for (const [key, cond] of Object.entries(query)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(cond)) throw new ConditionError(`${key} takes an array`);
      const results = cond.map((q) => matches(q as Record<string, unknown>, input));
      if (key === '$and' ? !results.every(Boolean) : !results.some(Boolean)) return false;
      continue;
    }
    if (key.startsWith('$')) throw new ConditionError(`unknown operator "${key}"`);
    const value = lookup(input, key);
    const ok =
      cond !== null && typeof cond === 'object' && !Array.isArray(cond)
        ? matchOperators(value, cond as Record<string, unknown>)
        : equal(value, cond);
    if (!ok) return false;
  }
  return true;
}
