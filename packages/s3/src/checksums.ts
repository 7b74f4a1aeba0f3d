import { createHash, type Hash } from 'crypto';

/**
 * S3 flexible checksums (x-amz-checksum-*): CRC32, CRC32C, CRC64NVME, SHA1 and SHA256.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 *
 * The CRCs are table-driven, slice-by-8, in plain JavaScript with 32-bit integer arithmetic only
 * (CRC64NVME keeps its register in two 32-bit halves, no BigInt). On little-endian hosts the
 * 8-byte blocks are read through an Int32Array view of the buffer once it is 4-byte aligned;
 * big-endian hosts fall back to a (correct but slower) byte-at-a-time loop. CRC64NVME runs the
 * same slice-by-8 tables in a small WebAssembly loop for inputs of 512 bytes or more (see
 * crc64-wasm.ts: about 7x the JavaScript loop, which bounded large PUTs). Digests are the
 * big-endian bytes of the CRC value, which is what S3 base64-encodes into its headers.
 */

import * as zlib from 'node:zlib';
import { createCrc64Wasm } from './crc64-wasm';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
export type CrcAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME';
/** How S3 checksums a multipart object: of the part checksums, or of the whole object. */
export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = Object.freeze([
  'CRC32',
  'CRC32C',
  'CRC64NVME',
  'SHA1',
  'SHA256',
] as const);

const LENGTHS: Readonly<Record<ChecksumAlgorithm, number>> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

/** header name, e.g. 'x-amz-checksum-crc32' */
export function checksumHeader(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

/** parses 'CRC32' / 'crc32' etc; undefined if unknown */
export function parseChecksumAlgorithm(value: string): ChecksumAlgorithm | undefined {
  const upper = value.toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper) ? (upper as ChecksumAlgorithm) : undefined;
}

/** expected digest length in bytes: 4, 4, 8, 20, 32 */
export function checksumLength(alg: ChecksumAlgorithm): number {
  return LENGTHS[alg];
}

export function isCrcAlgorithm(alg: ChecksumAlgorithm): alg is CrcAlgorithm {
  return alg === 'CRC32' || alg === 'CRC32C' || alg === 'CRC64NVME';
}

/**
 * The multipart checksum types S3 accepts for an algorithm: CRC32/CRC32C take either,
 * CRC64NVME only FULL_OBJECT, SHA1/SHA256 only COMPOSITE.
 */
export function supportedChecksumTypes(alg: ChecksumAlgorithm): readonly ChecksumType[] {
  switch (alg) {
    case 'CRC32':
    case 'CRC32C':
      return ['COMPOSITE', 'FULL_OBJECT'];
    case 'CRC64NVME':
      return ['FULL_OBJECT'];
    default:
      return ['COMPOSITE'];
  }
}

/**
 * Incremental checksum. `digest()` does not finalize: it returns the checksum of everything
 * passed to `update` so far, and `update` may be called again afterwards.
 */
export interface Checksum {
  update(data: Buffer): void;
  digest(): Buffer;
}

export function createChecksum(alg: ChecksumAlgorithm): Checksum {
  switch (alg) {
    case 'CRC32':
      return new Crc32Checksum(false);
    case 'CRC32C':
      return new Crc32Checksum(true);
    case 'CRC64NVME':
      return new Crc64Checksum();
    case 'SHA1':
      return new HashChecksum('sha1');
    case 'SHA256':
      return new HashChecksum('sha256');
    default:
      throw new TypeError(`unknown checksum algorithm: ${String(alg)}`);
  }
}

/** One-shot checksum of `data`. */
export function computeChecksum(alg: ChecksumAlgorithm, data: Buffer): Buffer {
  const c = createChecksum(alg);
  c.update(data);
  return c.digest();
}

/** decode a base64 header value; undefined if not valid base64 of the right length */
export function decodeChecksum(alg: ChecksumAlgorithm, value: string): Buffer | undefined {
  const length = LENGTHS[alg];
  // Canonical padded base64 of `length` bytes only: Buffer.from is lenient (skips junk, accepts
  // missing padding and non-zero pad bits), so compare against the re-encoding.
  if (typeof value !== 'string' || value.length !== Math.ceil(length / 3) * 4) return undefined;
  const buf = Buffer.from(value, 'base64');
  if (buf.length !== length || buf.toString('base64') !== value) return undefined;
  return buf;
}

/** S3's multipart COMPOSITE checksum: checksum of the concatenated part digests, base64, plus '-N' */
export function compositeChecksum(alg: ChecksumAlgorithm, partDigests: Buffer[]): string {
  const length = LENGTHS[alg];
  const c = createChecksum(alg);
  for (let i = 0; i < partDigests.length; i++) {
    const d = partDigests[i]!;
    if (d.length !== length) {
      throw new RangeError(`part ${i + 1} ${alg} digest is ${d.length} bytes, expected ${length}`);
    }
    c.update(d);
  }
  return `${c.digest().toString('base64')}-${partDigests.length}`;
}

/**
 * FULL_OBJECT checksum for CRC algorithms: combine part CRCs (crc32_combine-style math using the
 * part lengths) into the CRC of the whole object, without re-reading data. Parts are in object
 * order; zero-length parts are fine, and no parts at all gives the CRC of the empty object.
 */
export function combineCrc(alg: CrcAlgorithm, parts: { digest: Buffer; length: number }[]): Buffer {
  const length = LENGTHS[alg];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.digest.length !== length) {
      throw new RangeError(`part ${i + 1} ${alg} digest is ${p.digest.length} bytes, expected ${length}`);
    }
    if (!Number.isSafeInteger(p.length) || p.length < 0) {
      throw new RangeError(`part ${i + 1} length must be a non-negative safe integer, got ${p.length}`);
    }
  }
  if (alg === 'CRC64NVME') {
    let hi = 0;
    let lo = 0;
    for (const p of parts) {
      shift64(hi, lo, p.length);
      hi = (r64hi ^ p.digest.readUInt32BE(0)) >>> 0;
      lo = (r64lo ^ p.digest.readUInt32BE(4)) >>> 0;
    }
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE(hi, 0);
    out.writeUInt32BE(lo, 4);
    return out;
  }
  if (alg !== 'CRC32' && alg !== 'CRC32C') throw new TypeError(`not a CRC algorithm: ${String(alg)}`);
  const poly = alg === 'CRC32' ? CRC32_POLY : CRC32C_POLY;
  const x2n = alg === 'CRC32' ? CRC32_X2N : CRC32C_X2N;
  let crc = 0;
  for (const p of parts) crc = (shift32(poly, x2n, crc, p.length) ^ p.digest.readUInt32BE(0)) >>> 0;
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(crc, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// SHA

class HashChecksum implements Checksum {
  private readonly hash: Hash;
  constructor(name: string) {
    this.hash = createHash(name);
  }
  update(data: Buffer): void {
    this.hash.update(data);
  }
  digest(): Buffer {
    return this.hash.copy().digest();
  }
}

// ---------------------------------------------------------------------------------------------
// CRC tables

const CRC32_POLY = 0xedb88320; // reflected 0x04C11DB7
const CRC32C_POLY = 0x82f63b78; // reflected 0x1EDC6F41
// CRC-64/NVME: normal 0xAD93D23594C93659, reflected 0x9A6C9329AC4BC9B5.
const CRC64_POLY_HI = 0x9a6c9329;
const CRC64_POLY_LO = 0xac4bc9b5;

// Stryker disable next-line ConditionalExpression,EqualityOperator,ArrayDeclaration: equivalent because both loops give the same CRC (the byte loop is the fallback for big-endian hosts)
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Below this many bytes the CRCs go byte by byte rather than creating an aligned 32-bit view. */
const VIEW_THRESHOLD = 64;

// Performance note: the tables below are module-level `const`s referenced directly by dedicated
// update functions (one per polynomial). V8 then treats them as constants; passing the tables in
// as parameters or closure variables measured about half the throughput, hence the duplication.

/** Eight 256-entry tables for slice-by-8 of a reflected 32-bit CRC. */
function makeTables32(poly: number): Int32Array[] {
  const all = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    all[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = all[n]!;
    for (let k = 1; k < 8; k++) {
      c = all[c & 0xff]! ^ (c >>> 8);
      all[k * 256 + n] = c;
    }
  }
  return Array.from({ length: 8 }, (_, k) => all.subarray(k * 256, k * 256 + 256));
}

const [A0, A1, A2, A3, A4, A5, A6, A7] = makeTables32(CRC32_POLY) as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
const [C0, C1, C2, C3, C4, C5, C6, C7] = makeTables32(CRC32C_POLY) as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];

/**
 * Advances the CRC32 register `c` (init/xorout applied by the caller) over `b`. Short inputs and
 * big-endian hosts go byte by byte; otherwise slice-by-8 over an aligned 32-bit view.
 */
function crc32Update(c: number, b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  if (LITTLE_ENDIAN && n >= VIEW_THRESHOLD) {
    while (((b.byteOffset + i) & 3) !== 0) c = A0[(c ^ b[i++]!) & 0xff]! ^ (c >>> 8);
    const words = ((n - i) >>> 3) << 1;
    const w = new Int32Array(b.buffer, b.byteOffset + i, words);
    for (let j = 0; j < words; j += 2) {
      const a = c ^ w[j]!;
      const d = w[j + 1]!;
      c =
        A7[a & 0xff]! ^ A6[(a >>> 8) & 0xff]! ^ A5[(a >>> 16) & 0xff]! ^ A4[a >>> 24]! ^
        A3[d & 0xff]! ^ A2[(d >>> 8) & 0xff]! ^ A1[(d >>> 16) & 0xff]! ^ A0[d >>> 24]!;
    }
    i += words << 2;
  }
  for (; i < n; i++) c = A0[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

/** crc32Update for CRC32C (same code, Castagnoli tables). */
function crc32cUpdate(c: number, b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  if (LITTLE_ENDIAN && n >= VIEW_THRESHOLD) {
    while (((b.byteOffset + i) & 3) !== 0) c = C0[(c ^ b[i++]!) & 0xff]! ^ (c >>> 8);
    const words = ((n - i) >>> 3) << 1;
    const w = new Int32Array(b.buffer, b.byteOffset + i, words);
    for (let j = 0; j < words; j += 2) {
      const a = c ^ w[j]!;
      const d = w[j + 1]!;
      c =
        C7[a & 0xff]! ^ C6[(a >>> 8) & 0xff]! ^ C5[(a >>> 16) & 0xff]! ^ C4[a >>> 24]! ^
        C3[d & 0xff]! ^ C2[(d >>> 8) & 0xff]! ^ C1[(d >>> 16) & 0xff]! ^ C0[d >>> 24]!;
    }
    i += words << 2;
  }
  for (; i < n; i++) c = C0[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

/** zlib's CRC32 (native; Node 20.15+ and 22.2+), when this Node has it. */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

class Crc32Checksum implements Checksum {
  private crc = ~0; // register, init all ones
  /** The finished CRC so far, when zlib computes it (CRC32 only). */
  private value = 0;
  constructor(private readonly castagnoli: boolean) {}
  update(data: Buffer): void {
    if (!this.castagnoli && nativeCrc32) this.value = nativeCrc32(data, this.value);
    else this.crc = this.castagnoli ? crc32cUpdate(this.crc, data) : crc32Update(this.crc, data);
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE(!this.castagnoli && nativeCrc32 ? this.value >>> 0 : ~this.crc >>> 0, 0);
    return out;
  }
}

/** Slice-by-8 tables for CRC64NVME, each 64-bit entry split into high (H) and low (L) halves. */
function makeTables64(): Int32Array[] {
  const hiAll = new Int32Array(256 * 8);
  const loAll = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let hi = 0;
    let lo = n;
    for (let k = 0; k < 8; k++) {
      const lsb = lo & 1;
      lo = (lo >>> 1) | (hi << 31);
      hi = hi >>> 1;
      if (lsb) {
        hi ^= CRC64_POLY_HI;
        lo ^= CRC64_POLY_LO;
      }
    }
    hiAll[n] = hi;
    loAll[n] = lo;
  }
  for (let n = 0; n < 256; n++) {
    let hi = hiAll[n]!;
    let lo = loAll[n]!;
    for (let k = 1; k < 8; k++) {
      const idx = lo & 0xff;
      lo = loAll[idx]! ^ ((lo >>> 8) | (hi << 24));
      hi = hiAll[idx]! ^ (hi >>> 8);
      hiAll[k * 256 + n] = hi;
      loAll[k * 256 + n] = lo;
    }
  }
  const slice = (all: Int32Array, k: number) => all.subarray(k * 256, k * 256 + 256);
  return [...Array.from({ length: 8 }, (_, k) => slice(hiAll, k)), ...Array.from({ length: 8 }, (_, k) => slice(loAll, k))];
}

const [H0, H1, H2, H3, H4, H5, H6, H7, L0, L1, L2, L3, L4, L5, L6, L7] = makeTables64() as [
  Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array,
  Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array,
];

/** The same tables driving a WebAssembly loop (native 64-bit), used for all but short inputs. */
const crc64Wasm = createCrc64Wasm([H0, H1, H2, H3, H4, H5, H6, H7], [L0, L1, L2, L3, L4, L5, L6, L7]);
/** Below this many bytes, copying into WebAssembly memory costs more than it saves. */
const WASM_THRESHOLD = 512;

class Crc64Checksum implements Checksum {
  // register, init all ones
  private hi = ~0;
  private lo = ~0;

  update(b: Buffer): void {
    const n = b.length;
    // Stryker disable next-line BlockStatement,ConditionalExpression,EqualityOperator,LogicalOperator: equivalent because WebAssembly and JavaScript run the same tables to the same CRC at any length (checksums.test.ts compares both with a reference)
    if (crc64Wasm && n >= WASM_THRESHOLD) {
      [this.hi, this.lo] = crc64Wasm.update(this.hi, this.lo, b);
      return;
    }
    let hi = this.hi;
    let lo = this.lo;
    let i = 0;
    if (LITTLE_ENDIAN && n >= VIEW_THRESHOLD) {
      while (((b.byteOffset + i) & 3) !== 0) {
        const idx = (lo ^ b[i++]!) & 0xff;
        lo = L0[idx]! ^ ((lo >>> 8) | (hi << 24));
        hi = H0[idx]! ^ (hi >>> 8);
      }
      const words = ((n - i) >>> 3) << 1;
      const w = new Int32Array(b.buffer, b.byteOffset + i, words);
      for (let j = 0; j < words; j += 2) {
        const a = lo ^ w[j]!;
        const d = hi ^ w[j + 1]!;
        const a0 = a & 0xff, a1 = (a >>> 8) & 0xff, a2 = (a >>> 16) & 0xff, a3 = a >>> 24;
        const d0 = d & 0xff, d1 = (d >>> 8) & 0xff, d2 = (d >>> 16) & 0xff, d3 = d >>> 24;
        lo = L7[a0]! ^ L6[a1]! ^ L5[a2]! ^ L4[a3]! ^ L3[d0]! ^ L2[d1]! ^ L1[d2]! ^ L0[d3]!;
        hi = H7[a0]! ^ H6[a1]! ^ H5[a2]! ^ H4[a3]! ^ H3[d0]! ^ H2[d1]! ^ H1[d2]! ^ H0[d3]!;
      }
      i += words << 2;
    }
    for (; i < n; i++) {
      const idx = (lo ^ b[i]!) & 0xff;
      lo = L0[idx]! ^ ((lo >>> 8) | (hi << 24));
      hi = H0[idx]! ^ (hi >>> 8);
    }
    this.hi = hi;
    this.lo = lo;
  }

  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE(~this.hi >>> 0, 0);
    out.writeUInt32BE(~this.lo >>> 0, 4);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// CRC combination (zlib's crc32_combine: multiply by x^(8*len) modulo the polynomial).
//
// With init == xorout (all ones, as for all three CRCs here), crc(A || B) = crc(A) * x^(8|B|) ^ crc(B)
// in GF(2)[x] mod P. Polynomials are held bit-reflected like the CRC register: the most
// significant bit is the x^0 coefficient.

/** a * b mod P for a reflected 32-bit CRC polynomial. */
function mulmod32(poly: number, a: number, b: number): number {
  let p = 0;
  for (let m = 0x80000000; m !== 0; m >>>= 1) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    b = b & 1 ? (b >>> 1) ^ poly : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) mod P for k = 0..63, which covers multiplying by x^(8n) for any safe-integer n. */
function x2nTable32(poly: number): Uint32Array {
  const t = new Uint32Array(64);
  let p = 0x40000000; // x^1
  t[0] = p;
  for (let k = 1; k < 64; k++) t[k] = p = mulmod32(poly, p, p);
  return t;
}

const CRC32_X2N = x2nTable32(CRC32_POLY);
const CRC32C_X2N = x2nTable32(CRC32C_POLY);

/** crc * x^(8 * len) mod P. */
function shift32(poly: number, x2n: Uint32Array, crc: number, len: number): number {
  let k = 3; // x^(8 * len) = x^(len * 2^3)
  while (len > 0 && crc !== 0) {
    // len may exceed 2^32, so no bitwise ops on it.
    if (len % 2 === 1) crc = mulmod32(poly, x2n[k]!, crc);
    len = Math.floor(len / 2);
    k++;
  }
  return crc;
}

// 64-bit arithmetic in (hi, lo) halves; results land in r64hi / r64lo to avoid allocation.
let r64hi = 0;
let r64lo = 0;

function mulmod64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  let pHi = 0;
  let pLo = 0;
  for (let i = 0; i < 64; i++) {
    const bit = i < 32 ? (aHi >>> (31 - i)) & 1 : (aLo >>> (63 - i)) & 1;
    if (bit) {
      pHi ^= bHi;
      pLo ^= bLo;
    }
    const lsb = bLo & 1;
    bLo = (bLo >>> 1) | (bHi << 31);
    bHi = bHi >>> 1;
    if (lsb) {
      bHi ^= CRC64_POLY_HI;
      bLo ^= CRC64_POLY_LO;
    }
  }
  r64hi = pHi >>> 0;
  r64lo = pLo >>> 0;
}

const CRC64_X2N_HI = new Uint32Array(64);
const CRC64_X2N_LO = new Uint32Array(64);
{
  let hi = 0x40000000; // x^1
  let lo = 0;
  CRC64_X2N_HI[0] = hi;
  CRC64_X2N_LO[0] = lo;
  for (let k = 1; k < 64; k++) {
    mulmod64(hi, lo, hi, lo);
    CRC64_X2N_HI[k] = hi = r64hi;
    CRC64_X2N_LO[k] = lo = r64lo;
  }
}

/** (hi, lo) * x^(8 * len) mod P, into r64hi / r64lo. */
function shift64(hi: number, lo: number, len: number): void {
  let k = 3;
  while (len > 0 && (hi | lo) !== 0) {
    if (len % 2 === 1) {
      mulmod64(CRC64_X2N_HI[k]!, CRC64_X2N_LO[k]!, hi, lo);
      hi = r64hi;
      lo = r64lo;
    }
    len = Math.floor(len / 2);
    k++;
  }
  r64hi = hi >>> 0;
  r64lo = lo >>> 0;
}
