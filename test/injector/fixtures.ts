// AdmissionReview fixtures shaped like what the API server sends for a pod created by a
// Deployment's ReplicaSet: generateName and no name, a pod-template-hash label, the
// service-account token volume that the built-in ServiceAccount admission adds before webhooks.
import fjp, { type Operation } from 'fast-json-patch';
import { expect } from 'vitest';
import type { AdmissionResponseReview, JsonPatchOp } from '../../src/injector/admission.js';

// biome-ignore lint/suspicious/noExplicitAny: manifests and patches the tests read at any depth; typing every read is open work
export type Obj = Record<string, any>;

const TOKEN_VOLUME = {
  name: 'kube-api-access-7xk2p',
  projected: {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ],
  },
};

export function appContainer(name: string, extra: Obj = {}): Obj {
  return {
    name,
    image: `ghcr.io/acme/${name}:1.4.2`,
    imagePullPolicy: 'IfNotPresent',
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    resources: { requests: { cpu: '100m', memory: '128Mi' } },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    volumeMounts: [
      { name: TOKEN_VOLUME.name, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ],
    ...extra,
  };
}

export interface PodOptions {
  annotations?: Record<string, string> | null;
  labels?: Record<string, string>;
  containers?: Obj[];
  initContainers?: Obj[];
  /** false: no volumes array at all (e.g. automountServiceAccountToken: false). */
  tokenVolume?: boolean;
  spec?: Obj;
}

export function deploymentPod(opts: PodOptions = {}): Obj {
  const metadata: Obj = {
    generateName: 'chat-api-7d9f8b6c5d-',
    namespace: 'shop',
    labels: opts.labels ?? { 'app.kubernetes.io/name': 'chat-api', 'pod-template-hash': '7d9f8b6c5d' },
    ownerReferences: [
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: 'chat-api-7d9f8b6c5d',
        uid: '0b5e0b39-5a4c-4c7e-9a43-1c0b6f3f7a11',
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
  if (opts.annotations !== null) metadata.annotations = opts.annotations ?? { 'switchyard.dev/inject': 'true' };
  const spec: Obj = {
    containers: opts.containers ?? [appContainer('app')],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    serviceAccountName: 'default',
    schedulerName: 'default-scheduler',
    securityContext: {},
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
    priority: 0,
    ...opts.spec,
  };
  if (opts.initContainers) spec.initContainers = opts.initContainers;
  if (opts.tokenVolume !== false) spec.volumes = [TOKEN_VOLUME];
  else for (const c of spec.containers) delete c.volumeMounts;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

let seq = 0;
export function review(pod: Obj, overrides: Obj = {}): Obj {
  seq++;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `705ab4f5-6393-11e8-b7cc-42010a80${String(seq).padStart(4, '0')}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'shop',
      operation: 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:kube-system:replicaset-controller',
        uid: 'a1',
        groups: ['system:serviceaccounts'],
      },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
      ...overrides,
    },
  };
}

/** The JSON Patch carried by a response ([] when there is none). */
export function decodePatch(res: AdmissionResponseReview): JsonPatchOp[] {
  if (!res.response.patch) return [];
  expect(res.response.patchType).toBe('JSONPatch');
  return JSON.parse(Buffer.from(res.response.patch, 'base64').toString('utf8'));
}

/** Applies the patch as the API server would: strictly, on a copy, failing on any bad op. */
export function applyPatch(pod: Obj, ops: JsonPatchOp[]): Obj {
  const errors = fjp.validate(ops as Operation[], pod);
  if (errors) throw errors;
  return fjp.applyPatch(structuredClone(pod), ops as Operation[], true, false).newDocument;
}

export function envOf(container: Obj): Record<string, Obj> {
  return Object.fromEntries((container.env ?? []).map((e: Obj) => [e.name, e]));
}
