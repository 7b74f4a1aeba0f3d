import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { goalsMarkdown } from './goals';
import { formatSize } from './scenarios';
import type { BenchReport, ScenarioResult, TargetStats } from './run';

export const TABLE_COLUMNS = [
  'scenario',
  'concurrency',
  'Sealbox ops/s',
  'p50 ms',
  'p99 ms',
  'MiB/s',
  'errors',
  'moto ops/s',
  'Sealbox/moto',
  'ceiling ops/s',
  'Sealbox/ceiling',
  'Sealbox CPU µs/op',
  'moto CPU µs/op',
  'ceiling CPU µs/op',
];

export function formatRate(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '–';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

export function formatRatio(r: number | null): string {
  if (r === null) return '–';
  if (r >= 10) return `${r.toFixed(1)}×`;
  if (r >= 0.1 || r === 0) return `${r.toFixed(2)}×`;
  return `${r.toPrecision(2)}×`; // small shares of the ceiling keep two significant digits
}

/** Server CPU per operation in µs, to three significant figures (– when not measured). */
export function formatCpu(us: number | null): string {
  if (us === null) return '–';
  return us >= 1000 ? Math.round(us).toLocaleString('en-US') : us.toPrecision(3);
}

/** ops/s, with the error count beside it when the target had any (errors are never hidden). */
function opsCell(s: TargetStats | null): string {
  if (!s) return '–';
  return s.errors ? `${formatRate(s.opsPerSec)} (${s.errors} errors)` : formatRate(s.opsPerSec);
}

export function tableRow(r: ScenarioResult): string[] {
  const s = r.sealbox;
  return [
    r.title,
    String(r.concurrency),
    formatRate(s.opsPerSec),
    formatMs(s.p50Ms),
    formatMs(s.p99Ms),
    s.mibPerSec === null ? '' : formatRate(s.mibPerSec),
    String(s.errors),
    opsCell(r.moto),
    formatRatio(r.sealboxToMoto),
    opsCell(r.ceiling),
    formatRatio(r.sealboxToCeiling),
    formatCpu(s.serverCpuUsPerOp),
    formatCpu(r.moto?.serverCpuUsPerOp ?? null),
    formatCpu(r.ceiling.serverCpuUsPerOp),
  ];
}

export function markdownTable(results: ScenarioResult[]): string {
  const rows = results.map(tableRow);
  const align = TABLE_COLUMNS.map((_, i) => (i === 0 ? ':---' : '---:'));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(TABLE_COLUMNS), line(align), ...rows.map(line)].join('\n') + '\n';
}

/** The whole markdown report: what ran where, the table, then multipart and error details. */
export function markdownReport(report: BenchReport): string {
  const m = report.machine;
  const out: string[] = [];
  out.push(`### Sealbox benchmark, ${report.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`, '');
  out.push(`Command: \`${report.command}\``, '');
  out.push(
    `Machine: ${m.cpus} × ${m.cpuModel}, ${Math.round(m.totalMemoryMiB / 1024)} GiB, ${m.platform} ${m.release}, Node ${m.node}; ` +
      `load average ${m.loadavgStart.join(' / ')} at the start, ${m.loadavgEnd.join(' / ')} at the end. ` +
      `Sealbox ${report.versions.sealbox ?? '?'} (${report.options.storage === 'in-memory' ? 'in memory' : 'state in a fresh data directory'})` +
      (report.options.moto ? `, moto ${report.versions.moto ?? '(version unknown)'}` : ', moto not run (--no-moto)') +
      '.',
    '',
  );
  out.push(
    `Each steady scenario: ${report.options.warmupSeconds} s warm-up (not counted), then ${report.options.durationSeconds} s measured, ` +
      `at a fixed number of requests in flight (concurrency); the multipart upload is timed once, whole, parts in parallel.`,
    '',
  );
  out.push(markdownTable(report.results));
  const goals = goalsMarkdown(report);
  if (goals) out.push(goals);

  const multipart = report.results.filter((r) => r.kind === 'multipart');
  if (multipart.length) {
    out.push(`Multipart upload of ${formatSize(report.sizes.multipartBytes)} (ops/s are parts per second; MiB/s over the whole upload):`, '');
    for (const r of multipart) {
      const describe = (name: string, s: TargetStats | null) => {
        if (!s || !('totalSeconds' in s)) return null;
        const rss = s.rss ? `, server RSS ${s.rss.baselineMiB} → peak ${s.rss.peakMiB} MiB (+${s.rss.growthMiB} MiB)` : '';
        return `${name} ${s.totalSeconds.toFixed(2)} s, ${s.mibPerSec === null ? '–' : formatRate(s.mibPerSec)} MiB/s${rss}`;
      };
      const parts = [describe('Sealbox', r.sealbox), describe('moto', r.moto), describe('ceiling', r.ceiling)].filter(Boolean);
      out.push(`- concurrency ${r.concurrency}: ${parts.join('; ')}`);
    }
    out.push('');
  }

  const failures: string[] = [];
  for (const r of report.results) {
    for (const [name, s] of [['Sealbox', r.sealbox], ['moto', r.moto], ['ceiling', r.ceiling]] as const) {
      if (s && s.errors) failures.push(`- ${r.title}, concurrency ${r.concurrency}, ${name}: ${s.errors} errors, e.g. ${s.errorSamples.join('; ')}`);
    }
  }
  if (failures.length) out.push('Errors:', '', ...failures, '');

  const extended: string[] = [];
  for (const r of report.results) {
    if (r.kind !== 'steady') continue;
    for (const [name, s] of [['Sealbox', r.sealbox], ['moto', r.moto], ['ceiling', r.ceiling]] as const) {
      if (s && s.seconds > report.options.durationSeconds * 1.001) {
        extended.push(`- ${r.title}, concurrency ${r.concurrency}, ${name}: ${s.seconds.toFixed(1)} s for ${s.ops + s.errors} operations`);
      }
    }
  }
  if (extended.length) {
    out.push('Measured windows extended (fewer operations than the concurrency completed in the window, so it ran on until that many had):', '', ...extended, '');
  }
  return out.join('\n');
}

export interface WrittenFiles {
  json: string;
  markdown: string;
  latestJson: string;
  latestMarkdown: string;
}

/** Writes results-<timestamp>.json/.md and latest.json/.md into dir. */
export function writeReport(report: BenchReport, dir: string): WrittenFiles {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const json = JSON.stringify(report, null, 2) + '\n';
  const md = markdownReport(report);
  const files = {
    json: join(dir, `results-${stamp}.json`),
    markdown: join(dir, `results-${stamp}.md`),
    latestJson: join(dir, 'latest.json'),
    latestMarkdown: join(dir, 'latest.md'),
  };
  writeFileSync(files.json, json);
  writeFileSync(files.markdown, md);
  writeFileSync(files.latestJson, json);
  writeFileSync(files.latestMarkdown, md);
  return files;
}
