/**
 * The small part of the POSIX ustar format a snapshot needs: regular files with short names, read
 * and written as streams (https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06).
 * Any tar tool lists and extracts the archives (`tar tzf snapshot.tgz`). Written here rather than
 * taken from a package because the reader must refuse everything but the expected entries anyway.
 */

const BLOCK = 512;
/** Largest size the 11 octal digits of a ustar header hold; larger sizes use GNU's base-256 form. */
const MAX_OCTAL_SIZE = 0o77777777777;

export class TarFormatError extends Error {}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** The header block of a regular file. */
export function tarHeader(name: string, size: number, mode: number, mtime: Date): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length > 100) throw new Error(`tar entry name too long: ${name}`);
  const h = Buffer.alloc(BLOCK);
  nameBytes.copy(h, 0);
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  if (size <= MAX_OCTAL_SIZE) h.write(octal(size, 12), 124, 'ascii');
  else {
    // GNU base-256: the first byte's high bit set, the value big-endian in the rest of the field.
    h[124] = 0x80;
    h.writeBigUInt64BE(BigInt(size), 128);
  }
  h.write(octal(Math.floor(mtime.getTime() / 1000), 12), 136, 'ascii');
  h.write('0', 156, 'ascii'); // typeflag: regular file
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('        ', 148, 'ascii'); // the checksum counts its own field as spaces
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** Zero bytes that fill an entry's data up to a whole block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

/**
 * The most zeros accepted after the end blocks. tar pads an archive to its record size (10,240
 * bytes by default, 512 x the blocking factor); unbounded, a few kilobytes of gzip'd zeros would
 * take minutes to read (1 GiB of zeros gzips to 1 MiB).
 */
export const MAX_END_PADDING = 1 << 20;

function parseOctal(field: Buffer, what: string): number {
  const text = field.toString('ascii').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (!/^[0-7]{1,12}$/.test(text)) throw new TarFormatError(`bad ${what} field in a tar header`);
  return parseInt(text, 8);
}

function parseSize(field: Buffer): number {
  if (field[0] === 0x80) {
    const value = field.readBigUInt64BE(4);
    if (field.subarray(1, 4).some((b) => b !== 0) || value > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarFormatError('tar entry too large');
    return Number(value);
  }
  return parseOctal(field, 'size');
}

export interface TarEntryHeader {
  name: string;
  size: number;
}

/** Reads exact byte counts from a stream of chunks, holding no more than one chunk's worth. */
class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.ended) {
      const next = await this.source.next();
      if (next.done) this.ended = true;
      else if (next.value.length > 0) {
        this.chunks.push(next.value);
        this.buffered += next.value.length;
      }
    }
  }

  /** Up to `max` bytes (fewer only at the end of the stream: an empty buffer then). */
  async some(max: number): Promise<Buffer> {
    await this.fill(1);
    const first = this.chunks[0];
    if (!first) return Buffer.alloc(0);
    if (first.length <= max) {
      this.chunks.shift();
      this.buffered -= first.length;
      return first;
    }
    this.chunks[0] = first.subarray(max);
    this.buffered -= max;
    return first.subarray(0, max);
  }

  /** Exactly `n` bytes, or a TarFormatError when the stream ends first. */
  async exactly(n: number): Promise<Buffer> {
    await this.fill(n);
    if (this.buffered < n) throw new TarFormatError('the archive is truncated');
    const all = Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.buffered = all.length - n;
    return all.subarray(0, n);
  }
}

/**
 * Reads a tar stream entry by entry. For each entry `onEntry` gets its header and its data as a
 * stream, which it must consume to the end before it returns. Only regular files are accepted;
 * after the end blocks the rest of the stream must be zeros (and is read, so a gzip layer below
 * checks its CRC).
 */
export async function readTar(source: AsyncIterable<Buffer>, onEntry: (header: TarEntryHeader, data: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  for (;;) {
    const h = await reader.exactly(BLOCK);
    if (h.every((b) => b === 0)) {
      // The end: the second zero block, then only zeros (tar pads to its record size).
      if (!(await reader.exactly(BLOCK)).every((b) => b === 0)) throw new TarFormatError('data after the end of the archive');
      let padding = 0;
      for (let rest = await reader.some(65536); rest.length > 0; rest = await reader.some(65536)) {
        if (!rest.every((b) => b === 0)) throw new TarFormatError('data after the end of the archive');
        padding += rest.length;
        if (padding > MAX_END_PADDING) throw new TarFormatError(`more than ${MAX_END_PADDING} bytes of padding after the end of the archive`);
      }
      return;
    }
    const stored = parseOctal(h.subarray(148, 156), 'checksum');
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (sum !== stored) throw new TarFormatError('a tar header has a wrong checksum (the archive is damaged)');
    const type = String.fromCharCode(h[156]!);
    const nameEnd = h.indexOf(0, 0);
    const name = h.subarray(0, nameEnd === -1 || nameEnd > 100 ? 100 : nameEnd).toString('utf8');
    // A prefix field (ustar's long names) is never written by Sealbox.
    if (h[345] !== 0) throw new TarFormatError(`unexpected long entry name in the archive: ${JSON.stringify(name)}...`);
    if (type !== '0' && type !== '\0') throw new TarFormatError(`unexpected entry in the archive: ${JSON.stringify(name)} (type ${JSON.stringify(type)}; only regular files are expected)`);
    const size = parseSize(h.subarray(124, 136));
    let remaining = size;
    const data = async function* () {
      while (remaining > 0) {
        const chunk = await reader.some(Math.min(remaining, 1 << 20));
        if (chunk.length === 0) throw new TarFormatError('the archive is truncated');
        remaining -= chunk.length;
        yield chunk;
      }
    };
    await onEntry({ name, size }, data());
    if (remaining !== 0) throw new Error(`tar entry ${name} was not read to its end`);
    await reader.exactly(tarPadding(size).length);
  }
}
