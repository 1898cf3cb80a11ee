import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAlive, runCommand, TailBuffer } from '../../../src/runner/process.js';

const base = { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, graceMs: 500 };

/** Waits until none of `pids` is alive (a killed process may take a moment to be reaped). */
async function gone(pids: number[], ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pids.every((p) => !isAlive(p))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pids.every((p) => !isAlive(p));
}

/** Live (non-zombie) processes of group `pgid`, from /proc: zombies hold nothing. */
function liveMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

async function groupGone(pgid: number, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (liveMembers(pgid).length > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  return liveMembers(pgid).length === 0;
}

const pidsIn = (text: string) => [...text.matchAll(/^pid=(\d+)$/gm)].map((m) => Number(m[1]));

describe('runCommand', () => {
  it('runs a shell command with the given cwd and env, combining stdout and stderr', async () => {
    const r = await runCommand({
      ...base,
      env: { ...base.env, ECV_SEED: '5' },
      command: 'pwd; echo "seed $ECV_SEED"; echo oops >&2; exit 3',
      budgetMs: 10_000,
    });
    expect(r.exitCode).toBe(3);
    expect(r.timedOut).toBe(false);
    expect(r.output.text()).toContain(`${tmpdir()}\nseed 5\n`);
    expect(r.output.text()).toContain('oops');
  });

  it('kills the whole process group when the time budget ends', async () => {
    const r = await runCommand({
      ...base,
      command: 'sleep 100 & echo "pid=$!"; sleep 100 & echo "pid=$!"; echo "pid=$$"; wait',
      budgetMs: 1000,
    });
    expect(r.timedOut).toBe(true);
    const pids = pidsIn(r.output.text());
    expect(pids).toHaveLength(3);
    expect(await gone(pids)).toBe(true);
    expect(await groupGone(r.pid)).toBe(true);
  });

  it("kills the brief's case: sh -c 'sleep 100 & sleep 100'", async () => {
    let pgid = 0;
    let before: number[] = [];
    const r = await runCommand({
      ...base,
      command: 'sleep 100 & sleep 100',
      budgetMs: 800,
      onSpawn: (p) => {
        pgid = p;
        setTimeout(() => (before = liveMembers(p)), 400);
      },
    });
    expect(before.length).toBeGreaterThanOrEqual(2); // the shell (or its exec'd sleep) and the background sleep
    expect(r.timedOut).toBe(true);
    expect(pgid).toBe(r.pid);
    expect(await groupGone(pgid)).toBe(true);
  });

  it('escalates to SIGKILL when the group ignores SIGTERM', async () => {
    const r = await runCommand({
      ...base,
      command:
        'trap "" TERM; echo "pid=$$"; sh -c \'trap "" TERM; echo "pid=$$"; sleep 100\' & wait; sleep 100',
      budgetMs: 500,
    });
    expect(r.timedOut).toBe(true);
    // The leader ignored SIGTERM: it ended by the SIGKILL that follows the grace period.
    expect(r.signal).toBe('SIGKILL');
    expect(await gone(pidsIn(r.output.text()))).toBe(true);
  });

  it('ends helpers the command leaves running in its group after a normal exit', async () => {
    const r = await runCommand({
      ...base,
      command: 'sleep 100 & echo "pid=$!"; echo "val_bpb: 1"; exit 0',
      budgetMs: 30_000,
    });
    expect(r.exitCode).toBe(0);
    expect(r.timedOut).toBe(false);
    expect(await gone(pidsIn(r.output.text()))).toBe(true);
  });

  it('kills the group when aborted (lease lost, hard stop)', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await runCommand({
      ...base,
      command: 'echo "pid=$$"; sleep 100',
      budgetMs: 30_000,
      signal: ac.signal,
    });
    expect(r.aborted).toBe(true);
    expect(r.timedOut).toBe(false);
    expect(await gone(pidsIn(r.output.text()))).toBe(true);
  });

  it('rejects when the command cannot be started', async () => {
    await expect(
      runCommand({ ...base, cwd: '/nonexistent/dir', command: 'true', budgetMs: 1000 }),
    ).rejects.toThrow();
  });
});

describe('TailBuffer', () => {
  it('keeps only the last bytes', () => {
    const t = new TailBuffer(10);
    for (let i = 0; i < 100; i++) t.push(Buffer.from(`${i % 10}`));
    expect(t.text()).toBe('0123456789');
    expect(t.text(4)).toBe('6789');
    t.push(Buffer.from('x'.repeat(50)));
    expect(t.text()).toBe('x'.repeat(10));
  });
});
