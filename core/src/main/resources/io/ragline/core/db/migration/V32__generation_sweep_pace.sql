-- The pace of the generation sweep (GenerationSweep, docs/architecture.md section 11): when each
-- collection is next due, for every embedding-worker together. A pass reads every embedded document
-- of the collection when nothing is owed (about 0.5 s for 100,000 vectors of a kept generation,
-- docs/benchmarks.md), and each worker used to make one every 30 s: three workers on a collection of
-- a million vectors would keep a backend about 80 % busy. Now the pass of one worker puts the collection's next
-- one at least 30 s away for all of them, and further for a slow pass (20 times its duration), so a
-- sweep takes at most a twentieth of one backend's time per collection, however many workers run.
--
-- No foreign key to collections: its check would lock the collection's row (FOR KEY SHARE) and so
-- wait behind a switch or an update holding it; the sweep deletes the rows of collections with
-- nothing left to sweep (pruned, or deleted: ids are never reused).
SELECT set_config('search_path', '${schema}, public', true);

CREATE TABLE generation_sweeps (
    collection_id integer PRIMARY KEY,
    due_at        timestamptz NOT NULL,
    last_seconds  double precision NOT NULL CHECK (last_seconds >= 0)
);
