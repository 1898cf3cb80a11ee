-- The accepted head (SPEC §5) is read on every gate call that does not accept, and by GET /bar:
-- the latest accept decisions of the project. With the general (project_id, id) index that scan
-- walks back over every newer reject and reanchor row; this partial index reaches the accepts
-- directly, whatever the project's history.
CREATE INDEX gate_decisions_accepts ON gate_decisions (project_id, id) WHERE decision = 'accept';
