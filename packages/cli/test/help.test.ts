import { COMMAND_HELP, MAIN_HELP, START_HELP, START_OPTIONS, UsageError, closest, parseSnapshotOptions, parseStartOptions } from '../src/options';

/** The long options a help text lists at the start of a line. */
const listed = (help: string) => [...help.matchAll(/^ {2}(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1]!);
const optionsBlock = (help: string) => help.slice(help.indexOf('  --host HOST'));

describe('help', () => {
  it('sealbox start --help lists exactly the options sealbox start accepts', () => {
    expect(listed(START_HELP).sort()).toEqual(Object.keys(START_OPTIONS).sort());
  });

  it('sealbox --help lists the same start options, word for word; help start is start --help', () => {
    expect(MAIN_HELP).toContain(optionsBlock(START_HELP));
    expect(COMMAND_HELP.start).toBe(START_HELP);
  });
});

describe('did you mean', () => {
  it.each([
    ['--kms-prot', '--kms-port'],
    ['--s3port', '--s3-port'],
    ['--in-mem', '--in-memory'],
    ['--jsno', '--json'],
    ['--datadir', '--data-dir'],
    ['--data-dir=x', undefined], // a value given with '=': a known name, so parseArgs accepts it
  ])('sealbox start %s', (typed, meant) => {
    const run = () => parseStartOptions([typed]);
    if (meant === undefined) return expect(run).not.toThrow();
    expect(run).toThrow(UsageError);
    expect(run).toThrow(`Unknown option '${typed}' (did you mean ${meant}?)`);
  });

  it('suggests nothing for a name far from every option', () => {
    expect(() => parseStartOptions(['--bogus'])).toThrow(/^Unknown option '--bogus'$/);
  });

  it('suggests among the options of the command at hand', () => {
    expect(() => parseSnapshotOptions('export', ['x', '--passphrase'])).toThrow("Unknown option '--passphrase' (did you mean --passphrase-env?)");
    expect(() => parseSnapshotOptions('export', ['x', '--kms-prot'])).toThrow(/^Unknown option '--kms-prot'$/);
  });

  it.each([
    ['strat', 'start'],
    ['sed', 'seed'],
    ['exprot', 'export'],
    ['xyz', undefined],
    ['s', undefined],
  ])('closest(%j) among the commands is %j', (typed, meant) => {
    expect(closest(typed, Object.keys(COMMAND_HELP))).toBe(meant);
  });
});
