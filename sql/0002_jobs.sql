-- Re-anchoring jobs as ECV sees them (SPEC §6). pg-boss (schema pgboss) carries the queue:
-- leases, expiry, retries, priorities, singleton keys. This table adds what pg-boss does not
-- know: which experiment and seed a job reproduces, who holds its lease, and its outcome.
CREATE TABLE jobs (
  id                text PRIMARY KEY,            -- the pg-boss job id (uuid)
  project_id        integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  experiment_id     integer NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  seed              integer NOT NULL,
  round             integer NOT NULL DEFAULT 0,
  priority          integer NOT NULL DEFAULT 0,
  state             text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'active', 'completed', 'failed')),
  runner            text,
  lease_holder      text,
  lease_expires_at  timestamptz,
  attempts          integer NOT NULL DEFAULT 0,
  time_budget_s     integer NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  finished_at       timestamptz,
  UNIQUE (experiment_id, seed)
);
CREATE INDEX jobs_project_state ON jobs (project_id, state);
CREATE INDEX jobs_experiment ON jobs (experiment_id);
