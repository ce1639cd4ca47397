// The env the injector writes, resolved the way the kubelet resolves it (Downward API fieldRefs,
// $(VAR) expansion, optional secret keys), fed to the sidecar's own telemetry resource builder:
// the spans must name the app's service, pod, namespace, node and Deployment.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../src/injector/options.js';
import { handleReview } from '../../src/injector/review.js';
import { buildResource } from '../../src/telemetry/pipeline.js';
import { applyPatch, decodePatch, deploymentPod, review, type Obj } from './fixtures.js';

/** What the container sees: fieldRefs resolved on the scheduled pod, $(VAR) expanded in order. */
function kubeletEnv(pod: Obj, container: Obj, secrets: Record<string, Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  const field = (path: string): string => {
    const label = path.match(/^metadata\.labels\['(.+)'\]$/);
    if (label) return pod.metadata.labels?.[label[1]] ?? '';
    const value = {
      'metadata.name': pod.metadata.name,
      'metadata.namespace': pod.metadata.namespace,
      'metadata.uid': pod.metadata.uid,
      'spec.nodeName': pod.spec.nodeName,
    }[path];
    if (value === undefined) throw new Error(`unsupported fieldPath ${path}`);
    return value;
  };
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value).replace(/\$\((\w+)\)/g, (m, name) => env[name] ?? m);
    else if (e.valueFrom?.fieldRef) env[e.name] = field(e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom?.secretKeyRef) {
      const { name, key, optional } = e.valueFrom.secretKeyRef;
      const v = secrets[name]?.[key];
      if (v !== undefined) env[e.name] = v;
      else if (!optional) throw new Error(`missing secret ${name}/${key}`);
    }
  }
  return env;
}

const saved = { ...process.env };
afterEach(() => {
  for (const k of ['OTEL_RESOURCE_ATTRIBUTES', 'OTEL_SERVICE_NAME']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('sidecar telemetry from the injected env', () => {
  it('names the app service and the pod, namespace, node and Deployment on every span', async () => {
    const pod = deploymentPod({
      annotations: { 'switchyard.dev/inject': 'true', 'switchyard.dev/secret': 'llm-keys' },
    });
    const outcome = handleReview(review(pod), 'annotation', DEFAULT_OPTIONS);
    if (!outcome.ok) throw new Error(outcome.message);
    const scheduled = applyPatch(pod, decodePatch(outcome.review));
    // What the API server and scheduler fill in after admission.
    Object.assign(scheduled.metadata, {
      name: 'chat-api-7d9f8b6c5d-x2x9q',
      uid: '5f1b1c1e-7f55-4e24-9b7e-3f3f8d5a0c11',
    });
    scheduled.spec.nodeName = 'node-a';

    const env = kubeletEnv(scheduled, scheduled.spec.initContainers[0], { 'llm-keys': { OPENAI_API_KEY: 'sk-test' } });
    expect(env.OPENAI_API_KEY).toBe('sk-test');
    expect(env.ANTHROPIC_API_KEY).toBeUndefined(); // optional key absent: the pod still starts
    expect(env.SWITCHYARD_HOST).toBe('0.0.0.0');

    // envDetector reads the process env; the K8S_* variables come in through the argument.
    process.env.OTEL_RESOURCE_ATTRIBUTES = env.OTEL_RESOURCE_ATTRIBUTES;
    process.env.OTEL_SERVICE_NAME = env.OTEL_SERVICE_NAME;
    const resource = buildResource(env, 'switchyard-sidecar');
    await resource.waitForAsyncAttributes?.();
    expect(resource.attributes).toMatchObject({
      'service.name': 'chat-api',
      'k8s.pod.name': 'chat-api-7d9f8b6c5d-x2x9q',
      'k8s.pod.uid': '5f1b1c1e-7f55-4e24-9b7e-3f3f8d5a0c11',
      'k8s.namespace.name': 'shop',
      'k8s.node.name': 'node-a',
      'k8s.container.name': 'switchyard-sidecar',
      'k8s.deployment.name': 'chat-api',
    });
  });
});
