import { describe, expect, it } from 'vitest';
import { inferDirection, metricTokens } from '../../../src/domain/ingest/index.js';

describe('inferDirection', () => {
  it.each([
    ['val_bpb', 'minimize'],
    ['val_loss', 'minimize'],
    ['valLoss', 'minimize'],
    ['final_loss', 'minimize'],
    ['perplexity', 'minimize'],
    ['ppl', 'minimize'],
    ['val_fid', 'minimize'],
    ['val_rmse', 'minimize'],
    ['MSE', 'minimize'],
    ['test-mae', 'minimize'],
    ['error_rate', 'minimize'],
    ['top1.err', 'minimize'],
    ['latency_us', 'minimize'],
    ['step_time', 'minimize'],
    ['WER', 'minimize'],
    ['cer', 'minimize'],
    ['max_dd', 'minimize'],
    ['accuracy', 'maximize'],
    ['top1_acc', 'maximize'],
    ['overall_acc', 'maximize'],
    ['macro_f1_4risk', 'maximize'],
    ['auc', 'maximize'],
    ['episode_reward', 'maximize'],
    ['throughput_tflops', 'maximize'],
    ['score', 'maximize'],
    ['adjusted_score', 'maximize'],
    ['tokens_per_sec', 'maximize'],
    ['tok_per_sec', 'maximize'],
    ['tg_tok_s', 'maximize'],
    ['decode_tok_s', 'maximize'],
    ['TPS', 'maximize'],
    ['sharpe', 'maximize'],
    ['total_return', 'maximize'],
    ['speedup', 'maximize'],
    ['neg_loss', 'maximize'],
  ] as const)('%s → %s', (name, expected) => {
    expect(inferDirection(name)).toBe(expected);
  });

  it.each(['metric', 'tss', 'memory_gb', 'commit', 'description', 'codec_name', ''])(
    '%s → null',
    (name) => {
      expect(inferDirection(name)).toBeNull();
    },
  );

  it('matches whole tokens only', () => {
    expect(inferDirection('accumulate')).toBeNull();
    expect(inferDirection('glossary')).toBeNull();
    expect(inferDirection('terror')).toBeNull();
  });

  it('splits on _ - . spaces and camelCase', () => {
    expect(metricTokens('valBPB.top1-acc rate')).toEqual(['val', 'bpb', 'top1', 'acc', 'rate']);
    expect(metricTokens('HTTPLatencyMs')).toEqual(['http', 'latency', 'ms']);
  });
});
