-- Reproductions per project, kept with the project row (under the project lock, like next_seq
-- for experiments), so that deciding whether project statistics are due for a refit is one
-- primary-key read instead of count(*) over the project on every write.
ALTER TABLE projects ADD COLUMN reproduction_count integer NOT NULL DEFAULT 0;
UPDATE projects p SET reproduction_count = (SELECT count(*) FROM reproductions r WHERE r.project_id = p.id);
