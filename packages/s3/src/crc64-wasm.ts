/**
 * CRC64NVME slice-by-8 in a tiny WebAssembly module, built here from its opcodes (no toolchain,
 * no binary blob in the repository). Plain JavaScript must split the 64-bit register into two
 * 32-bit halves and pays a bounds check per table lookup, which held it near 150-250 MiB/s;
 * WebAssembly has native i64 loads and xors and runs the same algorithm several times faster.
 * Every byte of an object without a client checksum goes through this CRC (S3 stores a
 * CRC64NVME of every new object), so it bounds large PUTs.
 *
 * Memory layout (one linear memory, 4 pages):
 *   [0, 16384)        eight 256-entry tables of u64 (table k at k * 2048), little-endian
 *   [16384, 16392)    the CRC register (reflected, little-endian u64)
 *   [DATA, DATA+CHUNK) the bytes to fold in, copied from the caller's buffer
 *
 * update(p, n) folds bytes [p, p + n) into the register: 8 bytes at a time through the tables,
 * then byte by byte. Tables are filled from JavaScript (`tables`) at load time.
 */

const TABLE_BYTES = 8 * 256 * 8;
const CRC_AT = TABLE_BYTES;
export const WASM_DATA = TABLE_BYTES + 64;
export const WASM_CHUNK = 192 * 1024;
const PAGES = Math.ceil((WASM_DATA + WASM_CHUNK) / 65536);

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];

// Opcodes used below.
const I32 = 0x7f, I64 = 0x7e;
const BLOCK = 0x02, LOOP = 0x03, BR = 0x0c, BR_IF = 0x0d, END = 0x0b, EMPTY = 0x40;
const GET = 0x20, SET = 0x21;
const I32_CONST = 0x41, I64_CONST = 0x42;
const I32_ADD = 0x6a, I32_AND = 0x71, I32_SHL = 0x74, I32_GE_U = 0x4f, I32_XOR = 0x73;
const I64_XOR = 0x85, I64_SHR_U = 0x88, I32_WRAP_I64 = 0xa7;
const I64_LOAD = 0x29, I64_STORE = 0x37, I32_LOAD8_U = 0x2d;
const mem = (align: number, offset: number) => [...uleb(align), ...uleb(offset)];

// Locals: 0 p (i32), 1 n (i32) | 2 end (i32), 3 end8 (i32) | 4 crc (i64), 5 x (i64).
const P = 0, N = 1, END_AT = 2, END8 = 3, CRC = 4, X = 5;

function body(): number[] {
  const code: number[] = [];
  const emit = (...ops: number[]) => code.push(...ops);
  // crc = mem[CRC_AT]; end = p + n; end8 = p + (n & ~7)
  emit(I32_CONST, ...sleb(0), I64_LOAD, ...mem(3, CRC_AT), SET, CRC);
  emit(GET, P, GET, N, I32_ADD, SET, END_AT);
  emit(GET, P, GET, N, I32_CONST, ...sleb(-8), I32_AND, I32_ADD, SET, END8);
  // while (p < end8) { x = crc ^ load64(p); crc = T7[x0] ^ T6[x1] ^ ... ^ T0[x7]; p += 8 }
  emit(BLOCK, EMPTY, LOOP, EMPTY);
  emit(GET, P, GET, END8, I32_GE_U, BR_IF, 1);
  emit(GET, CRC, GET, P, I64_LOAD, ...mem(0, 0), I64_XOR, SET, X);
  for (let j = 0; j < 8; j++) {
    // address of T(7-j)[(x >> 8j) & 0xff] = ((x >> 8j) & 0xff) * 8 + (7 - j) * 2048
    emit(GET, X);
    if (j > 0) emit(I64_CONST, ...sleb(8 * j), I64_SHR_U);
    emit(I32_WRAP_I64, I32_CONST, ...sleb(0xff), I32_AND, I32_CONST, ...sleb(3), I32_SHL);
    emit(I64_LOAD, ...mem(3, (7 - j) * 2048));
    if (j > 0) emit(I64_XOR);
  }
  emit(SET, CRC);
  emit(GET, P, I32_CONST, ...sleb(8), I32_ADD, SET, P);
  emit(BR, 0, END, END);
  // while (p < end) { crc = T0[(crc ^ byte) & 0xff] ^ (crc >> 8); p++ }
  emit(BLOCK, EMPTY, LOOP, EMPTY);
  emit(GET, P, GET, END_AT, I32_GE_U, BR_IF, 1);
  emit(GET, CRC, I32_WRAP_I64, GET, P, I32_LOAD8_U, ...mem(0, 0), I32_XOR, I32_CONST, ...sleb(0xff), I32_AND, I32_CONST, ...sleb(3), I32_SHL);
  emit(I64_LOAD, ...mem(3, 0));
  emit(GET, CRC, I64_CONST, ...sleb(8), I64_SHR_U, I64_XOR, SET, CRC);
  emit(GET, P, I32_CONST, ...sleb(1), I32_ADD, SET, P);
  emit(BR, 0, END, END);
  // mem[CRC_AT] = crc
  emit(I32_CONST, ...sleb(0), GET, CRC, I64_STORE, ...mem(3, CRC_AT));
  emit(END);
  const locals = vec([
    [2, I32],
    [2, I64],
  ]);
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

function moduleBytes(): Uint8Array {
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32]]), ...vec([])]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, ...uleb(PAGES)]])),
    ...section(7, vec([[...name('update'), 0x00, 0], [...name('memory'), 0x02, 0]])),
    ...section(10, vec([body()])),
  ]);
}

/** The slice of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

export interface Crc64Wasm {
  /** Folds `data` into the register (hi, lo halves, as the JavaScript code keeps them); returns the new halves. */
  update(hi: number, lo: number, data: Uint8Array): [number, number];
}

/**
 * Instantiates the module with the given slice-by-8 tables (hi and lo halves of table k at index
 * k, as makeTables64 builds them); undefined when this runtime has no WebAssembly.
 */
export function createCrc64Wasm(hiTables: Int32Array[], loTables: Int32Array[]): Crc64Wasm | undefined {
  if (!wasmApi) return undefined;
  const instance = new wasmApi.Instance(new wasmApi.Module(moduleBytes()), {});
  const memory = instance.exports.memory as { buffer: ArrayBuffer };
  const fold = instance.exports.update as (p: number, n: number) => void;
  const words = new Int32Array(memory.buffer);
  const bytes = new Uint8Array(memory.buffer);
  // Little-endian u64 = lo word, then hi word (WebAssembly memory is always little-endian).
  for (let k = 0; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      words[(k * 256 + n) * 2] = loTables[k]![n]!;
      words[(k * 256 + n) * 2 + 1] = hiTables[k]![n]!;
    }
  }
  return {
    update(hi, lo, data) {
      words[CRC_AT >> 2] = lo;
      words[(CRC_AT >> 2) + 1] = hi;
      for (let at = 0; at < data.length; at += WASM_CHUNK) {
        const piece = data.subarray(at, Math.min(at + WASM_CHUNK, data.length));
        bytes.set(piece, WASM_DATA);
        fold(WASM_DATA, piece.length);
      }
      return [words[(CRC_AT >> 2) + 1]!, words[CRC_AT >> 2]!];
    },
  };
}
