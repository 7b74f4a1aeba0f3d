let cachedSecond = Number.NaN;
let cachedString = '';

/**
 * `date.toUTCString()` (the HTTP `Date` header's form), built once per second: responses in the
 * same second share the string. Times are floored to the second, as the string shows them.
 */
export function httpDate(date: Date | number): string {
  const ms = typeof date === 'number' ? date : date.getTime();
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedString = new Date(second * 1000).toUTCString();
    cachedSecond = second;
  }
  return cachedString;
}
