/** The small part of XML that S3 documents need: escaped text and nested elements, in order. */
export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' };

const NEEDS_ESCAPE = /[&<>"'\r]/;

/** Most text (keys, dates, ids) needs no escaping: one scan answers it, and the string is kept. */
export function escapeXml(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(/[&<>"'\r]/g, (c) => ESCAPES[c]!) : text;
}

/** An element; content is escaped text, or already-built child elements (an array). */
export type XmlContent = string | number | boolean | XmlContent[] | undefined | null;

/** `<name>content</name>`; undefined/null content omits the element altogether. */
export function el(name: string, content: XmlContent): string {
  if (content === undefined || content === null) return '';
  if (Array.isArray(content)) return `<${name}>${content.join('')}</${name}>`;
  return `<${name}>${escapeXml(String(content))}</${name}>`;
}

/** A whole document with the S3 namespace on its root element. */
export function s3Document(root: string, children: string[]): string {
  return `${XML_DECLARATION}<${root} xmlns="${S3_XMLNS}">${children.join('')}</${root}>`;
}

/**
 * Text written piece by piece into one growing UTF-8 buffer and read back as one flat string: a
 * long document (a listing page of a thousand entries) built without a rope of thousands of pieces
 * that is flattened, then walked again to encode it. The string is the exact text added (bytes
 * that are all ASCII read back as latin1, any other as UTF-8, which gives back what was written).
 */
export class TextBuffer {
  private buf: Buffer;
  private bytes = 0;
  private ascii = true;

  constructor(capacity = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  add(text: string): void {
    // At most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
    const room = text.length * 3;
    if (this.bytes + room > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.bytes + room));
      this.buf.copy(bigger, 0, 0, this.bytes);
      this.buf = bigger;
    }
    const n = this.buf.write(text, this.bytes, 'utf8');
    // One byte per unit only when every unit is ASCII.
    if (n !== text.length) this.ascii = false;
    this.bytes += n;
  }

  toString(): string {
    return this.buf.toString(this.ascii ? 'latin1' : 'utf8', 0, this.bytes);
  }
}
