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

/**
 * `Date.UTC` without its two-digit-year rule (years 0-99 would become 1900-1999): months and days
 * out of range roll over, as with `Date.UTC`.
 */
function utc(year: number, monthIndex: number, day: number, hour = 0, minute = 0, second = 0, millis = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime();
}

/** Milliseconds since the epoch, or null when `text` is not a valid date. */
export function parseDate(text: string): number | null {
  const trimmed = text.trim();
  // Digits are epoch seconds, except exactly four, the W3C year form (read by ISO below).
  if (/^-?\d+(?:\.\d+)?$/.test(trimmed) && !/^\d{4}$/.test(trimmed)) {
    return Number(trimmed) * 1000;
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
  if (hour > 24 || minute > 59 || second > 60) return null;
  let time = utc(year, month - 1, day, hour, minute, second, millis);
  // Reject month 13, day 32, 2024-02-30 and friends, which roll over into another month (a day
  // of 00-99 never rolls a whole year, so the month alone tells).
  if (new Date(utc(year, month - 1, day)).getUTCMonth() !== month - 1) return null;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
    time -= sign * offsetMinutes * 60_000;
  }
  return time;
}
