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
 * What tells a process apart from a later one given the same pid: its start time (clock ticks
 * since boot, field 22 of /proc/PID/stat) on this boot. Pids are reused: after a reboot, or when a
 * container that was killed starts again, its processes get the same small pids, so the pid in a
 * stale lock names a live process, often the new Sealbox itself. Linux only; undefined elsewhere
 * (the pid alone decides there). https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
 */
function processIdentity(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name in parentheses may hold spaces and parentheses: count fields from the last ')'.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return start && /^\d+$/.test(start) ? `${boot}:${start}` : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process a lock file names still runs: its pid is alive and is the same process. */
function holderRuns(pid: number, identity: string | undefined): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return false;
  if (identity === undefined) return true; // a lock without it: the pid is all there is to go by
  const now = processIdentity(pid);
  return now === undefined || now === identity;
}

/**
 * Takes the data directory for this process: a lock file holding our pid (and, on Linux, what
 * identifies this process beyond its pid), created exclusively. A lock left by a process that no
 * longer runs (kill -9, a crash, a reboot) is taken over. Returns the release function.
 */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openPrivate(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const [first, second] = readFileSync(path, 'utf8').split('\n');
      const pid = Number(first?.trim());
      if (holderRuns(pid, second?.trim() || undefined)) {
        throw new DataDirLockedError(`data directory ${dir} is in use by another Sealbox (pid ${pid}); stop it or choose another --data-dir`, pid);
      }
      rmSync(path, { force: true }); // stale: its process is gone
      continue;
    }
    const identity = processIdentity(process.pid);
    writeSync(fd, `${process.pid}\n${identity !== undefined ? `${identity}\n` : ''}`);
    closeSync(fd);
    return () => rmSync(path, { force: true });
  }
  throw new DataDirLockedError(`data directory ${dir} is being locked by another process; try again`);
}
