-- Each fact stored once (issue 18 §5): `anchor_eligible` always equalled `anchored` and nothing
-- read it. The anchor is the `anchored` column (indexed reads, the cascade walk) and the score's
-- `anchorEligible`, written together by the same statement.
ALTER TABLE experiments DROP COLUMN anchor_eligible;
