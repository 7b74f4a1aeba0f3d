/**
 * The README's quick start, run exactly as written: the fenced blocks marked
 * `<!-- tested: quickstart -->` go to bash, after the `export` lines a started `sealbox start`
 * really printed, with the AWS CLI on these machines (v1) and no AWS configuration besides.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './helpers';

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');

/** The blocks a `<!-- tested: NAME -->` comment marks, in order. */
export function testedBlocks(markdown: string, name: string): string[] {
  const pattern = new RegExp(`<!-- tested: ${name} -->\\n\`\`\`(?:sh|bash)\\n([\\s\\S]*?)\`\`\`\\n`, 'g');
  return [...markdown.matchAll(pattern)].map((m) => m[1]!);
}

/** `sealbox start` (not --json): what it prints up to "Press Ctrl+C", and a stop function. */
async function startPrinting(args: string[]): Promise<{ banner: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  const banner = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('Press Ctrl+C')) resolve(out);
    });
    child.once('exit', (code) => reject(new Error(`sealbox exited with ${code}: ${err}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { banner, stop: async () => { child.kill('SIGTERM'); await exited; } };
}

const exportLines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('export '));

describe('the README quick start', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const blocks = testedBlocks(readme, 'quickstart');

  it('marks its commands for this test', () => {
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks.join('')).toContain('aws kms generate-random');
  });

  it('runs as written with AWS CLI v1, after the export lines sealbox start prints', async () => {
    const sealbox = await startPrinting(['--in-memory', '--kms-port', '0', '--s3-port', '0', '--no-console', '--quiet']);
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-quickstart-'));
    try {
      const exports = exportLines(sealbox.banner);
      // The sample output the README shows names the same variables as the real one.
      const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('<!-- tested: quickstart -->'));
      const name = (line: string) => line.slice('export '.length).split('=')[0];
      expect(exportLines(quickStart).map(name)).toEqual(exports.map(name));
      const script = join(dir, 'quickstart.sh');
      // In a directory of its own, as a user's shell would be: the commands write hello.txt and hello.enc.
      writeFileSync(script, ['set -e -o pipefail', `cd '${dir}'`, ...exports, ...blocks].join('\n'));
      // No AWS configuration but the printed exports: HOME is empty, no config or credentials file.
      const result = await runCommand('bash', [script], { HOME: dir });
      expect(result).toMatchObject({ code: 0 });
      const lines = result.stdout.split('\n');
      // kms decrypt, s3 cp ... -, and the SSE-KMS object read back over https
      expect(lines.filter((l) => l === 'hello')).toHaveLength(3);
      expect(blocks.join('')).toContain('aws s3 cp --sse aws:kms');
      expect(result.stdout).toMatch(/\d+ hello\.txt/); // aws s3 ls
      expect(result.stdout).toMatch(/"Plaintext": "[A-Za-z0-9+/]{43}="/); // generate-random
    } finally {
      await sealbox.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
