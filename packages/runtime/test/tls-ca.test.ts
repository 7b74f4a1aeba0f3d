import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateTls } from '../src';

/** Two Sealboxes' CAs must be told apart by name and key identifier, or OpenSSL tries the wrong issuer. */
it('gives each new CA a name of its own and points its server certificate at the CA key', () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'sealbox-ca-a-')), mkdtempSync(join(tmpdir(), 'sealbox-ca-b-'))];
  try {
    const [a, b] = dirs.map((d) => loadOrCreateTls(d));
    const [caA, caB] = [new X509Certificate(a!.ca), new X509Certificate(b!.ca)];
    expect(caA.subject).toMatch(/^CN=Sealbox Local CA [0-9a-f]{8}\nO=Sealbox$/);
    expect(caA.subject).not.toBe(caB.subject);
    const server = new X509Certificate(a!.cert);
    expect(server.issuer).toBe(caA.subject);
    expect(server.checkIssued(caA)).toBe(true);
    expect(server.verify(caA.publicKey)).toBe(true);
    expect(server.checkIssued(caB)).toBe(false);
    // The server certificate made again for another host keeps the same CA name.
    const again = loadOrCreateTls(dirs[0]!, ['sealbox.internal']);
    expect(new X509Certificate(again.cert).issuer).toBe(caA.subject);
    expect(again.ca).toBe(a!.ca);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
