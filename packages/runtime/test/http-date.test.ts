import { httpDate } from '../src/http-date';

describe('httpDate', () => {
  it('gives toUTCString for any time, across second boundaries and backwards', () => {
    const times = [Date.UTC(2026, 10, 27, 11, 59, 59, 999), Date.UTC(2026, 10, 27, 12, 0, 0, 0), Date.UTC(2026, 10, 27, 12, 0, 0, 1), Date.UTC(2026, 10, 27, 11, 59, 59, 0), 0, -1, -1000, -1001, 1_000_000_000_123];
    for (const ms of times) {
      expect(httpDate(ms)).toBe(new Date(ms).toUTCString());
      expect(httpDate(new Date(ms))).toBe(new Date(ms).toUTCString());
    }
  });
});
