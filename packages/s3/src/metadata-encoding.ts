/**
 * User-defined metadata (x-amz-meta-*) beyond US-ASCII, as S3 carries it: "the provided Unicode
 * string is examined for non-US-ASCII characters. Values of such headers are character decoded as
 * per RFC 2047 before storing and encoded as per RFC 2047 to make them mail-safe before
 * returning."
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html#UserMetadata
 *
 * Values are kept as the bytes of their UTF-8 text, one character per byte (a Latin-1 string, as
 * Node hands header values over), so a value stored by an older Sealbox reads the same.
 */

/** `=?charset?B|Q?text?=`, RFC 2047 section 2. */
const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
const ONLY_ENCODED_WORDS = /^\s*=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=(?:\s+=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)*\s*$/;

/** A header value as received (bytes as Latin-1) to the value stored (UTF-8 bytes as Latin-1). */
export function decodeMetadataValue(received: string): string {
  if (!ONLY_ENCODED_WORDS.test(received)) return received;
  const parts: Buffer[] = [];
  for (const [, charset, encoding, text] of received.matchAll(ENCODED_WORD)) {
    const bytes = encoding!.toUpperCase() === 'B' ? Buffer.from(text!, 'base64') : decodeQ(text!);
    const name = charset!.toLowerCase().replace(/\*.*$/, '');
    if (name === 'utf-8') parts.push(bytes);
    else if (name === 'iso-8859-1' || name === 'us-ascii') parts.push(Buffer.from(bytes.toString('latin1'), 'utf8'));
    // A charset Sealbox cannot decode: kept as sent.
    else return received;
  }
  return Buffer.concat(parts).toString('latin1');
}

/** RFC 2047 "Q": quoted-printable with `_` for a space. */
function decodeQ(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '_') out.push(0x20);
    else if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c.charCodeAt(0) & 0xff);
  }
  return Buffer.from(out);
}

/**
 * A stored value as GET and HEAD return it: unchanged when printable US-ASCII, otherwise one
 * `=?UTF-8?B?...?=` encoded word over its UTF-8 bytes (bytes that are not UTF-8 were Latin-1).
 */
export function encodeMetadataValue(stored: string): string {
  if (/^[\t\x20-\x7e]*$/.test(stored)) return stored;
  const bytes = Buffer.from(stored, 'latin1');
  const utf8 = isUtf8(bytes) ? bytes : Buffer.from(stored, 'utf8');
  return `=?UTF-8?B?${utf8.toString('base64')}?=`;
}

/** The size S3 counts toward the 2 KB of metadata: the bytes of the UTF-8 text. */
export const metadataBytes = (stored: string) => Buffer.byteLength(stored, 'latin1');

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}
