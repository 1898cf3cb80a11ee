-- A log changes, and that is normal (SPEC §7, issue 15 §1): a re-ingested row whose content
-- changed becomes a new version of its experiment instead of a conflict. The experiments row
-- keeps the latest content; every version's content is kept here.
ALTER TABLE experiments ADD COLUMN version integer NOT NULL DEFAULT 1;
-- A row a later ingest of the project's results.tsv no longer has: kept as history, out of scoring.
ALTER TABLE experiments ADD COLUMN absent boolean NOT NULL DEFAULT false;
-- Where the row came from: 'tsv' rows can go absent, 'json' rows never do.
ALTER TABLE experiments ADD COLUMN source text NOT NULL DEFAULT 'json' CHECK (source IN ('tsv', 'json'));

CREATE TABLE experiment_versions (
  experiment_id  integer NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  version        integer NOT NULL,
  content_hash   text NOT NULL,
  content        jsonb NOT NULL,
  -- Names of the fields that differ from the previous version (empty for version 1).
  changed        jsonb NOT NULL DEFAULT '[]',
  token_id       integer,
  caller         text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (experiment_id, version)
);
