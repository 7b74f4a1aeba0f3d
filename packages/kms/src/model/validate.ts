import { SerializationException, ValidationException } from '../errors';
import model from './kms-model.json';

/**
 * Input validation driven by the AWS KMS API model (extracted from botocore by
 * scripts/gen-kms-model.py): types, required members, lengths, ranges, patterns and enums, in
 * the model's member order, worded exactly as AWS words them:
 *   1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint:
 *   Member must have value less than or equal to 1024
 * Blobs arrive base64-encoded and come out as Buffers; sensitive values are never echoed.
 */
interface Shape {
  type: string;
  members?: Record<string, { shape: string }>;
  required?: string[];
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  sensitive?: boolean;
}

const shapes = model.shapes as Record<string, Shape>;
const operations = model.operations as Record<string, { input: string; output: string | null }>;
const patterns = new Map<string, RegExp>();

/** A Java regular expression as a whole-string JavaScript one (Java's matches() semantics). */
function regex(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, 'u');
    patterns.set(pattern, re);
  }
  return re;
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/**
 * Members the service requires although the SDK model leaves them optional. botocore made
 * ReEncrypt's CiphertextBlob optional (as Decrypt's), but there is nothing to re-encrypt without
 * it; KMS refuses the call as Decrypt does (operations/decrypt.ts), with the required-member
 * wording. https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html
 */
const SERVICE_REQUIRED: Record<string, readonly string[]> = {
  ReEncryptRequest: ['CiphertextBlob'],
};

/**
 * How deeply a request body may nest. No KMS input nests more than four levels (CreateGrant's
 * Constraints.EncryptionContextEquals), so only members outside the model go deeper. AWS's docs
 * give no limit; its JSON deserializer (Jackson) refuses documents nested more than 1,000
 * levels, and AWS answers a body it cannot read with a SerializationException without a message,
 * so that is what a deeper body gets here (after the modeled members, which fail on their type
 * first, as AWS's streaming deserializer would).
 */
export const MAX_NESTING = 1000;

export type ValidatedInput = Record<string, unknown>;

/** The members the model knows for an operation, by their wire names. */
export function modelMembers(operation: string): readonly string[] {
  const op = operations[operation];
  return op ? Object.keys(shapes[op.input]!.members ?? {}) : [];
}

/**
 * Checks a whole request against the operation's model before any handler or policy sees it:
 * the wrong JSON type is a SerializationException, a constraint (null, length, range, pattern,
 * enum, a null list element or map value) a ValidationException listing every failure.
 */
export function validateInput(operation: string, input: Record<string, unknown>): ValidatedInput {
  const op = operations[operation];
  if (!op) throw new Error(`no model for ${operation}`);
  const messages: string[] = [];
  const shape = shapes[op.input]!;
  const out = checkStructure(shape, input, '', messages, SERVICE_REQUIRED[op.input]);
  checkNesting(input);
  if (messages.length) {
    const n = messages.length;
    throw new ValidationException(`${n} validation error${n === 1 ? '' : 's'} detected: ${messages.join('; ')}`);
  }
  return out;
}

/**
 * Throws SerializationException (no message) when a value nests deeper than MAX_NESTING, without
 * recursion: JSON.parse builds any depth, but anything recursive that walks the value afterwards
 * (JSON.stringify, Array.prototype.join, a validator) overflows the stack on a few thousand levels.
 */
export function checkNesting(value: unknown, max = MAX_NESTING): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) throw new SerializationException();
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
}

function checkStructure(shape: Shape, input: Record<string, unknown>, prefix: string, messages: string[], alsoRequired: readonly string[] = []): ValidatedInput {
  const out: ValidatedInput = {};
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    const path = prefix + lowerFirst(name);
    const member = shapes[ref.shape]!;
    const value = input[name];
    // The AWS JSON protocol reads a member sent as null as an absent one.
    if (value === undefined || value === null) {
      if (shape.required?.includes(name) || alsoRequired.includes(name)) messages.push(`${describe(member, undefined)} at '${path}' failed to satisfy constraint: Member must not be null`);
      continue;
    }
    out[name] = checkValue(member, value, path, messages);
  }
  return out;
}

/** `Value 'x'`, `Value null`, or `Value` alone for blobs and sensitive members. */
function describe(shape: Shape, value: unknown): string {
  if (shape.type === 'blob' || shape.sensitive) return 'Value';
  if (value === undefined) return 'Value null';
  return `Value '${javaString(value)}'`;
}

/**
 * A value as AWS's Java front end echoes it (its toString): lists `[a, b]`, maps `{k=v}`. Only
 * called on values whose type has been checked, so it never nests more than a structure does.
 */
function javaString(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(javaString).join(', ')}]`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${k}=${javaString(v)}`).join(', ')}}`;
  return String(value);
}

function checkValue(shape: Shape, value: unknown, path: string, messages: string[]): unknown {
  const fail = (constraint: string) => messages.push(`${describe(shape, value)} at '${path}' failed to satisfy constraint: Member must ${constraint}`);
  const length = (n: number) => {
    if (shape.min !== undefined && n < shape.min) fail(`have length greater than or equal to ${shape.min}`);
    if (shape.max !== undefined && n > shape.max) fail(`have length less than or equal to ${shape.max}`);
  };
  switch (shape.type) {
    case 'string': {
      if (typeof value !== 'string') mismatch(value, 'a String');
      length(value.length);
      if (shape.pattern !== undefined && !regex(shape.pattern).test(value)) fail(`satisfy regular expression pattern: ${shape.pattern}`);
      if (shape.enum && !shape.enum.includes(value)) fail(`satisfy enum value set: [${shape.enum.join(', ')}]`);
      return value;
    }
    case 'integer':
    case 'long': {
      if (typeof value !== 'number' || !Number.isInteger(value)) mismatch(value, 'an Integer');
      if (shape.min !== undefined && value < shape.min) fail(`have value greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) fail(`have value less than or equal to ${shape.max}`);
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') mismatch(value, 'a Boolean');
      return value;
    case 'timestamp':
      if (typeof value !== 'number') mismatch(value, 'a Date');
      return value;
    case 'blob': {
      if (typeof value !== 'string') mismatch(value, 'a ByteBuffer');
      const bytes = decodeBase64(value);
      length(bytes.length);
      return bytes;
    }
    case 'list': {
      if (!Array.isArray(value)) mismatch(value, 'a List');
      const member = shapes[shape.member!.shape]!;
      // Elements first: one of the wrong type fails the whole request before any constraint is
      // judged (and before the list is echoed in a message).
      const itemMessages: string[] = [];
      const items = value.map((item, i) => {
        const itemPath = `${path}.${i + 1}.member`;
        // A null element is not dropped as a null member is: lists are not sparse in the KMS
        // model, so AWS refuses it. AWS's docs do not show the message; this is its wording for
        // a null member, at the element's path as the other element constraints use it.
        if (item === null || item === undefined) {
          itemMessages.push(`${describe(member, undefined)} at '${itemPath}' failed to satisfy constraint: Member must not be null`);
          return item;
        }
        return member.type === 'structure'
          ? checkStructure(member, asObject(item), `${itemPath}.`, itemMessages)
          : checkValue(member, item, itemPath, itemMessages);
      });
      length(value.length);
      // A loop, not push(...): a list of 200,000 nulls would pass 200,000 arguments and overflow the stack.
      for (const m of itemMessages) messages.push(m);
      return items;
    }
    case 'map': {
      const obj = asObject(value);
      const keyShape = shapes[shape.key!.shape]!;
      const valueShape = shapes[shape.value!.shape]!;
      const entryMessages: string[] = [];
      let nullValue = false;
      for (const [k, v] of Object.entries(obj)) {
        checkValue(keyShape, k, path, entryMessages);
        if (v === null || v === undefined) nullValue = true;
        else checkValue(valueShape, v, path, entryMessages);
      }
      length(Object.keys(obj).length);
      // {"k": null}: maps are not sparse either. Wording: AWS's for a map value's constraints.
      if (nullValue) messages.push(`${describe(shape, obj)} at '${path}' failed to satisfy constraint: Map value must satisfy constraint: [Member must not be null]`);
      for (const m of entryMessages) messages.push(m);
      return obj;
    }
    case 'structure':
      return checkStructure(shape, asObject(value), `${path}.`, messages);
    default:
      return value;
  }
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) mismatch(value, 'a Map');
  return value as Record<string, unknown>;
}

/** Canonical padded base64: what /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/ accepts. */
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64_ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_ALPHABET[c.charCodeAt(0)] = 1;

/**
 * The BASE64 test as a loop: the regular expression costs several microseconds on a 1 KiB
 * plaintext, on every Encrypt (tested to agree with it).
 */
export function isBase64(value: string): boolean {
  const n = value.length;
  if (n % 4 !== 0) return false;
  let end = n;
  if (n > 0 && value.charCodeAt(n - 1) === 61) end = value.charCodeAt(n - 2) === 61 ? n - 2 : n - 1;
  for (let i = 0; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c > 127 || BASE64_ALPHABET[c] === 0) return false;
  }
  return true;
}

function decodeBase64(value: string): Buffer {
  if (!isBase64(value)) throw new SerializationException('Base64 encoded data could not be decoded.');
  return Buffer.from(value, 'base64');
}

function tokenOf(value: unknown): string {
  if (typeof value === 'string') return 'STRING_VALUE';
  if (typeof value === 'number') return 'NUMBER_VALUE';
  if (typeof value === 'boolean') return value ? 'TRUE_VALUE' : 'FALSE_VALUE';
  return 'VALUE';
}

/** A member of the wrong JSON type, as AWS's JSON deserializer reports it. */
function mismatch(value: unknown, target: string): never {
  if (Array.isArray(value)) throw new SerializationException('Start of list found where not expected');
  if (typeof value === 'object' && value !== null) throw new SerializationException('Start of structure or map found where not expected.');
  throw new SerializationException(`${tokenOf(value)} can not be converted to ${target}`);
}
