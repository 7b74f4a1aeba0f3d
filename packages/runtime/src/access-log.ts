/** One line per request: readable on a terminal, one JSON object otherwise. */
export interface AccessLogEntry {
  service: string;
  operation: string;
  method: string;
  status: number;
  ms: number;
  requestId: string;
  errorCode?: string;
  accessKeyId?: string;
}

export type AccessLog = (entry: AccessLogEntry) => void;

export interface AccessLogOptions {
  json: boolean;
  write: (line: string) => void;
  clock?: { now(): Date };
}

export function createAccessLog(options: AccessLogOptions): AccessLog {
  const now = () => (options.clock ? options.clock.now() : new Date()).toISOString();
  if (options.json) {
    return (entry) => options.write(JSON.stringify({ time: now(), ...entry }) + '\n');
  }
  return (entry) => {
    const error = entry.errorCode ? ` ${entry.errorCode}` : '';
    options.write(
      `${now()} ${entry.service.padEnd(3)} ${entry.status} ${entry.operation}${error} ${entry.ms.toFixed(1)}ms ${entry.requestId}\n`,
    );
  };
}

export const silentAccessLog: AccessLog = () => {};
