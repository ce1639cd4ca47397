// Validates Kubernetes objects against the Kubernetes OpenAPI schema (kubernetes-models, whose
// core/v1 Container has the 1.29+ native-sidecar restartPolicy field) and cert-manager's CRD
// schemas (@kubernetes-models/cert-manager).
type Model = new (data: unknown) => { validate(): void };
type ModelModule = Record<string, Model | undefined>;

const modules = new Map<string, Promise<ModelModule>>();

function modulePath(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === '') return `kubernetes-models/${version}`;
  if (group.endsWith('cert-manager.io')) return `@kubernetes-models/cert-manager/${group}/${version}`;
  return `kubernetes-models/${group}/${version}`;
}

export async function modelFor(apiVersion: string, kind: string): Promise<Model> {
  const path = modulePath(apiVersion);
  let mod = modules.get(path);
  if (!mod) {
    mod = import(path) as Promise<ModelModule>;
    modules.set(path, mod);
  }
  const model = (await mod)[kind];
  if (!model) throw new Error(`no schema for ${apiVersion} ${kind}`);
  return model;
}

/** Returns the schema errors of one object ([] when valid). Unknown apiVersion/kind is an error. */
export async function schemaErrors(obj: {
  apiVersion?: unknown;
  kind?: unknown;
  [key: string]: unknown;
}): Promise<string[]> {
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') return ['apiVersion and kind are required'];
  let model: Model;
  try {
    model = await modelFor(obj.apiVersion, obj.kind);
  } catch (err) {
    return [(err as Error).message];
  }
  try {
    new model(structuredClone(obj)).validate();
    return [];
  } catch (err) {
    return String((err as Error).message).split(', ');
  }
}
