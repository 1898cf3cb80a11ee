import type { Machine } from './lib/machine.js';
import { f, n, pct, table, yes } from './lib/markdown.js';
import type { ObeyResult } from './obey.js';
import { gainShare, type Mode, type ObeySummary } from './obey/metrics.js';
import type { ObeyRegime } from './obey/regimes.js';

/** The goals of SPEC §14 for ECV at equal experiments, in every regime. */
export const OBEY_GOALS = {
  contamination: 0.05,
  keptReal1s: 0.8,
  reproductionsPerExperiment: 0.5,
  gainShare: 0.95,
};

const MODE_LABEL: Record<Mode, string> = {
  experiments: 'equal experiments',
  compute: 'equal compute',
};

function summaryOf(
  o: ObeyResult,
  regime: string,
  policy: string,
  mode: Mode,
): ObeySummary | undefined {
  return o.results
    .find((r) => r.regime === regime)
    ?.summaries.find((s) => s.policy === policy && s.mode === mode);
}

/** ECV's four target figures in one regime at equal experiments, each with met/missed. */
export function obeyTargets(
  o: ObeyResult,
  regime: string,
): { figure: string; goal: string; value: string; met: boolean | null }[] {
  return targetsOf(summaryOf(o, regime, 'ecv', 'experiments'), summaryOf(o, regime, 'flat', 'experiments'));
}

/** The same four figures for ECV's model, pooled over its (more) loops. */
export function modelTargets(o: ObeyResult, regime: string) {
  const r = o.model?.results.find((x) => x.regime === regime);
  const pick = (xs: ObeySummary[] | undefined) => xs?.find((s) => s.mode === 'experiments');
  return targetsOf(pick(r?.ecv), pick(r?.flat));
}

function targetsOf(
  e: ObeySummary | undefined,
  flat: ObeySummary | undefined,
): { figure: string; goal: string; value: string; met: boolean | null }[] {
  if (!e || !flat) return [];
  const share = gainShare(e, flat);
  const judge = (x: number, ok: (v: number) => boolean) => (Number.isFinite(x) ? ok(x) : null);
  return [
    {
      figure: 'contamination among accepted keeps',
      goal: `≤ ${pct(OBEY_GOALS.contamination)}`,
      value: `${pct(e.contamination, 1)} (${e.accepted} accepted)`,
      met: judge(e.contamination, (v) => v <= OBEY_GOALS.contamination),
    },
    {
      figure: '≥ 1σ keeps accepted',
      goal: `≥ ${pct(OBEY_GOALS.keptReal1s)}`,
      value: `${pct(e.keptReal1s)} (of ${e.keeps1s})`,
      met: judge(e.keptReal1s, (v) => v >= OBEY_GOALS.keptReal1s),
    },
    {
      figure: 'reproductions per experiment',
      goal: `≤ ${OBEY_GOALS.reproductionsPerExperiment}`,
      value: f(e.reproductionsPerExperiment),
      met: judge(e.reproductionsPerExperiment, (v) => v <= OBEY_GOALS.reproductionsPerExperiment),
    },
    {
      figure: "true gain of the final head, share of flat keep's",
      goal: `≥ ${pct(OBEY_GOALS.gainShare)}`,
      value: `${pct(share)} (${f(e.gainSigma, 1)}σ vs ${f(flat.gainSigma, 1)}σ)`,
      met: judge(share, (v) => v >= OBEY_GOALS.gainShare),
    },
  ];
}

function settings(regimes: ObeyRegime[]): string {
  return table(
    [
      'regime',
      '',
      'metric',
      'σ (one run)',
      'P(real)',
      'real effect',
      'P(harmful)',
      'harmful effect',
      'P(no effect)',
      'P(crash)',
    ],
    regimes.map((r) => [
      `\`${r.id}\``,
      r.label,
      `${r.metric} (${r.direction})`,
      f(r.sigma, 4),
      pct(r.pReal),
      `+\\|N(0, (${r.realScale}σ)²)\\|${r.headroomSigma ? ` × max(${r.gainFloor ?? 0}, 1 − g/${r.headroomSigma}σ), g the head's true gain` : ''}`,
      pct(r.pHarmful),
      `−\\|N(0, (${r.harmScale}σ)²)\\|${r.pCatastrophic ? `; ${pct(r.pCatastrophic)} of them catastrophic, −${r.catastrophicScale}σ·(1 + U(0, 1))` : ''}`,
      pct(1 - r.pReal - r.pHarmful),
      pct(r.pCrash),
    ]),
    ['l', 'l', 'l', 'r', 'r', 'l', 'r', 'l', 'r', 'r'],
  );
}

function results(o: ObeyResult, regime: string): string {
  const rows: string[][] = [];
  for (const mode of ['experiments', 'compute'] as Mode[]) {
    const flat = summaryOf(o, regime, 'flat', mode);
    for (const p of o.policies) {
      const s = summaryOf(o, regime, p.id, mode);
      if (!s) continue;
      rows.push([
        MODE_LABEL[mode],
        p.label,
        n(s.experiments),
        n(s.keeps),
        n(s.accepted),
        pct(s.contamination, 1),
        pct(s.keptReal),
        `${pct(s.keptReal1s)} (${s.keeps1s})`,
        pct(s.endToEnd1s),
        f(s.reproductionsPerExperiment),
        f(s.gainSigma, 1),
        flat ? pct(gainShare(s, flat)) : '—',
        f(s.falseInChain, 1),
        s.calibration
          ? `${f(s.calibration.meanS)} / ${f(s.calibration.shareReal)} (${s.calibration.n})`
          : '—',
      ]);
    }
  }
  return table(
    [
      'budget',
      'policy',
      'experiments',
      'keeps',
      'accepted',
      'contamination',
      'real keeps accepted',
      '≥ 1σ keeps accepted (n)',
      '≥ 1σ proposals accepted',
      'reproductions / experiment',
      'true gain (σ)',
      "share of flat's gain",
      'false premises on chain',
      'S at acceptance: mean / share real (n)',
    ],
    rows,
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

function barNote(o: ObeyResult): string {
  const tot = { answer: 0, endpoint: 0, recorded: 0, conflicts: 0, gaveUp: 0 };
  for (const r of o.results) {
    const e = r.notes.ecv ?? {};
    tot.answer += e.barFromAnswer ?? 0;
    tot.endpoint += e.barFromEndpoint ?? 0;
    tot.recorded += e.barFromRecorded ?? 0;
    tot.conflicts += e.repostConflicts ?? 0;
    tot.gaveUp += e.gateGaveUp ?? 0;
  }
  const all = tot.answer + tot.endpoint + tot.recorded;
  const out = [
    `ECV's bar, per proposal: \`GET …/bar\` ${n(tot.endpoint)}, the last accepted answer's \`bar\` ${n(tot.answer)}, the head's recorded value ${n(tot.recorded)} of ${n(all)}.`,
  ];
  if (tot.recorded)
    out.push(
      `**The service in this run answered no bar for ${pct(tot.recorded / all)} of proposals** (no \`GET /v1/projects/{p}/bar\` and no \`bar\` in the gate answer): those loops kept against the head's recorded value (the flat rule), not the honest bar of SPEC §5.`,
    );
  out.push(
    tot.conflicts
      ? `Re-posting a rejected keep as \`discard\` answered 409 ${n(tot.conflicts)} times (skipped: the row stayed a keep).`
      : 'Every rejected keep was re-posted as `discard` without a conflict.',
  );
  if (tot.gaveUp)
    out.push(
      `${n(tot.gaveUp)} keeps still answered \`reanchor\` after 40 gate calls and were counted as rejected.`,
    );
  if (o.runnerErrors) out.push(`Simulated runners saw ${n(o.runnerErrors)} failed lease calls.`);
  return out.join(' ');
}

function shortfalls(o: ObeyResult, targets: typeof obeyTargets, who: string): string {
  const lines: string[] = [];
  for (const r of o.regimes)
    for (const t of targets(o, r.id))
      if (t.met === false) lines.push(`- \`${r.id}\`: ${t.figure} ${t.value}, goal ${t.goal}.`);
  return lines.length
    ? `Where ${who} falls short of the goals at equal experiments:\n\n${lines.join('\n')}`
    : `${who} meets every goal at equal experiments in every regime of this run.`;
}

/** The model's section: its targets table over many loops, its agreement with the service. */
function modelSection(o: ObeyResult): string {
  const m = o.model;
  if (!m || m.results.length === 0) return '';
  const rows = o.regimes.flatMap((r) =>
    modelTargets(o, r.id).map((t) => [`\`${r.id}\``, t.figure, t.goal, t.value, yes(t.met)]),
  );
  const agree = m.agreement.decisions
    ? `On the ${n(m.agreement.loops)} loops both ran (the same seeds), the model and the service made the same keep/accept decision at ${n(m.agreement.same)} of ${n(m.agreement.decisions)} steps.`
    : 'No loop ran both ways in this run.';
  return `### Targets over ${m.loops} loops per regime (ECV's model)

\`bench/obey/model.ts\` runs the gate as the service does — the same pure functions (\`computeProjectStats\`,
\`scoreProject\`, the cascade's \`compound\`, \`decideGate\`) on an in-memory project, every scheduled
reproduction answered at once from the same truth — ${m.loops} loops per regime in ${f(m.seconds / 60, 1)} min, next to flat
keep on the same seeds. ${agree}

${table(['regime', 'figure', 'goal', `${m.loops} loops`, ''], rows, ['l', 'l', 'l', 'l', 'l'])}

${shortfalls(o, modelTargets, "ECV's model")}
`;
}

/** The obey-mode section of docs/benchmarks.md. */
export function renderObey(o: ObeyResult, m: Machine): string {
  const targetRows = o.regimes.flatMap((r) =>
    obeyTargets(o, r.id).map((t) => [`\`${r.id}\``, t.figure, t.goal, t.value, yes(t.met)]),
  );
  return `## 1b. Epistemic accuracy in loops that obey the gate

Made by \`${o.command}\` (${f(o.seconds / 60, 1)} min) on ${m.cpu}, ${m.cores} cores, ${f(m.memoryGiB, 1)} GiB,
Node ${m.node}, PostgreSQL ${m.postgres ?? '— (PGlite)'}, service commit ${m.commit}${m.dirtySrc ? ` with ${m.dirtySrc} uncommitted file(s) under src/ and sql/` : ''}, ${m.date}.
${o.loopsPerCell} loops per regime and policy (seeds 1–${o.loopsPerCell}), ${o.experimentsPerLoop} experiments per loop.

**What runs** (\`bench/obey.ts\`, \`bench/obey/\`). A proposer draws a true effect μ for each proposal from
its regime and runs it on the loop's head (value = the head's true level + μ + N(0, σ²)); the proposal
is a keep when it beats the policy's bar, and only what the gate accepts becomes the head — a rejected
keep is reverted. Every policy runs over the same proposer seeds (common random numbers; in the
digits-like regime a real gain also depends on how far that policy's head has come).
*ECV* goes through the service in process (\`buildApp\`, \`app.inject\`): every proposal is posted as
an experiment with its premise = the head; the bar is \`GET /v1/projects/{p}/bar\` (or the last accepted
gate answer's \`bar\`; the head's recorded value where the service has neither); each keep is gated
with \`wait\`; background simulated runners lease the scheduled jobs (\`POST /v1/runners/lease\`) and
complete them (\`POST /v1/jobs/{id}/complete\`) from the hidden truth (the commit's true level + fresh
noise, ${pct(o.regimes[0]?.pCrash ?? 0)} crashes); on reject the row is re-posted as \`discard\`. Project defaults, no sigma0.
*Flat keep*: keep when a run beats the head's recorded value, every keep accepted. *Fixed 2σ*: keep as
flat, accept when the gain exceeds 2σ (σ known). *Three seeds*: every proposal runs three times, flat
keep on the means. *First design (v1)*: its pure scoring and cascade modules from commit 3b67ef4
(\`bench/baselines/v1/\`), in process: keep as flat, accept when K ≥ 0.6, else a round of three
reproductions of the re-anchoring candidate, then accept or reject.
**Equal experiments**: every loop runs ${o.experimentsPerLoop} experiments, reproductions run on separate runners.
**Equal compute**: a loop's budget is ${o.experimentsPerLoop} runs, its reproductions and extra seeds included; a loop's
decisions depend only on its past, so this is the same loop cut where its runs reach the budget.

**Definitions.** A keep is real when its true μ > minEffect (0). *Contamination*: accepted keeps that
are not real, over accepted keeps. *≥ 1σ keeps accepted*: of the policy's keeps with μ ≥ σ, the share it
accepted (n = how many); *≥ 1σ proposals accepted* counts every non-crash proposal with μ ≥ σ.
*Reproductions / experiment*: runs beyond one per experiment (three seeds: 2). *True gain*: the final
head's true level over the baseline's, σ units, mean over loops; *share of flat's gain*: its ratio to
flat keep's over the same seeds. *False premises on chain*: accepted keeps that are not real (every
accepted keep stays on the chain). *S at acceptance*: mean S of the accepted keeps (from the gate
answer) against the share of them that were real — calibrated when the two agree.

### Settings

${settings(o.regimes)}

### Targets (ECV, equal experiments)

${table(['regime', 'figure', 'goal', 'this run', ''], targetRows, ['l', 'l', 'l', 'l', 'l'])}

${shortfalls(o, obeyTargets, 'ECV')}

${modelSection(o)}
### Results

${o.regimes.map((r) => `**\`${r.id}\`** — ${r.label}\n\n${results(o, r.id)}`).join('\n\n')}

${barNote(o)}
`;
}

/**
 * docs/benchmarks.md with its obey section replaced by `section` (`--splice` after an obey-only
 * run): from its heading to the next `## ` heading; inserted before `## 2.` (else appended) when the
 * document has none yet. The rest of the document, machine table included, is left as it was.
 */
export function spliceObey(doc: string, section: string): string {
  const body = `${section.trimEnd()}\n\n`;
  const start = doc.indexOf('\n## 1b.');
  if (start >= 0) {
    const next = doc.indexOf('\n## ', start + 1);
    return doc.slice(0, start + 1) + body + (next >= 0 ? doc.slice(next + 1) : '');
  }
  const before = doc.indexOf('\n## 2.');
  return before >= 0
    ? doc.slice(0, before + 1) + body + doc.slice(before + 1)
    : `${doc.trimEnd()}\n\n${body}`;
}
