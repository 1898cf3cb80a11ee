-- Re-ingest in O(new rows) (issue 19). A project's stored log is unchanged since an ingest when
-- neither `next_seq` (every inserted experiment takes a seq) nor `log_version` moved:
-- `log_version` changes when a stored experiment's content hash, key, source or absent flag
-- changes, whoever writes it. Score and cascade writes do not touch those columns.
ALTER TABLE projects ADD COLUMN log_version bigint NOT NULL DEFAULT 0;

-- Once per transaction and project (a transaction-local setting marks it): an edit of 100,000
-- rows updates the project row once, not 100,000 times.
CREATE FUNCTION ecv_bump_log_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  mark text := 'ecv.log_bumped_' || NEW.project_id;
BEGIN
  IF current_setting(mark, true) IS DISTINCT FROM txid_current()::text THEN
    UPDATE projects SET log_version = log_version + 1 WHERE id = NEW.project_id;
    PERFORM set_config(mark, txid_current()::text, true);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER experiments_log_update AFTER UPDATE OF content_hash, key, source, absent ON experiments
  FOR EACH ROW WHEN (OLD.content_hash IS DISTINCT FROM NEW.content_hash OR OLD.key IS DISTINCT FROM NEW.key
    OR OLD.source IS DISTINCT FROM NEW.source OR OLD.absent IS DISTINCT FROM NEW.absent)
  EXECUTE FUNCTION ecv_bump_log_version();

-- The results.tsv a project last ingested, so that the same file again is answered without
-- parsing it (services/ingest.service.ts). Valid only while the project's stamp
-- (`log_version:next_seq`) is the one recorded: any other write to the log voids it.
CREATE TABLE ingest_states (
  project_id   integer PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  -- Byte length and SHA-256 (hex) of the file as ingested.
  bytes        bigint NOT NULL,
  sha256       text NOT NULL,
  -- The parse options and project settings the file was read with (a change means a full ingest).
  options      text NOT NULL,
  stamp        text NOT NULL,
  -- The answer's report (warnings, choices, counts) and the row keys in file order.
  report       jsonb NOT NULL,
  keys         jsonb NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
