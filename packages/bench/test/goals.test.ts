import { checkGoals, goalsMarkdown, type BenchReport, type ScenarioResult, type Stats } from '../src';

const stats = (over: Partial<Stats>): Stats => ({
  ops: 100,
  opsPerSec: 100,
  p50Ms: 1,
  p99Ms: 2,
  meanMs: 1,
  maxMs: 3,
  mibPerSec: null,
  errors: 0,
  errorSamples: [],
  seconds: 1,
  bytes: 0,
  serverCpuUsPerOp: null,
  ...over,
});

const result = (scenario: string, concurrency: number, sealbox: Partial<Stats>, moto?: Partial<Stats>): ScenarioResult => ({
  scenario,
  title: scenario,
  kind: 'steady',
  concurrency,
  sealbox: stats(sealbox),
  moto: moto ? stats(moto) : null,
  ceiling: stats({}),
  sealboxToMoto: null,
  sealboxToCeiling: null,
});

const report = (results: ScenarioResult[], storage: 'data-dir' | 'in-memory' = 'data-dir'): BenchReport =>
  ({ results, options: { durationSeconds: 1, warmupSeconds: 0, quick: false, moto: true, concurrency: [1, 16], only: null, storage } }) as unknown as BenchReport;

describe('bench goals (issue 21)', () => {
  it('meets a CPU goal at or under its limit and misses it above', () => {
    const outcomes = checkGoals(report([result('kms-encrypt', 16, { serverCpuUsPerOp: 120 }), result('kms-encrypt', 1, { serverCpuUsPerOp: 160.5 })]));
    const enc16 = outcomes.find((o) => o.goal.scenario === 'kms-encrypt' && o.goal.concurrency === 16)!;
    const enc1 = outcomes.find((o) => o.goal.scenario === 'kms-encrypt' && o.goal.concurrency === 1)!;
    expect([enc16.met, enc1.met]).toEqual([true, false]);
  });

  it("judges large SSE-KMS objects by MiB/s over moto's in the same run", () => {
    const outcomes = checkGoals(report([result('s3-get-1m-kms', 1, { mibPerSec: 300 }, { mibPerSec: 150 }), result('s3-get-1m-kms', 16, { mibPerSec: 299 }, { mibPerSec: 150 })]));
    const get = outcomes.filter((o) => o.goal.scenario === 's3-get-1m-kms').map((o) => [o.goal.concurrency, o.met]);
    expect(get).toEqual([
      [1, true],
      [16, false],
    ]);
  });

  it('does not judge what was not measured: no moto, in memory for the on-disk goals, scenarios not run', () => {
    const r = report([result('s3-put-4k', 16, { serverCpuUsPerOp: 100 }), result('s3-put-1m-kms', 16, { mibPerSec: 300 })], 'in-memory');
    const outcomes = checkGoals(r);
    expect(outcomes.find((o) => o.goal.scenario === 's3-put-4k')).toMatchObject({ met: null, why: expect.stringContaining('data directory') });
    expect(outcomes.find((o) => o.goal.scenario === 's3-put-1m-kms')).toMatchObject({ met: null, why: 'moto not run' });
    expect(outcomes.find((o) => o.goal.scenario === 'kms-decrypt')).toMatchObject({ met: null, why: 'not run' });
    const md = goalsMarkdown(r);
    expect(md).toContain('Targets (0 of 2 met):');
    expect(md).not.toContain('kms-decrypt');
  });

  it('prints each goal with its figure', () => {
    const md = goalsMarkdown(report([result('s3-list-objects-v2', 16, { serverCpuUsPerOp: 4321 })]));
    expect(md).toBe('Targets (1 of 1 met):\n\n- met: s3-list-objects-v2, concurrency 16: ≤ 5,000 µs of CPU per operation; measured 4,321 µs\n');
    // Nothing missed, nothing unmeasured counted as missed: no pointer.
    expect(goalsMarkdown(report([result('s3-put-4k', 16, { serverCpuUsPerOp: 100 })], 'in-memory'))).not.toContain('What bounds');
  });

  it('points at what bounds the targets a run missed', () => {
    const md = goalsMarkdown(report([result('s3-list-objects-v2', 16, { serverCpuUsPerOp: 6000 })]));
    expect(md).toContain('- MISSED: s3-list-objects-v2, concurrency 16');
    expect(md).toContain('What bounds each missed target on this machine (profiles of the server under this load): docs/benchmark.md, "What bounds the targets not met".');
  });
});
