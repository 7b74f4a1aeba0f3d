import model from '../model/kms-model.json';

/*
 * What an event record may show of a request: one rule, driven by the AWS KMS API model, for
 * every call, successful or failed (a validation error, an access denial, an unsupported
 * operation all have their record).
 *
 * - A member whose shape the model marks `sensitive` (Smithy's @sensitive trait, kept by
 *   scripts/gen-kms-model.py as `"sensitive": true`) is never recorded: KeyStorePassword, the XKS
 *   proxy credential's AccessKeyId and RawSecretAccessKey, Plaintext, and the Message of Sign,
 *   Verify, GenerateMac and VerifyMac. CloudTrail leaves such members out of requestParameters
 *   altogether; its CreateCustomKeyStore record shows customKeyStoreName and clusterId, never the
 *   kmsuser password:
 *   https://docs.aws.amazon.com/kms/latest/developerguide/ct-create-keystore.html
 * - CloudTrail leaves out some members the model does not mark sensitive: ciphertexts, signatures
 *   and MACs (https://docs.aws.amazon.com/kms/latest/developerguide/ct-sign.html, ct-verify.html,
 *   ct-generatemac.html show keyId and the algorithm only), an import's token and wrapped material
 *   (ct-importkeymaterial.html), and Recipient's attestation document.
 * - Members the model does not know are not recorded either: KMS's JSON deserializer ignores
 *   them, and a misspelt `keyStorePassword` must not reach the log because it is unknown.
 */

interface Shape {
  type: string;
  members?: Record<string, { shape: string }>;
  member?: { shape: string };
  sensitive?: boolean;
}

const shapes = model.shapes as Record<string, Shape>;
const operations = model.operations as Record<string, { input: string; output: string | null }>;

/** Not sensitive in the model, but never in a CloudTrail record of KMS. */
const NOT_RECORDED = new Set(['CiphertextBlob', 'SourceCiphertextBlob', 'Recipient', 'Signature', 'Mac', 'EncryptedKeyMaterial', 'ImportToken']);

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** Whether a member of a structure is left out of event records. */
function hidden(memberName: string, shapeName: string): boolean {
  return NOT_RECORDED.has(memberName) || shapes[shapeName]?.sensitive === true;
}

/** The member of `shape` a record key names: the wire name (`KeyId`) or CloudTrail's (`keyId`). */
function memberOf(shape: Shape, key: string): [string, string] | undefined {
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    if (name === key || lowerFirst(name) === key) return [name, ref.shape];
  }
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `value` of `shape` without its hidden members, at any depth. Unknown members are dropped from
 * a request as it arrived (`keepUnknown` false) and kept in what an operation wrote itself.
 */
function scrub(shape: Shape, value: Record<string, unknown>, keepUnknown: boolean, rename: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const member = memberOf(shape, key);
    if (!member) {
      if (keepUnknown) out[key] = v;
      continue;
    }
    const [name, shapeName] = member;
    if (hidden(name, shapeName)) continue;
    const kept = scrubValue(shapes[shapeName], v, keepUnknown);
    if (kept !== undefined) out[rename ? lowerFirst(key) : key] = kept;
  }
  return out;
}

function scrubValue(shape: Shape | undefined, value: unknown, keepUnknown: boolean): unknown {
  if (!shape) return keepUnknown ? value : undefined;
  if (shape.type === 'structure') {
    // A structure of the wrong JSON type is not recorded (its request failed to deserialize).
    if (!isObject(value)) return undefined;
    const kept = scrub(shape, value, keepUnknown, false);
    // A structure all of whose members are hidden (the XKS proxy credential) is left out whole.
    return Object.keys(kept).length > 0 || Object.keys(value).length === 0 ? kept : undefined;
  }
  if (shape.type === 'list') {
    if (!Array.isArray(value)) return undefined;
    const item = shapes[shape.member!.shape];
    if (item?.sensitive) return undefined;
    return item?.type === 'structure' ? value.map((v) => scrubValue(item, v, keepUnknown) ?? {}) : value;
  }
  return value;
}

/** The requestParameters of a call, from its request as it arrived: CloudTrail's names, nothing hidden. */
export function recordedRequest(operation: string, input: Record<string, unknown>): Record<string, unknown> {
  const op = operations[operation];
  if (!op) return {};
  return scrub(shapes[op.input]!, input, false, true);
}

/** What an operation wrote for its record (CloudTrail-named), without any hidden member of `shapeName`. */
export function withoutHidden(shapeName: string | null | undefined, record: Record<string, unknown>): Record<string, unknown> {
  const shape = shapeName ? shapes[shapeName] : undefined;
  if (!shape) return record;
  return scrub(shape, record, true, false);
}

/** The operation's input and output shape names. */
export function operationShapes(operation: string): { input?: string; output?: string } {
  const op = operations[operation];
  return { input: op?.input, output: op?.output ?? undefined };
}

/** An error message fit for the record: none at all when it holds a hidden value of the request. */
export function recordedErrorMessage(operation: string, input: Record<string, unknown>, message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  return hiddenValues(operation, input).some((v) => message.includes(v)) ? undefined : message;
}

/**
 * The values of a request's hidden members as they could appear in text: the JSON string as sent
 * (base64 for blobs) and, for blobs, the bytes decoded as UTF-8. Values shorter than
 * MIN_MATCHED are left out: they cannot be told from ordinary words of a message.
 */
export function hiddenValues(operation: string, input: Record<string, unknown>): string[] {
  const op = operations[operation];
  const found: string[] = [];
  const visit = (shape: Shape | undefined, value: unknown, hide: boolean): void => {
    if (value === undefined || value === null) return;
    if (hide) {
      collect(value, shape?.type === 'blob', found);
      return;
    }
    if (!shape) return;
    if (shape.type === 'structure' && isObject(value)) {
      for (const [key, v] of Object.entries(value)) {
        const member = memberOf(shape, key);
        if (member) visit(shapes[member[1]], v, hidden(member[0], member[1]));
      }
    } else if (shape.type === 'list' && Array.isArray(value)) {
      const item = shapes[shape.member!.shape];
      for (const v of value) visit(item, v, item?.sensitive === true);
    }
  };
  // Every member of an operation the model does not know is treated as hidden.
  if (!op) collect(input, false, found);
  else visit(shapes[op.input], input, false);
  return found;
}

const MIN_MATCHED = 4;

/**
 * The texts a hidden value could show up as. Walked with a stack, not recursion: a request that
 * fails validation may nest a hidden member thousands of levels deep.
 */
function collect(root: unknown, rootIsBlob: boolean, into: string[]): void {
  const stack: [unknown, boolean][] = [[root, rootIsBlob]];
  while (stack.length > 0) {
    const [value, blob] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.length >= MIN_MATCHED) into.push(value);
      if (blob) {
        const text = Buffer.from(value, 'base64').toString('utf8');
        if (text.length >= MIN_MATCHED && !text.includes('\uFFFD')) into.push(text);
      }
    } else if (typeof value === 'number') {
      if (String(value).length >= MIN_MATCHED) into.push(String(value));
    } else if (Array.isArray(value)) {
      for (const v of value) stack.push([v, false]);
    } else if (isObject(value)) {
      for (const v of Object.values(value)) stack.push([v, false]);
    }
  }
}
