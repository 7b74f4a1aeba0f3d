// The sealbox start options of the test fixture: --snapshot, --passphrase-env, --allow-remote-admin.
import { UsageError, parseStartOptions, type StartOptions } from '../src';

const parse = (...args: string[]) => parseStartOptions(args) as StartOptions;

describe('fixture options of sealbox start', () => {
  it('--snapshot FILE starts in memory from the archive', () => {
    expect(parse('--snapshot', 'fixture.tgz')).toMatchObject({ snapshot: 'fixture.tgz', dataDir: undefined, snapshotPassphrase: undefined });
    expect(parse().snapshot).toBeUndefined();
    expect(parse().dataDir).toBe('.sealbox');
  });

  it('--passphrase-env NAME reads the passphrase from the environment', () => {
    process.env.SEALBOX_TEST_PASSPHRASE = 'open sesame';
    try {
      expect(parse('--snapshot', 'f.tgz', '--passphrase-env', 'SEALBOX_TEST_PASSPHRASE').snapshotPassphrase).toBe('open sesame');
    } finally {
      delete process.env.SEALBOX_TEST_PASSPHRASE;
    }
  });

  it('--allow-remote-admin is off unless given', () => {
    expect(parse().allowRemoteAdmin).toBe(false);
    expect(parse('--allow-remote-admin').allowRemoteAdmin).toBe(true);
  });

  it.each([
    [['--snapshot', 'f.tgz', '--data-dir', 'd'], '--snapshot starts an in-memory Sealbox from the archive'],
    [['--passphrase-env', 'X'], '--passphrase-env is for a --snapshot archive'],
    [['--snapshot', 'f.tgz', '--passphrase-env', 'SEALBOX_UNSET_VARIABLE'], 'SEALBOX_UNSET_VARIABLE is not set'],
  ])('refuses %j', (args, message) => {
    expect(() => parseStartOptions(args)).toThrow(UsageError);
    expect(() => parseStartOptions(args)).toThrow(message);
  });
});
