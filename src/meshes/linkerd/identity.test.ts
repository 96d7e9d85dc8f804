import { X509Certificate } from 'node:crypto';
import { createPrivateKey } from 'node:crypto';
import { linkerdIdentity } from './identity.js';

test("Linkerd's identity: a CA trust anchor and an issuer it signed that may sign only leaves, the key matching the issuer", async () => {
  const id = await linkerdIdentity(new Date('2026-12-05T00:00:00Z'));
  const root = new X509Certificate(id.trustAnchorPem);
  const issuer = new X509Certificate(id.issuerCertPem);
  expect(root.subject).toBe('CN=root.linkerd.cluster.local');
  expect(root.ca).toBe(true);
  expect(issuer.subject).toBe('CN=identity.linkerd.cluster.local');
  expect(issuer.issuer).toBe('CN=root.linkerd.cluster.local');
  expect(issuer.ca).toBe(true);
  expect(issuer.verify(root.publicKey)).toBe(true);
  expect(issuer.checkPrivateKey(createPrivateKey(id.issuerKeyPem))).toBe(true);
  expect(new Date(issuer.validTo).getTime() - new Date('2026-12-05T00:00:00Z').getTime()).toBeGreaterThan(364 * 86_400_000);
});
