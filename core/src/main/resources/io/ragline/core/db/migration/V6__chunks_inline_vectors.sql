-- Keep a chunk's vector in its row. pgvector's type has EXTERNAL storage, and a chunk of about
-- 1,000 characters plus a 384-dimension vector (1,544 bytes) passes the 2 kB toast threshold, so
-- every embedding write also inserted into the TOAST table and its index, and every search result
-- read three pages instead of one. With the target at its maximum, rows up to a page stay whole;
-- wider ones (1,536-dimension vectors with long chunks) are still toasted as before.
-- Measured by benchmarks/VectorWriteBenchmark (docs/benchmarks.md).
-- (V7 and V8 belong to the routing and training changes.)
ALTER TABLE ${schema}.chunks SET (toast_tuple_target = 8160);
