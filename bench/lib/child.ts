import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadSpec } from './load.js';

const LOAD = fileURLToPath(new URL('./load.ts', import.meta.url));

/** Runs autocannon in a child process (see load.ts) and returns its summary. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  // The request list is too long for argv: it travels in a file.
  const dir = mkdtempSync(join(tmpdir(), 'ecv-bench-'));
  const file = join(dir, 'spec.json');
  writeFileSync(file, JSON.stringify(spec));
  return new Promise<LoadResult>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as LoadResult);
      } catch (e) {
        reject(e);
      }
    });
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}
