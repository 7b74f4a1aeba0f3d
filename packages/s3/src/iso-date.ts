/**
 * Calendar checks for the ISO 8601 timestamps S3 reads (Object Lock retain-until dates, lifecycle
 * Dates). JavaScript's Date.parse rolls impossible dates over (2031-02-29 becomes 1 March,
 * 2031-04-31 becomes 1 May, 24:00 the next day); S3 validates timestamps as xs:dateTime and
 * java.time do, which refuse them. So a date must be a real day of its month, and the time of
 * day at most 23:59:59.
 * https://www.w3.org/TR/xmlschema-2/#dateTime ("day values must be valid for the month")
 */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const isLeapYear = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

/** Whether `text` (starting YYYY-MM-DD, maybe followed by Thh:mm[:ss]) names a real calendar day and time of day. */
export function calendarFieldsValid(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(text);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const last = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day > last) return false;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || (m[6] !== undefined && Number(m[6]) > 59))) return false;
  return true;
}
