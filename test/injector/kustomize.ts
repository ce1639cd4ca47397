// A tiny kustomize for the tests, so the manifests render where no kustomize binary is
// installed. It implements exactly what deploy/kubernetes uses — resources (files and nested
// kustomizations), namespace, JSON6902 patches with a target, configMap/secret generators
// without name hashes — and throws on anything else, so a new feature cannot pass unrendered.
// Files outside a kustomization's root are allowed (as with --load-restrictor LoadRestrictionsNone).
import fjp, { type Operation } from 'fast-json-patch';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

// Rendered manifests are read at any depth by the tests (spec.template.spec.containers[0]...);
// typing every read is open work.
export type K8sObject = {
  apiVersion: string;
  kind: string;
  // biome-ignore lint/suspicious/noExplicitAny: see above
  metadata: { name: string; namespace?: string; [k: string]: any };
  // biome-ignore lint/suspicious/noExplicitAny: see above
  [k: string]: any;
};

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ClusterRole',
  'ClusterRoleBinding',
  'ClusterIssuer',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
]);
export const isClusterScoped = (kind: string) => CLUSTER_SCOPED.has(kind);

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'patches',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
]);

interface Generator {
  name: string;
  type?: string;
  files?: string[];
  literals?: string[];
  envs?: string[];
}

interface Kustomization {
  namespace?: string;
  resources?: string[];
  patches?: { path?: string; patch?: string; target?: Record<string, string> }[];
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
  generatorOptions?: {
    disableNameSuffixHash?: boolean;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

function loadKustomization(dir: string): Kustomization {
  for (const name of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    const file = path.join(dir, name);
    if (!existsSync(file)) continue;
    const k = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
    if (unsupported.length > 0)
      throw new Error(`${file}: the test resolver does not implement ${unsupported.join(', ')}`);
    return k as Kustomization;
  }
  throw new Error(`no kustomization in ${dir}`);
}

export function parseManifestFile(file: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    const obj = doc.toJS();
    if (obj !== null && obj !== undefined) out.push(obj);
  }
  return out;
}

function splitKeyValue(entry: string, file: string): [string, string] {
  const eq = entry.indexOf('=');
  if (eq <= 0) throw new Error(`${file}: "${entry}" is not KEY=VALUE`);
  return [entry.slice(0, eq), entry.slice(eq + 1)];
}

function generate(dir: string, gen: Generator, kind: 'ConfigMap' | 'Secret', k: Kustomization): K8sObject {
  if (!k.generatorOptions?.disableNameSuffixHash) {
    throw new Error(
      `${dir}: generator ${gen.name} needs generatorOptions.disableNameSuffixHash (hash suffixes are not implemented)`,
    );
  }
  const data: Record<string, string> = {};
  for (const entry of gen.files ?? []) {
    const [key, rel] = entry.includes('=') ? splitKeyValue(entry, dir) : [path.basename(entry), entry];
    data[key] = readFileSync(path.resolve(dir, rel), 'utf8');
  }
  for (const entry of gen.literals ?? []) {
    const [key, value] = splitKeyValue(entry, dir);
    data[key] = value;
  }
  for (const envFile of gen.envs ?? []) {
    for (const line of readFileSync(path.resolve(dir, envFile), 'utf8').split('\n')) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const [key, value] = splitKeyValue(trimmed, envFile);
      data[key] = value;
    }
  }
  const metadata: K8sObject['metadata'] = { name: gen.name };
  if (k.generatorOptions.labels) metadata.labels = { ...k.generatorOptions.labels };
  if (k.generatorOptions.annotations) metadata.annotations = { ...k.generatorOptions.annotations };
  if (kind === 'ConfigMap') return { apiVersion: 'v1', kind, metadata, data };
  const encoded = Object.fromEntries(Object.entries(data).map(([key, v]) => [key, Buffer.from(v).toString('base64')]));
  return { apiVersion: 'v1', kind, metadata, type: gen.type ?? 'Opaque', data: encoded };
}

function matches(obj: K8sObject, target: Record<string, string>): boolean {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  return (
    (target.group === undefined || target.group === group) &&
    (target.version === undefined || target.version === version) &&
    (target.kind === undefined || target.kind === obj.kind) &&
    (target.name === undefined || target.name === obj.metadata.name) &&
    (target.namespace === undefined || target.namespace === obj.metadata.namespace)
  );
}

/** Renders a kustomization directory to its list of objects. */
export function build(dir: string): K8sObject[] {
  const k = loadKustomization(dir);
  let objects: K8sObject[] = [];
  for (const entry of k.resources ?? []) {
    const p = path.resolve(dir, entry);
    objects.push(...(statSync(p).isDirectory() ? build(p) : parseManifestFile(p)));
  }
  for (const gen of k.configMapGenerator ?? []) objects.push(generate(dir, gen, 'ConfigMap', k));
  for (const gen of k.secretGenerator ?? []) objects.push(generate(dir, gen, 'Secret', k));

  for (const patch of k.patches ?? []) {
    if (!patch.target) throw new Error(`${dir}: only patches with a target are implemented`);
    const ops = parseYaml(patch.path ? readFileSync(path.resolve(dir, patch.path), 'utf8') : patch.patch!);
    if (!Array.isArray(ops)) throw new Error(`${dir}: only JSON6902 patches are implemented`);
    const hits = objects.filter((o) => matches(o, patch.target!));
    if (hits.length === 0) throw new Error(`${dir}: patch ${patch.path ?? ''} matches nothing`);
    objects = objects.map((o) =>
      hits.includes(o) ? fjp.applyPatch(structuredClone(o), ops as Operation[], true, false).newDocument : o,
    );
  }

  if (k.namespace) {
    for (const o of objects) if (!isClusterScoped(o.kind)) o.metadata.namespace = k.namespace;
  }
  return objects;
}

export const objectKey = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
