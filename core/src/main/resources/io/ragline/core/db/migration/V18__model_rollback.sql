-- Deploying and rolling back models by hand (the console's /api/v1/training/models/{id}/deploy and
-- /training/projects/{project}/rollback; issue 18). A deployment is models.deployed with its
-- deployed_at; a rollback undeploys the project's model and redeploys the one deployed before it.
-- "Before it" must not be the model just rolled back from, or a second rollback would swap the two
-- back: rolled_back_at marks a model taken out by a rollback, and a rollback's candidates are the
-- project's other models deployed once and not rolled back, the latest deployed_at first. Deploying
-- a model by hand clears its mark. Rows written before this migration have no mark.
SELECT set_config('search_path', '${schema}, public', true);

ALTER TABLE models ADD COLUMN rolled_back_at timestamptz;
