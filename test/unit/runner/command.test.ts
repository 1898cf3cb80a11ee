import { describe, expect, it } from 'vitest';
import {
  defaultRunnerName,
  jobEnv,
  parseGpus,
  parseLabels,
  parsePassEnv,
  renderCommand,
  RUNNER_NAME,
} from '../../../src/runner/command.js';
import { formatEvent } from '../../../src/runner/log.js';

describe('renderCommand', () => {
  it('substitutes every {seed} and {commit}', () => {
    expect(
      renderCommand('python train.py --seed {seed} --tag {commit}-{seed}', {
        seed: 7,
        commit: 'abc123',
      }),
    ).toBe('python train.py --seed 7 --tag abc123-7');
  });
  it('leaves templates without placeholders and other braces alone', () => {
    expect(renderCommand('./train.sh', { seed: 1, commit: 'c' })).toBe('./train.sh');
    expect(renderCommand('echo ${HOME} {a,b} {seeds} { seed }', { seed: 1, commit: 'c' })).toBe(
      'echo ${HOME} {a,b} {seeds} { seed }',
    );
  });
});

describe('jobEnv', () => {
  const job = {
    jobId: 'j1',
    project: 'p',
    experiment: 'e1',
    seed: 3,
    commit: 'f'.repeat(40),
    runner: 'r1',
    slot: 0,
  };
  it('sets the ECV_* variables and keeps the allow-listed ones', () => {
    const env = jobEnv({ PATH: '/bin', HOME: '/root', UNSET: undefined }, job);
    expect(env).toMatchObject({
      PATH: '/bin',
      HOME: '/root',
      ECV_SEED: '3',
      ECV_COMMIT: 'f'.repeat(40),
      ECV_JOB_ID: 'j1',
      ECV_PROJECT: 'p',
      ECV_EXPERIMENT: 'e1',
      ECV_RUNNER: 'r1',
      ECV_SLOT: '0',
    });
    expect('UNSET' in env).toBe(false);
    expect('CUDA_VISIBLE_DEVICES' in env).toBe(false);
  });
  it('never hands the runner token to the code under test', () => {
    const env = jobEnv({ ECV_TOKEN: 'secret', ECV_ADMIN_TOKEN: 'admin', OPENAI_API_KEY: 'k' }, job);
    expect(env.ECV_TOKEN).toBeUndefined();
    expect(env.ECV_ADMIN_TOKEN).toBeUndefined();
    expect(env.OPENAI_API_KEY).toBeUndefined();
  });
  it('keeps only allow-listed variables and those named by --pass-env (never the runner token)', () => {
    const base = { LC_ALL: 'C', NVIDIA_DRIVER_CAPABILITIES: 'all', AWS_SECRET_ACCESS_KEY: 'x', DATABASE_URL: 'postgres://u:p@h/d', WANDB_API_KEY: 'w', HF_TOKEN: 'h', ECV_TOKEN: 't' };
    expect(Object.keys(jobEnv(base, job)).filter((k) => !k.startsWith('ECV_')).sort()).toEqual(['LC_ALL', 'NVIDIA_DRIVER_CAPABILITIES']);
    const passed = jobEnv(base, job, parsePassEnv('WANDB_*, HF_TOKEN,ECV_TOKEN'));
    expect(passed).toMatchObject({ WANDB_API_KEY: 'w', HF_TOKEN: 'h' });
    expect(passed.ECV_TOKEN).toBeUndefined();
    expect(passed.AWS_SECRET_ACCESS_KEY).toBeUndefined();
    expect(() => parsePassEnv('A=B')).toThrow(/not a variable name/);
  });
  it('pins the slot to its GPU and overrides an inherited ECV_SEED', () => {
    const env = jobEnv(
      { ECV_SEED: '99', CUDA_VISIBLE_DEVICES: '0,1,2,3' },
      { ...job, slot: 2, gpu: '2' },
    );
    expect(env.ECV_SEED).toBe('3');
    expect(env.CUDA_VISIBLE_DEVICES).toBe('2');
  });
});

describe('runner settings', () => {
  it('parses labels', () => {
    expect(parseLabels('gpu=H100, zone=a,,mem=80GB')).toEqual({
      gpu: 'H100',
      zone: 'a',
      mem: '80GB',
    });
    expect(parseLabels(undefined)).toEqual({});
    expect(() => parseLabels('gpu')).toThrow(/key=value/);
    expect(() => parseLabels('=x')).toThrow(/key=value/);
  });
  it('parses GPU slots, single devices or groups', () => {
    expect(parseGpus('0,1,2')).toEqual(['0', '1', '2']);
    expect(parseGpus('0,1;2,3')).toEqual(['0,1', '2,3']);
    expect(parseGpus(undefined)).toBeUndefined();
    expect(() => parseGpus(',')).toThrow();
  });
  it('makes a default name the service accepts', () => {
    expect(defaultRunnerName('gpu box #3 (lab)', 42)).toBe('gpu-box--3--lab--42');
    expect(defaultRunnerName('', 7)).toBe('runner-7');
    expect(RUNNER_NAME.test(defaultRunnerName())).toBe(true);
  });
});

describe('formatEvent', () => {
  it('writes one logfmt line, quoting what needs it', () => {
    const line = formatEvent(
      'info',
      'job.done',
      {
        job: 'j1',
        seed: 2,
        value: 0.95,
        error: undefined,
        command: 'python train.py --seed 2',
        none: null,
      },
      new Date(0),
    );
    expect(line).toBe(
      'ts=1970-01-01T00:00:00.000Z level=info event=job.done job=j1 seed=2 value=0.95 command="python train.py --seed 2" none=null',
    );
    expect(line).not.toContain('\n');
    expect(formatEvent('warn', 'x', { error: 'a\nb "c"' }, new Date(0))).toBe(
      'ts=1970-01-01T00:00:00.000Z level=warn event=x error="a\\nb \\"c\\""',
    );
  });
});
