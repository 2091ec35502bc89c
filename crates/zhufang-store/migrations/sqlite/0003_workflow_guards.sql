-- Guards: conditions on the actor beyond who may act (e.g. not_assignee:
-- nobody evaluates their own work). Comma-separated, like `effects`.
ALTER TABLE workflow_transitions ADD COLUMN guards TEXT NOT NULL DEFAULT '';
UPDATE workflow_transitions SET guards = 'not_assignee' WHERE workflow = 'task' AND action IN ('evaluate', 'return');
