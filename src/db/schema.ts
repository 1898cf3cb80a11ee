import type { ColumnType, Generated, JSONColumnType } from 'kysely';

/** Kysely table types. Row types never leave src/db: repositories map them to domain types. */

type Json<T extends object | null> = JSONColumnType<T, string, string>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface ProjectsTable {
  id: Generated<number>;
  name: string;
  config: Json<Record<string, unknown>>;
  stats: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  stats_version: Generated<number>;
  stats_at_count: Generated<number>;
  next_seq: Generated<number>;
  reproduction_count: Generated<number>;
  config_version: Generated<number>;
  log_version: Generated<string>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** The results.tsv a project last ingested (sql/0007, services/ingest.service.ts). */
export interface IngestStatesTable {
  project_id: number;
  bytes: string | number;
  sha256: string;
  options: string;
  stamp: string;
  report: Json<Record<string, unknown>>;
  keys: Json<string[]>;
  updated_at: Timestamp;
}

export interface ExperimentsTable {
  id: Generated<number>;
  project_id: number;
  key: string;
  seq: number;
  status: string;
  value: number | null;
  baseline: number | null;
  replicates: Json<number[]>;
  premises: Json<string[]>;
  code: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  description: string | null;
  hypothesis: string | null;
  resources: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  metadata: Json<Record<string, unknown>>;
  content_hash: string;
  confidence: number | null;
  score: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  hard_gate: string | null;
  stats_version: number | null;
  anchored: Generated<boolean>;
  compounded: number | null;
  cascade: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  review: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  /** Current version (sql/0004); its content is experiment_versions' row of that number. */
  version: Generated<number>;
  /** Not in the latest results.tsv of the project: kept as history, out of scoring. */
  absent: Generated<boolean>;
  source: Generated<'tsv' | 'json'>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ExperimentVersionsTable {
  experiment_id: number;
  version: number;
  content_hash: string;
  content: Json<Record<string, unknown>>;
  changed: Json<string[]>;
  token_id: string | null;
  caller: string | null;
  created_at: Timestamp;
}

export interface EdgesTable {
  project_id: number;
  parent_id: number;
  child_id: number;
  position: number;
}

export interface ReproductionsTable {
  id: Generated<number>;
  project_id: number;
  experiment_id: number;
  job_id: string | null;
  seed: number;
  value: number | null;
  ok: boolean;
  error: string | null;
  runner: string | null;
  duration_s: number | null;
  log_tail: string | null;
  created_at: Timestamp;
}

export interface GateDecisionsTable {
  id: Generated<number>;
  project_id: number;
  experiment_key: string;
  caller: string | null;
  inputs: Json<Record<string, unknown>>;
  decision: string;
  answer: Json<Record<string, unknown>>;
  threshold: number | null;
  threshold_source: string | null;
  created_at: Timestamp;
}

export interface TokensTable {
  id: string;
  hash: string;
  role: string;
  projects: Json<string[]>;
  label: string | null;
  created_at: Timestamp;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface ReviewsTable {
  diff_hash: string;
  model: string;
  result: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface JobsTable {
  id: string;
  project_id: number;
  experiment_id: number;
  seed: number;
  round: number;
  priority: number;
  state: string;
  runner: string | null;
  lease_holder: string | null;
  lease_expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  attempts: Generated<number>;
  time_budget_s: number;
  created_at: Timestamp;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** The experiment whose gate decision this job serves (0006). */
  gated_experiment_id: ColumnType<number | null, number | null | undefined, number | null>;
  purpose: Generated<string>;
}

/** LLM review jobs (0008), leased like `jobs`. */
export interface ReviewJobsTable {
  id: Generated<string>;
  experiment_id: number;
  state: Generated<string>;
  attempts: Generated<number>;
  run_after: Generated<Date>;
  lease_expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Generated<Date>;
}

export interface Database {
  jobs: JobsTable;
  projects: ProjectsTable;
  experiments: ExperimentsTable;
  ingest_states: IngestStatesTable;
  experiment_versions: ExperimentVersionsTable;
  edges: EdgesTable;
  reproductions: ReproductionsTable;
  gate_decisions: GateDecisionsTable;
  tokens: TokensTable;
  reviews: ReviewsTable;
  review_jobs: ReviewJobsTable;
}
