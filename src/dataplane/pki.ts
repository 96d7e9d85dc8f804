import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface Pem {
  cert: string;
  key: string;
}

/** What a certificate names: its subject and alternative names, and whether it serves TLS or only proves a client. */
export interface CertSubject {
  /** Common name. */
  cn: string;
  /** Organisation (Kubernetes reads it as the group). */
  o?: string;
  dns?: string[];
  ips?: string[];
  uris?: string[];
  /** Server and client auth (default), or client auth only. */
  clientOnly?: boolean;
}

/**
 * A local certificate authority: workload certificates with SPIFFE IDs in the URI SAN (the reference
 * sidecars), and named certificates for the real node's components (`meshcheck cluster up`).
 */
export class LocalCa {
  private serial = 1;
  private constructor(private readonly keys: CryptoKeyPair, readonly cert: x509.X509Certificate, private readonly days: number) {}

  /** A new CA named after `org`; its certificates (and itself) are valid for `days`. */
  static async create(org: string, days = 1): Promise<LocalCa> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01', name: `CN=meshcheck local CA, O=${org}`,
      notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + days * DAY_MS),
      keys, signingAlgorithm: ALG,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
    });
    return new LocalCa(keys, cert, days);
  }

  get pem(): string {
    return this.cert.toString('pem');
  }

  /** The CA's own private key (PKCS#8 PEM), for a component that signs with it (the controller-manager's certificate signer). */
  async keyPem(): Promise<string> {
    return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', this.keys.privateKey), 'PRIVATE KEY');
  }

  /** Issues a short-lived client+server certificate for one SPIFFE ID. */
  async issue(spiffeId: string): Promise<Pem> {
    return this.issueFor({ cn: spiffeId.split('/').pop()!, uris: [spiffeId] });
  }

  /** Issues a certificate for a subject with its alternative names. */
  async issueFor(s: CertSubject): Promise<Pem> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    this.serial++;
    const names = [...(s.dns ?? []).map((value) => ({ type: 'dns' as const, value })), ...(s.ips ?? []).map((value) => ({ type: 'ip' as const, value })), ...(s.uris ?? []).map((value) => ({ type: 'url' as const, value }))];
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: this.serial.toString(16).padStart(2, '0'), subject: `CN=${s.cn}${s.o ? `, O=${s.o}` : ''}`, issuer: this.cert.subject,
      notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + this.days * DAY_MS),
      signingKey: this.keys.privateKey, publicKey: keys.publicKey, signingAlgorithm: ALG,
      extensions: [
        ...(names.length ? [new x509.SubjectAlternativeNameExtension(names, !!s.uris?.length)] : []),
        new x509.ExtendedKeyUsageExtension(s.clientOnly ? [x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      ],
    });
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    return { cert: cert.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
  }
}
