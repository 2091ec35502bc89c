-- Incidents sent in by an external system (12345 passing an urgent matter
-- to the police): the sender's id, prefixed with the sender's org code, makes
-- a repeated delivery return the incident already created.
ALTER TABLE incidents ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX incidents_external ON incidents(external_id) WHERE external_id IS NOT NULL;
