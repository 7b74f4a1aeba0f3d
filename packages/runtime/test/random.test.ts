import { randomBytesFast } from '../src/random';

describe('randomBytesFast', () => {
  it('returns independent buffers of the asked length, across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const size = [1, 8, 12, 16, 32, 48][i % 6]!;
      const b = randomBytesFast(size);
      expect(b.length).toBe(size);
      if (size >= 16) {
        const hex = b.toString('hex');
        expect(seen.has(hex)).toBe(false);
        seen.add(hex);
      }
    }
    // Changing one result changes no other.
    const a = randomBytesFast(32);
    const copy = Buffer.from(a);
    randomBytesFast(32).fill(0);
    expect(a.equals(copy)).toBe(true);
    // Larger than the pool allows: straight from the CSPRNG.
    expect(randomBytesFast(10_000).length).toBe(10_000);
  });
});
