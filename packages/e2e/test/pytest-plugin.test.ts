/**
 * The pytest plugin (issue 18, item 3): its own pytest suite against the built `sealbox` command,
 * and the plugin installed from its packed wheel, found by pytest through its pytest11 entry point.
 * Python writes nothing into the repository: no bytecode, no cache, the wheel built in a copy.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './helpers';

const ROOT = join(__dirname, '..', '..', '..');
const PLUGIN = join(ROOT, 'packages', 'pytest-sealbox');
const SEALBOX_COMMAND = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, 'packages', 'cli', 'dist', 'bin.js'))}`;
const PYTHON = { PYTHONDONTWRITEBYTECODE: '1', SEALBOX_COMMAND };

describe('pytest-sealbox', () => {
  it('passes its own suite against the built command', async () => {
    const run = await runCommand('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', join(PLUGIN, 'tests')], { ...PYTHON, PYTHONPATH: join(PLUGIN, 'src') });
    expect([run.code, run.stdout.split('\n').filter((l) => /^E |passed|failed/.test(l)).join('\n') + run.stderr]).toEqual([0, expect.stringMatching(/\d+ passed/)]);
    expect(run.stdout).not.toMatch(/failed|error/);
    const written = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [e.name, ...written(join(dir, e.name))] : [e.name]));
    expect(written(PLUGIN).filter((f) => /__pycache__|\.pyc$|\.pytest_cache|egg-info|^build$/.test(f))).toEqual([]);
  }, 90_000);

  it('installs from its packed wheel and registers itself as a pytest plugin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-pytest-install-'));
    try {
      // --no-index: the build backend needs nothing from a package index.
      const wheel = await runCommand('python3', ['-m', 'pip', 'wheel', '--no-deps', '--no-index', '-w', join(dir, 'dist'), PLUGIN], PYTHON);
      expect([wheel.code, wheel.stderr]).toEqual([0, '']);
      const built = readdirSync(join(dir, 'dist'));
      expect(built).toEqual(['pytest_sealbox-0.1.0-py3-none-any.whl']);
      // A virtual environment that sees the machine's pytest and boto3, as a project's would.
      const venv = join(dir, 'venv');
      expect((await runCommand('python3', ['-m', 'venv', '--system-site-packages', '--without-pip', venv], PYTHON)).code).toBe(0);
      const python = join(venv, 'bin', 'python');
      const install = await runCommand('python3', ['-m', 'pip', '--python', python, 'install', '--no-deps', '--no-index', join(dir, 'dist', built[0]!)], PYTHON);
      expect([install.code, install.stderr]).toEqual([0, expect.anything()]);
      const project = join(dir, 'project');
      cpSync(join(PLUGIN, 'tests', 'seed.yaml'), join(project, 'seed.yaml'));
      writeFileSync(join(project, 'pytest.ini'), '[pytest]\nsealbox_seed = seed.yaml\n');
      writeFileSync(
        join(project, 'test_installed.py'),
        ['def test_installed(sealbox, sealbox_kms):', '    assert [k["KeyId"] for k in sealbox_kms.list_keys()["Keys"]] == ["0e1f3c4d-8a7b-4c2d-9e10-3f2a1b0c9d8e"]', ''].join('\n'),
      );
      // No -p, no PYTHONPATH: pytest finds the plugin by its pytest11 entry point.
      const run = await runCommand(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', project], PYTHON);
      expect([run.code, run.stdout]).toEqual([0, expect.stringMatching(/1 passed/)]);
      const plugins = await runCommand(python, ['-c', 'import importlib.metadata as m; print([e.value for e in m.entry_points(group="pytest11") if e.name == "pytest_sealbox"])'], PYTHON);
      expect(plugins.stdout.trim()).toBe("['pytest_sealbox']");
      expect(readdirSync(PLUGIN).sort()).toEqual(['LICENSE', 'README.md', 'build_backend', 'pyproject.toml', 'src', 'tests']);
      expect(existsSync(join(PLUGIN, 'build_backend', '__pycache__'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
