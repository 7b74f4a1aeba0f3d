import { randomBytes } from 'node:crypto';
import { computeChecksum, createChecksum } from '../src/checksums';
import { OFFLOAD_MIN_BYTES, foldCrc64, offloadStats, stopCrc64Helper } from '../src/crypto/crc64-offload';

const split = (data: Buffer, step: number) => {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += step) out.push(data.subarray(i, i + step));
  return out;
};

describe('CRC64NVME on the helper thread (crc64-offload)', () => {
  it('gives the CRC the inline loop gives, for bodies in flight together, of every size it takes', async () => {
    const sizes = [0, 1, 1000, OFFLOAD_MIN_BYTES - 1, OFFLOAD_MIN_BYTES, OFFLOAD_MIN_BYTES + 7, 1024 * 1024 - 3, 1024 * 1024, 1024 * 1024 + 1];
    const bodies = sizes.map((n) => randomBytes(n));
    const hashers = bodies.map(() => createChecksum('CRC64NVME'));
    await Promise.all(bodies.map((b, i) => foldCrc64(hashers[i]!, split(b, 65536 - 5), b.length)));
    // The four between 256 KiB and 1 MiB went to the helper; the rest were folded inline.
    expect(offloadStats.offloaded).toBe(4);
    bodies.forEach((b, i) => expect(hashers[i]!.digest().toString('base64')).toBe(computeChecksum('CRC64NVME', b).toString('base64')));
    // Slots go back to the pool: a second round over reused shared buffers gives the same answers.
    const again = bodies.map(() => createChecksum('CRC64NVME'));
    await Promise.all(bodies.map((b, i) => foldCrc64(again[i]!, [b], b.length)));
    bodies.forEach((_, i) => expect(again[i]!.digest().equals(hashers[i]!.digest())).toBe(true));
  });

  it('folds inline what is not a fresh CRC64NVME (another algorithm, or a register already started)', async () => {
    const body = randomBytes(OFFLOAD_MIN_BYTES * 2);
    const sha = createChecksum('SHA256');
    await foldCrc64(sha, [body], body.length);
    expect(sha.digest().equals(computeChecksum('SHA256', body))).toBe(true);
    const started = createChecksum('CRC64NVME');
    started.update(Buffer.from('head'));
    await foldCrc64(started, [body], body.length);
    expect(started.digest().equals(computeChecksum('CRC64NVME', Buffer.concat([Buffer.from('head'), body])))).toBe(true);
  });

  it('folds inline what the helper had not answered when it dies, and everything after', async () => {
    const body = randomBytes(OFFLOAD_MIN_BYTES + 100);
    const hasher = createChecksum('CRC64NVME');
    const done = foldCrc64(hasher, [body], body.length);
    await stopCrc64Helper();
    await done;
    expect(hasher.digest().equals(computeChecksum('CRC64NVME', body))).toBe(true);
    const before = offloadStats.offloaded;
    const after = createChecksum('CRC64NVME');
    await foldCrc64(after, [body], body.length);
    expect(offloadStats.offloaded).toBe(before);
    expect(after.digest().equals(hasher.digest())).toBe(true);
  });
});
