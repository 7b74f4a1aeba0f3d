import { VirtualClock } from '../src';

/** A clock on a fake wall: sleeping moves the wall forward by exactly what was asked. */
function fakeClock(start: number) {
  const state = { wall: start, slept: [] as number[] };
  const clock = new VirtualClock(
    () => state.wall,
    async (ms) => {
      state.slept.push(ms);
      state.wall += ms;
    },
  );
  return { clock, state };
}

describe('VirtualClock', () => {
  it('follows its base time plus the offset and notifies on advance', async () => {
    const { clock, state } = fakeClock(1_000_000);
    const seen: number[] = [];
    clock.onAdvance((now) => seen.push(now.getTime()));
    expect(clock.now().getTime()).toBe(1_000_000);
    await clock.advance(60);
    state.wall += 5;
    expect(clock.now().getTime()).toBe(1_062_005);
    expect(seen).toEqual([1_061_000]);
    expect(clock.offsetSeconds).toBe(60);
  });

  it('takes effect at the next whole second: everything signed before the call is before it, everything after is after', async () => {
    const { clock, state } = fakeClock(1_000_500);
    const sameSecond = new Date(1_000_000); // an X-Amz-Date second, signed just before the call
    const advanced = clock.advance(3600);
    // Until the boundary nothing has moved.
    expect(clock.offsetSeconds).toBe(0);
    await advanced;
    // At 1_001_000 it took effect; a second later (for SDKs signing a second behind) it resolved.
    expect(state.slept).toEqual([500, 1000]);
    expect(state.wall).toBe(1_002_000);
    expect(clock.fromWallClock(sameSecond).getTime()).toBe(sameSecond.getTime());
    expect(clock.fromWallClock(new Date(1_000_999)).getTime()).toBe(1_000_999);
    // An SDK signing a second behind after the promise resolved is still after the advance.
    expect(clock.fromWallClock(new Date(state.wall - 999)).getTime()).toBe(state.wall - 999 + 3_600_000);
    expect(clock.wallNow().getTime()).toBe(state.wall);
  });

  it('reads a timestamp from the two seconds before an advance as possibly after it (fromWallClockLatest), and no other', async () => {
    const { clock } = fakeClock(1_000_500);
    await clock.advance(3600); // took effect at 1_001_000
    expect(clock.fromWallClockLatest(new Date(1_000_000)).getTime()).toBe(1_000_000 + 3_600_000);
    expect(clock.fromWallClock(new Date(1_000_000)).getTime()).toBe(1_000_000);
    expect(clock.fromWallClockLatest(new Date(998_999)).getTime()).toBe(998_999);
    expect(clock.fromWallClockLatest(new Date(999_000)).getTime()).toBe(999_000 + 3_600_000);
  });

  it('waits again when a timer fires early', async () => {
    const state = { wall: 2_000_100, calls: 0 };
    const clock = new VirtualClock(
      () => state.wall,
      async (ms) => {
        state.calls++;
        state.wall += state.calls === 1 ? ms - 3 : ms;
      },
    );
    await clock.advance(1);
    expect(state.calls).toBe(3);
    expect(state.wall).toBe(2_002_000);
  });

  it('two advances in one second both apply at its end', async () => {
    const { clock, state } = fakeClock(5_000_250);
    await Promise.all([clock.advance(10), clock.advance(20)]);
    expect(clock.offsetSeconds).toBe(30);
    expect(clock.fromWallClock(new Date(5_000_999)).getTime()).toBe(5_000_999);
    expect(clock.fromWallClock(new Date(state.wall)).getTime()).toBe(state.wall + 30_000);
  });

  it('only moves forward', async () => {
    await expect(new VirtualClock().advance(-1)).rejects.toThrow(RangeError);
    await expect(new VirtualClock().advance(Number.NaN)).rejects.toThrow(RangeError);
  });
});
