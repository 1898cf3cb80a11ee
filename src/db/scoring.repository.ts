/**
 * What rescoring reads of experiments: the columns the scorer and the cascade need, not the
 * metadata, descriptions or resources (a whole-project rescore of 100,000 rows holds them all).
 */
import type { ExperimentInput, ExperimentStatus, Score } from '../domain/types.js';
import type { CascadeState } from './experiments.repository.js';
import type { Executor } from './projects.repository.js';

/** An experiment as rescoring sees it. */
export interface ScoringRow {
  id: number;
  key: string;
  seq: number;
  status: ExperimentStatus;
  value: number | null;
  baseline: number | null;
  replicates: number[];
  premises: string[];
  code?: ExperimentInput['code'];
  review: Record<string, unknown> | null;
  score: Score | null;
  cascade: CascadeState | null;
  absent: boolean;
}

const COLUMNS = ['id', 'key', 'seq', 'status', 'value', 'baseline', 'replicates', 'premises', 'code', 'review', 'score', 'cascade', 'absent'] as const;

type Row = { [K in (typeof COLUMNS)[number]]: unknown };

function rowToScoring(r: Row): ScoringRow {
  const out: ScoringRow = {
    id: r.id as number,
    key: r.key as string,
    seq: r.seq as number,
    status: r.status as ExperimentStatus,
    value: r.value as number | null,
    baseline: r.baseline as number | null,
    replicates: (r.replicates as number[] | null) ?? [],
    premises: (r.premises as string[] | null) ?? [],
    review: (r.review as Record<string, unknown> | null) ?? null,
    score: (r.score as Score | null) ?? null,
    cascade: (r.cascade as CascadeState | null) ?? null,
    absent: r.absent as boolean,
  };
  if (r.code) out.code = r.code as ExperimentInput['code'];
  return out;
}

/** Every experiment of the project in the latest log, in seq order. */
export async function listScoringRows(db: Executor, projectId: number): Promise<ScoringRow[]> {
  const rows = await db.selectFrom('experiments').select(COLUMNS).where('project_id', '=', projectId).where('absent', '=', false).orderBy('seq').execute();
  return rows.map(rowToScoring);
}

/** The given experiments of the latest log, in seq order. */
export async function scoringRowsByIds(db: Executor, ids: number[]): Promise<ScoringRow[]> {
  const out: ScoringRow[] = [];
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = await db.selectFrom('experiments').select(COLUMNS).where('id', 'in', ids.slice(i, i + 5000)).where('absent', '=', false).execute();
    out.push(...rows.map(rowToScoring));
  }
  return out.sort((a, b) => a.seq - b.seq);
}
