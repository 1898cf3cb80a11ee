import type { Direction } from '../types.js';

/**
 * Metric-name vocabulary for {@link inferDirection}. Single tokens match whole tokens of
 * the name; multi-token entries match a run of consecutive tokens.
 *
 * minimize: loss, bpb, bpc, nll, perplexity/ppl, error/err, time, latency, runtime,
 *   duration, mse/mae/rmse/mape, wer/cer, fid, cost, regret, drawdown (and max_dd).
 * maximize: acc, accuracy, f1, auc, reward, return(s), throughput, score, sharpe,
 *   tokens_per_sec / tok_per_sec / tok_s / tokens_s / tps, speedup, tflops, mfu,
 *   precision, recall, bleu, rouge, psnr, ssim, iou, map, ndcg, win_rate.
 */
const words = (list: string): string[] => list.split(/\s+/).filter(Boolean);
const MINIMIZE = new Set(
  words(`loss bpb bpc nll perplexity ppl error err time latency runtime duration mse mae rmse mape
    wer cer fid cost regret drawdown`),
);
const MAXIMIZE = new Set(
  words(`acc accuracy f1 auc reward rewards return returns throughput score sharpe tps speedup tflops
    mfu precision recall bleu rouge psnr ssim iou map ndcg`),
);
const PHRASES: Array<[string[], Direction]> = [
  ...['tokens per sec', 'tokens per s', 'tok per sec', 'tok per s', 'tok s', 'tokens s', 'tok sec'],
  ...['samples per sec', 'win rate'],
]
  .map((p): [string[], Direction] => [words(p), 'maximize'])
  .concat([[['max', 'dd'], 'minimize']])
  // A header that says so (`score (lower is better)`) beats the vocabulary before it.
  .concat(
    ['higher is better', 'higher better', 'larger is better'].map((p) => [words(p), 'maximize']),
    ['lower is better', 'lower better', 'smaller is better'].map((p) => [words(p), 'minimize']),
  );
const NEGATIONS = new Set(['neg', 'negative', 'minus']);

/** Splits a metric name into lower-case tokens at `_ - .`, spaces, other punctuation and camelCase humps. */
export function metricTokens(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 0);
}

const flip = (d: Direction): Direction => (d === 'minimize' ? 'maximize' : 'minimize');

/**
 * Guesses whether a metric is to be minimized or maximized from its name, by whole-token
 * matching against the vocabulary above (`val_bpb` → minimize, `tokensPerSec` → maximize,
 * `accuracy_top1` → maximize). When several entries match, the last one wins (the head
 * noun of a compound comes last: `time_to_accuracy`… is rare, `val_loss` common); a
 * leading `neg`/`negative` flips the answer. Returns null when nothing matches.
 */
export function inferDirection(metricName: string): Direction | null {
  const tokens = metricTokens(metricName);
  let found: Direction | null = null;
  let at = -1;
  for (let i = 0; i < tokens.length; i++) {
    if (MINIMIZE.has(tokens[i])) [found, at] = ['minimize', i];
    else if (MAXIMIZE.has(tokens[i])) [found, at] = ['maximize', i];
  }
  for (const [phrase, dir] of PHRASES) {
    for (let i = 0; i + phrase.length <= tokens.length; i++) {
      const end = i + phrase.length - 1;
      if (end >= at && phrase.every((p, k) => tokens[i + k] === p)) {
        [found, at] = [dir, end];
      }
    }
  }
  if (found !== null && tokens.length > 0 && NEGATIONS.has(tokens[0])) return flip(found);
  return found;
}
