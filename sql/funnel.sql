-- window_funnel / window_funnel_events: semantics of every mode (docs/funnel.md).
SET TimeZone = 'UTC';
SET DateStyle = ISO;
SET IntervalStyle = postgres;

-- The examples of docs/funnel.md.
CREATE TABLE clicks (uid int, ts timestamptz, event text);
INSERT INTO clicks VALUES
    (1, '2024-05-01 10:00', 'view'), (1, '2024-05-01 10:02', 'cart'), (1, '2024-05-01 10:30', 'buy'),
    (2, '2024-05-01 11:00', 'view'), (2, '2024-05-01 11:10', 'cart'), (2, '2024-05-01 13:00', 'buy'),
    (3, '2024-05-01 09:00', 'view'), (3, '2024-05-01 09:05', 'help'), (3, '2024-05-01 09:06', 'cart'),
    (3, '2024-05-01 09:07', 'buy'),
    (4, '2024-05-01 12:00', 'cart'), (4, '2024-05-01 12:01', 'buy'),
    (5, '2024-05-01 08:00', 'view'), (5, '2024-05-01 08:00', 'cart'), (5, '2024-05-01 08:20', 'view'),
    (5, '2024-05-01 08:30', 'buy');

-- The event-name form (docs/funnel.md).
SELECT uid, window_funnel(interval '1 hour', ts, event, ARRAY['view', 'cart', 'buy']) AS level
FROM clicks
GROUP BY uid
ORDER BY uid;
-- The same report with the steps named by event.
SELECT (unnest(funnel_report(uid, interval '1 hour', ts, event, ARRAY['view', 'cart', 'buy']))).*
FROM clicks;

SELECT uid,
       window_funnel(interval '1 hour', ts, event = 'view', event = 'cart', event = 'buy') AS level
FROM clicks
GROUP BY uid
ORDER BY uid;

SELECT step, count(*) FILTER (WHERE level >= step) AS users
FROM (
    SELECT uid, window_funnel(interval '1 hour', ts, event = 'view', event = 'cart', event = 'buy') AS level
    FROM clicks
    GROUP BY uid
) per_user
CROSS JOIN generate_series(1, 3) step
GROUP BY step
ORDER BY step;

SELECT uid,
       window_funnel_events(interval '1 hour', ts, event = 'view', event = 'cart', event = 'buy') AS steps
FROM clicks
GROUP BY uid
ORDER BY uid;

SELECT uid, steps[2] - steps[1] AS to_cart, steps[3] - steps[2] AS to_buy
FROM (
    SELECT uid, window_funnel_events(interval '1 hour', ts, event = 'view', event = 'cart', event = 'buy') AS steps
    FROM clicks
    GROUP BY uid
) per_user
WHERE cardinality(steps) = 3
ORDER BY uid;

SELECT uid,
       window_funnel(interval '1 hour', 'strict_order', ts,
                     event = 'view', event = 'cart', event = 'buy') AS strict_order
FROM clicks
GROUP BY uid
ORDER BY uid;

SELECT uid,
       window_funnel(interval '1 hour', 'strict_increase', ts,
                     event = 'view', event = 'cart', event = 'buy') AS strict_increase
FROM clicks
GROUP BY uid
ORDER BY uid;

SELECT uid, ts, event,
       window_funnel(interval '1 hour', ts, event = 'view', event = 'cart', event = 'buy')
           OVER (PARTITION BY uid ORDER BY ts) AS running_level
FROM clicks
WHERE uid IN (1, 2)
ORDER BY uid, ts;

-- Modes on tiny sequences: steps A, B, C; X matches no step.
CREATE FUNCTION pg_temp.funnel(letters text, mode text DEFAULT '') RETURNS integer LANGUAGE sql AS $$
    SELECT window_funnel(100::bigint, mode, i, c = 'A', c = 'B', c = 'C')
    FROM unnest(string_to_array(letters, NULL)) WITH ORDINALITY AS t(c, i)
$$;
SELECT letters, mode, pg_temp.funnel(letters, mode) AS level
FROM (VALUES
    ('ABC', ''), ('ACB', ''), ('AXBC', ''), ('CBA', ''), ('BCAB', ''),
    ('AXBC', 'strict_order'), ('AABBCC', 'strict_order'), ('AABBXCC', 'strict_order'),
    ('ACBC', 'strict_order'), ('ACBC', 'strict_order, allow_reentry'), ('XABC', 'strict_order'),
    ('ABBC', 'strict_deduplication'), ('ABAC', 'strict_deduplication'), ('AABC', 'strict_deduplication')
) v(letters, mode);

-- A row matching several steps: it fills them all by default, one with strict_once.
SELECT window_funnel(10::bigint, ts, s1, s2, s3) AS default_mode,
       window_funnel(10::bigint, 'strict_once', ts, s1, s2, s3) AS strict_once
FROM (VALUES (1::bigint, true, true, false), (2, false, false, true)) t(ts, s1, s2, s3);

-- Equal timestamps favour conversion (ordered by timestamp, then step); strict_increase forbids it.
SELECT window_funnel(10::bigint, ts, step = 1, step = 2, step = 3) AS default_mode,
       window_funnel(10::bigint, 'strict_increase', ts, step = 1, step = 2, step = 3) AS strict_increase
FROM (VALUES (5::bigint, 3), (5, 2), (5, 1)) t(ts, step);

-- strict_increase keeps every useful chain (Doris #68093: A@0 B@1 B@2 C@2 is 3, not 2).
SELECT window_funnel(10::bigint, 'strict_increase', ts, e = 'A', e = 'B', e = 'C')
FROM (VALUES (0::bigint, 'A'), (1, 'B'), (2, 'B'), (2, 'C')) t(ts, e);

-- The window: inclusive, anchored at the chain's first step; the latest start wins.
SELECT window_funnel(10::bigint, ts, e = 'A', e = 'B', e = 'C') AS level,
       window_funnel_events(10::bigint, ts, e = 'A', e = 'B', e = 'C') AS chain
FROM (VALUES (0::bigint, 'A'), (15, 'A'), (20, 'B'), (25, 'C'), (26, 'C')) t(ts, e);
SELECT window_funnel(10::bigint, ts, e = 'A', e = 'B') FROM (VALUES (0::bigint, 'A'), (10, 'B')) t(ts, e);
SELECT window_funnel(10::bigint, ts, e = 'A', e = 'B') FROM (VALUES (0::bigint, 'A'), (11, 'B')) t(ts, e);
SELECT window_funnel(0::bigint, ts, e = 'A', e = 'B') FROM (VALUES (7::bigint, 'A'), (7, 'B')) t(ts, e);

-- NULLs: a NULL timestamp skips the row; a NULL step is false, but the row still counts as an
-- event for strict_order.
SELECT window_funnel(10::bigint, ts, e = 'A', e = 'B') AS skipped_row
FROM (VALUES (1::bigint, 'A'), (NULL, 'B')) t(ts, e);
SELECT window_funnel(10::bigint, ts, e = 'A', e = 'B') AS default_mode,
       window_funnel(10::bigint, 'strict_order', ts, e = 'A', e = 'B') AS strict_order
FROM (VALUES (1::bigint, 'A'), (2, NULL), (3, 'B')) t(ts, e);

-- Empty input: level 0, no steps.
SELECT window_funnel(interval '1 day', ts, event = 'view') AS level,
       window_funnel_events(interval '1 day', ts, event = 'view') AS steps
FROM clicks WHERE false;
-- Step 1 never matched: level 0.
SELECT window_funnel(interval '1 day', ts, event = 'nothing', event = 'view') FROM clicks;

-- Input order does not matter, nor does ORDER BY inside the call.
SELECT count(*) FILTER (WHERE a = b AND b = c) AS equal, count(*) AS users
FROM (
    SELECT uid,
           window_funnel(interval '1 hour', ts, event = 'view', event = 'cart', event = 'buy') a,
           window_funnel(interval '1 hour', ts, event = 'view', event = 'cart', event = 'buy' ORDER BY ts DESC) b,
           window_funnel(interval '1 hour', ts, event = 'view', event = 'cart', event = 'buy' ORDER BY event, ts) c
    FROM clicks GROUP BY uid
) s;

-- timestamp (without time zone) and integer time give the same levels as timestamptz.
SELECT uid,
       window_funnel(interval '1 hour', ts::timestamp, event = 'view', event = 'cart', event = 'buy') AS ts_level,
       window_funnel(3600::bigint, extract(epoch FROM ts)::bigint, event = 'view', event = 'cart', event = 'buy') AS int_level,
       window_funnel_events(interval '1 hour', ts::timestamp, event = 'view', event = 'cart') AS ts_steps
FROM clicks GROUP BY uid ORDER BY uid;

-- Against a plain-SQL formulation of the default mode on random data: level >= 3 iff rows
-- e1 <= e2 <= e3 in time match steps 1, 2, 3 with e3 within the window of e1.
SELECT setseed(0.75);
CREATE TABLE funnel_random AS
SELECT (random() * 200)::int AS uid, (random() * 1000)::bigint AS ts, (random() * 4)::int AS step
FROM generate_series(1, 3000);
SELECT count(*) AS users, count(*) FILTER (WHERE native = plain) AS equal,
       count(*) FILTER (WHERE native = 3) AS complete
FROM (
    SELECT u.uid,
           (SELECT window_funnel(60::bigint, ts, step = 1, step = 2, step = 3) FROM funnel_random r WHERE r.uid = u.uid) AS native,
           CASE
               WHEN EXISTS (SELECT FROM funnel_random a JOIN funnel_random b ON b.uid = a.uid AND b.step = 2
                              AND b.ts >= a.ts AND b.ts <= a.ts + 60
                            JOIN funnel_random c ON c.uid = a.uid AND c.step = 3 AND c.ts >= b.ts AND c.ts <= a.ts + 60
                            WHERE a.uid = u.uid AND a.step = 1) THEN 3
               WHEN EXISTS (SELECT FROM funnel_random a JOIN funnel_random b ON b.uid = a.uid AND b.step = 2
                              AND b.ts >= a.ts AND b.ts <= a.ts + 60
                            WHERE a.uid = u.uid AND a.step = 1) THEN 2
               WHEN EXISTS (SELECT FROM funnel_random a WHERE a.uid = u.uid AND a.step = 1) THEN 1
               ELSE 0
           END AS plain
    FROM (SELECT DISTINCT uid FROM funnel_random) u
) s;

-- A window that differs per user, in one GROUP BY: a final function reuses its evaluator only for
-- groups with the same options. Equal to each user's own query, in both forms.
SELECT count(*) AS users, count(*) FILTER (WHERE together = alone) AS equal,
       count(*) FILTER (WHERE options_together = options_alone) AS options_equal, count(DISTINCT together) AS levels
FROM (
    SELECT g.uid, g.together, g.options_together,
           (SELECT window_funnel(30 + g.uid % 3 * 40::bigint, ts, step = 1, step = 2, step = 3)
            FROM funnel_random r WHERE r.uid = g.uid) AS alone,
           (SELECT window_funnel(funnel_options(window_units => 30 + g.uid % 3 * 40, mode => 'strict_increase'), ts,
                                 step = 1, step = 2, step = 3)
            FROM funnel_random r WHERE r.uid = g.uid) AS options_alone
    FROM (SELECT uid, window_funnel(30 + uid % 3 * 40::bigint, ts, step = 1, step = 2, step = 3) AS together,
                 window_funnel(funnel_options(window_units => 30 + uid % 3 * 40, mode => 'strict_increase'), ts,
                               step = 1, step = 2, step = 3) AS options_together
          FROM funnel_random GROUP BY uid) g
) s;

-- Hostile input: many rows on one timestamp (day-granular or batch-imported data). Every mode
-- stays polynomial; strict_once assigns rows to steps by a matching, never by enumeration. With
-- a 5 s statement_timeout an exponential search fails the test instead of hanging it.
SET statement_timeout = '5s';
CREATE TABLE funnel_tie AS
SELECT timestamptz '2024-01-01 00:00:00+00' AS ts, i FROM generate_series(1, 100000) i;
SELECT m AS mode,
       window_funnel(interval '1 hour', m, ts, true, true, true, true, true, true) AS all_steps,
       window_funnel(interval '1 hour', m, ts, i % 2 = 0, i % 3 = 0, true, i % 5 = 0, i = 7, i = 7) AS sparse
FROM funnel_tie,
     unnest(ARRAY['', 'strict_order', 'strict_deduplication', 'strict_increase', 'strict_once',
                  'strict_order, allow_reentry', 'strict_once, strict_deduplication',
                  'strict_once, strict_order', 'strict_once, strict_increase']) m
GROUP BY m ORDER BY m;
-- The case that ran for minutes before: 22 rows x 6 steps on one timestamp, strict_once.
SELECT window_funnel(interval '1 hour', 'strict_once', ts, true, true, true, true, true, true) AS level,
       window_funnel_events(interval '1 hour', 'strict_once', ts, i <= 3, i <= 3, i <= 3, i <= 3, true, true) AS chain
FROM funnel_tie WHERE i <= 22;
RESET statement_timeout;

-- funnel_report: every user's funnel folded into one row per step, in one aggregate (docs/funnel.md).
SELECT (unnest(funnel_report(uid, interval '1 hour', ts, event = 'view', event = 'cart', event = 'buy'))).*
FROM clicks;

-- The BI shapes of docs/reports.md.
-- Metabase "Funnel" chart: a step label and the users per step, the window a bound variable.
SELECT (ARRAY['view', 'cart', 'buy'])[r.step] AS step_name, r.users, round(r.conversion_from_first::numeric, 2) AS conversion
FROM unnest((SELECT funnel_report(uid, '1 hour'::interval, ts, event = 'view', event = 'cart', event = 'buy')
             FROM clicks)) r
ORDER BY r.step;
-- A breakdown: one report per group, unnested beside the group's key.
SELECT b.bucket, r.step, r.users
FROM (SELECT uid % 2 AS bucket,
             funnel_report(uid, interval '1 hour', ts, event = 'view', event = 'cart', event = 'buy') AS report
      FROM clicks GROUP BY uid % 2) b,
     unnest(b.report) r
ORDER BY b.bucket, r.step;

-- The same report from the per-user aggregate and plain SQL, cell by cell, on random data with ties,
-- NULL ids and NULL times, for every kind of mode and id type, serial and forced parallel.
SELECT setseed(0.3);
CREATE TABLE report_random AS
SELECT CASE WHEN random() < 0.01 THEN NULL ELSE (random() * 400)::int END AS uid,
       CASE WHEN random() < 0.01 THEN NULL ELSE (random() * 3000)::bigint END AS ts,
       (random() * 5)::int AS step, (ARRAY['de', 'fr', 'us'])[1 + (random() * 2)::int] AS country
FROM generate_series(1, 20000);
CREATE FUNCTION pg_temp.report_by_user(mode text) RETURNS TABLE (step int, users bigint, median bigint, p90 bigint)
LANGUAGE sql AS $$
    WITH per_user AS (
        SELECT uid, window_funnel_events(100::bigint, mode, ts, step = 1, step = 2, step = 3, step = 4) AS e
        FROM report_random WHERE uid IS NOT NULL GROUP BY uid
    )
    SELECT k, count(*) FILTER (WHERE cardinality(e) >= k),
           percentile_disc(0.5) WITHIN GROUP (ORDER BY e[k] - e[k - 1]) FILTER (WHERE cardinality(e) >= k AND k > 1),
           percentile_disc(0.9) WITHIN GROUP (ORDER BY e[k] - e[k - 1]) FILTER (WHERE cardinality(e) >= k AND k > 1)
    FROM per_user, generate_series(1, 4) k GROUP BY k
$$;
CREATE TABLE report_native (mode text, id_type text, plan text, step int, users bigint, median bigint, p90 bigint);
CREATE FUNCTION pg_temp.native(mode text, id_type text, plan text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO report_native
        SELECT %L, %L, %L, r.step, r.users, r.median_time_from_previous, r.p90_time_from_previous
        FROM unnest((SELECT funnel_report(uid::%s, 100::bigint, %L, ts, step = 1, step = 2, step = 3, step = 4)
                     FROM report_random)) r
    $q$, mode, id_type, plan, id_type, mode);
    RETURN 1;
END
$$;
SET max_parallel_workers_per_gather = 0;
SELECT sum(pg_temp.native(m, t, 'serial')) AS runs
FROM unnest(ARRAY['', 'strict_order', 'strict_deduplication', 'strict_increase', 'strict_once']) m,
     unnest(ARRAY['integer', 'bigint', 'text']) t;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT funnel_report(uid, 100::bigint, ts, step = 1, step = 2, step = 3, step = 4) FROM report_random;
SELECT sum(pg_temp.native(m, t, 'parallel')) AS runs
FROM unnest(ARRAY['', 'strict_order', 'strict_once']) m, unnest(ARRAY['bigint', 'text']) t;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT n.mode, count(DISTINCT (n.id_type, n.plan)) AS runs, count(*) AS cells,
       count(*) FILTER (WHERE (n.users, n.median, n.p90) IS NOT DISTINCT FROM (r.users, r.median, r.p90)) AS equal,
       max(r.users) FILTER (WHERE r.step = 4) AS users_reaching_4
FROM report_native n JOIN LATERAL pg_temp.report_by_user(n.mode) r ON r.step = n.step
GROUP BY n.mode ORDER BY n.mode;

-- uuid and text ids: users are equal when their bytes are.
SELECT r.step, r.users
FROM unnest((SELECT funnel_report(md5(uid::text)::uuid, 100::bigint, ts, step = 1, step = 2, step = 3, step = 4)
             FROM report_random)) r
EXCEPT
SELECT step, users FROM pg_temp.report_by_user('');

-- A breakdown: one report per country, each user counted in every country of their own events.
SELECT country, (unnest(funnel_report(uid, 100::bigint, ts, step = 1, step = 2, step = 3, step = 4))).*
FROM report_random GROUP BY country ORDER BY country, step LIMIT 5;
SELECT count(*) AS cells, count(*) FILTER (WHERE n.users = p.users) AS equal
FROM (SELECT country, (unnest(funnel_report(uid, 100::bigint, ts, step = 1, step = 2, step = 3, step = 4))).*
      FROM report_random GROUP BY country) n
JOIN (SELECT country, k AS step, count(*) FILTER (WHERE level >= k) AS users
      FROM (SELECT country, uid, window_funnel(100::bigint, ts, step = 1, step = 2, step = 3, step = 4) AS level
            FROM report_random WHERE uid IS NOT NULL GROUP BY country, uid) u, generate_series(1, 4) k
      GROUP BY country, k) p USING (country, step);

-- As a window aggregate: the report so far, by hour.
SELECT DISTINCT date_trunc('hour', ts) AS hour,
       (funnel_report(uid, interval '1 hour', ts, event = 'view', event = 'cart', event = 'buy')
            OVER (ORDER BY date_trunc('hour', ts)))[3].users AS bought_so_far
FROM clicks ORDER BY hour;

-- No rows: no steps. Bad input: the per-user function's errors.
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT cardinality(funnel_report(uid, interval '1 hour', ts, true)) AS no_rows FROM clicks WHERE false;
SELECT pg_temp.error_of($$SELECT funnel_report(uid, NULL::interval, ts, true) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_report(uid, interval '1 hour', 'strict', ts, true) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_report(uid, interval '-1 hour', ts, true) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_report(uid, interval '1 month', ts, true) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_report(uid, interval '1 hour', ts, VARIADIC array_fill(true, ARRAY[65])) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_report(uid, make_interval(mins => uid), ts, true) FROM clicks$$);

-- The event-name forms: (..., ts, event, steps text[]) give exactly the condition forms'
-- answers (event = steps[i] as step i), per user and as a report, in every mode, with NULL
-- events, a name given twice (two steps) and names no row has; serial and forced parallel.
CREATE TABLE names_random AS
SELECT (random() * 300)::int AS uid, (random() * 2000)::bigint AS ts,
       (ARRAY['view', 'cart', 'buy', 'help', NULL])[1 + (random() * 4)::int] AS event
FROM generate_series(1, 12000);
CREATE FUNCTION pg_temp.names_check(mode text) RETURNS TABLE (users bigint, equal_level bigint, equal_chain bigint, equal_report boolean)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        WITH u AS (
            SELECT uid,
                   window_funnel(100::bigint, %1$L, ts, event, ARRAY['view', 'cart', 'view', 'buy', 'gone']) AS n_level,
                   window_funnel(100::bigint, %1$L, ts, event = 'view', event = 'cart', event = 'view', event = 'buy', event = 'gone') AS c_level,
                   window_funnel_events(100::bigint, %1$L, ts, event, '{view,cart,view,buy,gone}') AS n_chain,
                   window_funnel_events(100::bigint, %1$L, ts, event = 'view', event = 'cart', event = 'view', event = 'buy', event = 'gone') AS c_chain
            FROM names_random GROUP BY uid
        )
        SELECT count(*), count(*) FILTER (WHERE n_level = c_level), count(*) FILTER (WHERE n_chain = c_chain),
               (SELECT funnel_report(uid, 100::bigint, %1$L, ts, event, ARRAY['view', 'cart', 'view', 'buy', 'gone'])::text
                       = funnel_report(uid, 100::bigint, %1$L, ts, event = 'view', event = 'cart', event = 'view', event = 'buy', event = 'gone')::text
                FROM names_random)
        FROM u
    $q$, mode);
END
$$;
SELECT m AS mode, c.* FROM unnest(ARRAY['', 'strict_order', 'strict_deduplication', 'strict_increase', 'strict_once']) m,
     LATERAL pg_temp.names_check(m) c;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT funnel_report(uid, 100::bigint, ts, event, ARRAY['view', 'cart']) FROM names_random;
SELECT m AS mode, c.* FROM unnest(ARRAY['', 'strict_order']) m, LATERAL pg_temp.names_check(m) c;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
-- Names bound as a text array parameter (how a BI tool sends them), and names that differ by row.
PREPARE names_funnel(interval, text[]) AS
SELECT (unnest(funnel_report(uid, $1, ts, event, $2))).users FROM clicks;
EXECUTE names_funnel('1 hour', '{view,cart,buy}');
SELECT uid, window_funnel(interval '1 hour', ts, event, CASE WHEN uid % 2 = 0 THEN '{view,buy}' ELSE '{cart,buy}' END::text[]) AS level
FROM clicks GROUP BY uid ORDER BY uid;
-- As a window function.
SELECT uid, ts, window_funnel(interval '1 hour', ts, event, ARRAY['view', 'cart', 'buy'])
           OVER (PARTITION BY uid ORDER BY ts) AS level_so_far
FROM clicks WHERE uid = 1 ORDER BY ts;
-- Bad names: NULL array or element (22004), empty or two-dimensional (22023), more than 64 (54000).
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 hour', ts, event, NULL::text[]) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 hour', ts, event, '{view,NULL}') FROM clicks$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 hour', ts, event, '{}') FROM clicks$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 hour', ts, event, '{{view},{buy}}') FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_report(uid, interval '1 hour', ts, event, array_fill('x'::text, ARRAY[65])) FROM clicks$$);
DEALLOCATE names_funnel;

-- ---------------------------------------------------------------------------------------------
-- Funnel options (docs/funnel.md, "Funnel options"): window_funnel(funnel_options(...), ts, ...).

-- The examples of docs/funnel.md.
SELECT funnel_options("window" => interval '1 hour', exclude => ARRAY['help']);

SELECT uid,
       window_funnel(funnel_options("window" => interval '1 hour', exclude => ARRAY['help']),
                     ts, event, ARRAY['view', 'cart', 'buy']) AS exclude_user,
       window_funnel(funnel_options("window" => interval '1 hour', exclude => ARRAY['help'],
                                    exclusion_rule => 'end_chain'),
                     ts, event, ARRAY['view', 'cart', 'buy']) AS end_chain
FROM clicks
GROUP BY uid
ORDER BY uid;

SELECT uid,
       window_funnel_events(funnel_options(step_windows => ARRAY[interval '5 minutes', interval '30 minutes']),
                            ts, event, ARRAY['view', 'cart', 'buy']) AS steps
FROM clicks
GROUP BY uid
ORDER BY uid;

SELECT uid,
       window_funnel(funnel_options("window" => interval '1 hour', step_order => 'strict'),
                     ts, event, ARRAY['view', 'cart', 'buy']) AS strict,
       window_funnel(funnel_options("window" => interval '1 hour', step_order => 'any'),
                     ts, event, ARRAY['view', 'cart', 'buy']) AS any_order
FROM clicks
GROUP BY uid
ORDER BY uid;

SELECT uid,
       window_funnel(funnel_options("window" => interval '1 hour', exclude_from => ARRAY[1], exclude_to => ARRAY[2]),
                     ts, event = 'view', event = 'cart', event = 'buy', event = 'help') AS level
FROM clicks
GROUP BY uid
ORDER BY uid;

SELECT window_funnel(funnel_options(window_units => 10, step_window_units => ARRAY[2]), t, e, ARRAY['a', 'b'])
           AS bigint_time
FROM (VALUES (1::bigint, 'a'), (4, 'b'), (5, 'a'), (7, 'b')) v(t, e);

SELECT window_funnel(funnel_options(), t, e, ARRAY['view', 'view', 'buy']) AS two_views_needed,
       window_funnel(funnel_options(), t, e, ARRAY['view', 'buy']) AS one_view
FROM (VALUES (1::bigint, 'view'), (2, 'buy')) v(t, e);

-- Exclusion details: an exclusion on the timestamp of a step is not between the steps; after the
-- last step reached it counts within that step's window; a clean chain elsewhere keeps the user.
CREATE FUNCTION pg_temp.excluded(rows text, opts funnel_options) RETURNS integer LANGUAGE sql AS $$
    SELECT window_funnel(opts, (r[2])::bigint, r[1], ARRAY['a', 'b', 'c'])
    FROM regexp_split_to_table(rows, ' ') cell, LATERAL (SELECT string_to_array(cell, '@') AS r) x
$$;
SELECT pg_temp.excluded('a@0 b@1 x@2 c@3', funnel_options(exclude => '{x}', window_units => 10)) AS between_steps,
       pg_temp.excluded('a@0 b@1 x@3 c@3', funnel_options(exclude => '{x}', window_units => 10)) AS on_step_3,
       pg_temp.excluded('a@0 b@1 x@5', funnel_options(exclude => '{x}', window_units => 10)) AS after_within,
       pg_temp.excluded('a@0 b@1 x@12', funnel_options(exclude => '{x}', window_units => 10)) AS after_window,
       pg_temp.excluded('a@0 x@1 b@2 c@3 a@10 b@11 c@12', funnel_options(exclude => '{x}', window_units => 10)) AS clean_later,
       pg_temp.excluded('a@0 x@1 b@2 c@3', funnel_options(exclude => '{x}', exclude_from => '{2}', exclude_to => '{3}',
                                                          window_units => 10)) AS outside_range,
       pg_temp.excluded('a@0 b@1 b@5 c@12', funnel_options(step_window_units => '{100,8}')) AS later_step_2,
       pg_temp.excluded('a@0 b@0 c@0', funnel_options(mode => 'strict_increase')) AS increase;

-- The options form's levels equal the ClickHouse form's with strict_once (one row per step, the
-- same window and tie rules) on random data with ties and NULL events, and with strict_increase;
-- the event-name form equals the condition form, exclusions included.
SELECT count(*) AS users,
       count(*) FILTER (WHERE a = b) AS equal_strict_once,
       count(*) FILTER (WHERE c = d) AS equal_strict_increase,
       count(*) FILTER (WHERE e = f) AS equal_names_conditions,
       count(*) FILTER (WHERE e = -1) AS excluded,
       count(*) FILTER (WHERE g = h) AS equal_events
FROM (
    SELECT uid,
           window_funnel(100::bigint, 'strict_once', ts, event = 'view', event = 'cart', event = 'view', event = 'buy') AS a,
           window_funnel(funnel_options(window_units => 100), ts, event, ARRAY['view', 'cart', 'view', 'buy']) AS b,
           window_funnel(100::bigint, 'strict_once, strict_increase', ts, event = 'view', event = 'cart', event = 'buy') AS c,
           window_funnel(funnel_options(window_units => 100, mode => 'strict_increase'), ts, event, ARRAY['view', 'cart', 'buy']) AS d,
           window_funnel(funnel_options(window_units => 100, step_window_units => '{30,NULL}', exclude => '{help}',
                                        exclude_from => '{2}', exclude_to => '{3}'),
                         ts, event, ARRAY['view', 'cart', 'buy']) AS e,
           window_funnel(funnel_options(window_units => 100, step_window_units => '{30,NULL}',
                                        exclude_from => '{2}', exclude_to => '{3}'),
                         ts, event = 'view', event = 'cart', event = 'buy', event = 'help') AS f,
           window_funnel_events(funnel_options(window_units => 100, step_order => 'strict', exclude => '{help}',
                                               exclusion_rule => 'end_chain'),
                                ts, event, ARRAY['view', 'cart', 'buy']) AS g,
           window_funnel_events(funnel_options(window_units => 100, step_order => 'strict',
                                               exclude_from => '{1}', exclude_to => '{3}', exclusion_rule => 'end_chain'),
                                ts, event = 'view', event = 'cart', event = 'buy', event = 'help') AS h
    FROM names_random
    GROUP BY uid
) per_user;

-- The options bound as parameters (how a BI tool sends them), and as a window function.
PREPARE options_bound(interval, text[], text[]) AS
SELECT uid, window_funnel(funnel_options("window" => $1, exclude => $3), ts, event, $2) AS level
FROM clicks GROUP BY uid ORDER BY uid;
EXECUTE options_bound(interval '1 hour', ARRAY['view', 'cart', 'buy'], ARRAY['help']);
-- funnel_options is costly for the planner, so the plan cache keeps custom plans (where it is one
-- constant) instead of a generic plan that would evaluate it on every row.
DO $$
BEGIN
    FOR i IN 1..7 LOOP
        EXECUTE 'EXECUTE options_bound(interval ''1 hour'', ARRAY[''view'', ''cart'', ''buy''], ARRAY[''help''])';
    END LOOP;
END $$;
SELECT generic_plans, custom_plans >= 8 AS custom FROM pg_prepared_statements WHERE name = 'options_bound';
DEALLOCATE options_bound;
SELECT uid, ts, event,
       window_funnel(funnel_options("window" => interval '1 hour', exclude => ARRAY['help']), ts, event,
                     ARRAY['view', 'cart', 'buy']) OVER (PARTITION BY uid ORDER BY ts) AS running_level
FROM clicks
WHERE uid IN (1, 3)
ORDER BY uid, ts;

-- Empty groups and NULLs: no rows give 0 and {}; a NULL ts skips the row; a NULL event is no step.
SELECT window_funnel(funnel_options(), ts, event, ARRAY['view']) AS no_rows,
       window_funnel_events(funnel_options(), ts, event, ARRAY['view']) AS no_chain
FROM clicks WHERE false;
SELECT window_funnel(funnel_options(), t, e, ARRAY['a', 'b']) AS nulls
FROM (VALUES (1::bigint, 'a'), (NULL, 'b'), (3, NULL)) v(t, e);

-- Bad options: 22004 for NULLs, 22023 for values outside the documented domain, 54000 past 64.
SELECT pg_temp.error_of($$SELECT window_funnel(NULL::funnel_options, ts, event, ARRAY['view']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_options(step_order => 'sideways')$$);
SELECT pg_temp.error_of($$SELECT funnel_options(step_order => NULL)$$);
SELECT pg_temp.error_of($$SELECT funnel_options(exclusion_rule => 'drop')$$);
SELECT pg_temp.error_of($$SELECT funnel_options(mode => 'strict_order')$$);
SELECT pg_temp.error_of($$SELECT funnel_options(mode => 'strict')$$);
SELECT pg_temp.error_of($$SELECT funnel_options("window" => interval '-1 hour')$$);
SELECT pg_temp.error_of($$SELECT funnel_options("window" => interval '1 month')$$);
SELECT pg_temp.error_of($$SELECT funnel_options(step_windows => ARRAY[interval '-1 second'])$$);
SELECT pg_temp.error_of($$SELECT funnel_options("window" => interval '1 hour', window_units => 5)$$);
SELECT pg_temp.error_of($$SELECT funnel_options(exclude_from => '{1}')$$);
SELECT pg_temp.error_of($$SELECT funnel_options(exclude_from => '{1,NULL}', exclude_to => '{2,3}')$$);
SELECT pg_temp.error_of($$SELECT funnel_options(exclude => '{a,b}', exclude_from => '{1}', exclude_to => '{2}')$$);
SELECT pg_temp.error_of($$SELECT window_funnel(funnel_options(step_windows => '{1 hour}'), ts, event, ARRAY['view', 'cart', 'buy']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT window_funnel(funnel_options(exclude => '{help}', exclude_from => '{2}', exclude_to => '{4}'), ts, event, ARRAY['view', 'cart', 'buy']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT window_funnel(funnel_options(exclude => '{help}', exclude_from => '{2}', exclude_to => '{2}'), ts, event, ARRAY['view', 'cart', 'buy']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT window_funnel(funnel_options(exclude => '{help}'), ts, event = 'view', event = 'buy') FROM clicks$$);
SELECT pg_temp.error_of($$SELECT window_funnel(funnel_options(exclude_from => '{1}', exclude_to => '{2}'), ts, event = 'help') FROM clicks$$);
SELECT pg_temp.error_of($$SELECT window_funnel(funnel_options(step_order => 'any', exclude => '{help}'), ts, event, ARRAY['view', 'cart']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT window_funnel(funnel_options(step_order => 'any', step_windows => '{1 hour}'), ts, event, ARRAY['view', 'cart']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT window_funnel_events(funnel_options(step_order => 'any'), ts, event, ARRAY['view', 'cart']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT window_funnel(funnel_options("window" => interval '1 hour'), 1::bigint, 'view', ARRAY['view'])$$);
SELECT pg_temp.error_of($$SELECT window_funnel(funnel_options(window_units => 5), now(), 'view', ARRAY['view'])$$);
SELECT pg_temp.error_of($$SELECT window_funnel(funnel_options(exclude => array_fill('x'::text, ARRAY[10])), ts, event, array_fill('y'::text, ARRAY[60])) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT window_funnel(funnel_options("window" => make_interval(mins => uid)), ts, event, ARRAY['view']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT window_funnel(ROW(NULL, NULL, 'ordered', NULL, NULL, NULL, 'exclude_user', 'allow_reentry', NULL, NULL, 'first_touch', NULL)::funnel_options, ts, event, ARRAY['view']) FROM clicks$$);

-- The reports with funnel options (docs/funnel.md, "Reports with funnel options").
SELECT (unnest(funnel_report(uid, funnel_options("window" => interval '1 hour', exclude => ARRAY['help']),
                             ts, event, ARRAY['view', 'cart', 'buy']))).*
FROM clicks;

-- An experiment: users in a control and a treatment variant, the treatment converting better.
SELECT setseed(0.5);
CREATE TABLE experiment AS
SELECT u AS uid,
       CASE WHEN u % 2 = 0 THEN 'control' ELSE 'treatment' END AS variant,
       timestamptz '2024-05-06 09:00' + (u % 14) * interval '1 day' + s * interval '10 minutes' AS ts,
       (ARRAY['view', 'cart', 'buy'])[s + 1] AS event
FROM generate_series(1, 2000) u, generate_series(0, 2) s
WHERE s = 0 OR random() < CASE WHEN u % 2 = 0 THEN 0.55 ELSE 0.65 END;

SELECT breakdown AS variant, step, users, round(conversion_from_first::numeric, 3) AS conversion,
       round(difference::numeric, 3) AS difference, round(ci_low::numeric, 3) AS ci_low,
       round(ci_high::numeric, 3) AS ci_high, round(p_value::numeric, 4) AS p_value,
       round(probability_better::numeric, 3) AS probability_better
FROM unnest((SELECT funnel_breakdown(uid, funnel_options("window" => interval '1 day', control => 'control'),
                                     ts, variant, event, ARRAY['view', 'cart', 'buy'])
             FROM experiment))
ORDER BY variant, step;

SELECT period_start, entered, converted, round(conversion::numeric, 3) AS conversion
FROM unnest((SELECT funnel_trend(uid, funnel_options("window" => interval '1 day'), 'week', 'UTC',
                                 ts, event, ARRAY['view', 'cart', 'buy'])
             FROM experiment));

-- The report forms against the per-user function and plain SQL, cell by cell, on random data
-- with ties, NULL events and exclusions.
ALTER TABLE names_random ADD COLUMN country text;
UPDATE names_random SET country = (ARRAY['de', 'fr', 'us', NULL])[1 + (uid + ts) % 4];
CREATE TABLE options_per_user AS
SELECT uid,
       window_funnel(funnel_options(window_units => 100, step_window_units => '{40,NULL}', exclude => '{help}',
                                    exclude_from => '{2}', exclude_to => '{3}'),
                     ts, event, ARRAY['view', 'cart', 'buy']) AS level,
       window_funnel_events(funnel_options(window_units => 100, step_window_units => '{40,NULL}', exclude => '{help}',
                                           exclude_from => '{2}', exclude_to => '{3}'),
                            ts, event, ARRAY['view', 'cart', 'buy']) AS chain,
       (array_agg(country ORDER BY ts, country) FILTER (WHERE event IN ('view', 'cart', 'buy') AND country IS NOT NULL))[1]
           AS first_country,
       (array_agg(country ORDER BY ts DESC, country) FILTER (WHERE event IN ('view', 'cart', 'buy') AND country IS NOT NULL))[1]
           AS last_country
FROM names_random
GROUP BY uid;
-- The value on the chain's step 2: the smallest country among the user's cart rows at that time.
ALTER TABLE options_per_user ADD COLUMN step2_country text;
UPDATE options_per_user o SET step2_country = (
    SELECT min(country) FROM names_random r
    WHERE r.uid = o.uid AND r.event = 'cart' AND r.ts = o.chain[2]);
CREATE FUNCTION pg_temp.plain_breakdown(attribution text) RETURNS TABLE (value text, step int, users bigint)
LANGUAGE sql AS $$
    SELECT v, k, count(*) FILTER (WHERE level >= k)
    FROM (SELECT level, CASE $1 WHEN 'first_touch' THEN first_country WHEN 'last_touch' THEN last_country
                                ELSE step2_country END AS v
          FROM options_per_user
          WHERE level >= 1 AND ($1 <> 'step_2' OR (level >= 2 AND step2_country IS NOT NULL))) u,
         generate_series(1, 3) k
    GROUP BY v, k
$$;
CREATE FUNCTION pg_temp.native_breakdown(attribution text) RETURNS TABLE (value text, step int, users bigint)
LANGUAGE sql AS $$
    SELECT breakdown, step, users
    FROM unnest((SELECT funnel_breakdown(uid, funnel_options(window_units => 100, step_window_units => '{40,NULL}',
                                                             exclude => '{help}', exclude_from => '{2}', exclude_to => '{3}',
                                                             breakdown_attribution => $1),
                                         ts, country, event, ARRAY['view', 'cart', 'buy'])
                 FROM names_random))
$$;
SELECT a AS attribution,
       (SELECT count(*) FROM pg_temp.plain_breakdown(a)) AS cells,
       (SELECT count(*) FROM (SELECT * FROM pg_temp.plain_breakdown(a) EXCEPT SELECT * FROM pg_temp.native_breakdown(a)) d) AS missing,
       (SELECT count(*) FROM (SELECT * FROM pg_temp.native_breakdown(a) EXCEPT SELECT * FROM pg_temp.plain_breakdown(a)) d) AS extra
FROM unnest(ARRAY['first_touch', 'last_touch', 'step_2']) a;
-- The plain report: users per step from the per-user levels (excluded users at no step).
SELECT count(*) AS steps, count(*) FILTER (WHERE r.users = p.users) AS equal
FROM unnest((SELECT funnel_report(uid, funnel_options(window_units => 100, step_window_units => '{40,NULL}',
                                                      exclude => '{help}', exclude_from => '{2}', exclude_to => '{3}'),
                                  ts, event, ARRAY['view', 'cart', 'buy'])
             FROM names_random)) r
JOIN (SELECT k AS step, count(*) FILTER (WHERE level >= k) AS users FROM options_per_user, generate_series(1, 3) k GROUP BY k) p
USING (step);
-- The comparison with the control equals conversion_significance on the same counts.
SELECT count(*) AS compared,
       count(*) FILTER (WHERE round(b.p_value::numeric, 12) IS NOT DISTINCT FROM round((s).p_value::numeric, 12)
                          AND round(b.difference::numeric, 12) = round((s).difference::numeric, 12)
                          AND round(b.probability_better::numeric, 9) = round((s).probability_b_better::numeric, 9)) AS equal
FROM unnest((SELECT funnel_breakdown(uid, funnel_options(window_units => 100, control => 'de'), ts, country, event,
                                     ARRAY['view', 'cart', 'buy']) FROM names_random)) b
JOIN unnest((SELECT funnel_breakdown(uid, funnel_options(window_units => 100, control => 'de'), ts, country, event,
                                     ARRAY['view', 'cart', 'buy']) FROM names_random)) c
  ON c.breakdown = 'de' AND c.step = b.step
JOIN unnest((SELECT funnel_breakdown(uid, funnel_options(window_units => 100, control => 'de'), ts, country, event,
                                     ARRAY['view', 'cart', 'buy']) FROM names_random)) c1
  ON c1.breakdown = 'de' AND c1.step = 1
JOIN unnest((SELECT funnel_breakdown(uid, funnel_options(window_units => 100, control => 'de'), ts, country, event,
                                     ARRAY['view', 'cart', 'buy']) FROM names_random)) b1
  ON b1.breakdown IS NOT DISTINCT FROM b.breakdown AND b1.step = 1,
LATERAL (SELECT conversion_significance(c1.users, c.users, b1.users, b.users) AS s) x
WHERE b.breakdown IS DISTINCT FROM 'de';
-- The trend: entries per week of the counted chain's first step, from the per-user chains.
SELECT count(*) AS periods, count(*) FILTER (WHERE t.entered = p.entered AND t.converted = p.converted) AS equal
FROM unnest((SELECT funnel_trend(uid, funnel_options("window" => interval '1 day'), 'week', 'America/New_York',
                                 ts, event, ARRAY['view', 'cart', 'buy']) FROM experiment)) t
JOIN (SELECT date_trunc('week', chain[1], 'America/New_York') AS period_start, count(*) AS entered,
             count(*) FILTER (WHERE cardinality(chain) = 3) AS converted
      FROM (SELECT uid, window_funnel_events(funnel_options("window" => interval '1 day'), ts, event,
                                             ARRAY['view', 'cart', 'buy']) AS chain
            FROM experiment GROUP BY uid) u
      WHERE cardinality(chain) >= 1
      GROUP BY 1) p USING (period_start);

-- As window aggregates: the reports so far, by hour (the final functions leave the state as it was).
SELECT DISTINCT date_trunc('hour', ts) AS hour,
       (funnel_report(uid, funnel_options("window" => interval '1 hour'), ts, event, ARRAY['view', 'cart', 'buy'])
            OVER w)[3].users AS bought,
       cardinality(funnel_breakdown(uid, funnel_options(), ts, event, event, ARRAY['view', 'cart']) OVER w) AS cells,
       (funnel_trend(uid, funnel_options(), 'day', 'UTC', ts, event, ARRAY['view', 'cart']) OVER w)[1].entered AS entered
FROM clicks
WINDOW w AS (ORDER BY date_trunc('hour', ts) RANGE UNBOUNDED PRECEDING)
ORDER BY 1, 2, 3, 4;

-- Empty input, NULL user ids and bad arguments.
SELECT cardinality(funnel_breakdown(uid, funnel_options(), ts, event, event, ARRAY['view'])) AS no_rows,
       cardinality(funnel_trend(uid, funnel_options(), 'day', 'UTC', ts, event, ARRAY['view'])) AS no_periods
FROM clicks WHERE false;
SELECT (unnest(funnel_report(NULL::int, funnel_options(), ts, event, ARRAY['view']))).users AS null_ids FROM clicks;
SELECT pg_temp.error_of($$SELECT funnel_options(breakdown_attribution => 'middle_touch')$$);
SELECT pg_temp.error_of($$SELECT funnel_options(breakdown_attribution => 'step_0')$$);
SELECT pg_temp.error_of($$SELECT funnel_breakdown(uid, funnel_options(breakdown_attribution => 'step_4'), ts, event, event, ARRAY['view', 'cart', 'buy']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_breakdown(uid, funnel_options(step_order => 'any', breakdown_attribution => 'step_1'), ts, event, event, ARRAY['view', 'cart']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_breakdown(uid, funnel_options(), ts, event, event, array_fill('x'::text, ARRAY[33])) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_trend(uid, funnel_options(), NULL, 'UTC', ts, event, ARRAY['view']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_trend(uid, funnel_options(), 'fortnight', 'UTC', ts, event, ARRAY['view']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_trend(uid, funnel_options(), 'week', 'Mars/Olympus', ts, event, ARRAY['view']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_trend(uid, funnel_options(step_order => 'any'), 'week', 'UTC', ts, event, ARRAY['view']) FROM clicks$$);
SELECT pg_temp.error_of($$SELECT funnel_report(uid, NULL::funnel_options, ts, event, ARRAY['view']) FROM clicks$$);

-- conversion_significance (docs/funnel.md, "Comparing variants").
SELECT round(rate_a::numeric, 4) AS rate_a, round(rate_b::numeric, 4) AS rate_b,
       round(difference::numeric, 4) AS difference,
       round(ci_low::numeric, 4) AS ci_low, round(ci_high::numeric, 4) AS ci_high,
       round(p_value::numeric, 4) AS p_value, round(probability_b_better::numeric, 4) AS probability_b_better
FROM conversion_significance(users_a => 1000, converted_a => 100, users_b => 1000, converted_b => 130);
-- Undefined parts are NULL: no users in a group; everyone (or no one) converted in both.
SELECT (conversion_significance(0, 0, 10, 3)).*;
SELECT rate_a, rate_b, difference, ci_low, ci_high, p_value, round(probability_b_better::numeric, 6) AS probability_b_better
FROM conversion_significance(10, 10, 20, 20);
SELECT (conversion_significance(10, 0, 20, 0)).p_value AS no_conversions;
-- Swapping the groups flips the difference and the probability, keeps the p-value.
SELECT round((a).difference::numeric, 10) = -round((b).difference::numeric, 10) AS flipped,
       round(((a).probability_b_better + (b).probability_b_better)::numeric, 9) AS probabilities_sum,
       round((a).p_value::numeric, 12) = round((b).p_value::numeric, 12) AS same_p
FROM (SELECT conversion_significance(500, 61, 480, 80) AS a, conversion_significance(480, 80, 500, 61) AS b) t;
SELECT conversion_significance(NULL, 1, 2, 1) IS NULL AS strict;
SELECT pg_temp.error_of($$SELECT conversion_significance(-1, 0, 5, 1)$$);
SELECT pg_temp.error_of($$SELECT conversion_significance(5, 6, 5, 1)$$);

DROP TABLE clicks, funnel_random, funnel_tie, report_random, report_native, names_random, experiment, options_per_user;
