/**
 * A small, strict, dependency-free XML parser for S3 request bodies.
 *
 * It accepts well-formed XML 1.0 with namespaces and nothing else: an optional
 * XML declaration, comments, processing instructions, CDATA sections, the five
 * predefined entities and numeric character references. Document type
 * declarations (and so any user-defined entity, external or not) are refused
 * outright, which rules out XXE and entity-expansion attacks. Nesting deeper
 * than MAX_DEPTH elements or more than MAX_NODES elements are refused too.
 *
 * Every failure is S3's MalformedXML error (400), which is what S3 answers for
 * a body it cannot parse.
 */
import { S3Error } from './errors';

export const MALFORMED_XML_MESSAGE =
  'The XML you provided was not well-formed or did not validate against our published schema';

/** S3's MalformedXML error (HTTP 400). */
export function malformedXml(): S3Error {
  return new S3Error('MalformedXML', 400, MALFORMED_XML_MESSAGE);
}

export interface XmlNode {
  /** Local name: any namespace prefix is stripped. */
  name: string;
  /**
   * The element's own character data (text and CDATA directly inside it, not
   * that of descendants), entity-decoded and concatenated in document order.
   */
  text: string;
  /** Child elements, in document order. */
  children: XmlNode[];
  /** Attributes by qualified name as written (`xmlns`, `xmlns:s3`, `a:b` ...), values decoded. */
  attributes: Record<string, string>;
}

/** Elements nested deeper than this (the root is at depth 1) are refused. */
export const MAX_DEPTH = 64;
/** Documents with more elements than this are refused. */
export const MAX_NODES = 100_000;

const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

// XML 1.0 (fifth edition) productions 4, 4a and 5, without ':' (that is, NCName).
const NAME_START = 'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
/** A QName (prefix:local or local), matched at a position. */
const QNAME = new RegExp(`[${NAME_START}][${NAME_CHAR}]*(?::[${NAME_START}][${NAME_CHAR}]*)?`, 'uy');
/** Characters that may not appear in an XML 1.0 document at all (including lone surrogates). */
const INVALID_CHAR = /[^\t\n\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const WHITESPACE_ONLY = /^[ \t\n]*$/;
const XML_DECLARATION =
  /^<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(?:"1\.[0-9]+"|'1\.[0-9]+')(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(?:"[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\n]*\?>/;

const PREDEFINED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Replaces entity and character references; anything else starting with '&' is an error. */
function decodeReferences(raw: string): string {
  let amp = raw.indexOf('&');
  if (amp === -1) return raw;
  let out = '';
  let from = 0;
  while (amp !== -1) {
    const semi = raw.indexOf(';', amp + 1);
    if (semi === -1) throw malformedXml();
    const ref = raw.slice(amp + 1, semi);
    let decoded: string;
    if (/^#[0-9]{1,10}$/.test(ref) || /^#x[0-9A-Fa-f]{1,8}$/.test(ref)) {
      const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!isXmlChar(cp)) throw malformedXml();
      decoded = String.fromCodePoint(cp);
    } else {
      const entity = Object.prototype.hasOwnProperty.call(PREDEFINED_ENTITIES, ref) ? PREDEFINED_ENTITIES[ref] : undefined;
      if (entity === undefined) throw malformedXml();
      decoded = entity;
    }
    out += raw.slice(from, amp) + decoded;
    from = semi + 1;
    amp = raw.indexOf('&', from);
  }
  return out + raw.slice(from);
}

function setOwn(record: Record<string, string>, key: string, value: string): void {
  // defineProperty so that an attribute called "__proto__" is an ordinary own property.
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

interface OpenElement {
  node: XmlNode;
  qname: string;
  /** Namespace prefixes this element declares (xmlns:p), if any. */
  declared: Set<string> | undefined;
}

/** Parses a whole document and returns its root element. Throws MalformedXML on any error. */
export function parseXml(input: string): XmlNode {
  if (typeof input !== 'string') throw malformedXml();
  // End-of-line handling (XML 1.0 section 2.11); a byte order mark is not content.
  const s = (input.charCodeAt(0) === 0xfeff ? input.slice(1) : input).replace(/\r\n?/g, '\n');
  if (INVALID_CHAR.test(s)) throw malformedXml();

  const length = s.length;
  let i = 0;
  if (s.startsWith('<?xml') && /^<\?xml[ \t\n?]/.test(s)) {
    const declaration = XML_DECLARATION.exec(s);
    if (!declaration) throw malformedXml();
    i = declaration[0].length;
  }

  const stack: OpenElement[] = [];
  let root: XmlNode | undefined;
  let nodes = 0;

  const readName = (): string => {
    QNAME.lastIndex = i;
    const m = QNAME.exec(s);
    if (!m) throw malformedXml();
    i += m[0].length;
    return m[0];
  };
  const skipSpace = (): boolean => {
    const start = i;
    while (i < length) {
      const c = s.charCodeAt(i);
      if (c !== 0x20 && c !== 0x9 && c !== 0xa) break;
      i++;
    }
    return i > start;
  };
  const localName = (qname: string): string => {
    const colon = qname.indexOf(':');
    return colon === -1 ? qname : qname.slice(colon + 1);
  };
  const prefixOf = (qname: string): string | undefined => {
    const colon = qname.indexOf(':');
    return colon === -1 ? undefined : qname.slice(0, colon);
  };

  while (i < length) {
    const lt = s.indexOf('<', i);
    const end = lt === -1 ? length : lt;
    if (end > i) {
      const raw = s.slice(i, end);
      const top = stack[stack.length - 1];
      if (!top) {
        // Only white space may appear outside the root element.
        if (!WHITESPACE_ONLY.test(raw)) throw malformedXml();
      } else {
        if (raw.includes(']]>')) throw malformedXml();
        top.node.text += decodeReferences(raw);
      }
    }
    if (lt === -1) break;
    i = lt;

    if (s.startsWith('<!--', i)) {
      const close = s.indexOf('-->', i + 4);
      if (close === -1) throw malformedXml();
      const comment = s.slice(i + 4, close);
      if (comment.includes('--') || comment.endsWith('-')) throw malformedXml();
      i = close + 3;
    } else if (s.startsWith('<![CDATA[', i)) {
      const top = stack[stack.length - 1];
      if (!top) throw malformedXml();
      const close = s.indexOf(']]>', i + 9);
      if (close === -1) throw malformedXml();
      top.node.text += s.slice(i + 9, close);
      i = close + 3;
    } else if (s.startsWith('<!', i)) {
      // <!DOCTYPE ...>, <!ENTITY ...> and every other markup declaration: refused (XXE safety).
      throw malformedXml();
    } else if (s.startsWith('<?', i)) {
      // A processing instruction: skipped. The XML declaration is only allowed at the very start.
      i += 2;
      const target = readName();
      if (target.includes(':') || target.toLowerCase() === 'xml') throw malformedXml();
      if (!s.startsWith('?>', i)) {
        if (!skipSpace()) throw malformedXml();
        const close = s.indexOf('?>', i);
        if (close === -1) throw malformedXml();
        i = close;
      }
      i += 2;
    } else if (s.startsWith('</', i)) {
      i += 2;
      const qname = readName();
      skipSpace();
      if (s[i] !== '>') throw malformedXml();
      i++;
      const top = stack.pop();
      if (!top || top.qname !== qname) throw malformedXml();
    } else {
      i += 1;
      const qname = readName();
      if (stack.length === 0 && root) throw malformedXml(); // a second root element
      if (stack.length + 1 > MAX_DEPTH) throw malformedXml();
      if (++nodes > MAX_NODES) throw malformedXml();

      const attributes: Record<string, string> = {};
      const names: string[] = [];
      let selfClosing = false;
      for (;;) {
        const spaced = skipSpace();
        if (s.startsWith('/>', i)) {
          selfClosing = true;
          i += 2;
          break;
        }
        if (s[i] === '>') {
          i++;
          break;
        }
        if (!spaced || i >= length) throw malformedXml();
        const name = readName();
        skipSpace();
        if (s[i] !== '=') throw malformedXml();
        i++;
        skipSpace();
        const quote = s[i];
        if (quote !== '"' && quote !== "'") throw malformedXml();
        const close = s.indexOf(quote, i + 1);
        if (close === -1) throw malformedXml();
        const raw = s.slice(i + 1, close);
        if (raw.includes('<')) throw malformedXml();
        i = close + 1;
        if (Object.prototype.hasOwnProperty.call(attributes, name)) throw malformedXml();
        // Attribute-value normalisation (section 3.3.3): literal white space becomes a space.
        setOwn(attributes, name, decodeReferences(raw.replace(/[\t\n]/g, ' ')));
        names.push(name);
      }

      // Namespaces in XML 1.0: declarations first, then every prefix used must be in scope.
      const parent = stack[stack.length - 1];
      let declared: Set<string> | undefined;
      for (const name of names) {
        const value = attributes[name]!;
        if (name === 'xmlns') {
          if (value === XML_NAMESPACE || value === XMLNS_NAMESPACE) throw malformedXml();
        } else if (name.startsWith('xmlns:')) {
          const prefix = name.slice(6);
          if (prefix === 'xmlns') throw malformedXml();
          if (prefix === 'xml' ? value !== XML_NAMESPACE : value === '' || value === XML_NAMESPACE || value === XMLNS_NAMESPACE) {
            throw malformedXml();
          }
          (declared ??= new Set()).add(prefix);
        }
      }
      // Scope lookup walks the open elements (at most MAX_DEPTH) rather than copying sets,
      // so that many declarations cannot make parsing quadratic.
      const inScope = (prefix: string): boolean =>
        prefix === 'xml' || declared?.has(prefix) === true || stack.some((open) => open.declared?.has(prefix) === true);
      const elementPrefix = prefixOf(qname);
      if (elementPrefix !== undefined && (elementPrefix === 'xmlns' || !inScope(elementPrefix))) throw malformedXml();
      for (const name of names) {
        const prefix = prefixOf(name);
        if (prefix !== undefined && prefix !== 'xmlns' && !inScope(prefix)) throw malformedXml();
      }

      const node: XmlNode = { name: localName(qname), text: '', children: [], attributes };
      if (parent) parent.node.children.push(node);
      else root = node;
      if (!selfClosing) stack.push({ node, qname, declared });
    }
  }

  if (stack.length > 0 || !root) throw malformedXml();
  return root;
}

/** The first child element with this local name. */
export function child(node: XmlNode, name: string): XmlNode | undefined {
  return node.children.find((c) => c.name === name);
}

/** All child elements with this local name, in document order. */
export function childrenNamed(node: XmlNode, name: string): XmlNode[] {
  return node.children.filter((c) => c.name === name);
}

/** The text of the first child element with this local name. */
export function childText(node: XmlNode, name: string): string | undefined {
  return child(node, name)?.text;
}
