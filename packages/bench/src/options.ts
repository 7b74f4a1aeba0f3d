import { parseArgs } from 'node:util';
import type { BenchOptions } from './run';
import { scenarioNames } from './scenarios';

export const HELP = `Usage: npm run bench -- [options]

Runs each scenario against Sealbox (the built CLI in a child process, its state in a fresh data
directory as \`sealbox start\` keeps it), then moto_server,
then a bare Node HTTP server answering 200 with an empty body (this machine's ceiling), with the same
SigV4 client, and prints a markdown table.

Options:
  --duration S        measured seconds per scenario, concurrency and server (default 10)
  --warmup S          warm-up seconds before each measurement, not counted (default 2)
  --only A,B          run only these scenarios: ${scenarioNames().join(', ')}
  --concurrency 1,16  requests in flight (parallel parts for the multipart upload) (default 1,16)
  --quick             smoke test: 1 s measured, 0.5 s warm-up, 64 MiB multipart, 1,000 keys to list
  --no-moto           skip moto_server
  --in-memory         run Sealbox with --in-memory instead of a data directory
  --out DIR           where results go (default bench-results): results-<time>.json/.md, latest.json/.md
  -h, --help          this help
`;

export class UsageError extends Error {}

export interface CliOptions extends BenchOptions {
  outDir: string;
}

function seconds(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a number of seconds, not '${value}'`);
  return n;
}

export function parseOptions(args: string[]): CliOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        duration: { type: 'string' },
        warmup: { type: 'string' },
        only: { type: 'string' },
        concurrency: { type: 'string' },
        quick: { type: 'boolean' },
        'no-moto': { type: 'boolean' },
        'in-memory': { type: 'boolean' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  const durationSeconds = seconds(values.duration, '--duration', quick ? 1 : 10);
  if (durationSeconds === 0) throw new UsageError('--duration must be more than 0');
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  if (only) {
    const unknown = only.filter((name) => !scenarioNames().includes(name));
    if (unknown.length) throw new UsageError(`unknown scenario ${unknown.join(', ')}; scenarios: ${scenarioNames().join(', ')}`);
  }
  const concurrency = (values.concurrency ?? '1,16').split(',').map((s) => Number(s.trim()));
  if (concurrency.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--concurrency must be positive integers, not '${values.concurrency}'`);
  return {
    durationSeconds,
    warmupSeconds: seconds(values.warmup, '--warmup', quick ? 0.5 : 2),
    only,
    quick,
    moto: !values['no-moto'],
    storage: values['in-memory'] ? 'in-memory' : 'data-dir',
    concurrency,
    outDir: values.out ?? 'bench-results',
  };
}
