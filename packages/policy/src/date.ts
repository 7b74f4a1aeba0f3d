/**
 * Date values for the `Date*` operators. The IAM condition operators reference requires "one of
 * the W3C implementations of the ISO 8601 date formats or epoch (UNIX) time":
 *
 *   YYYY   YYYY-MM   YYYY-MM-DD   YYYY-MM-DDThh:mmTZD   YYYY-MM-DDThh:mm:ssTZD
 *   YYYY-MM-DDThh:mm:ss.sTZD      (TZD = Z or +hh:mm / -hh:mm)
 *
 * A string of digits (optionally with a fraction) is epoch seconds, as `aws:EpochTime` is, except
 * exactly four digits, which is the W3C year form (`2024`); epoch seconds that small would be the
 * first hours of 1970. A time without a zone designator is read as UTC rather than as the host's
 * local time.
 */

const ISO =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:?\d{2})?)?)?)?$/;

/** Milliseconds since the epoch, or null when `text` is not a valid date. */
export function parseDate(text: string): number | null {
  const trimmed = text.trim();
  if (/^-?\d+(?:\.\d+)?$/.test(trimmed) && !/^\d{4}$/.test(trimmed)) {
    return Number(trimmed) * 1000;
  }
  if (/^\d{4}$/.test(trimmed)) {
    return Date.UTC(Number(trimmed), 0, 1);
  }
  const m = ISO.exec(trimmed);
  if (m === null) return null;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Math.floor(Number('0.' + m[7]) * 1000);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) return null;
  let time = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Reject 2024-02-30 and friends (Date.UTC would roll them over).
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
    time -= sign * offsetMinutes * 60_000;
  }
  return time;
}
