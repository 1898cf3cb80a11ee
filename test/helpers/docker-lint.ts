import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What `docker compose config` and hadolint would check, for a machine without Docker:
 * Compose variable interpolation, a Dockerfile parsed into stages, and .dockerignore matching.
 */

/**
 * Compose interpolation of one string (compose-spec "Interpolation"): `$$` is a literal `$`;
 * `${V}`/`$V`, `${V:-d}`/`${V-d}` (default when unset or empty / unset), `${V:?e}`/`${V?e}`
 * (error), `${V:+r}`/`${V+r}` (replacement). A `$` before anything else is an error, as in
 * Compose ("invalid interpolation format").
 */
export function interpolate(s: string, env: Record<string, string | undefined>): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '$') {
      out += s[i];
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '{') {
      let depth = 1;
      let j = i + 2;
      for (; j < s.length && depth > 0; j++) depth += s[j] === '{' ? 1 : s[j] === '}' ? -1 : 0;
      if (depth) throw new Error(`unterminated \${ in ${JSON.stringify(s)}`);
      out += expand(s.slice(i + 2, j - 1), env);
      i = j - 1;
    } else if (next !== undefined && /[A-Za-z_]/.test(next)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1))![0];
      out += env[name] ?? '';
      i += name.length;
    } else {
      throw new Error(`invalid interpolation format in ${JSON.stringify(s)} (write $$ for a literal $)`);
    }
  }
  return out;
}

function expand(body: string, env: Record<string, string | undefined>): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([\s\S]*))?$/.exec(body);
  if (!m) throw new Error(`invalid interpolation \${${body}}`);
  const [, name, colon, op, arg = ''] = m;
  const value = env[name];
  const missing = colon ? !value : value === undefined;
  if (op === '-') return missing ? interpolate(arg, env) : value!;
  if (op === '?') {
    if (missing) throw new Error(`required variable ${name} is missing a value: ${arg}`);
    return value!;
  }
  if (op === '+') return missing ? '' : interpolate(arg, env);
  return value ?? '';
}

/** Interpolates every string value (not keys) of a parsed Compose file. */
export function interpolateTree<T>(node: T, env: Record<string, string | undefined>): T {
  if (typeof node === 'string') return interpolate(node, env) as T;
  if (Array.isArray(node)) return node.map((n) => interpolateTree(n, env)) as T;
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, env)])) as T;
  return node;
}

export interface Instruction {
  op: string;
  args: string;
  line: number;
}
export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** A Dockerfile as stages of instructions (continuations joined, comments dropped). */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i];
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) line = line.replace(/\\\s*$/, ' ') + lines[++i].replace(/^\s*#.*$/, '');
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(line)!;
    const ins = { op: m[1].toUpperCase(), args: m[2].trim(), line: start + 1 };
    if (ins.op === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      stages.push({ name: f[2] ?? String(stages.length), from: f[1], instructions: [] });
    } else {
      if (!stages.length) throw new Error(`line ${ins.line}: ${ins.op} before FROM`);
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return stages;
}

/** The stage and the stages it is built FROM, nearest first. */
export function stageChain(stages: Stage[], name: string): Stage[] {
  const out: Stage[] = [];
  let s = stages.find((x) => x.name === name);
  while (s) {
    out.push(s);
    const from = s.from;
    s = stages.slice(0, stages.indexOf(s)).find((x) => x.name === from);
  }
  return out;
}

/** The last value of an instruction that a target image inherits through its FROM chain. */
export function effective(stages: Stage[], target: string, op: string): string | undefined {
  for (const s of stageChain(stages, target)) {
    const found = s.instructions.filter((i) => i.op === op);
    if (found.length) return found[found.length - 1].args;
  }
  return undefined;
}

/** .dockerignore patterns (Go filepath.Match plus `**`), matched against a path or any parent. */
export function dockerIgnore(text: string): (path: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (patterns.some((p) => p.startsWith('!'))) throw new Error('exceptions (!) are not supported by this checker');
  const res = patterns.map((p) => {
    const body = p
      .replace(/^\/+/, '')
      .split(/(\*\*\/?|\*|\?)/)
      .map((t) => (t === '**/' ? '(?:.*/)?' : t === '**' ? '.*' : t === '*' ? '[^/]*' : t === '?' ? '[^/]' : t.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    return new RegExp(`^${body}$`);
  });
  return (path: string) => {
    const parts = path.split('/');
    return parts.some((_, i) => res.some((r) => r.test(parts.slice(0, i + 1).join('/'))));
  };
}

/** Bytes a build would send: every file under root that .dockerignore does not exclude. */
export function contextBytes(root: string, ignored: (path: string) => boolean, rel = ''): number {
  let total = 0;
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (ignored(p)) continue;
    total += e.isDirectory() ? contextBytes(root, ignored, p) : e.isFile() ? statSync(join(root, p)).size : 0;
  }
  return total;
}
