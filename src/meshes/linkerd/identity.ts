import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const YEAR_MS = 365 * 86_400_000;

/** What Linkerd's control-plane chart needs for its identity: a trust anchor, and an issuer it signs. */
export interface LinkerdIdentity {
  trustAnchorPem: string;
  issuerCertPem: string;
  issuerKeyPem: string;
}

/**
 * A trust anchor (root.linkerd.cluster.local) and an issuer (identity.linkerd.cluster.local, a CA
 * that may sign only leaf certificates), ECDSA P-256, valid for a year: what Linkerd's install
 * documents make with the step CLI, made here so `meshcheck install` needs no other tool.
 */
export async function linkerdIdentity(now = new Date()): Promise<LinkerdIdentity> {
  const rootKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const issuerKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + YEAR_MS);
  const caUsage = new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=root.linkerd.cluster.local', notBefore, notAfter, keys: rootKeys, signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, 1, true), caUsage, await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey)],
  });
  const issuer = await x509.X509CertificateGenerator.create({
    serialNumber: '02', subject: 'CN=identity.linkerd.cluster.local', issuer: root.subject, notBefore, notAfter,
    signingKey: rootKeys.privateKey, publicKey: issuerKeys.publicKey, signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true), caUsage,
      await x509.SubjectKeyIdentifierExtension.create(issuerKeys.publicKey), await x509.AuthorityKeyIdentifierExtension.create(root),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', issuerKeys.privateKey);
  return { trustAnchorPem: root.toString('pem'), issuerCertPem: issuer.toString('pem'), issuerKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

/** A release's values with a new identity: the trust anchor, and the issuer's certificate and key. */
export async function withLinkerdIdentity(v: Record<string, unknown>): Promise<Record<string, unknown>> {
  const values = structuredClone(v);
  const id = await linkerdIdentity();
  values.identityTrustAnchorsPEM = id.trustAnchorPem;
  const identity = (values.identity ??= {}) as Record<string, unknown>;
  identity.issuer = { ...(identity.issuer as object), tls: { crtPEM: id.issuerCertPem, keyPEM: id.issuerKeyPem } };
  return values;
}
