// The package's public entry point (what '@sealbox/cli' exports); a package cannot import itself by name here.
import { UsageError, parseStartOptions, type StartOptions } from '../src';

const parse = (...args: string[]) => parseStartOptions(args) as StartOptions;

describe('console options of sealbox start', () => {
  it('serves the console on 4580 unless told otherwise', () => {
    expect(parse().consolePort).toBe(4580);
    expect(parse('--console-port', '0').consolePort).toBe(0);
    expect(parse('--console-port', '8080').consolePort).toBe(8080);
    expect(parse('--no-console').consolePort).toBeUndefined();
  });

  it('serves none when a service is not in this process (the console shows both)', () => {
    expect(parse('--only', 'kms').consolePort).toBeUndefined();
    expect(parse('--only', 's3').consolePort).toBeUndefined();
    expect(parse('--kms-endpoint', 'http://127.0.0.1:1').consolePort).toBeUndefined();
  });

  it.each([
    [['--console-port', '1', '--no-console'], '--console-port and --no-console cannot be used together'],
    [['--console-port', '1', '--only', 's3'], 'the console shows both services'],
    [['--console-port', '1', '--kms-endpoint', 'http://127.0.0.1:1'], 'the console shows both services'],
    [['--console-port', '65536'], '--console-port must be a port number'],
  ])('refuses %j', (args, message) => {
    expect(() => parseStartOptions(args)).toThrow(UsageError);
    expect(() => parseStartOptions(args)).toThrow(message);
  });
});
