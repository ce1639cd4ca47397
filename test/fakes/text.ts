// Deterministic "model" behaviour shared by the fakes: token counts, deltas, stop sequences,
// tool arguments and embeddings. Exported so tests can compute the numbers they expect.

/** One token per 4 characters, rounded up (the usual rule of thumb for English text). */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The longest prefix of `text` that fits in `maxTokens` tokens. */
export function truncateToTokens(text: string, maxTokens: number): string {
  return text.slice(0, Math.max(0, maxTokens) * 4);
}

/** Stream deltas: one per word, each carrying its leading whitespace, so joined they give the text. */
export function splitDeltas(text: string): string[] {
  return text.match(/\s*\S+\s*$|\s*\S+/g) ?? (text.length > 0 ? [text] : []);
}

/** Splits a string into fragments of at most `size` characters (tool-argument streaming). */
export function fragments(text: string, size = 8): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Cuts `text` at the first stop sequence found in it. */
export function applyStop(text: string, stops: string[] | undefined): { text: string; stop?: string } {
  if (!stops || stops.length === 0) return { text };
  let at = -1;
  let which: string | undefined;
  for (const s of stops) {
    if (s === '') continue;
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) {
      at = i;
      which = s;
    }
  }
  return at < 0 ? { text } : { text: text.slice(0, at), stop: which };
}

/** JSON arguments that satisfy a (simple) JSON schema: first enum value, else a fixed value per type. */
/** The parts of a JSON schema that argsFromSchema reads. */
interface SchemaNode {
  properties?: unknown;
  enum?: unknown;
  type?: unknown;
  items?: unknown;
}

export function argsFromSchema(schema: unknown): Record<string, unknown> {
  const props = (schema && typeof schema === 'object' ? (schema as SchemaNode).properties : undefined) || {};
  const out: Record<string, unknown> = {};
  if (typeof props !== 'object') return out;
  for (const [k, p] of Object.entries(props)) out[k] = valueFor(p, k);
  return out;
}

function valueFor(node: unknown, name: string): unknown {
  if (!node || typeof node !== 'object') return null;
  const p = node as SchemaNode;

  if (Array.isArray(p.enum) && p.enum.length > 0) return p.enum[0];
  const t = Array.isArray(p.type) ? p.type[0] : p.type;
  switch (t) {
    case 'string':
      return `fake-${name}`;
    case 'integer':
      return 42;
    case 'number':
      return 4.2;
    case 'boolean':
      return true;
    case 'array':
      return p.items ? [valueFor(p.items, name)] : [];
    case 'object':
      return argsFromSchema(p);
    default:
      return null;
  }
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A unit-length pseudo-random vector seeded by the text (same text → same vector). */
export function embed(text: string, dims: number): Float32Array {
  let seed = fnv1a(text);
  const v = new Float32Array(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const x = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
    v[i] = x;
    norm += x * x;
  }
  const s = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dims; i++) v[i] *= s;
  return v;
}

/** Sequential ids like the providers' (prefix + 24 base-36 chars), unique per process. */
let idCounter = 0;
export function nextId(prefix: string): string {
  idCounter++;
  return prefix + (Date.now().toString(36) + idCounter.toString(36).padStart(8, '0')).padStart(24, '0');
}
