-- ECV schema, version 1. Forward-only; applied at start under a lock (src/db/migrator.ts).

CREATE TABLE projects (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name            text NOT NULL UNIQUE,
  config          jsonb NOT NULL,
  -- Project-wide statistics (sigma, pi, tau, alpha0, beta0) and their version (SPEC §3, §4).
  stats           jsonb,
  stats_version   integer NOT NULL DEFAULT 0,
  -- Experiments count when stats were last refreshed; drives batch refreshes.
  stats_at_count  integer NOT NULL DEFAULT 0,
  next_seq        integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE experiments (
  id                 integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id         integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  key                text NOT NULL,
  -- Order of arrival within the project (ingest row order for results.tsv).
  seq                integer NOT NULL,
  status             text NOT NULL CHECK (status IN ('keep', 'discard', 'crash', 'unknown')),
  value              double precision,
  baseline           double precision,
  replicates         jsonb NOT NULL DEFAULT '[]',
  premises           jsonb NOT NULL DEFAULT '[]',
  code               jsonb,
  description        text,
  hypothesis         text,
  resources          jsonb,
  metadata           jsonb NOT NULL DEFAULT '{}',
  -- Hash of the submitted content: same content again is a no-op, other content a conflict.
  content_hash       text NOT NULL,
  -- Score (SPEC §3): C, its components and everything needed to recompute it by hand.
  confidence         double precision,
  score              jsonb,
  hard_gate          text,
  anchor_eligible    boolean NOT NULL DEFAULT false,
  stats_version      integer,
  -- Cascade (SPEC §4): compounded confidence K and its weakest link.
  anchored           boolean NOT NULL DEFAULT false,
  compounded         double precision,
  cascade            jsonb,
  review             jsonb,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, key)
);
CREATE INDEX experiments_project_seq ON experiments (project_id, seq);
CREATE INDEX experiments_project_status ON experiments (project_id, status, seq);

-- Premise edges: parent -> child means child was built on parent. Kept a DAG by the service.
CREATE TABLE edges (
  project_id  integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  parent_id   integer NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  child_id    integer NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  position    integer NOT NULL DEFAULT 0,
  PRIMARY KEY (child_id, parent_id)
);
CREATE INDEX edges_parent ON edges (parent_id);

CREATE TABLE reproductions (
  id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id     integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  experiment_id  integer NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  job_id         text UNIQUE,
  seed           integer NOT NULL,
  value          double precision,
  ok             boolean NOT NULL,
  error          text,
  runner         text,
  duration_s     double precision,
  log_tail       text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (experiment_id, seed)
);

CREATE TABLE gate_decisions (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id      integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  experiment_key  text NOT NULL,
  caller          text,
  inputs          jsonb NOT NULL,
  decision        text NOT NULL,
  answer          jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gate_decisions_project ON gate_decisions (project_id, id);

CREATE TABLE tokens (
  id            text PRIMARY KEY,
  hash          text NOT NULL UNIQUE,
  role          text NOT NULL CHECK (role IN ('admin', 'loop', 'runner', 'reader')),
  projects      jsonb NOT NULL DEFAULT '[]',
  label         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);

-- LLM review cache, by diff hash (SPEC §9).
CREATE TABLE reviews (
  diff_hash   text PRIMARY KEY,
  model       text NOT NULL,
  result      jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
