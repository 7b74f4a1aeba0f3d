// VirtualClock.state() and restore(): what a sandbox's reset and snapshots put back.
import { VirtualClock } from '../src';

describe('VirtualClock state and restore', () => {
  it('puts back the offset and the history of advances', async () => {
    let wall = 1_000_000_000_500;
    const clock = new VirtualClock(() => wall, async (ms) => void (wall += ms));
    const start = clock.state();
    await clock.advance(60);
    const saved = clock.state();
    const signedAfterFirst = new Date(wall);
    await clock.advance(3600);
    expect(clock.offsetSeconds).toBe(3660);
    clock.restore(saved);
    expect(clock.offsetSeconds).toBe(60);
    // A timestamp is judged on the restored timeline.
    expect(clock.fromWallClock(signedAfterFirst).getTime()).toBe(signedAfterFirst.getTime() + 60_000);
    clock.restore(start);
    expect(clock.offsetSeconds).toBe(0);
    expect(clock.fromWallClock(signedAfterFirst).getTime()).toBe(signedAfterFirst.getTime());
  });

  it('drops an advance still waiting for its second when the state is restored meanwhile', async () => {
    let wall = 1_000_000_000_500;
    let release: () => void = () => undefined;
    const clock = new VirtualClock(
      () => wall,
      (ms) =>
        new Promise<void>((resolve) => {
          release = () => {
            wall += ms;
            resolve();
          };
        }),
    );
    const start = clock.state();
    const advancing = clock.advance(3600);
    clock.restore(start);
    release();
    await advancing;
    expect(clock.offsetSeconds).toBe(0);
  });
});
