/**
 * What the built `sealbox` command says when it cannot do its work: each message names the
 * problem and what to do about it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './helpers';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
const dir = mkdtempSync(join(tmpdir(), 'sealbox-messages-'));
const sealbox = (...args: string[]) => runCommand(process.execPath, [BIN, ...args], {});

it('a port in use names the option that chose it', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const taken = await sealbox('start', '--in-memory', '--no-console', '--kms-port', '0', '--s3-port', String(port));
    expect(taken.code).toBe(1);
    expect(taken.stderr).toBe(`sealbox: port ${port} on 127.0.0.1 is already in use (by another Sealbox or another program): pass --s3-port 0 to pick a free port, or another port\n`);
    const console = await sealbox('start', '--in-memory', '--kms-port', '0', '--s3-port', '0', '--console-port', String(port));
    expect(console.code).toBe(1);
    expect(console.stderr).toBe(`sealbox: port ${port} on 127.0.0.1 is already in use (by another Sealbox or another program): pass --console-port 0 to pick a free port, or another port\n`);
  } finally {
    blocker.close();
  }
});

it('an unreadable seed file, and a data directory that cannot be made', async () => {
  const missing = join(dir, 'missing.yaml');
  const seed = await sealbox('start', '--in-memory', '--no-console', '--kms-port', '0', '--s3-port', '0', '--seed', missing);
  expect(seed.code).toBe(1);
  expect(seed.stderr).toBe(`sealbox: cannot read seed file ${missing}: no such file or directory (sealbox seed --example prints a seed to start from)\n`);

  writeFileSync(join(dir, 'a-file'), '');
  const inside = join(dir, 'a-file', 'data');
  const dataDir = await sealbox('start', '--data-dir', inside, '--no-console', '--kms-port', '0', '--s3-port', '0');
  expect(dataDir.code).toBe(1);
  expect(dataDir.stderr).toBe(`sealbox: cannot use ${inside} as the data directory: a part of the path is not a directory; choose another --data-dir\n`);
});

it('export and import: help, usage errors, a missing archive, an unset passphrase variable', async () => {
  const help = await sealbox('--help');
  expect(help.stdout).toContain('export      write a data directory');
  expect(help.stdout).toContain('import      recreate a data directory');
  for (const command of ['export', 'import']) {
    const usage = await sealbox(command, '--help');
    expect(usage.code).toBe(0);
    for (const option of ['--data-dir', '--passphrase-env', '--force', '--json', '--quiet']) expect(usage.stdout).toContain(option);
    const none = await sealbox(command);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`sealbox ${command} takes one archive file`);
    const unset = await sealbox(command, 'x.tgz', '--passphrase-env', 'SEALBOX_NO_SUCH_VARIABLE');
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('SEALBOX_NO_SUCH_VARIABLE is not set (or empty)');
  }
  const missing = await sealbox('import', join(dir, 'none.tgz'), '--data-dir', join(dir, 'target'));
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe(`sealbox: cannot read ${join(dir, 'none.tgz')}: no such file or directory\n`);
  const noData = await sealbox('export', join(dir, 'out.tgz'), '--data-dir', join(dir, 'nothing'));
  expect(noData.stderr).toBe(`sealbox: there is no data directory ${join(dir, 'nothing')}; pass the --data-dir a Sealbox was started with\n`);
});
