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

/** A local certificate authority issuing workload certificates with SPIFFE IDs in the URI SAN. */
export class LocalCa {
  private serial = 1;
  private constructor(private readonly keys: CryptoKeyPair, readonly cert: x509.X509Certificate) {}

  static async create(trustDomain: string): Promise<LocalCa> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01', name: `CN=meshcheck local CA, O=${trustDomain}`,
      notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + DAY_MS),
      keys, signingAlgorithm: ALG,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
    });
    return new LocalCa(keys, cert);
  }

  get pem(): string {
    return this.cert.toString('pem');
  }

  /** Issues a short-lived client+server certificate for one SPIFFE ID. */
  async issue(spiffeId: string): Promise<Pem> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    this.serial++;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: this.serial.toString(16).padStart(2, '0'), subject: `CN=${spiffeId.split('/').pop()}`, issuer: this.cert.subject,
      notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + DAY_MS),
      signingKey: this.keys.privateKey, publicKey: keys.publicKey, signingAlgorithm: ALG,
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      ],
    });
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    return { cert: cert.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
  }
}
