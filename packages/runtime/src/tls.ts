import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { openPrivate } from './private-files';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** The CA certificate (PEM) clients trust: AWS_CA_BUNDLE. */
  ca: string;
  caPath: string;
}

const CA_FILE = 'ca.pem';
const CA_KEY_FILE = 'ca.key';
const CERT_FILE = 'server.pem';
const KEY_FILE = 'server.key';

/** RSA keys from Node's native generator (fast); node-forge only builds the certificates. */
function rsaKeyPair() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem);
  return { pem, privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

function certificate(subject: forge.pki.CertificateField[], issuer: forge.pki.CertificateField[], publicKey: forge.pki.PublicKey, signer: forge.pki.rsa.PrivateKey, years: number, extensions: object[]) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(Date.now() + years * 365 * 24 * 3600 * 1000);
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  cert.setExtensions(extensions);
  cert.sign(signer, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/**
 * A local CA and a server certificate it signs, for localhost, *.localhost (virtual-hosted
 * buckets), 127.0.0.1 and ::1 plus `hosts`. Kept in the data directory (mode 0600, as all its files) so clients
 * trust the same CA across restarts; with no data directory they live in a temporary one.
 */
export function loadOrCreateTls(dataDir: string | undefined, hosts: string[] = []): TlsMaterial {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'sealbox-tls-'));
  const path = (f: string) => join(dir, f);
  const files = [CA_FILE, CA_KEY_FILE, CERT_FILE, KEY_FILE];
  if (files.every((f) => existsSync(path(f)))) {
    // Like every file of the data directory, 0600 (the certificates too), whatever made them.
    for (const f of files) closeSync(openPrivate(path(f), 'r'));
    return { key: readFileSync(path(KEY_FILE), 'utf8'), cert: readFileSync(path(CERT_FILE), 'utf8'), ca: readFileSync(path(CA_FILE), 'utf8'), caPath: path(CA_FILE) };
  }
  const caKeys = rsaKeyPair();
  const caName = [{ name: 'commonName', value: 'Sealbox Local CA' }, { name: 'organizationName', value: 'Sealbox' }];
  const ca = certificate(caName, caName, caKeys.publicKey, caKeys.privateKey, 10, [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  const serverKeys = rsaKeyPair();
  const names = ['localhost', '*.localhost', 's3.localhost', '*.s3.localhost', ...hosts.filter((h) => !/^[\d.]+$|:/.test(h))];
  const ips = ['127.0.0.1', '::1', ...hosts.filter((h) => /^[\d.]+$|:/.test(h))];
  const cert = certificate([{ name: 'commonName', value: 'localhost' }], caName, serverKeys.publicKey, caKeys.privateKey, 2, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...new Set(names)].map((value) => ({ type: 2, value })).concat([...new Set(ips)].map((ip) => ({ type: 7, ip }) as never)) },
  ]);
  const write = (f: string, text: string) => {
    const fd = openPrivate(path(f), 'w');
    try {
      writeFileSync(fd, text);
    } finally {
      closeSync(fd);
    }
  };
  write(CA_KEY_FILE, caKeys.pem);
  write(KEY_FILE, serverKeys.pem);
  write(CERT_FILE, cert);
  write(CA_FILE, ca);
  return { key: serverKeys.pem, cert, ca, caPath: path(CA_FILE) };
}
