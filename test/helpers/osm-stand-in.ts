import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { TestCluster } from './cluster.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** The kinds OSM's controller watches, as meshcheck renders them. */
const OSM_KINDS: [string, string][] = [
  ['split.smi-spec.io/v1alpha2', 'TrafficSplit'], ['specs.smi-spec.io/v1alpha4', 'HTTPRouteGroup'], ['access.smi-spec.io/v1alpha3', 'TrafficTarget'],
  ['policy.openservicemesh.io/v1alpha1', 'UpstreamTrafficSetting'], ['policy.openservicemesh.io/v1alpha1', 'Retry'], ['config.openservicemesh.io/v1alpha2', 'MeshConfig'],
];
const WEBHOOK = 'osm-injector-stand-in';

/** A self-signed certificate for 127.0.0.1, for the webhook the API server calls. */
async function loopbackCert(): Promise<{ cert: string; key: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=127.0.0.1', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000), keys, signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]), new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  return { cert: cert.toString('pem'), key: x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') };
}

const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));

/**
 * STAND-INS for OSM, for the kube tier's tests only: no OSM controller, injector or Envoy runs here.
 * - The injector: a mutating webhook that adds an `envoy` container (admin port 15000) to each pod
 *   created in a namespace labelled openservicemesh.io/monitored-by=osm, as OSM's injector does.
 * - The controller and the sidecars' admin: one HTTP server (every pod's port 15000 reaches it
 *   through kwok) answers /config_dump with a snapshot version, which goes up by one each time
 *   OSM's objects changed and then stayed still for 2 s (at most 10 s), as OSM batches its pushes.
 *   With `pushes: false` it never moves, as when OSM's controller is down.
 * It tests meshcheck's wait on what the sidecars accepted; it shows nothing about OSM itself.
 */
export async function osmStandIn(cluster: TestCluster): Promise<{ stop: () => Promise<void>; versions: number[]; pushes: (on: boolean) => void }> {
  let pushing = true;
  const { cert, key } = await loopbackCert();
  const webhook = createHttps({ cert, key }, (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const review = JSON.parse(body) as { request: { uid: string; object: { spec: { containers: { name: string }[] } } } };
      const has = review.request.object.spec.containers.some((c) => c.name === 'envoy');
      const patch = has ? [] : [{ op: 'add', path: '/spec/containers/-', value: { name: 'envoy', image: 'envoy-stand-in', ports: [{ name: 'proxy-admin', containerPort: 15000 }] } }];
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') } }));
    });
  });
  const webhookPort = await listen(webhook);
  await cluster.client.create({
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: WEBHOOK },
    webhooks: [{
      name: 'sidecar-injector.osm-stand-in.meshcheck.test', admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Fail',
      clientConfig: { url: `https://127.0.0.1:${webhookPort}/inject`, caBundle: Buffer.from(cert).toString('base64') },
      namespaceSelector: { matchLabels: { 'openservicemesh.io/monitored-by': 'osm' } },
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
    }],
  } as KubernetesObject);

  let version = 1;
  const versions: number[] = [];
  const admin = createHttp((req, res) => {
    if (req.url !== '/config_dump') {
      res.statusCode = 404;
      res.end();
      return;
    }
    const v = String(version);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ configs: [
      { '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', version_info: v, dynamic_active_clusters: [{ version_info: v }] },
      { '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', version_info: v, dynamic_listeners: [{ active_state: { version_info: v } }] },
    ] }));
  });
  writeFileSync(cluster.envoyAdminPortFile, String(await listen(admin)));

  let running = true;
  const loop = (async () => {
    let seen: string | undefined;
    let first = 0;
    let last = 0;
    while (running) {
      const parts: string[] = [];
      for (const [apiVersion, kind] of OSM_KINDS) {
        const list = await cluster.client.list(apiVersion, kind).catch(() => ({ items: [] as KubernetesObject[] }));
        for (const x of list.items) parts.push(`${kind} ${x.metadata!.namespace}/${x.metadata!.name} ${x.metadata!.resourceVersion}`);
      }
      const now = Date.now();
      const sig = parts.sort().join('\n');
      if (seen === undefined) seen = sig;
      if (sig !== seen) {
        seen = sig;
        first ||= now;
        last = now;
      }
      if (first && (now - last >= 2000 || now - first >= 10_000)) {
        first = 0;
        if (pushing) versions.push(++version);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    versions,
    pushes: (on) => {
      pushing = on;
    },
    stop: async () => {
      running = false;
      await loop;
      await cluster.client.delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: WEBHOOK } });
      writeFileSync(cluster.envoyAdminPortFile, '0');
      webhook.close();
      admin.close();
    },
  };
}
