// The schema check the other tests lean on does reject broken objects.
import { describe, expect, it } from 'vitest';
import { deploymentPod } from './fixtures.js';
import { schemaErrors } from './k8s-schema.js';

describe('Kubernetes schema validation', () => {
  it('accepts a native sidecar (restartPolicy on an init container) and rejects broken pods', async () => {
    const pod = deploymentPod({ initContainers: [{ name: 's', image: 'i', restartPolicy: 'Always' }] });
    expect(await schemaErrors(pod)).toEqual([]);

    const noName = deploymentPod({ initContainers: [{ image: 'i' }] });
    expect((await schemaErrors(noName)).join()).toMatch(/initContainers\/0 must have required property name/);

    const badRef = deploymentPod();
    badRef.spec.containers[0].env = [{ name: 'A', valueFrom: { fieldRef: {} } }];
    expect((await schemaErrors(badRef)).join()).toMatch(/fieldPath/);

    const badPolicy = deploymentPod({ initContainers: [{ name: 's', image: 'i', restartPolicy: 7 }] });
    expect((await schemaErrors(badPolicy)).join()).toMatch(/restartPolicy must be string/);
  });

  it('checks cert-manager resources against the CRD schema and refuses unknown kinds', async () => {
    const cert = {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: 'c' },
      spec: { secretName: 's', issuerRef: { name: 'i' } },
    };
    expect(await schemaErrors(cert)).toEqual([]);
    expect((await schemaErrors({ ...cert, spec: { issuerRef: { name: 'i' } } })).join()).toMatch(/secretName/);
    expect(await schemaErrors({ apiVersion: 'v1', kind: 'Gizmo' })).toEqual(['no schema for v1 Gizmo']);
  });
});
