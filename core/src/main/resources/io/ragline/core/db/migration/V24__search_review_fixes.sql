-- Search after an independent review of issue 19 (README, "Search"; docs/architecture.md section 11).
--
-- The filter grammar, all of it checked (search_filter_check): V19 took an operator object where a
-- value was expected as a literal JSON value, so {"price": {"$eq": {"$lt": 3}}} or
-- {"source": {"kind": {"$gt": 1}}} matched nothing instead of being refused. Now:
--   filter    := {entry, ...}                       (several entries: all must match)
--   entry     := "$and" | "$or": [filter, ...]       (non-empty)
--              | "$not": filter
--              | key: {operator: argument, ...}      (an object whose keys are all operators)
--              | key: value                          (no "$" key anywhere inside it)
--   $eq, $ne       a scalar: string, number, boolean or null
--   $gt $gte $lt $lte   a string, number or boolean
--   $in, $nin      an array of scalars
--   $exists        true or false
-- Anything else is SQLSTATE 22023 naming its path (filter.price.$eq).
SELECT set_config('search_path', '${schema}, public', true);

CREATE OR REPLACE FUNCTION search_filter_check(f jsonb, path text DEFAULT 'filter', depth integer DEFAULT 1) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    key text;
    val jsonb;
    op text;
    arg jsonb;
    i integer;
    nested text;
BEGIN
    IF depth > 32 THEN
        RAISE EXCEPTION '%: a filter may nest at most 32 levels', path USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF f IS NULL OR jsonb_typeof(f) <> 'object' THEN
        RAISE EXCEPTION '%: a filter is a JSON object, not %', path, coalesce(jsonb_typeof(f), 'nothing')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR key, val IN SELECT e.key, e.value FROM jsonb_each(f) e LOOP
        IF key IN ('$and', '$or') THEN
            IF jsonb_typeof(val) <> 'array' OR jsonb_array_length(val) = 0 THEN
                RAISE EXCEPTION '%.%: takes a non-empty array of filters, not %', path, key,
                    CASE WHEN jsonb_typeof(val) = 'array' THEN 'an empty one' ELSE jsonb_typeof(val) END
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            FOR i IN 0 .. jsonb_array_length(val) - 1 LOOP
                PERFORM ${schema}.search_filter_check(val -> i, format('%s.%s[%s]', path, key, i), depth + 1);
            END LOOP;
        ELSIF key = '$not' THEN
            PERFORM ${schema}.search_filter_check(val, path || '.$not', depth + 1);
        ELSIF left(key, 1) = '$' THEN
            RAISE EXCEPTION '%.%: unknown operator (a filter''s own are $and, $or, $not; a key''s are $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists)',
                path, key USING ERRCODE = 'invalid_parameter_value';
        ELSIF jsonb_typeof(val) = 'object' AND EXISTS (SELECT 1 FROM jsonb_object_keys(val) k WHERE left(k, 1) = '$') THEN
            FOR op, arg IN SELECT e.key, e.value FROM jsonb_each(val) e LOOP
                IF left(op, 1) <> '$' THEN
                    RAISE EXCEPTION '%.%.%: a key''s operators cannot be mixed with plain keys (write {"%": {"$eq": ...}} or a plain value)',
                        path, key, op, key USING ERRCODE = 'invalid_parameter_value';
                ELSIF op IN ('$eq', '$ne') THEN
                    IF jsonb_typeof(arg) NOT IN ('string', 'number', 'boolean', 'null') THEN
                        RAISE EXCEPTION '%.%.%: takes a string, a number, a boolean or null, not %',
                            path, key, op, CASE WHEN EXISTS (SELECT 1 FROM jsonb_object_keys(CASE WHEN jsonb_typeof(arg) = 'object'
                                THEN arg ELSE '{}' END) k WHERE left(k, 1) = '$') THEN 'an operator (operators do not nest)'
                                ELSE jsonb_typeof(arg) END
                            USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                ELSIF op IN ('$gt', '$gte', '$lt', '$lte') THEN
                    IF jsonb_typeof(arg) NOT IN ('number', 'string', 'boolean') THEN
                        RAISE EXCEPTION '%.%.%: a range compares with a number, a string or a boolean, not %',
                            path, key, op, jsonb_typeof(arg) USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                ELSIF op IN ('$in', '$nin') THEN
                    IF jsonb_typeof(arg) <> 'array' THEN
                        RAISE EXCEPTION '%.%.%: takes an array of values, not %', path, key, op, jsonb_typeof(arg)
                            USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                    FOR i IN 0 .. jsonb_array_length(arg) - 1 LOOP
                        IF jsonb_typeof(arg -> i) NOT IN ('string', 'number', 'boolean', 'null') THEN
                            RAISE EXCEPTION '%.%.%[%]: an element is a string, a number, a boolean or null, not %',
                                path, key, op, i, jsonb_typeof(arg -> i) USING ERRCODE = 'invalid_parameter_value';
                        END IF;
                    END LOOP;
                ELSIF op = '$exists' THEN
                    IF jsonb_typeof(arg) <> 'boolean' THEN
                        RAISE EXCEPTION '%.%.%: takes true or false, not %', path, key, op, jsonb_typeof(arg)
                            USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                ELSE
                    RAISE EXCEPTION '%.%.%: unknown operator (a key''s are $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists)',
                        path, key, op USING ERRCODE = 'invalid_parameter_value';
                END IF;
            END LOOP;
        ELSE
            -- A plain value is matched as it is: an operator anywhere inside it is a misplaced one.
            SELECT o.kv ->> 'key' INTO nested
              FROM jsonb_path_query(val, 'strict $.** ? (@.type() == "object").keyvalue() ? (@.key starts with "$")',
                                    silent => true) o(kv)
             LIMIT 1;
            IF nested IS NOT NULL THEN
                RAISE EXCEPTION '%.%: % inside a plain value (an operator applies directly to a top-level key, as {"%": {"$eq": ...}}; keys are not paths)',
                    path, key, nested, key USING ERRCODE = 'invalid_parameter_value';
            END IF;
        END IF;
    END LOOP;
END
$$;

