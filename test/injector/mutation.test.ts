// AdmissionReview fixtures → the webhook's answer → its JSON Patch applied with fast-json-patch
// → the resulting pod checked against the Kubernetes schema and for what a user would look at.
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, loadInjectorOptions, type InjectorOptions } from '../../src/injector/options.js';
import { escapePointer } from '../../src/injector/planner.js';
import { handleReview } from '../../src/injector/review.js';
import type { InjectScope } from '../../src/injector/decide.js';
import { appContainer, applyPatch, decodePatch, deploymentPod, envOf, review, type Obj } from './fixtures.js';
import { schemaErrors } from './k8s-schema.js';

const options: InjectorOptions = { ...DEFAULT_OPTIONS, collectorEndpoint: 'http://collector.obs.svc:4318' };

/** Runs one review and returns the answer, the patch and the patched pod (schema-checked). */
async function admit(pod: Obj, scope: InjectScope = 'annotation', opts: InjectorOptions = options) {
  const outcome = handleReview(review(pod), scope, opts);
  if (!outcome.ok) throw new Error(outcome.message);
  const res = outcome.review;
  expect(res.apiVersion).toBe('admission.k8s.io/v1');
  expect(res.kind).toBe('AdmissionReview');
  expect(res.response.allowed).toBe(true);
  const ops = decodePatch(res);
  const patched = applyPatch(pod, ops);
  expect(await schemaErrors(patched)).toEqual([]);
  return { res, ops, patched };
}

const sidecarOf = (pod: Obj) =>
  [...(pod.spec.initContainers ?? []), ...pod.spec.containers].filter((c: Obj) => c.name === 'switchyard-sidecar');

describe('native sidecar injection', () => {
  it('injects an annotated Deployment pod as a native sidecar with probes, security, config, keys and OTel env', async () => {
    const pod = deploymentPod({
      annotations: {
        'switchyard.dev/inject': 'true',
        'switchyard.dev/config': 'chat-api-routing',
        'switchyard.dev/secret': 'llm-keys',
        'prometheus.io/scrape': 'true',
      },
    });
    const { patched, ops } = await admit(pod);

    expect(patched.metadata.generateName).toBe('chat-api-7d9f8b6c5d-');
    expect(patched.metadata.name).toBeUndefined();
    expect(patched.metadata.annotations['switchyard.dev/status']).toBe('injected');
    expect(patched.metadata.annotations['prometheus.io/scrape']).toBe('true');
    // The annotation key's "/" travels escaped in the pointer.
    expect(ops.map((o) => o.path)).toContain('/metadata/annotations/switchyard.dev~1status');

    const [sidecar] = patched.spec.initContainers;
    expect(sidecar.name).toBe('switchyard-sidecar');
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.image).toBe(DEFAULT_OPTIONS.image);
    expect(sidecar.args).toEqual(['sidecar']);
    expect(sidecar.startupProbe.httpGet).toEqual({ path: '/readyz', port: 8790 });
    expect(sidecar.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 8790 });
    expect(sidecar.securityContext).toEqual({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(sidecar.resources).toEqual({
      requests: { cpu: '50m', memory: '128Mi' },
      limits: { cpu: '1', memory: '384Mi' },
    });

    const env = envOf(sidecar);
    expect(env.SWITCHYARD_CONFIG.value).toBe('/etc/switchyard/config/config.yaml');
    expect(env.SWITCHYARD_PORT.value).toBe('8790');
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT.value).toBe('http://collector.obs.svc:4318');
    expect(env.OPENAI_API_KEY.valueFrom).toEqual({
      secretKeyRef: { name: 'llm-keys', key: 'OPENAI_API_KEY', optional: true },
    });
    expect(env.ANTHROPIC_API_KEY.valueFrom.secretKeyRef.optional).toBe(true);
    expect(env.K8S_POD_NAME.valueFrom).toEqual({ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } });
    expect(env.K8S_NAMESPACE_NAME.valueFrom.fieldRef.fieldPath).toBe('metadata.namespace');
    expect(env.K8S_NODE_NAME.valueFrom.fieldRef.fieldPath).toBe('spec.nodeName');
    expect(env.K8S_DEPLOYMENT_NAME.value).toBe('chat-api');
    expect(env.OTEL_SERVICE_NAME.valueFrom.fieldRef.fieldPath).toBe("metadata.labels['app.kubernetes.io/name']");
    const attrs = env.OTEL_RESOURCE_ATTRIBUTES.value as string;
    expect(attrs).toContain('k8s.pod.name=$(K8S_POD_NAME)');
    expect(attrs).toContain('k8s.namespace.name=$(K8S_NAMESPACE_NAME)');
    expect(attrs).toContain('k8s.node.name=$(K8S_NODE_NAME)');
    expect(attrs).toContain('k8s.deployment.name=$(K8S_DEPLOYMENT_NAME)');
    // $(VAR) only expands from variables listed earlier in the same container.
    const names = sidecar.env.map((e: Obj) => e.name);
    for (const ref of attrs.matchAll(/\$\((\w+)\)/g)) {
      expect(names.indexOf(ref[1])).toBeGreaterThanOrEqual(0);
      expect(names.indexOf(ref[1])).toBeLessThan(names.indexOf('OTEL_RESOURCE_ATTRIBUTES'));
    }

    const volumes = Object.fromEntries(patched.spec.volumes.map((v: Obj) => [v.name, v]));
    expect(volumes['kube-api-access-7xk2p']).toBeDefined();
    expect(volumes['switchyard-config'].configMap).toEqual({ name: 'chat-api-routing' });
    const mount = sidecar.volumeMounts.find((m: Obj) => m.name === 'switchyard-config');
    expect(mount).toEqual({ name: 'switchyard-config', mountPath: '/etc/switchyard/config', readOnly: true });

    const app = patched.spec.containers[0];
    expect(patched.spec.containers).toHaveLength(1);
    expect(envOf(app).OPENAI_BASE_URL.value).toBe('http://127.0.0.1:8790/v1');
    expect(envOf(app).ANTHROPIC_BASE_URL.value).toBe('http://127.0.0.1:8790');
  });

  it('leaves a pod without the annotation alone on the annotation webhook', async () => {
    const { res, ops } = await admit(
      deploymentPod({ annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' } }),
    );
    expect(ops).toEqual([]);
    expect(res.response.patch).toBeUndefined();
    expect(res.response.patchType).toBeUndefined();
  });

  it('injects every pod of an enabled namespace, creating the annotations, volumes and initContainers arrays', async () => {
    const pod = deploymentPod({ annotations: null, labels: { 'pod-template-hash': '7d9f8b6c5d' }, tokenVolume: false });
    expect(pod.metadata.annotations).toBeUndefined();
    expect(pod.spec.volumes).toBeUndefined();
    const { patched, ops, res } = await admit(pod, 'namespace');
    expect(res.response.warnings).toEqual([
      'switchyard: no switchyard.dev/config annotation, the sidecar runs its built-in example config',
    ]);
    expect(ops.find((o) => o.path === '/metadata/annotations')?.value).toEqual({ 'switchyard.dev/status': 'injected' });
    expect(ops.find((o) => o.path === '/spec/initContainers')?.op).toBe('add');
    expect(patched.spec.initContainers.map((c: Obj) => c.name)).toEqual(['switchyard-sidecar']);
    expect(patched.spec.volumes.map((v: Obj) => v.name)).toEqual(['switchyard-tmp']);
    const env = envOf(patched.spec.initContainers[0]);
    // No app label: the Deployment's name, recovered from generateName minus the template hash.
    expect(env.OTEL_SERVICE_NAME.value).toBe('chat-api');
    // No config annotation: no config volume, the sidecar starts on its defaults.
    expect(env.SWITCHYARD_CONFIG).toBeUndefined();
    expect(env.OPENAI_API_KEY).toBeUndefined();
  });

  it('honours an opt-out "false" even in an enabled namespace', async () => {
    for (const value of ['false', 'False']) {
      const { ops } = await admit(deploymentPod({ annotations: { 'switchyard.dev/inject': value } }), 'namespace');
      expect(ops).toEqual([]);
    }
  });

  it('puts the sidecar before existing init containers and appends to existing env without touching it', async () => {
    const migrate = { name: 'migrate', image: 'ghcr.io/acme/migrate:3', command: ['./migrate', 'up'] };
    const app = appContainer('app', {
      env: [
        { name: 'LOG_LEVEL', value: 'debug' },
        { name: 'DB_URL', valueFrom: { secretKeyRef: { name: 'db', key: 'url' } } },
      ],
    });
    const { patched } = await admit(deploymentPod({ containers: [app], initContainers: [migrate] }));
    expect(patched.spec.initContainers.map((c: Obj) => c.name)).toEqual(['switchyard-sidecar', 'migrate']);
    expect(patched.spec.initContainers[1]).toEqual(migrate);
    expect(patched.spec.containers[0].env.map((e: Obj) => e.name)).toEqual([
      'LOG_LEVEL',
      'DB_URL',
      'OPENAI_BASE_URL',
      'ANTHROPIC_BASE_URL',
    ]);
    expect(patched.spec.containers[0].env[1]).toEqual(app.env[1]);
  });

  it('keeps a base URL the container already sets and fills in only what is missing', async () => {
    const own = appContainer('api', { env: [{ name: 'OPENAI_BASE_URL', value: 'https://llm-gateway.internal/v1' }] });
    const worker = appContainer('worker', { ports: [] });
    const { patched } = await admit(deploymentPod({ containers: [own, worker] }));
    const [api, wk] = patched.spec.containers;
    expect(api.env.filter((e: Obj) => e.name === 'OPENAI_BASE_URL')).toEqual([
      { name: 'OPENAI_BASE_URL', value: 'https://llm-gateway.internal/v1' },
    ]);
    expect(envOf(api).ANTHROPIC_BASE_URL.value).toBe('http://127.0.0.1:8790');
    expect(Object.keys(envOf(wk))).toEqual(['OPENAI_BASE_URL', 'ANTHROPIC_BASE_URL']);
  });

  it('skips the base URLs when the pod asks so', async () => {
    const { patched } = await admit(
      deploymentPod({ annotations: { 'switchyard.dev/inject': 'true', 'switchyard.dev/inject-base-urls': 'false' } }),
    );
    expect(sidecarOf(patched)).toHaveLength(1);
    expect(patched.spec.containers[0].env).toBeUndefined();
  });
});

describe('plain container mode (clusters before 1.29)', () => {
  it('appends an ordinary container after the app containers, with no restartPolicy', async () => {
    const pod = deploymentPod({
      annotations: {
        'switchyard.dev/inject': 'true',
        'switchyard.dev/sidecar-mode': 'container',
        'switchyard.dev/config': 'routing',
        'switchyard.dev/config-key': 'gateway.json',
      },
      containers: [appContainer('app'), appContainer('metrics', { ports: [{ containerPort: 9090 }] })],
    });
    const { patched } = await admit(pod);
    expect(patched.spec.initContainers).toBeUndefined();
    expect(patched.spec.containers.map((c: Obj) => c.name)).toEqual(['app', 'metrics', 'switchyard-sidecar']);
    const sidecar = patched.spec.containers[2];
    expect(sidecar.restartPolicy).toBeUndefined();
    expect(sidecar.startupProbe.httpGet.path).toBe('/readyz');
    expect(envOf(sidecar).SWITCHYARD_CONFIG.value).toBe('/etc/switchyard/config/gateway.json');
    expect(envOf(sidecar).OPENAI_BASE_URL).toBeUndefined();
    expect(envOf(patched.spec.containers[1]).OPENAI_BASE_URL.value).toBe('http://127.0.0.1:8790/v1');
  });

  it('falls back to a native sidecar with a warning on an unknown mode', async () => {
    const { res, patched } = await admit(
      deploymentPod({ annotations: { 'switchyard.dev/inject': 'true', 'switchyard.dev/sidecar-mode': 'sidecar' } }),
    );
    expect(patched.spec.initContainers[0].restartPolicy).toBe('Always');
    expect(res.response.warnings?.[0]).toMatch(/unknown switchyard\.dev\/sidecar-mode "sidecar"/);
  });
});

describe('reinvocation (reinvocationPolicy: IfNeeded)', () => {
  for (const mode of ['native', 'container']) {
    it(`adds nothing the second time (${mode})`, async () => {
      const pod = deploymentPod({
        annotations: {
          'switchyard.dev/inject': 'true',
          'switchyard.dev/sidecar-mode': mode,
          'switchyard.dev/config': 'r',
        },
      });
      const first = await admit(pod, 'namespace');
      const second = await admit(first.patched, 'namespace');
      expect(second.ops).toEqual([]);
      expect(second.patched).toEqual(first.patched);
    });
  }

  it('gives a container added by a later webhook the base URLs, and no second sidecar', async () => {
    const first = await admit(deploymentPod());
    const withProxy = structuredClone(first.patched);
    withProxy.spec.containers.push({ name: 'mesh-proxy', image: 'mesh/proxy:1' });
    const again = await admit(withProxy);
    expect(again.ops.every((o) => o.path.startsWith('/spec/containers/1/env'))).toBe(true);
    expect(sidecarOf(again.patched)).toHaveLength(1);
    expect(envOf(again.patched.spec.containers[1]).OPENAI_BASE_URL.value).toBe('http://127.0.0.1:8790/v1');
    expect(again.patched.spec.containers[0].env).toEqual(first.patched.spec.containers[0].env);
  });
});

describe('never rejects a pod', () => {
  it('answers an internal error with allowed and a warning, without a patch', async () => {
    const broken = new Proxy(
      { ...options },
      {
        get(target, key) {
          if (key === 'image') throw new Error('image setting unavailable');
          return Reflect.get(target, key);
        },
      },
    );
    const { res, ops } = await admit(deploymentPod(), 'annotation', broken);
    expect(ops).toEqual([]);
    expect(res.response.warnings).toEqual([
      'switchyard: sidecar not injected, internal error: image setting unavailable',
    ]);
  });

  it('allows a pod it cannot read, with a warning naming the field', () => {
    const pod = deploymentPod();
    pod.spec.containers = [{ image: 'nameless' }];
    const outcome = handleReview(review(pod), 'annotation', options);
    expect(outcome.ok && outcome.review.response).toMatchObject({
      allowed: true,
      warnings: [expect.stringMatching(/spec\.containers\.0\.name/)],
    });
    expect(outcome.ok && outcome.review.response.patch).toBeUndefined();
  });

  it('passes other kinds and operations through untouched', () => {
    const upd = handleReview(review(deploymentPod(), { operation: 'UPDATE' }), 'annotation', options);
    const svc = handleReview(
      review({ kind: 'Service' }, { kind: { group: '', version: 'v1', kind: 'Service' } }),
      'annotation',
      options,
    );
    const eviction = handleReview(review(deploymentPod(), { subResource: 'eviction' }), 'annotation', options);
    for (const o of [upd, svc, eviction]) {
      expect(o.ok && o.review.response).toEqual({ uid: expect.any(String), allowed: true });
    }
  });

  it('skips hostNetwork pods and port clashes with a warning', async () => {
    const host = await admit(deploymentPod({ spec: { hostNetwork: true } }));
    expect(host.ops).toEqual([]);
    expect(host.res.response.warnings).toEqual(['switchyard: not injected into a hostNetwork pod']);
    const clash = await admit(
      deploymentPod({ containers: [appContainer('app', { ports: [{ containerPort: 8790 }] })] }),
    );
    expect(clash.ops).toEqual([]);
    expect(clash.res.response.warnings?.[0]).toMatch(/container "app" already uses port 8790/);
  });

  it('refuses (400) only what is not an AdmissionReview at all, since there is no uid to answer', () => {
    const outcome = handleReview(
      { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } },
      'annotation',
      options,
    );
    expect(outcome).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/apiVersion/) });
    expect(
      handleReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} }, 'annotation', options),
    ).toMatchObject({
      ok: false,
      message: expect.stringMatching(/request\.uid/),
    });
  });
});

describe('configuration', () => {
  it('uses the configured image, resources, port and secret keys', async () => {
    const custom: InjectorOptions = {
      ...options,
      image: 'registry.local/switchyard-sidecar:9.9.9',
      port: 9790,
      cpuRequest: '10m',
      memoryRequest: '64Mi',
      cpuLimit: undefined,
      memoryLimit: '128Mi',
      secretKeys: ['OPENAI_API_KEY'],
    };
    const { patched } = await admit(
      deploymentPod({ annotations: { 'switchyard.dev/inject': 'true', 'switchyard.dev/secret': 'k' } }),
      'annotation',
      custom,
    );
    const sidecar = patched.spec.initContainers[0];
    expect(sidecar.image).toBe('registry.local/switchyard-sidecar:9.9.9');
    expect(sidecar.resources).toEqual({ requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } });
    expect(sidecar.startupProbe.httpGet.port).toBe(9790);
    expect(sidecar.env.filter((e: Obj) => e.valueFrom?.secretKeyRef).map((e: Obj) => e.name)).toEqual([
      'OPENAI_API_KEY',
    ]);
    expect(envOf(patched.spec.containers[0]).OPENAI_BASE_URL.value).toBe('http://127.0.0.1:9790/v1');
  });

  it('reads options from flags over env over defaults, and rejects bad values', () => {
    const env = {
      SWITCHYARD_SIDECAR_IMAGE: 'env/img:1',
      SWITCHYARD_SIDECAR_MEMORY_LIMIT: '512Mi',
      SWITCHYARD_SIDECAR_CPU_LIMIT: 'none',
      SWITCHYARD_SIDECAR_SECRET_KEYS: 'A_KEY, B_KEY',
    };
    const loaded = loadInjectorOptions({ image: 'flag/img:2', 'collector-endpoint': 'http://otel.obs:4318' }, env);
    expect(loaded).toMatchObject({
      image: 'flag/img:2',
      memoryLimit: '512Mi',
      cpuLimit: undefined,
      secretKeys: ['A_KEY', 'B_KEY'],
      collectorEndpoint: 'http://otel.obs:4318',
      port: 8790,
    });
    expect(loadInjectorOptions({}, {})).toEqual(DEFAULT_OPTIONS);
    expect(() => loadInjectorOptions({ 'cpu-request': '1 core' }, {})).toThrow(/cpuRequest: not a Kubernetes quantity/);
    expect(() => loadInjectorOptions({}, { SWITCHYARD_COLLECTOR_ENDPOINT: 'collector:4318' })).toThrow(
      /collectorEndpoint/,
    );
    expect(() => loadInjectorOptions({}, { SWITCHYARD_SIDECAR_SECRET_KEYS: 'OPENAI-KEY' })).toThrow(/secretKeys/);
  });

  it('escapes "~" and "/" in JSON pointers per RFC 6901', () => {
    expect(escapePointer('a/b~c')).toBe('a~1b~0c');
  });
});
