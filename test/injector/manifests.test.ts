// Every kustomization under deploy/kubernetes, rendered (by the test resolver, and also by
// `kubectl kustomize` where installed), validated object by object against the Kubernetes and
// cert-manager schemas, and checked for the cross-references a broken install would trip on.
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { generateCerts, writeCerts, type GeneratedCerts } from '../../src/injector/certs.js';
import { loadInjectorOptions } from '../../src/injector/options.js';
import { handleReview } from '../../src/injector/review.js';
import { applyPatch, decodePatch, review, type Obj } from './fixtures.js';
import { schemaErrors } from './k8s-schema.js';
import { build, isClusterScoped, objectKey, type K8sObject } from './kustomize.js';

const repo = path.resolve(import.meta.dirname, '../..');
const TARGETS = ['base', 'overlays/cert-manager', 'overlays/self-signed', 'overlays/small', 'example'] as const;
type Target = (typeof TARGETS)[number];

// Grafana's provisioning belongs to deploy/grafana (another part of the project); these are the
// documented paths the Grafana kustomization mounts.
const GRAFANA_FILES = [
  'deploy/grafana/provisioning/dashboards/switchyard.yaml',
  'deploy/grafana/provisioning/alerting/rules.yaml',
  'dashboards/llm-overview.json',
  'dashboards/llm-request-explorer.json',
];

// Secrets an operator creates (or cert-manager issues) outside the rendered manifests.
const EXTERNAL: Record<Target, string[]> = {
  base: ['Secret/switchyard-clickhouse', 'Secret/switchyard-injector-tls'],
  'overlays/cert-manager': ['Secret/switchyard-clickhouse'],
  'overlays/self-signed': ['Secret/switchyard-clickhouse'],
  'overlays/small': [],
  example: [],
};

let work: string;
let certs: GeneratedCerts;
const rendered = new Map<Target, K8sObject[]>();

beforeAll(async () => {
  // Render from a scratch copy: the self-signed overlay needs generated certs (never committed),
  // and Grafana files that have not landed yet get placeholders.
  work = mkdtempSync(path.join(tmpdir(), 'switchyard-deploy-'));
  cpSync(path.join(repo, 'deploy'), path.join(work, 'deploy'), { recursive: true });
  if (existsSync(path.join(repo, 'dashboards')))
    cpSync(path.join(repo, 'dashboards'), path.join(work, 'dashboards'), { recursive: true });
  for (const f of GRAFANA_FILES) {
    const dest = path.join(work, f);
    if (existsSync(dest)) continue;
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, f.endsWith('.json') ? '{"title": "placeholder"}\n' : 'apiVersion: 1\n');
  }
  certs = await generateCerts({ service: 'switchyard-injector', namespace: 'switchyard-system' });
  await writeCerts(path.join(work, 'deploy/kubernetes/overlays/self-signed/certs'), certs);
  for (const t of TARGETS) rendered.set(t, build(path.join(work, 'deploy/kubernetes', t)));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const get = (t: Target) => rendered.get(t)!;
const find = (objs: K8sObject[], kind: string, name: string) =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);
const workloads = (objs: K8sObject[]) =>
  objs.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const containersOf = (spec: Obj): Obj[] => [...(spec.initContainers ?? []), ...spec.containers];

describe.each(TARGETS)('deploy/kubernetes/%s', (target) => {
  it('renders objects that all validate against their schema', async () => {
    const objs = get(target);
    expect(objs.length).toBeGreaterThan(0);
    const keys = objs.map(objectKey);
    expect(new Set(keys).size).toBe(keys.length);
    for (const o of objs) {
      expect(o.metadata?.name, objectKey(o)).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
      if (!isClusterScoped(o.kind)) expect(o.metadata.namespace, objectKey(o)).toBeTruthy();
      expect(await schemaErrors(o), objectKey(o)).toEqual([]);
    }
  });

  it('references only things that exist: Services, HPAs, PDBs, policies, ConfigMaps, Secrets', () => {
    const objs = get(target);
    const templates = workloads(objs).map((w) => ({ ns: w.metadata.namespace, tpl: w.spec.template }));
    for (const w of workloads(objs))
      expect(selects(w.spec.selector.matchLabels, w.spec.template.metadata.labels), objectKey(w)).toBe(true);

    for (const svc of objs.filter((o) => o.kind === 'Service')) {
      const pods = templates.filter(
        (t) => t.ns === svc.metadata.namespace && selects(svc.spec.selector, t.tpl.metadata.labels),
      );
      expect(pods.length, `${objectKey(svc)} selects no pod`).toBeGreaterThan(0);
      const portNames = pods.flatMap((p) =>
        containersOf(p.tpl.spec).flatMap((c) => (c.ports ?? []).map((cp: Obj) => cp.name)),
      );
      for (const port of svc.spec.ports) {
        if (typeof port.targetPort === 'string')
          expect(portNames, `${objectKey(svc)} targetPort`).toContain(port.targetPort);
      }
    }
    for (const hpa of objs.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
      const ref = hpa.spec.scaleTargetRef;
      expect(find(objs, ref.kind, ref.name), objectKey(hpa)).toBeDefined();
      expect(find(objs, ref.kind, ref.name)!.spec.replicas, 'the HPA owns replicas').toBeUndefined();
    }
    for (const sel of objs.filter((o) => o.kind === 'PodDisruptionBudget' || o.kind === 'NetworkPolicy')) {
      const labels =
        sel.kind === 'PodDisruptionBudget' ? sel.spec.selector.matchLabels : sel.spec.podSelector.matchLabels;
      if (!labels) continue; // podSelector: {} = the whole namespace
      const hit = templates.some((t) => t.ns === sel.metadata.namespace && selects(labels, t.tpl.metadata.labels));
      expect(hit, `${objectKey(sel)} selects no pod`).toBe(true);
    }

    const provided = new Set([
      ...objs.map((o) => `${o.kind}/${o.metadata.name}`),
      ...objs.filter((o) => o.kind === 'Certificate').map((c) => `Secret/${c.spec.secretName}`),
      ...EXTERNAL[target],
    ]);
    for (const { tpl } of templates) {
      const refs: [string, boolean][] = [];
      for (const v of tpl.spec.volumes ?? []) {
        if (v.configMap) refs.push([`ConfigMap/${v.configMap.name}`, !!v.configMap.optional]);
        if (v.secret) refs.push([`Secret/${v.secret.secretName}`, !!v.secret.optional]);
      }
      for (const c of containersOf(tpl.spec)) {
        for (const e of c.envFrom ?? []) {
          if (e.secretRef) refs.push([`Secret/${e.secretRef.name}`, !!e.secretRef.optional]);
          if (e.configMapRef) refs.push([`ConfigMap/${e.configMapRef.name}`, !!e.configMapRef.optional]);
        }
        for (const e of c.env ?? []) {
          const s = e.valueFrom?.secretKeyRef;
          if (s) refs.push([`Secret/${s.name}`, !!s.optional]);
        }
      }
      for (const [ref, optional] of refs)
        if (!optional) expect(provided, `${tpl.metadata.labels['app.kubernetes.io/name']} needs ${ref}`).toContain(ref);
    }
  });

  it("runs this release's images, and injects this release's sidecar", () => {
    const release = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
    const ours: string[] = [];
    for (const w of workloads(get(target)))
      for (const c of containersOf(w.spec.template.spec)) {
        if (c.image.startsWith('ghcr.io/switchyard/')) ours.push(c.image);
        for (const e of c.env ?? []) if (e.name === 'SWITCHYARD_SIDECAR_IMAGE') ours.push(e.value);
      }
    const runsOurs = workloads(get(target)).some((w) => w.metadata.name.startsWith('switchyard-'));
    expect(ours.length > 0).toBe(runsOurs);
    for (const image of ours) expect(image.split(':').at(-1), image).toBe(release);
    expect(loadInjectorOptions({}, {}).image).toBe(`ghcr.io/switchyard/switchyard-sidecar:${release}`);
  });

  it("runs Switchyard's own containers locked down (restricted Pod Security)", () => {
    for (const w of workloads(get(target)).filter(
      (o) => o.metadata.name.startsWith('switchyard-') && o.metadata.name !== 'switchyard-clickhouse',
    )) {
      const spec = w.spec.template.spec;
      expect(spec.automountServiceAccountToken, objectKey(w)).toBe(false);
      expect(spec.securityContext.seccompProfile.type).toBe('RuntimeDefault');
      for (const c of containersOf(spec)) {
        const sc = c.securityContext;
        expect(sc, `${objectKey(w)} ${c.name}`).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.resources.requests.memory && c.resources.limits.memory, `${c.name} memory`).toBeTruthy();
      }
    }
  });
});

describe('control plane wiring', () => {
  it('points both webhooks at the injector Service, never blocking pods and reinvoked if needed', () => {
    for (const t of ['overlays/cert-manager', 'overlays/self-signed', 'overlays/small'] as const) {
      const objs = get(t);
      const hook = find(objs, 'MutatingWebhookConfiguration', 'switchyard-injector')!;
      const svc = find(objs, 'Service', 'switchyard-injector')!;
      const dep = find(objs, 'Deployment', 'switchyard-injector')!;
      expect(hook.webhooks.map((w: Obj) => w.clientConfig.service.path)).toEqual(['/mutate', '/mutate/namespace']);
      for (const w of hook.webhooks) {
        expect(w).toMatchObject({
          failurePolicy: 'Ignore',
          reinvocationPolicy: 'IfNeeded',
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
        });
        expect(w.rules).toEqual([
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' },
        ]);
        expect(w.clientConfig.service).toMatchObject({
          name: svc.metadata.name,
          namespace: svc.metadata.namespace,
          port: svc.spec.ports[0].port,
        });
        const nsExclusions = w.namespaceSelector.matchExpressions.find(
          (e: Obj) => e.key === 'kubernetes.io/metadata.name',
        );
        expect(nsExclusions.values).toContain(svc.metadata.namespace);
      }
      // Mutually exclusive: no pod goes through both entries.
      const [annotated, namespaced] = hook.webhooks.map((w: Obj) =>
        w.namespaceSelector.matchExpressions.find((e: Obj) => e.key === 'switchyard.dev/inject'),
      );
      expect([annotated.operator, namespaced.operator, annotated.values, namespaced.values]).toEqual([
        'NotIn',
        'In',
        ['enabled'],
        ['enabled'],
      ]);
      // Service → named port → the port the injector is told to listen on.
      const container = dep.spec.template.spec.containers[0];
      const named = container.ports.find((p: Obj) => p.name === svc.spec.ports[0].targetPort);
      expect(String(named.containerPort)).toBe(container.args[container.args.indexOf('--port') + 1]);
      const tlsVolume = dep.spec.template.spec.volumes.find((v: Obj) => v.name === 'tls');
      expect(tlsVolume.secret.secretName).toBe('switchyard-injector-tls');
      // What the injector tells sidecars is the collector Service's address.
      const collector = find(objs, 'Service', 'switchyard-collector')!;
      const endpoint = new URL(container.env.find((e: Obj) => e.name === 'SWITCHYARD_COLLECTOR_ENDPOINT').value);
      expect(endpoint.hostname).toBe(`${collector.metadata.name}.${collector.metadata.namespace}.svc`);
      expect(Number(endpoint.port)).toBe(collector.spec.ports[0].port);
    }
  });

  it('cert-manager overlay: the Certificate covers the Service and its CA is injected into the webhook', () => {
    const objs = get('overlays/cert-manager');
    const cert = find(objs, 'Certificate', 'switchyard-injector')!;
    const hook = find(objs, 'MutatingWebhookConfiguration', 'switchyard-injector')!;
    expect(hook.metadata.annotations['cert-manager.io/inject-ca-from']).toBe(
      `${cert.metadata.namespace}/${cert.metadata.name}`,
    );
    expect(cert.spec.secretName).toBe('switchyard-injector-tls');
    expect(cert.spec.dnsNames).toContain('switchyard-injector.switchyard-system.svc');
    expect(find(objs, cert.spec.issuerRef.kind, cert.spec.issuerRef.name)).toBeDefined();
    for (const w of hook.webhooks) expect(w.clientConfig.caBundle).toBeUndefined();
  });

  it('self-signed overlay: the generated cert goes into the Secret and its CA into both webhook entries', () => {
    const objs = get('overlays/self-signed');
    const secret = find(objs, 'Secret', 'switchyard-injector-tls')!;
    expect(secret.type).toBe('kubernetes.io/tls');
    const cert = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'));
    expect(cert.checkHost('switchyard-injector.switchyard-system.svc')).toBeTruthy();
    const hook = find(objs, 'MutatingWebhookConfiguration', 'switchyard-injector')!;
    for (const w of hook.webhooks) {
      expect(w.clientConfig.caBundle).toBe(certs.caBundle);
      expect(cert.checkIssued(new X509Certificate(Buffer.from(w.clientConfig.caBundle, 'base64')))).toBe(true);
    }
  });

  it('small overlay: the collector and Grafana reach the in-cluster ClickHouse the Secret names', () => {
    const objs = get('overlays/small');
    const ch = find(objs, 'StatefulSet', 'switchyard-clickhouse')!;
    const svc = find(objs, 'Service', ch.spec.serviceName)!;
    const secret = find(objs, 'Secret', 'switchyard-clickhouse')!;
    const env = Object.fromEntries(
      Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString()]),
    );
    const url = new URL(env.CLICKHOUSE_URL);
    expect(url.hostname).toBe(`${svc.metadata.name}.${svc.metadata.namespace}.svc`);
    expect(svc.spec.ports.map((p: Obj) => p.port)).toContain(Number(url.port));
    expect(env.CLICKHOUSE_HOST).toBe(url.hostname);
    for (const key of ['CLICKHOUSE_USER', 'CLICKHOUSE_PASSWORD', 'CLICKHOUSE_DATABASE']) {
      const fromSecret = ch.spec.template.spec.containers[0].env.find(
        (e: Obj) => e.valueFrom?.secretKeyRef?.key === key,
      );
      expect(fromSecret, key).toBeDefined();
      expect(env[key]).toBeTruthy();
    }
    expect(find(objs, 'HorizontalPodAutoscaler', 'switchyard-collector')!.spec).toMatchObject({
      minReplicas: 1,
      maxReplicas: 3,
    });
    const migrate = find(objs, 'Deployment', 'switchyard-collector')!.spec.template.spec.initContainers[0];
    expect(migrate.args).toEqual(['migrate']);
  });
});

describe('example app', () => {
  it('gets a valid, restricted-compliant pod with the sidecar from the real webhook logic', async () => {
    const objs = get('example');
    const dep = find(objs, 'Deployment', 'chat-api')!;
    const tpl = dep.spec.template;
    const injector = find(get('overlays/small'), 'Deployment', 'switchyard-injector')!.spec.template.spec.containers[0];
    const injectorEnv = Object.fromEntries(injector.env.map((e: Obj) => [e.name, e.value]));
    const options = loadInjectorOptions({}, injectorEnv);

    // The pod the ReplicaSet controller would create from this template.
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...structuredClone(tpl.metadata),
        generateName: 'chat-api-5d8c7b9f6d-',
        namespace: dep.metadata.namespace,
        labels: { ...tpl.metadata.labels, 'pod-template-hash': '5d8c7b9f6d' },
      },
      spec: structuredClone(tpl.spec),
    };
    const outcome = handleReview(review(pod, { namespace: dep.metadata.namespace }), 'annotation', options);
    if (!outcome.ok) throw new Error(outcome.message);
    const patched = applyPatch(pod, decodePatch(outcome.review));
    expect(await schemaErrors(patched)).toEqual([]);

    const sidecar = patched.spec.initContainers[0];
    expect(sidecar.image).toBe(injectorEnv.SWITCHYARD_SIDECAR_IMAGE);
    const configVolume = patched.spec.volumes.find((v: Obj) => v.name === 'switchyard-config');
    const cm = find(objs, 'ConfigMap', configVolume.configMap.name)!;
    const configPath = sidecar.env.find((e: Obj) => e.name === 'SWITCHYARD_CONFIG').value;
    // The sidecar's own loader accepts it, with the optional keys present or missing.
    for (const env of [{}, { OPENAI_API_KEY: 'sk-test', ANTHROPIC_API_KEY: 'sk-ant-test' }]) {
      const loaded = parseConfigText(cm.data[path.basename(configPath)], configPath, env);
      expect(loaded.file.configs[loaded.file.default_config!].targets?.length).toBe(2);
    }
    expect(patched.spec.containers[0].env).toEqual([
      { name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:8790/v1' },
      { name: 'ANTHROPIC_BASE_URL', value: 'http://127.0.0.1:8790' },
    ]);

    // The namespace enforces the restricted Pod Security Standard; every container must pass it.
    const ns = find(objs, 'Namespace', dep.metadata.namespace!)!;
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const c of containersOf(patched.spec)) {
      const sc = { ...patched.spec.securityContext, ...c.securityContext };
      expect(sc, c.name).toMatchObject({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
    // No ingress rule: other pods cannot reach the sidecar on the pod IP.
    const policy = find(objs, 'NetworkPolicy', 'chat-api')!;
    expect(policy.spec.policyTypes).toContain('Ingress');
    expect(policy.spec.ingress ?? []).toEqual([]);
  });
});

describe('cross-check with kustomize', () => {
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  const haveKubectl = kubectl.status === 0;
  if (!haveKubectl)
    console.warn(
      'kubectl not installed: skipping the kustomize cross-check (the test resolver rendered the manifests)',
    );

  it.skipIf(!haveKubectl).each(TARGETS)('kubectl kustomize renders %s exactly as the test resolver', (target) => {
    const res = spawnSync(
      'kubectl',
      ['kustomize', '--load-restrictor', 'LoadRestrictionsNone', path.join(work, 'deploy/kubernetes', target)],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const theirs = parseAllDocuments(res.stdout).map((d) => d.toJS() as K8sObject);
    // kustomize wraps long base64 values; the API server's decoder skips those newlines.
    for (const o of theirs) {
      if (o.kind === 'Secret')
        for (const k of Object.keys(o.data ?? {})) o.data[k] = String(o.data[k]).replace(/\s+/g, '');
    }
    const sort = (list: K8sObject[]) => [...list].sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
    expect(sort(get(target))).toEqual(sort(theirs));
  });
});

describe('Grafana', () => {
  const grafana = (t: Target) => ({
    objs: get(t),
    dep: find(get(t), 'Deployment', 'switchyard-grafana')!,
    cm: (name: string) => find(get(t), 'ConfigMap', name)!,
  });

  it("connects the in-cluster datasource with the Secret's keys, under the uid the dashboards use", () => {
    const { cm, dep } = grafana('overlays/small');
    const text = cm('switchyard-grafana-datasources').data['clickhouse.yaml'];
    const secret = find(get('overlays/small'), 'Secret', 'switchyard-clickhouse')!;
    const used = [...text.matchAll(/\$\{(\w+)\}/g)].map((m: RegExpMatchArray) => m[1]);
    expect(used.length).toBeGreaterThan(3);
    for (const name of used) expect(Object.keys(secret.data), name).toContain(name);
    expect(dep.spec.template.spec.containers[0].envFrom).toContainEqual({
      secretRef: { name: 'switchyard-clickhouse' },
    });
    const [ds] = parseYaml(text).datasources;
    expect(ds).toMatchObject({
      uid: 'switchyard-clickhouse',
      type: 'grafana-clickhouse-datasource',
      jsonData: { protocol: 'http' },
    });
    const repoDatasource = path.join(repo, 'deploy/grafana/provisioning/datasources/clickhouse.yaml');
    if (existsSync(repoDatasource))
      expect(parseYaml(readFileSync(repoDatasource, 'utf8')).datasources[0].uid).toBe(ds.uid);
  });

  const landed = existsSync(path.join(repo, 'deploy/grafana/provisioning'));
  if (!landed)
    console.warn('deploy/grafana/provisioning has not landed yet: the Grafana ConfigMaps rendered from placeholders');

  it.skipIf(!landed)('mounts provisioning files that exist, dashboards where the provider looks', () => {
    const missing = GRAFANA_FILES.filter((f) => !existsSync(path.join(repo, f)));
    expect(missing).toEqual([]);
    const { cm, dep } = grafana('base');
    const provider = parseYaml(cm('switchyard-grafana-dashboard-providers').data['switchyard.yaml']).providers[0];
    const mount = dep.spec.template.spec.containers[0].volumeMounts.find((m: Obj) => m.name === 'dashboards');
    expect(mount.mountPath).toBe(provider.options.path);
  });
});
