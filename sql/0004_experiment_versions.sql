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
  -- The token that wrote it (tokens.id; null with auth off) and the caller name as recorded.
  token_id       text,
  caller         text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (experiment_id, version)
);

-- Experiments stored before this migration get their version 1 from the columns (top-level
-- nulls dropped, as an input omits them), so every experiment's history starts at 1.
INSERT INTO experiment_versions (experiment_id, version, content_hash, content)
SELECT x.id, 1, x.content_hash,
  (SELECT coalesce(jsonb_object_agg(f.key, f.value), '{}'::jsonb) FROM jsonb_each(jsonb_build_object(
    'key', x.key, 'status', x.status, 'value', x.value, 'baseline', x.baseline, 'replicates', x.replicates,
    'premises', x.premises, 'code', x.code, 'description', x.description, 'hypothesis', x.hypothesis,
    'resources', x.resources, 'metadata', x.metadata)) AS f WHERE f.value <> 'null'::jsonb)
FROM experiments x;
