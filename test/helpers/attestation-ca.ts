// Certificate authorities for attestation tests, made with the `openssl` command (an X.509
// implementation independent of the code under test and of the library it uses): a root CA, an
// intermediate, and FIDO attestation certificates as the packed format requires them (version 3,
// subject C/O/OU="Authenticator Attestation"/CN, CA:FALSE, optionally the id-fido-gen-ce-aaguid
// extension). Keys are made by node:crypto; the attestation's private key stays with the test, as
// it would stay inside a security key. Certificates are valid from now for a day: the library
// checks them against the real time, not a test clock.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  pem: string;
  der: Buffer;
}

export interface TestCertificateAuthority {
  readonly name: string;
  readonly certificate: TestCertificate;
  /** A PEM file holding this CA's certificate (for TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS). */
  readonly certificatePath: string;
  /** A CA below this one. */
  issueIntermediate(name: string): TestCertificateAuthority;
  /** An attestation key and its certificate chain (leaf, then the intermediates up to, not including, the root). */
  issueAttestation(options?: { aaguid?: Uint8Array; commonName?: string }): TestAttestationIdentity;
}

export interface TestAttestationIdentity {
  privateKey: KeyObject;
  /** DER, leaf first: what goes in x5c. */
  certificates: Buffer[];
}

export interface TestPki {
  root(name: string): TestCertificateAuthority;
  /** An attestation certificate signed by its own key: no CA vouches for it. */
  selfSignedAttestation(): TestAttestationIdentity;
  /** Writes a file in the PKI's directory (for config error tests). */
  writeFile(name: string, content: string): string;
  close(): void;
}

const attestationSubject = (commonName: string) => `/C=US/O=Twofold Tests/OU=Authenticator Attestation/CN=${commonName}`;

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-pki-'));
  let counter = 0;
  const path = (name: string) => join(dir, `${(counter += 1)}-${name}`);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

  const newKey = (): { privateKey: KeyObject; keyPath: string } => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPath = path('key.pem');
    writeFileSync(keyPath, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    return { privateKey, keyPath };
  };

  const read = (certificatePath: string): TestCertificate => {
    const pem = readFileSync(certificatePath, 'utf8');
    return { pem, der: Buffer.from(new X509Certificate(pem).raw) };
  };

  /** A certificate for keyPath's key with the given subject and extensions, signed by issuer (or by itself). */
  const certify = (keyPath: string, subject: string, extensions: string[], issuer?: { certificatePath: string; keyPath: string }): string => {
    const configPath = path('openssl.cnf');
    writeFileSync(configPath, ['[req]', 'distinguished_name = dn', '[dn]', '[ext]', ...extensions, ''].join('\n'));
    const certificatePath = path('cert.pem');
    const serial = `0x${randomBytes(8).toString('hex')}`;
    if (issuer === undefined) {
      openssl('req', '-new', '-x509', '-config', configPath, '-extensions', 'ext', '-key', keyPath, '-subj', subject, '-days', '1', '-sha256', '-set_serial', serial, '-out', certificatePath);
    } else {
      const requestPath = path('request.csr');
      openssl('req', '-new', '-config', configPath, '-key', keyPath, '-subj', subject, '-out', requestPath);
      openssl('x509', '-req', '-in', requestPath, '-CA', issuer.certificatePath, '-CAkey', issuer.keyPath, '-set_serial', serial, '-days', '1', '-sha256', '-extfile', configPath, '-extensions', 'ext', '-out', certificatePath);
    }
    return certificatePath;
  };

  const caExtensions = ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign', 'subjectKeyIdentifier = hash'];

  const authority = (name: string, keyPath: string, certificatePath: string, chainBelowRoot: Buffer[]): TestCertificateAuthority => ({
    name,
    certificate: read(certificatePath),
    certificatePath,
    issueIntermediate(childName) {
      const key = newKey();
      const childPath = certify(key.keyPath, `/O=Twofold Tests/CN=${childName}`, [...caExtensions, 'authorityKeyIdentifier = keyid'], { certificatePath, keyPath });
      return authority(childName, key.keyPath, childPath, [read(childPath).der, ...chainBelowRoot]);
    },
    issueAttestation(options = {}) {
      const key = newKey();
      const extensions = ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'];
      // id-fido-gen-ce-aaguid: an OCTET STRING holding the 16-byte AAGUID.
      if (options.aaguid !== undefined) extensions.push(`1.3.6.1.4.1.45724.1.1.4 = DER:0410${Buffer.from(options.aaguid).toString('hex')}`);
      const leafPath = certify(key.keyPath, attestationSubject(options.commonName ?? `${name} authenticator`), extensions, { certificatePath, keyPath });
      return { privateKey: key.privateKey, certificates: [read(leafPath).der, ...chainBelowRoot] };
    },
  });

  return {
    root(name) {
      const key = newKey();
      const certificatePath = certify(key.keyPath, `/O=Twofold Tests/CN=${name}`, caExtensions);
      return authority(name, key.keyPath, certificatePath, []);
    },
    selfSignedAttestation() {
      const key = newKey();
      const certificatePath = certify(key.keyPath, attestationSubject('Self-made authenticator'), ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature']);
      return { privateKey: key.privateKey, certificates: [read(certificatePath).der] };
    },
    writeFile(name, content) {
      const filePath = path(name);
      writeFileSync(filePath, content);
      return filePath;
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
