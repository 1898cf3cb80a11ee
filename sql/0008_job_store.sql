-- One record of a job's state (SPEC §6, issue 18.1): ECV's own tables, leased with
-- SELECT … FOR UPDATE SKIP LOCKED, replace pg-boss (schema pgboss), whose internal table ECV
-- used to write to extend a lease on an HTTP heartbeat. docs/operations.md says why.
--
-- jobs already holds every field of a re-anchoring job (state, lease holder, lease expiry,
-- attempts, priority); what pg-boss held besides is dropped. Queued jobs stay queued; an active
-- job keeps its lease (ECV recorded its expiry on every lease and heartbeat), and the dead-lease
-- sweep re-queues or fails it like any other.
UPDATE jobs SET lease_expires_at = now() WHERE state = 'active' AND lease_expires_at IS NULL;
ALTER TABLE jobs ADD CONSTRAINT jobs_active_lease CHECK (state <> 'active' OR lease_expires_at IS NOT NULL);
-- The lease query: waiting jobs, most downstream work first, oldest first.
CREATE INDEX jobs_waiting ON jobs (priority DESC, created_at, id) WHERE state = 'queued';
-- The dead-lease sweep.
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state = 'active';

-- LLM code reviews (SPEC §9), the same mechanism: a row per review to run, leased by a worker,
-- retried with back-off after a failure, re-queued when its lease expires (a worker died).
CREATE TABLE review_jobs (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  experiment_id     integer NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  state             text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'active', 'failed')),
  attempts          integer NOT NULL DEFAULT 0,
  run_after         timestamptz NOT NULL DEFAULT now(),
  lease_expires_at  timestamptz,
  last_error        text,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_jobs_waiting ON review_jobs (run_after, id) WHERE state = 'queued';
CREATE INDEX review_jobs_leased ON review_jobs (lease_expires_at) WHERE state = 'active';
-- Reviews waiting in pg-boss are found again from the experiments marked pending.
INSERT INTO review_jobs (experiment_id)
  SELECT id FROM experiments WHERE review->>'status' = 'pending' ORDER BY id;
