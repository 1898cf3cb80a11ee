import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { contextBytes, dockerIgnore, effective, interpolate, interpolateTree, parseDockerfile, stageChain } from '../../helpers/docker-lint.js';

// docker/ checked the way `docker compose config` and hadolint would, without a Docker engine.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOCKER = join(ROOT, 'docker');
const composeText = readFileSync(join(DOCKER, 'compose.yml'), 'utf8');
const stages = parseDockerfile(readFileSync(join(DOCKER, 'Dockerfile'), 'utf8'));
const ignored = dockerIgnore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));

/* eslint-disable @typescript-eslint/no-explicit-any -- a Compose file is untyped YAML */
const compose = (env: Record<string, string>): any => interpolateTree(parse(composeText), env);

// The subset of the Compose specification's service keys this project may use (typos fail).
const SERVICE_KEYS = new Set(['image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'volumes', 'depends_on', 'healthcheck', 'profiles', 'user', 'restart', 'labels', 'deploy', 'working_dir']);

describe('interpolation as Compose does it', () => {
  it('handles defaults, required variables and $$', () => {
    expect(interpolate('${A:-x}/${B-y}/$$HOME/${C:+z}', { B: '', C: '1' })).toBe('x//$HOME/z');
    expect(interpolate('${A:-${B:-deep}}', {})).toBe('deep');
    expect(() => interpolate('${T:?make a token}', {})).toThrow(/required variable T/);
    expect(() => interpolate('echo $1', {})).toThrow(/invalid interpolation/);
  });
});

describe('docker/compose.yml', () => {
  it('loads with no variables set: the first `up` needs no token, and starts postgres and ecv only', () => {
    const c = compose({});
    expect(Object.keys(c).filter((k) => !['services', 'volumes', 'networks', 'configs', 'secrets', 'name'].includes(k))).toEqual([]);
    expect(Object.keys(c.services)).toEqual(['postgres', 'ecv', 'runner']);
    for (const [name, s] of Object.entries<any>(c.services)) {
      expect([...Object.keys(s)].filter((k) => !SERVICE_KEYS.has(k)), name).toEqual([]);
      for (const dep of Object.keys(s.depends_on ?? {})) expect(c.services, `${name} depends on ${dep}`).toHaveProperty(dep);
      for (const v of s.volumes ?? []) if (typeof v === 'string' && !v.startsWith('.') && !v.startsWith('/')) expect(c.volumes).toHaveProperty(v.split(':')[0]);
    }
    expect(c.services.postgres.profiles).toBeUndefined();
    expect(c.services.ecv.profiles).toBeUndefined();
    // The runner's token exists only after ecv runs: it is started in a second step.
    expect(c.services.runner.profiles).toEqual(['runner']);
    expect(c.services.runner.environment.ECV_TOKEN).toBe('');
    expect(compose({ ECV_RUNNER_TOKEN: 'ecv_t' }).services.runner.environment.ECV_TOKEN).toBe('ecv_t');
    expect(c.services.ecv.environment.ECV_ADMIN_TOKEN).toBe(''); // empty: the service generates one and prints it
    expect(composeText).not.toMatch(/\$\{[A-Za-z_]\w*:?\?/); // no variable is required
  });

  it('builds from the repository root, with targets the Dockerfile has', () => {
    const c = compose({});
    for (const name of ['ecv', 'runner']) {
      const b = c.services[name].build;
      const context = resolve(DOCKER, b.context);
      expect(context, name).toBe(resolve(ROOT));
      expect(existsSync(join(context, b.dockerfile)), `${name}: ${b.dockerfile}`).toBe(true);
      expect(stages.map((s) => s.name)).toContain(b.target);
    }
    expect(c.services.ecv.build.target).toBe('service');
    expect(stages[stages.length - 1].name).toBe('service'); // a plain `docker build` makes the service
    expect(c.services.runner.build.target).toBe('runner-python');
    expect(compose({ ECV_RUNNER_TARGET: 'runner' }).services.runner.build.target).toBe('runner');
  });

  it('the runner: no inherited HTTP health check, the repository path from the checkout root, the host uid', () => {
    const c = compose({});
    const r = c.services.runner;
    expect(r.healthcheck).toEqual({ disable: true });
    for (const target of ['runner', 'runner-python']) expect(effective(stages, target, 'HEALTHCHECK'), target).toBe('NONE');
    expect(effective(stages, 'service', 'HEALTHCHECK')).toMatch(/\/healthz/);
    expect(c.services.ecv.ports).toEqual(['8080:8080']);
    expect(r.depends_on.ecv.condition).toBe('service_healthy'); // ecv's image has a health check
    // Relative binds resolve against docker/: the default is repo/ at the root, not docker/repo.
    const bind = r.volumes.find((v: any) => v.target === '/repo');
    expect(bind.type).toBe('bind');
    expect(resolve(DOCKER, bind.source)).toBe(join(resolve(ROOT), 'repo'));
    expect(resolve(DOCKER, compose({ ECV_REPO: '/srv/nanogpt' }).services.runner.volumes[0].source)).toBe('/srv/nanogpt');
    expect(bind.bind.create_host_path).toBe(false); // a missing repository fails, not an empty root-owned dir
    expect(r.user).toBe('1000:1000');
    expect(compose({ ECV_RUNNER_UID: '501', ECV_RUNNER_GID: '20' }).services.runner.user).toBe('501:20');
    expect(r.command.slice(0, 5)).toEqual(['runner', '--url', 'http://ecv:8080', '--repo', '/repo']);
  });
});

describe('docker/Dockerfile (hadolint-style rules)', () => {
  const all = stages.flatMap((s) => s.instructions.map((i) => ({ ...i, stage: s.name })));

  it('pins base images, names stages once, copies only from earlier stages', () => {
    const names = stages.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    stages.forEach((s, i) => {
      if (names.slice(0, i).includes(s.from)) return;
      expect(s.from, `stage ${s.name}`).toMatch(/^[\w./-]+:[\w.-]+$/); // DL3006: a tag
      expect(s.from).not.toMatch(/:latest$/); // DL3007
    });
    for (const ins of all.filter((i) => i.op === 'COPY')) {
      const from = /--from=(\S+)/.exec(ins.args)?.[1];
      if (from) expect(names.slice(0, names.indexOf(ins.stage)), `line ${ins.line}`).toContain(from);
    }
    expect(all.filter((i) => i.op === 'ADD')).toEqual([]); // DL3020
  });

  it('installs packages the careful way (the Dockerfile, and the runner example in docs/operations.md)', () => {
    const doc = /```dockerfile\n([\s\S]*?)```/.exec(readFileSync(join(ROOT, 'docs/operations.md'), 'utf8'))![1];
    const example = parseDockerfile(doc);
    expect(example.map((s) => s.from)).toEqual(['ecv-runner']);
    expect(doc).toContain('--target runner -t ecv-runner');
    expect(effective(example, '0', 'USER')).toBe('node');
    for (const ins of [...all, ...example[0].instructions].filter((i) => i.op === 'RUN')) {
      if (/apt-get install/.test(ins.args)) {
        expect(ins.args, `line ${ins.line}`).toMatch(/apt-get update\s*&&[\s\S]*apt-get install/); // DL3009 with the list removed below
        expect(ins.args).toMatch(/install -y --no-install-recommends/); // DL3014, DL3015
        expect(ins.args).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
      }
      if (/pip install/.test(ins.args)) expect(ins.args, `line ${ins.line}`).toMatch(/pip install --no-cache-dir/); // DL3042
    }
  });

  it('every target runs as a non-root user, exec-form entrypoints, absolute workdirs', () => {
    for (const target of ['runner', 'runner-python', 'service']) {
      expect(effective(stages, target, 'USER'), target).toBe('node'); // DL3002; uid 1000 in node images
      const ep = effective(stages, target, 'ENTRYPOINT')!;
      expect(JSON.parse(ep)[0], target).toBe('/usr/bin/tini'); // DL3025, signals forwarded
      expect(() => JSON.parse(effective(stages, target, 'CMD')!)).not.toThrow();
    }
    for (const ins of all.filter((i) => i.op === 'WORKDIR')) expect(ins.args).toMatch(/^\//); // DL3000
    // git refuses a bind-mounted repository owned by another uid without safe.directory.
    expect(stageChain(stages, 'runner')[0].instructions.some((i) => i.op === 'RUN' && /git config --system --add safe\.directory/.test(i.args))).toBe(true);
    expect(effective(stages, 'service', 'EXPOSE')).toBe('8080');
  });

  it('.dockerignore keeps node_modules, data and .git out, and everything COPY needs in', () => {
    for (const p of ['node_modules', 'node_modules/fastify/package.json', 'clients/python/node_modules', 'data', 'data/pg/PG_VERSION', '.git', '.git/HEAD', 'test/e2e/cli.test.ts', 'npm-debug.log', '.env']) expect(ignored(p), p).toBe(true);
    const sources = all.filter((i) => i.op === 'COPY' && !i.args.includes('--from=')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(['package.json', 'package-lock.json', 'package.json', 'bin', 'src', 'sql', 'schemas']);
    for (const src of sources) {
      expect(existsSync(join(ROOT, src)), src).toBe(true);
      expect(ignored(src), src).toBe(false);
    }
    expect(ignored('src/cli/main.ts')).toBe(false);
    // What a build would send: a few MB, not the 1.8 GB with node_modules and data/.
    expect(contextBytes(ROOT, (p) => p === '.git' || ignored(p))).toBeLessThan(8 << 20);
    expect(dirname(join(ROOT, '.dockerignore'))).toBe(resolve(DOCKER, compose({}).services.ecv.build.context)); // the context's root
  });
});
