import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { DomainError } from '../domain/errors.js';

/**
 * One owner of a PGlite data directory (SPEC §8). PGlite is a single-process database: two
 * processes opening one directory each keep their own copy of its pages and overwrite the other's
 * writes, so acknowledged rows vanish and the directory ends up unreadable. The process that opens
 * a directory therefore holds `<dataDir>/ecv.lock`, created with O_EXCL, holding its pid, command
 * and (for `ecv serve`, once listening) its URL. A lock whose pid is dead is taken over.
 *
 * Why not a library: proper-lockfile (the usual choice) judges staleness by the lock's mtime,
 * so it needs a timer touching the lock every few seconds and leaves a SIGKILLed holder's lock in
 * the way until it ages out; it also has no place for the holder's pid and URL, which is what the
 * CLI needs to find the service. A pid check on one machine answers both at once.
 */

/** The lock file's name inside the data directory. */
export const LOCK_FILE = 'ecv.lock';

/** What a lock file records about its holder. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** The holder's command line, as a person would recognise it (`ecv serve`, `ecv ingest …`). */
  command: string;
  /** Set by `ecv serve` once it listens: the address to reach it, `http://host:port`. */
  url?: string;
  startedAt: string;
}

/** The directory is held by another live process. Exits 2 through the CLI like every DomainError. */
export class DataDirLockedError extends DomainError {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super('conflict', `the data directory ${dataDir} is in use by ${describeHolder(holder)}`);
  }
}

/** "pid 123 (ecv serve) at http://127.0.0.1:8080" */
export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} (${h.command || 'unknown command'})${h.url ? ` at ${h.url}` : ''}`;
}

/** A held lock: update the URL once listening, release on close. */
export interface DataDirLock {
  path: string;
  holder: LockHolder;
  /** Records the URL the holder listens on (rewritten atomically: readers never see half a file). */
  setUrl(url: string): void;
  /** Removes the lock if it is still ours. Idempotent. */
  release(): void;
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's holder, or undefined when there is no lock file or it cannot be parsed. */
export function readLock(dataDir: string): LockHolder | undefined {
  return parse(readText(join(dataDir, LOCK_FILE)));
}

/** The holder of dataDir's lock when it is a live process on this machine, else undefined. */
export function liveHolder(dataDir: string): LockHolder | undefined {
  const h = readLock(dataDir);
  return h && isLive(h) ? h : undefined;
}

function isLive(h: LockHolder): boolean {
  // Another machine's pid says nothing here (a shared filesystem): count it as live.
  return h.hostname !== hostname() || pidAlive(h.pid);
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function parse(text: string | undefined): LockHolder | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid !== 'number') return undefined;
    return {
      pid: v.pid,
      hostname: String(v.hostname ?? ''),
      command: String(v.command ?? ''),
      url: typeof v.url === 'string' ? v.url : undefined,
      startedAt: String(v.startedAt ?? ''),
    };
  } catch {
    return undefined;
  }
}

/** The command line of this process, shortened to what identifies it (`ecv ingest --project p`). */
function thisCommand(): string {
  const args = process.argv.slice(2);
  const bin = process.argv[1] ?? '';
  return (/ecv(\.js)?$/.test(bin) ? ['ecv', ...args] : [bin, ...args]).join(' ').slice(0, 200);
}

/**
 * Takes dataDir's lock or throws DataDirLockedError naming the live holder. A lock of a dead pid
 * (a SIGKILLed service, a crashed CLI) or an unreadable one is taken over. The takeover moves the
 * stale file aside with rename (atomic) and checks that what it moved is the stale lock it judged;
 * if a racing process had already replaced it with a live lock, that lock is put back.
 */
export function acquireDataDirLock(dataDir: string, opts: { command?: string } = {}): DataDirLock {
  const dir = resolve(dataDir);
  const path = join(dir, LOCK_FILE);
  const holder: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    command: opts.command ?? thisCommand(),
    startedAt: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(path, holder)) return heldLock(path, holder);
    const text = readText(path);
    if (text === undefined) continue; // released between our two calls
    const current = parse(text);
    // A half-written file (its writer between open and write) parses as nothing: wait for it once.
    if (!current && attempt === 0) {
      sleepSync(50);
      continue;
    }
    if (current && isLive(current)) throw new DataDirLockedError(dataDir, current);
    takeOver(path, text);
  }
  const current = readLock(dir);
  throw new DataDirLockedError(
    dataDir,
    current ?? {
      pid: 0,
      hostname: '',
      command: 'another process (the lock keeps changing)',
      startedAt: '',
    },
  );
}

function tryCreate(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify(holder));
  } finally {
    closeSync(fd);
  }
  return true;
}

function takeOver(path: string, staleText: string) {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else moved it
    throw e;
  }
  if (readText(aside) === staleText) {
    unlinkSync(aside);
    return;
  }
  // We moved a lock taken between our read and our rename: give it back (link fails if a third
  // process has meanwhile created one, which then stands and the moved one is dropped).
  try {
    linkSync(aside, path);
  } catch {
    // keep whichever lock now stands
  }
  unlinkSync(aside);
}

function heldLock(path: string, holder: LockHolder): DataDirLock {
  let released = false;
  const onExit = () => lock.release();
  const lock: DataDirLock = {
    path,
    holder,
    setUrl(url) {
      if (released) return;
      holder.url = url;
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(holder));
      renameSync(tmp, path);
    },
    release() {
      if (released) return;
      released = true;
      process.removeListener('exit', onExit);
      const current = parse(readText(path));
      if (current?.pid === holder.pid && current.startedAt === holder.startedAt) {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }
    },
  };
  // A normal exit that skipped close still leaves the directory free.
  process.on('exit', onExit);
  return lock;
}

function sleepSync(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
