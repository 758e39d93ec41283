-- Issuance jobs that cannot finish end in state 'failed' (with their last error) instead of
-- being retried forever.
ALTER TABLE issuance_jobs DROP CONSTRAINT issuance_jobs_state_check;
ALTER TABLE issuance_jobs ADD CONSTRAINT issuance_jobs_state_check CHECK (state IN ('queued', 'done', 'failed'));
