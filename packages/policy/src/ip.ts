/**
 * IPv4 and IPv6 addresses and CIDR blocks for `IpAddress` / `NotIpAddress`. Per the IAM condition
 * operators reference, values use standard CIDR notation (203.0.113.0/24, 2001:DB8:1234:5678::/64)
 * and an address without a prefix length means a single address (/32, or /128 for IPv6).
 */

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  /** Network address with the host bits cleared. */
  network: bigint;
  prefix: number;
  mask: bigint;
}

function parseIPv4Number(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIPv6Number(text: string): bigint | null {
  if (text.length === 0 || text.includes('%')) return null;
  let head = text;
  let tail = '';
  const doubleColon = text.indexOf('::');
  if (doubleColon >= 0) {
    if (text.indexOf('::', doubleColon + 1) >= 0) return null;
    head = text.slice(0, doubleColon);
    tail = text.slice(doubleColon + 2);
  }
  const groups = (side: string): number[] | null => {
    if (side === '') return [];
    const out: number[] = [];
    const pieces = side.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIPv4Number(piece);
        if (v4 === null) return null;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return null;
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const headGroups = groups(head);
  const tailGroups = groups(tail);
  if (headGroups === null || tailGroups === null) return null;
  // An embedded IPv4 address is only allowed at the very end.
  if (doubleColon >= 0 && head.includes('.')) return null;
  let all: number[];
  if (doubleColon >= 0) {
    const missing = 8 - headGroups.length - tailGroups.length;
    if (missing < 1) return null;
    all = [...headGroups, ...new Array<number>(missing).fill(0), ...tailGroups];
  } else {
    all = headGroups;
  }
  if (all.length !== 8) return null;
  let value = 0n;
  for (const g of all) value = (value << 16n) | BigInt(g);
  return value;
}

const V4_MAPPED_PREFIX = 0xffffn << 32n;

/**
 * Parses an IPv4 or IPv6 address. IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are returned as
 * IPv4 so that they match IPv4 blocks, as a dual-stack listener reports IPv4 clients that way.
 */
export function parseIpAddress(text: string): IpAddress | null {
  const trimmed = text.trim();
  if (trimmed.includes(':')) {
    const value = parseIPv6Number(trimmed);
    if (value === null) return null;
    if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
    return { family: 6, value };
  }
  const value = parseIPv4Number(trimmed);
  return value === null ? null : { family: 4, value };
}

/** Parses `a.b.c.d[/n]` or an IPv6 address with an optional `/n`. Returns null when invalid. */
export function parseCidr(text: string): Cidr | null {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash < 0 ? trimmed : trimmed.slice(0, slash);
  let family: 4 | 6;
  let value: bigint | null;
  if (addressText.includes(':')) {
    family = 6;
    value = parseIPv6Number(addressText);
  } else {
    family = 4;
    value = parseIPv4Number(addressText);
  }
  if (value === null) return null;
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (prefix > bits) return null;
  }
  // An IPv4-mapped IPv6 block (::ffff:0:0/96 and longer) is treated as the IPv4 block it maps.
  if (family === 6 && prefix >= 96 && (value & ~((1n << 32n) - 1n)) === V4_MAPPED_PREFIX) {
    family = 4;
    value &= 0xffffffffn;
    prefix -= 96;
  }
  const width = BigInt(family === 4 ? 32 : 128);
  const all = (1n << width) - 1n;
  const mask = prefix === 0 ? 0n : (all >> BigInt(Number(width) - prefix)) << BigInt(Number(width) - prefix);
  return { family, network: value & mask, prefix, mask };
}

export function cidrContainsAddress(cidr: Cidr, address: IpAddress): boolean {
  return cidr.family === address.family && (address.value & cidr.mask) === cidr.network;
}

/**
 * True when `ip` lies in `cidr` (both as text). A bare address as `cidr` means that one address.
 * Returns false (never throws) when either side is not a valid address of the same family.
 */
export function cidrContains(cidr: string, ip: string): boolean {
  const block = parseCidr(cidr);
  const address = parseIpAddress(ip);
  return block !== null && address !== null && cidrContainsAddress(block, address);
}
