-- Gate v2 (SPEC §5, §6): reproductions are scheduled one at a time per gated experiment, and each
-- decision has a budget. A job records the decision it serves (the gated experiment, which may
-- differ from the experiment it reproduces: the premise, or the root while σ is unknown) and why.
ALTER TABLE jobs ADD COLUMN gated_experiment_id integer REFERENCES experiments(id) ON DELETE CASCADE;
ALTER TABLE jobs ADD COLUMN purpose text NOT NULL DEFAULT 'decision' CHECK (purpose IN ('decision', 'anchor', 'sigma'));
CREATE INDEX jobs_gated ON jobs (gated_experiment_id) WHERE gated_experiment_id IS NOT NULL;
