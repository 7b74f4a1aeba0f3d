#!/usr/bin/env node
// The README's two commands, on a machine that has only Node 20 and npm:
//   npm start [-- options]  install, build, start both services
//   npm test                install, build (type-checks src), type-check tests, run jest
//   npm run bench [-- opts] install, build, run the load generator (packages/bench)
//   npm run mutate [-- targets] [-- --mutate FILE]  install, build, mutation testing (stryker.config.mjs)
// pnpm is pinned; when the pinned version is not on PATH it is fetched through npx.
// Install and build print to stderr: stdout carries only what the command prints, so
// `npm start -s -- --json` is one JSON line (-s keeps npm's own "> sealbox-monorepo start" banner off it).
// Nothing is reinstalled when no package.json, lockfile or workspace file changed since the last
// install, and `tsc -b` rebuilds only what changed: a warm `npm start` is ready in about a second.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PNPM_VERSION = '12.4.2';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...rest] = process.argv.slice(2);

// better-sqlite3 compiles from source here: node-gyp needs Node's headers (npm sets
// npm_config_nodedir for the scripts it runs) and builds faster on every core.
const env = { ...process.env, JOBS: process.env.JOBS ?? 'max' };

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: ['inherit', 'inherit', 'inherit'], env, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function pnpmCommand() {
  const probe = spawnSync('pnpm', ['--version'], { cwd: root, env, encoding: 'utf8' });
  if (!probe.error && probe.status === 0 && probe.stdout.trim() === PNPM_VERSION) return ['pnpm', []];
  return ['npx', ['--yes', `pnpm@${PNPM_VERSION}`]];
}

/**
 * The web console's test drives Debian's Chromium (packages/e2e/test/console-browser.test.ts):
 * installed here when it is missing, so `npm test` needs nothing installed by hand. Playwright's
 * own browser download cannot work offline; Debian's package can.
 */
function ensureChromium() {
  const path = process.env.SEALBOX_CHROMIUM ?? '/usr/bin/chromium';
  if (existsSync(path)) return;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = root ? [] : ['sudo', '-n'];
  console.error(`npm test: ${path} is missing; installing Debian's chromium (apt-get install chromium)`);
  const apt = (...args) => {
    const [cmd, ...rest] = [...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args];
    const result = spawnSync(cmd, rest, { stdio: ['ignore', 'ignore', 'inherit'] });
    return !result.error && result.status === 0;
  };
  if (!apt('install', '-y', '-qq', 'chromium')) {
    apt('update', '-qq');
    if (!apt('install', '-y', '-qq', 'chromium')) {
      console.error('npm test: could not install chromium; the browser test of the web console will fail. Install it with: apt-get install chromium');
    }
  }
}

/** Install and build output: on stderr (fd 2), never on the user's stdout. */
const TO_STDERR = { stdio: ['inherit', 2, 'inherit'] };
/**
 * Mutation testing, one target after another (never in parallel: the machine is shared), each
 * with its own unit tests (stryker.config.mjs). Arguments: target names (sigv4, policy, kms, s3;
 * all when none), then anything Stryker takes; `--mutate <file>[:lines]` runs the one target the
 * file belongs to, e.g. `npm run mutate -- --mutate packages/sigv4/src/canonical.ts`.
 */
function mutate(args) {
  const all = ['sigv4', 'policy', 'kms', 's3'];
  const targets = [];
  let i = 0;
  while (i < args.length && !args[i].startsWith('-')) targets.push(args[i++]);
  const strykerArgs = args.slice(i);
  const unknown = targets.filter((t) => !all.includes(t));
  if (unknown.length > 0) {
    console.error(`npm run mutate: unknown target ${unknown.join(', ')}; targets are ${all.join(', ')}`);
    process.exit(2);
  }
  const file = strykerArgs[strykerArgs.indexOf('--mutate') + 1];
  if (strykerArgs.includes('--mutate') && targets.length === 0 && file) {
    // The file's package names the target (packages/kms/... -> kms).
    const pkg = /packages\/([a-z0-9-]+)\//.exec(file)?.[1];
    if (!pkg || !all.includes(pkg)) {
      console.error(`npm run mutate: ${file} is in none of the targets (${all.join(', ')})`);
      process.exit(2);
    }
    targets.push(pkg);
  }
  const stryker = join(root, 'node_modules/.bin/stryker');
  for (const target of targets.length > 0 ? targets : all) {
    console.log(`npm run mutate: ${target}`);
    run(stryker, ['run', 'stryker.config.mjs', ...strykerArgs], { env: { ...env, SEALBOX_MUTATE_TARGET: target } });
  }
}


/** Written after each successful install; an install is due when an input is newer. */
const INSTALLED = join(root, 'node_modules', '.sealbox-installed');

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Infinity; // missing: an install is due
  }
}

function installIsDue() {
  if (process.env.SEALBOX_FORCE_INSTALL) return true;
  const stamp = mtime(INSTALLED);
  if (stamp === Infinity) return true;
  const inputs = ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml'].map((f) => join(root, f));
  for (const dir of readdirSync(join(root, 'packages'))) inputs.push(join(root, 'packages', dir, 'package.json'));
  return inputs.some((f) => existsSync(f) && mtime(f) >= stamp);
}

if (installIsDue()) {
  const [pnpm, pnpmArgs] = pnpmCommand();
  run(pnpm, [...pnpmArgs, 'install', '--frozen-lockfile', '--reporter=append-only'], TO_STDERR);
  writeFileSync(INSTALLED, `${new Date().toISOString()}\n`);
}
// tsc itself, not through pnpm exec: a build with nothing to do then takes a fraction of a second.
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
run(process.execPath, [tsc, '-b'], TO_STDERR);

const pnpmRun = (...args) => {
  const [pnpm, pnpmArgs] = pnpmCommand();
  run(pnpm, [...pnpmArgs, ...args]);
};

switch (command) {
  case 'start': {
    // In this process, not a child: SIGINT and SIGTERM reach sealbox's own handlers, which stop
    // the servers and exit, so nothing is left behind holding the ports or the data directory.
    // Relative paths (--seed, --data-dir, the default .sealbox) resolve against the directory the
    // user ran npm in (npm sets INIT_CWD; it runs scripts in the repository root).
    if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
    // npm forwards SIGINT and SIGTERM to its child, the shell running the script: "exec" in
    // package.json makes that shell this process. (Should npm go away without passing a signal
    // on, sealbox start notices that its parent is gone and stops: see packages/cli/src/bin.ts.)
    const bin = join(root, 'packages/cli/dist/bin.js');
    process.argv = [process.execPath, bin, 'start', ...rest];
    createRequire(import.meta.url)(bin);
    break;
  }
  case 'test':
    ensureChromium();
    pnpmRun('exec', 'tsc', '-p', 'tsconfig.test.json');
    pnpmRun('exec', 'jest', ...rest);
    break;
  case 'build':
    break;
  case 'mutate':
    mutate(rest);
    break;
  case 'bench':
    run(process.execPath, [join(root, 'packages/bench/dist/main.js'), ...rest]);
    break;
  default:
    console.error(`usage: node scripts/run.mjs start|test|build|bench|mutate`);
    process.exit(2);
}
