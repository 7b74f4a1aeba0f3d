import type { BenchReport, ScenarioResult } from './run';

/**
 * The figures Sealbox is held to (issue 21), checked against a run: server CPU per operation
 * (which does not depend on the load generator's share of the machine) for small requests and
 * listings, and MiB/s against moto's, measured in the same run, for large SSE-KMS objects.
 */
export interface Goal {
  scenario: string;
  concurrency: number;
  /** What is compared: CPU µs per operation (at most `limit`), or MiB/s over moto's (at least `limit`). */
  measure: 'cpu' | 'moto-ratio';
  limit: number;
  /** Only meaningful with Sealbox's state on disk (the default). */
  onDisk?: boolean;
}

export const GOALS: readonly Goal[] = [
  ...['kms-encrypt', 'kms-decrypt', 'kms-generate-data-key'].flatMap((scenario) => [
    { scenario, concurrency: 16, measure: 'cpu' as const, limit: 120 },
    { scenario, concurrency: 1, measure: 'cpu' as const, limit: 160 },
  ]),
  { scenario: 's3-get-4k', concurrency: 16, measure: 'cpu', limit: 120, onDisk: true },
  { scenario: 's3-put-4k', concurrency: 16, measure: 'cpu', limit: 180, onDisk: true },
  { scenario: 's3-list-objects-v2', concurrency: 16, measure: 'cpu', limit: 5000 },
  { scenario: 's3-get-1m-kms', concurrency: 1, measure: 'moto-ratio', limit: 2 },
  { scenario: 's3-get-1m-kms', concurrency: 16, measure: 'moto-ratio', limit: 2 },
  { scenario: 's3-put-1m-kms', concurrency: 16, measure: 'moto-ratio', limit: 2 },
];

export interface GoalOutcome {
  goal: Goal;
  title: string;
  /** null: not measured in this run (scenario not run, no moto, in memory for an on-disk goal). */
  value: number | null;
  met: boolean | null;
  why?: string;
}

export function checkGoals(report: BenchReport, goals: readonly Goal[] = GOALS): GoalOutcome[] {
  return goals.map((goal) => {
    const r: ScenarioResult | undefined = report.results.find((x) => x.scenario === goal.scenario && x.concurrency === goal.concurrency);
    const title = r?.title ?? goal.scenario;
    if (!r) return { goal, title, value: null, met: null, why: 'not run' };
    if (goal.onDisk && report.options.storage === 'in-memory') return { goal, title, value: null, met: null, why: 'measured on the data directory only (run without --in-memory)' };
    if (goal.measure === 'cpu') {
      const value = r.sealbox.serverCpuUsPerOp;
      if (value === null) return { goal, title, value: null, met: null, why: 'no /proc: CPU not measured' };
      return { goal, title, value, met: value <= goal.limit };
    }
    const ours = r.sealbox.mibPerSec;
    const theirs = r.moto?.mibPerSec ?? null;
    if (ours === null || !theirs) return { goal, title, value: null, met: null, why: 'moto not run' };
    const value = ours / theirs;
    return { goal, title, value, met: value >= goal.limit };
  });
}

function describe(o: GoalOutcome): string {
  const { goal } = o;
  const target = goal.measure === 'cpu' ? `≤ ${goal.limit.toLocaleString('en-US')} µs of CPU per operation` : `≥ ${goal.limit}× moto's MiB/s`;
  const measured =
    o.value === null ? `not measured: ${o.why}` : goal.measure === 'cpu' ? `${Math.round(o.value).toLocaleString('en-US')} µs` : `${o.value.toFixed(2)}×`;
  const mark = o.met === null ? '–' : o.met ? 'met' : 'MISSED';
  return `- ${mark}: ${o.title}, concurrency ${goal.concurrency}: ${target}; measured ${measured}`;
}

/** The goals as markdown lines (empty when no goal's scenario ran). */
export function goalsMarkdown(report: BenchReport): string {
  const outcomes = checkGoals(report).filter((o) => o.why !== 'not run');
  if (!outcomes.length) return '';
  const met = outcomes.filter((o) => o.met).length;
  const missed = outcomes.some((o) => o.met === false);
  return [
    `Targets (${met} of ${outcomes.length} met):`,
    '',
    ...outcomes.map(describe),
    ...(missed ? ['', 'What bounds each missed target on this machine (profiles of the server under this load): docs/benchmark.md, "What bounds the targets not met".'] : []),
    '',
  ].join('\n');
}
