-- The project's config is code (SPEC §8, issue 15 §2): PUT/PATCH /v1/projects/{name} replace or
-- change it, and every change that alters the stored config bumps its version.
ALTER TABLE projects ADD COLUMN config_version integer NOT NULL DEFAULT 1;

-- The gated agent cannot lower its own bar (SPEC §5, issue 15 §3): each recorded decision keeps
-- the threshold it used and who set it. Null on decisions recorded before this migration.
ALTER TABLE gate_decisions ADD COLUMN threshold double precision;
ALTER TABLE gate_decisions ADD COLUMN threshold_source text CHECK (threshold_source IN ('project', 'caller', 'admin'));
