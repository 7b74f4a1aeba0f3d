import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { SignedClient } from './client';
import { runLoad } from './load';
import { runMultipart, type MultipartStats } from './multipart';
import { FULL_SIZES, QUICK_SIZES, SCENARIOS, type MultipartPrepared, type Scenario, type Sizes, type SteadyPrepared } from './scenarios';
import type { Stats } from './stats';
import { startCeiling, startMoto, startSealbox, type SealboxStorage, type Target, type TargetName } from './targets';

export interface BenchOptions {
  durationSeconds: number;
  warmupSeconds: number;
  /** Scenario names to run (all when undefined). */
  only?: string[];
  quick: boolean;
  moto: boolean;
  concurrency: number[];
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** The command line, recorded in the results. */
  command?: string;
  /** moto_server command (tests may point elsewhere). */
  motoCommand?: string;
  /** Sealbox's state on disk in a fresh data directory (default, as `sealbox start`) or in memory. */
  storage?: SealboxStorage;
}

export type TargetStats = Stats | MultipartStats;

export interface ScenarioResult {
  scenario: string;
  title: string;
  kind: Scenario['kind'];
  concurrency: number;
  sealbox: TargetStats;
  moto: TargetStats | null;
  ceiling: TargetStats;
  /** Sealbox ops/s over moto's (null without moto, or when moto completed nothing). */
  sealboxToMoto: number | null;
  /** Sealbox ops/s over the bare server's: the share of this machine's ceiling Sealbox reaches. */
  sealboxToCeiling: number | null;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  totalMemoryMiB: number;
  platform: string;
  release: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the run started and ended: other work distorts figures. */
  loadavgStart: number[];
  loadavgEnd: number[];
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  options: { durationSeconds: number; warmupSeconds: number; quick: boolean; moto: boolean; concurrency: number[]; only: string[] | null; storage: SealboxStorage };
  sizes: Sizes;
  machine: MachineInfo;
  versions: { sealbox: string | null; moto: string | null; node: string };
  results: ScenarioResult[];
}

function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    totalMemoryMiB: Math.round(totalmem() / (1024 * 1024)),
    platform: platform(),
    release: release(),
    node: process.version,
    loadavgStart: loadavg().map(round2),
    loadavgEnd: [],
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export function selectScenarios(only?: string[]): Scenario[] {
  if (!only) return SCENARIOS;
  const unknown = only.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}; scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return SCENARIOS.filter((s) => only.includes(s.name));
}

/**
 * Runs every selected scenario at every concurrency against Sealbox, moto and the bare server,
 * one after the other (never at the same time), and returns the figures.
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? (() => undefined);
  const scenarios = selectScenarios(options.only);
  const sizes = options.quick ? QUICK_SIZES : FULL_SIZES;
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  const targets: Target[] = [];
  const clients: SignedClient[] = [];
  const clientFor = (target: Target, service: 'kms' | 's3', maxSockets: number) => {
    const client = new SignedClient(service === 'kms' ? target.kms : target.s3, target.credentials, target.region, maxSockets);
    clients.push(client);
    return client;
  };
  const results: ScenarioResult[] = [];
  try {
    const storage = options.storage ?? 'data-dir';
    log(`starting Sealbox (built CLI, ${storage === 'in-memory' ? 'in memory' : 'in a fresh data directory'}, child process)...`);
    const sealbox = await startSealbox(storage);
    targets.push(sealbox);
    let moto: Target | null = null;
    if (options.moto) {
      log('starting moto_server...');
      moto = await startMoto(options.motoCommand);
      targets.push(moto);
    }
    log('starting the bare Node server (the ceiling)...');
    const ceiling = await startCeiling();
    targets.push(ceiling);
    const runTargets = [sealbox, ...(moto ? [moto] : []), ceiling];

    for (const scenario of scenarios) {
      const title = scenario.title(sizes);
      const service = scenario.name.startsWith('kms-') ? 'kms' : 's3';
      // Setup on the real servers; the bare server is driven with Sealbox's requests (same shapes,
      // same sizes), since it answers every request with nothing.
      const prepared = new Map<TargetName, SteadyPrepared | MultipartPrepared>();
      for (const target of runTargets) {
        if (target.name === 'ceiling') continue;
        log(`[${scenario.name}] setup on ${target.name}...`);
        const setupClients = { kms: clientFor(target, 'kms', 16), s3: clientFor(target, 's3', 16) };
        prepared.set(target.name, await scenario.setup(setupClients, sizes));
        setupClients.kms.close();
        setupClients.s3.close();
      }
      prepared.set('ceiling', prepared.get('sealbox')!);

      for (const concurrency of options.concurrency) {
        const stats = new Map<TargetName, TargetStats>();
        for (const target of runTargets) {
          const client = clientFor(target, service, concurrency);
          const verify = target.name !== 'ceiling';
          let result: TargetStats;
          if (scenario.kind === 'steady') {
            result = await runLoad(client, (prepared.get(target.name) as SteadyPrepared).next, {
              concurrency,
              warmupSeconds: options.warmupSeconds,
              durationSeconds: options.durationSeconds,
              payload: scenario.payload,
              verify,
              serverPid: target.pid,
            });
          } else {
            result = await runMultipart(client, prepared.get(target.name) as MultipartPrepared, {
              totalBytes: sizes.multipartBytes,
              partBytes: sizes.multipartPartBytes,
              concurrency,
              verify,
              rssPid: target.name === 'ceiling' ? undefined : target.pid,
            });
          }
          client.close();
          stats.set(target.name, result);
          log(`[${scenario.name} c=${concurrency}] ${target.name.padEnd(7)} ${progressLine(result)}`);
        }
        const s = stats.get('sealbox')!;
        const m = stats.get('moto') ?? null;
        const c = stats.get('ceiling')!;
        results.push({
          scenario: scenario.name,
          title,
          kind: scenario.kind,
          concurrency,
          sealbox: s,
          moto: m,
          ceiling: c,
          sealboxToMoto: m && m.opsPerSec > 0 ? s.opsPerSec / m.opsPerSec : null,
          sealboxToCeiling: c.opsPerSec > 0 ? s.opsPerSec / c.opsPerSec : null,
        });
      }
    }
    machine.loadavgEnd = loadavg().map(round2);
    return {
      startedAt,
      finishedAt: new Date().toISOString(),
      command: options.command ?? 'npm run bench',
      options: {
        durationSeconds: options.durationSeconds,
        warmupSeconds: options.warmupSeconds,
        quick: options.quick,
        moto: options.moto,
        concurrency: options.concurrency,
        only: options.only ?? null,
        storage: options.storage ?? 'data-dir',
      },
      sizes,
      machine,
      versions: { sealbox: sealbox.version, moto: moto?.version ?? null, node: process.version },
      results,
    };
  } finally {
    for (const client of clients) client.close();
    await Promise.all(targets.map((t) => t.stop()));
  }
}

function progressLine(s: TargetStats): string {
  const parts = [`${s.opsPerSec.toFixed(1)} ops/s`, `p50 ${s.p50Ms?.toFixed(2) ?? '-'} ms`, `p99 ${s.p99Ms?.toFixed(2) ?? '-'} ms`];
  if (s.mibPerSec !== null) parts.push(`${s.mibPerSec.toFixed(1)} MiB/s`);
  if ('totalSeconds' in s) parts.push(`total ${s.totalSeconds.toFixed(2)} s`);
  if ('rss' in s && s.rss) parts.push(`RSS +${s.rss.growthMiB} MiB (peak ${s.rss.peakMiB} MiB)`);
  parts.push(`${s.errors} errors`);
  if (s.errorSamples.length) parts.push(`e.g. ${s.errorSamples[0]}`);
  return parts.join(', ');
}
