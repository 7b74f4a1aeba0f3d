import { VirtualClock } from '../src';

describe('VirtualClock', () => {
  it('follows its base time plus the offset and notifies on advance', () => {
    let base = 1_000_000;
    const clock = new VirtualClock(() => base);
    const seen: number[] = [];
    clock.onAdvance((now) => seen.push(now.getTime()));
    expect(clock.now().getTime()).toBe(1_000_000);
    clock.advance(60);
    base += 5;
    expect(clock.now().getTime()).toBe(1_060_005);
    expect(seen).toEqual([1_060_000]);
    expect(clock.offsetSeconds).toBe(60);
  });

  it('places wall-clock timestamps on the virtual timeline by when they were made', () => {
    let wall = 1_000_500;
    const clock = new VirtualClock(() => wall);
    const before = new Date(wall - 2000);
    const secondBefore = new Date(wall - 400);
    wall += 100;
    clock.advance(3600);
    wall += 100;
    expect(clock.fromWallClock(before).getTime()).toBe(before.getTime());
    // A client correcting its clock from our whole-second Date header may sign a second behind.
    expect(clock.fromWallClock(secondBefore).getTime()).toBe(secondBefore.getTime() + 3_600_000);
    expect(clock.fromWallClock(new Date(wall)).getTime()).toBe(wall + 3_600_000);
    expect(clock.wallNow().getTime()).toBe(wall);
  });

  it('only moves forward', () => {
    expect(() => new VirtualClock().advance(-1)).toThrow(RangeError);
    expect(() => new VirtualClock().advance(Number.NaN)).toThrow(RangeError);
  });
});
