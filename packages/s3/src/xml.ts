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
