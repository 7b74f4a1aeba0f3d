import { closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { openPrivate } from '@sealbox/runtime';
import { join } from 'node:path';

export class DataDirLockedError extends Error {
  /** The process that holds the directory, when one does. */
  constructor(message: string, readonly pid?: number) {
    super(message);
  }
}

/** The lock file, inside the data directory it locks. */
export const LOCK_FILE = 'sealbox.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data directory for this process: a lock file holding our pid, created exclusively.
 * A lock left by a process that no longer runs (kill -9, a crash) is taken over. Returns the
 * release function.
 */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openPrivate(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new DataDirLockedError(`data directory ${dir} is in use by another Sealbox (pid ${pid}); stop it or choose another --data-dir`, pid);
      }
      rmSync(path, { force: true }); // stale: its process is gone
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return () => rmSync(path, { force: true });
  }
  throw new DataDirLockedError(`data directory ${dir} is being locked by another process; try again`);
}
