#!/usr/bin/env node
import { relative, resolve } from 'node:path';
import { HELP, UsageError, parseOptions } from './options';
import { markdownReport, writeReport } from './report';
import { runBench } from './run';

async function main(args: string[]): Promise<void> {
  const options = parseOptions(args);
  if (options === 'help') {
    process.stdout.write(HELP);
    return;
  }
  const report = await runBench({
    ...options,
    command: ['npm run bench', ...(args.length ? ['--', ...args] : [])].join(' '),
    log: (line) => process.stderr.write(line + '\n'),
  });
  const files = writeReport(report, resolve(options.outDir));
  process.stdout.write(markdownReport(report));
  const shown = (p: string) => relative(process.cwd(), p) || p;
  process.stderr.write(`results: ${shown(files.json)}, ${shown(files.markdown)} (and latest.json, latest.md)\n`);
  if (report.results.some((r) => r.sealbox.errors > 0)) process.exitCode = 1;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`bench: ${err.message}\n\n${HELP}`);
    process.exit(2);
  }
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
