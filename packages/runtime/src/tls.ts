import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import forge from 'node-forge';
import { openPrivate, privateDir } from './private-files';

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

/** IP addresses (v4 or v6) go in the certificate as IP entries; everything else as DNS names. */
const isIp = (h: string) => isIP(h) !== 0;

/**
 * The names every server certificate covers. `*.localhost` is there for clients that accept it,
 * but Node (and OpenSSL, so the AWS CLI and boto3) refuse a wildcard over a single label: a
 * virtual-hosted bucket over HTTPS is `BUCKET.s3.localhost`, which `*.s3.localhost` covers.
 */
const DEFAULT_NAMES = ['localhost', '*.localhost', 's3.localhost', '*.s3.localhost', '127.0.0.1', '::1'];

/** Whether `cert` names every one of `names` and stays valid for at least another 30 days. */
function covers(cert: string, names: string[]): boolean {
  const x509 = new X509Certificate(cert);
  if (Date.parse(x509.validTo) - Date.now() < 30 * 24 * 3600 * 1000) return false;
  // Names compared as written (a wildcard entry must be there itself, not matched by another).
  const dns = new Set((x509.subjectAltName ?? '').split(', ').filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4).toLowerCase()));
  return names.every((name) => (isIp(name) ? x509.checkIP(name) !== undefined : dns.has(name.toLowerCase())));
}

function serverCertificate(names: string[], caCert: forge.pki.Certificate, caKey: forge.pki.rsa.PrivateKey): { key: string; cert: string } {
  const serverKeys = rsaKeyPair();
  const unique = [...new Set(names)];
  const issuer = caCert.subject.attributes as forge.pki.CertificateField[];
  const cert = certificate([{ name: 'commonName', value: 'localhost' }], issuer, serverKeys.publicKey, caKey, 2, [
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: unique.filter((h) => !isIp(h)).map((value) => ({ type: 2, value })).concat(unique.filter(isIp).map((ip) => ({ type: 7, ip }) as never)) },
  ]);
  return { key: serverKeys.pem, cert };
}

/**
 * Each CA gets a name of its own (and a key identifier its certificates point at): a client that
 * trusts two Sealboxes' CAs (S3 alone against another Sealbox's KMS, a trust store holding both)
 * finds the issuer by name, and two CAs named alike make OpenSSL try the wrong one
 * (CERT_SIGNATURE_FAILURE).
 */
const caName = (): forge.pki.CertificateField[] => [
  { name: 'commonName', value: `Sealbox Local CA ${randomBytes(4).toString('hex')}` },
  { name: 'organizationName', value: 'Sealbox' },
];

/**
 * Each file written whole under a temporary name, then renamed, in the order given (ca.pem last):
 * a start killed midway leaves no torn file, only a set missing ca.pem, which is made again.
 */
function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [f, text] of Object.entries(files)) {
    const temp = join(dir, `${f}.tmp`);
    const fd = openPrivate(temp, 'w');
    try {
      writeFileSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(dir, f));
  }
}

/** A new CA and a server certificate it signs, written to `dir`. */
function createAll(dir: string, names: string[]): TlsMaterial {
  const caKeys = rsaKeyPair();
  const name = caName();
  const ca = certificate(name, name, caKeys.publicKey, caKeys.privateKey, 10, [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const server = serverCertificate(names, forge.pki.certificateFromPem(ca), caKeys.privateKey);
  writeFiles(dir, { [CA_KEY_FILE]: caKeys.pem, [KEY_FILE]: server.key, [CERT_FILE]: server.cert, [CA_FILE]: ca });
  return { ...server, ca, caPath: join(dir, CA_FILE) };
}

/**
 * The CA and server certificate kept in `dir`; a server certificate that does not cover `names`
 * (another --host) or is about to expire is replaced by one the same CA signs, so clients that
 * trust the CA keep working. `persist` false keeps the new one in memory (a shared directory).
 */
function loadFrom(dir: string, names: string[], persist: boolean): TlsMaterial {
  const path = (f: string) => join(dir, f);
  // Like every file of the data directory, 0600 (the certificates too), whatever made them.
  if (persist) for (const f of [CA_FILE, CA_KEY_FILE, CERT_FILE, KEY_FILE]) closeSync(openPrivate(path(f), 'r'));
  const ca = readFileSync(path(CA_FILE), 'utf8');
  const kept = { key: readFileSync(path(KEY_FILE), 'utf8'), cert: readFileSync(path(CERT_FILE), 'utf8'), ca, caPath: path(CA_FILE) };
  if (covers(kept.cert, names)) return kept;
  const caKey = forge.pki.privateKeyFromPem(readFileSync(path(CA_KEY_FILE), 'utf8'));
  const server = serverCertificate(names, forge.pki.certificateFromPem(ca), caKey);
  if (persist) writeFiles(dir, { [KEY_FILE]: server.key, [CERT_FILE]: server.cert });
  return { ...server, ca, caPath: kept.caPath };
}

/**
 * Where a Sealbox without a data directory (--in-memory, --snapshot, the test fixtures) keeps its
 * CA: one per user, so the AWS_CA_BUNDLE a user exported, or the CA imported into a Java trust
 * store, stays valid across restarts. Only certificates live there, never state.
 */
export function sharedTlsDir(): string {
  return process.env.SEALBOX_TLS_DIR ?? join(homedir(), '.sealbox', 'tls');
}

/**
 * A local CA and a server certificate it signs, for localhost, s3.localhost and *.s3.localhost
 * (virtual-hosted buckets), 127.0.0.1 and ::1 plus `hosts`. Kept in the data directory (mode
 * 0600, as all its files) so clients trust the same CA across restarts; with no data directory
 * in the user's shared directory (sharedTlsDir), else in a temporary one.
 */
export function loadOrCreateTls(dataDir: string | undefined, hosts: string[] = []): TlsMaterial {
  const names = [...DEFAULT_NAMES, ...hosts.filter((h) => h !== '0.0.0.0' && h !== '::')];
  const complete = (dir: string) => [CA_FILE, CA_KEY_FILE, CERT_FILE, KEY_FILE].every((f) => existsSync(join(dir, f)));
  if (dataDir !== undefined) return complete(dataDir) ? loadFrom(dataDir, names, true) : createAll(dataDir, names);
  const shared = sharedTlsDir();
  try {
    if (complete(shared)) return loadFrom(shared, names, false);
    // Made whole in a directory of its own, then renamed into place: of several Sealboxes
    // starting at once (parallel test workers), one CA wins and every one of them uses it.
    privateDir(dirname(shared));
    const work = mkdtempSync(`${shared}.new-`);
    createAll(work, names);
    try {
      renameSync(work, shared);
    } catch (err) {
      rmSync(work, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
    return loadFrom(shared, names, false);
  } catch {
    // No home to write to (a read-only container): a CA for this process alone.
    return createAll(mkdtempSync(join(tmpdir(), 'sealbox-tls-')), names);
  }
}
