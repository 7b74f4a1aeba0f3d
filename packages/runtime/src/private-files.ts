import { chmodSync, closeSync, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The data directory holds root keys, wrapped key material, object bytes and the event log: it
 * and everything in it are the user's alone, directories 0700 and files 0600. Modes given at
 * creation are masked by the process's umask (which can only take bits away), and SQLite creates
 * its databases 0644 and their -wal and -shm files with the database's own mode; so files are
 * created private and then set to their mode explicitly (umask-independent), and what an older
 * Sealbox or a copy left looser is tightened when it is opened.
 */

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Sets `path` to `mode` when it is not already; symbolic links are left alone (never followed). */
function tighten(path: string, mode: number): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if ((stat.mode & 0o7777) !== mode) chmodSync(path, mode);
}

/** A directory of the user's alone: created (with its parents) 0700, or made so if it exists. */
export function privateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  tighten(path, PRIVATE_DIR_MODE);
}

/**
 * Opens a file of the user's alone with `flags` (created 0600 when the flags create it), and sets
 * an existing file's looser mode to 0600. Returns the descriptor.
 */
export function openPrivate(path: string, flags: string): number {
  const fd = openSync(path, flags, PRIVATE_FILE_MODE);
  try {
    if ((fstatSync(fd).mode & 0o7777) !== PRIVATE_FILE_MODE) fchmodSync(fd, PRIVATE_FILE_MODE);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** Sets an existing file to 0600; a missing one is no error. */
function tightenIfPresent(path: string): void {
  try {
    tighten(path, PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Before SQLite opens a database file: the file exists, 0600, so that SQLite gives the -wal and
 * -shm files it creates the same mode (it copies the database's); ones left from before are set
 * to 0600 as well.
 */
export function privateSqliteFiles(path: string): void {
  closeSync(openPrivate(path, 'a'));
  tightenIfPresent(`${path}-wal`);
  tightenIfPresent(`${path}-shm`);
  tightenIfPresent(`${path}-journal`);
}

/** Every directory under `dir` (itself included) 0700 and every file 0600; links are not followed. */
export function privateTree(dir: string): void {
  privateDir(dir);
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        tighten(child, PRIVATE_DIR_MODE);
        walk(child);
      } else if (entry.isFile()) {
        tighten(child, PRIVATE_FILE_MODE);
      }
    }
  };
  walk(dir);
}
