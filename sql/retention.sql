-- retention(VARIADIC conds boolean[]) -> integer[]: semantics (docs/retention.md).

-- The examples of docs/retention.md (dates printed as psql prints them by default).
SET DateStyle = ISO;
CREATE TABLE visits (uid int, day date);
INSERT INTO visits VALUES
    (1, '2024-01-01'), (1, '2024-01-02'), (1, '2024-01-03'),
    (2, '2024-01-01'), (2, '2024-01-03'),
    (3, '2024-01-02'), (3, '2024-01-03'),
    (4, '2024-01-01'),
    (5, '2024-01-03'), (5, '2024-01-01');

SELECT uid,
       retention(day = '2024-01-01', day = '2024-01-02', day = '2024-01-03') AS r
FROM visits
GROUP BY uid
ORDER BY uid;

SELECT k - 1 AS day, sum(r[k]) AS users, round(100.0 * sum(r[k]) / sum(r[1]), 1) AS pct
FROM (
    SELECT uid, retention(day = '2024-01-01', day = '2024-01-02', day = '2024-01-03') AS r
    FROM visits
    GROUP BY uid
) per_user
CROSS JOIN generate_series(1, 3) k
GROUP BY k
ORDER BY k;

SELECT retention(day = '2024-01-01', day = '2024-01-02') FROM visits WHERE uid = 42;

SELECT coalesce(retention(day = '2024-01-01', day = '2024-01-02'), '{0,0}') AS r
FROM visits WHERE uid = 42;

SELECT uid, day,
       retention(day = '2024-01-01', day = '2024-01-03') OVER (PARTITION BY uid ORDER BY day) AS running
FROM visits
WHERE uid IN (2, 5)
ORDER BY uid, day;

-- r[k] needs condition 1 somewhere in the group; it is existential: order and time do not matter.
SELECT retention(x = 3, x = 1, x = 2) FROM (VALUES (1), (2), (3)) t(x);
SELECT retention(x = 9, x = 1, x = 2) FROM (VALUES (1), (2), (3)) t(x);
-- A row matching several conditions sets them all.
SELECT retention(x > 0, x > 1, x > 2) FROM (VALUES (5)) t(x);

-- NULL conditions count as false; a NULL row does not make anything true.
SELECT retention(x = 1, x = 2, NULL) FROM (VALUES (1), (2), (NULL)) t(x);
SELECT retention(x = 1, x = 2) FROM (VALUES (NULL::int), (NULL)) t(x);

-- One condition: r[1] = any(c1).
SELECT retention(x = 2) FROM (VALUES (1), (2)) t(x);
SELECT retention(x = 7) FROM (VALUES (1), (2)) t(x);

-- 64 conditions, the limit; conditions passed as an array with VARIADIC.
SELECT retention(VARIADIC array_fill(true, ARRAY[64])) = array_fill(1, ARRAY[64]) AS all_ones;
SELECT array_length(retention(VARIADIC ARRAY(SELECT i % 2 = 1 FROM generate_series(1, 64) i)), 1);
SELECT retention(VARIADIC ARRAY(SELECT i IN (1, 2, 64) FROM generate_series(1, 64) i)) =
       ARRAY(SELECT (i IN (1, 2, 64))::int FROM generate_series(1, 64) i) AS first_second_last;

-- 64 written-out conditions (the largest fixed-arity overload, whose mask uses the bigint's sign
-- bit): the first, second and last true.
SELECT format('SELECT retention(%s) = ARRAY(SELECT (i IN (1, 2, 64))::int FROM generate_series(1, 64) i) AS written_out_64',
              string_agg(CASE WHEN i IN (1, 2, 64) THEN 'true' ELSE 'false' END, ', ' ORDER BY i))
FROM generate_series(1, 64) i \gexec

-- Empty group: NULL, like sum() or bool_or() over no rows (docs/retention.md says why).
SELECT retention(x = 1, x = 2) FROM (VALUES (1)) t(x) WHERE false;
SELECT retention(x = 1, x = 2) IS NULL AS is_null FROM (VALUES (1)) t(x) WHERE false;
SELECT coalesce(retention(x = 1, x = 2), array_fill(0, ARRAY[2])) AS clickhouse_empty
FROM (VALUES (1)) t(x) WHERE false;
-- A FILTER that keeps no row of a group also makes that group's result NULL.
SELECT g, retention(x = 1, x = 2) FILTER (WHERE x > 1) FROM (VALUES (1, 1), (2, 2), (2, 3)) t(g, x)
GROUP BY g ORDER BY g;

-- Against the plain-SQL definition on random data: any(c1) AND any(ck) with bool_or.
SELECT setseed(0.5);
CREATE TABLE retention_random AS
SELECT (random() * 300)::int AS uid, (random() * 30)::int AS day,
       CASE WHEN random() < 0.05 THEN NULL ELSE random() < 0.5 END AS flag
FROM generate_series(1, 5000);
-- The written-out form (a fixed-arity overload) and the VARIADIC array form agree too.
SELECT count(*) AS users, count(*) FILTER (WHERE native = plain) AS equal,
       count(*) FILTER (WHERE native = from_array) AS equal_array_form
FROM (
    SELECT uid,
           retention(day < 3, day BETWEEN 3 AND 9 AND flag, day BETWEEN 10 AND 19, day >= 20 AND NOT flag) AS native,
           retention(VARIADIC ARRAY[day < 3, day BETWEEN 3 AND 9 AND flag, day BETWEEN 10 AND 19,
                                    day >= 20 AND NOT flag]) AS from_array,
           ARRAY[bool_or(day < 3),
                 bool_or(day < 3) AND coalesce(bool_or(day BETWEEN 3 AND 9 AND flag), false),
                 bool_or(day < 3) AND bool_or(day BETWEEN 10 AND 19),
                 bool_or(day < 3) AND coalesce(bool_or(day >= 20 AND NOT flag), false)]::int[] AS plain
    FROM retention_random
    GROUP BY uid
) s;

-- Sorted (GroupAggregate) and hashed (HashAggregate) grouping give the same answer.
SET enable_hashagg = off;
CREATE TEMP TABLE by_sort AS
SELECT uid, retention(day < 5, day >= 5 AND day < 15, day >= 15) r FROM retention_random GROUP BY uid;
RESET enable_hashagg;
SET enable_sort = off;
CREATE TEMP TABLE by_hash AS
SELECT uid, retention(day < 5, day >= 5 AND day < 15, day >= 15) r FROM retention_random GROUP BY uid;
RESET enable_sort;
SELECT count(*) AS differences FROM (TABLE by_sort EXCEPT TABLE by_hash) d;
SELECT count(*) AS users FROM by_hash;

-- One VARIADIC aggregate and 64 fixed-arity overloads, which the parser picks when the
-- conditions are written out (no array built per row).
SELECT count(*) AS aggregates, count(*) FILTER (WHERE provariadic <> 0) AS variadic
FROM pg_proc WHERE proname = 'retention' AND prokind = 'a';
EXPLAIN (VERBOSE, COSTS OFF) SELECT retention(x = 1, x = 2) FROM (VALUES (1)) t(x);
EXPLAIN (VERBOSE, COSTS OFF) SELECT retention(VARIADIC ARRAY[x = 1, x = 2]) FROM (VALUES (1)) t(x);

-- The result is an ordinary integer[] that clients map directly.
SELECT pg_typeof(retention(true)) FROM (VALUES (1)) t(x);

-- period_retention: the examples of docs/retention.md.
SET TimeZone = 'UTC';
CREATE TABLE app_events (uid int, ts timestamptz, event text);
INSERT INTO app_events VALUES
    (1, '2024-01-01 09:00', 'signup'), (1, '2024-01-09 10:00', 'open'), (1, '2024-01-22 10:00', 'purchase'),
    (2, '2024-01-03 12:00', 'signup'), (2, '2024-01-04 12:00', 'open'),
    (3, '2024-01-10 08:00', 'open'), (3, '2024-01-11 08:00', 'signup'), (3, '2024-01-17 08:00', 'open'),
    (3, '2024-01-30 08:00', 'purchase'),
    (4, '2024-01-12 18:00', 'open');

SELECT uid,
       cohort_period(ts, 'week', event, ARRAY['signup'], 'UTC') AS cohort,
       period_retention(ts, 'week', 3, 'on', event, ARRAY['signup'], ARRAY['open', 'purchase'], 'UTC') AS came_back
FROM app_events
GROUP BY uid
ORDER BY uid;

SELECT uid,
       cohort_period(ts, 'week', event = 'signup', 'UTC') AS cohort,
       period_retention(ts, 'week', 3, 'on', event = 'signup', true, 'UTC') AS on_week,
       period_retention(ts, 'week', 3, 'on_or_after', event = 'signup', true, 'UTC') AS on_or_after
FROM app_events
GROUP BY uid
ORDER BY uid;

SELECT cohort::date, k AS week, count(*) AS users, sum(r[k + 1]) AS retained,
       round(100.0 * sum(r[k + 1]) / count(*), 1) AS pct
FROM (
    SELECT uid,
           cohort_period(ts, 'week', event = 'signup', 'UTC') AS cohort,
           period_retention(ts, 'week', 3, 'on', event = 'signup', true, 'UTC') AS r
    FROM app_events
    GROUP BY uid
) per_user
CROSS JOIN generate_series(0, 3) k
WHERE r IS NOT NULL
GROUP BY cohort, k
ORDER BY cohort, k;

SELECT uid, period_retention(ts, 'week', 3, 'on', event = 'signup', event = 'purchase', 'UTC') AS purchased
FROM app_events
GROUP BY uid
ORDER BY uid;

SELECT uid, period_retention(ts, 'week', 3, 'on', event = 'signup', true, 'UTC', '2024-01-24 00:00+00') AS as_of_jan_24
FROM app_events
GROUP BY uid
ORDER BY uid;

SELECT uid, period_retention(ts, interval '7 days', 3, 'on', event = 'signup', true) AS rolling_weeks
FROM app_events
GROUP BY uid
ORDER BY uid;

SELECT cohort::date, k AS week, count(*) AS users, count(*) FILTER (WHERE returned[k + 1]) AS retained
FROM (
    SELECT s.uid, s.cohort,
           ARRAY(SELECT EXISTS (SELECT FROM app_events e WHERE e.uid = s.uid AND e.ts >= s.cohort
                                AND period_index(e.ts, s.cohort, 'week', 'UTC') = k)
                 FROM generate_series(0, 2) k ORDER BY k) AS returned
    FROM (SELECT DISTINCT uid, date_trunc('week', ts, 'UTC') AS cohort FROM app_events WHERE event = 'open') s
) per_cohort
CROSS JOIN generate_series(0, 2) k
GROUP BY cohort, k
ORDER BY cohort, k;

-- A return before the first start does not count (user 3 opened the app the day before signing
-- up); ClickHouse's retention() is existential and would count it.
SELECT period_retention(ts, 'day', 1, 'on', event = 'signup', event = 'open', 'UTC') AS period_retention,
       retention(event = 'signup', event = 'open') AS clickhouse_retention
FROM app_events WHERE uid = 3 AND ts < '2024-01-12';

-- Calendar periods in the given zone: a Sunday-evening event in New York is Monday in UTC.
SELECT period_retention(ts, 'week', 1, 'on', true, true, 'UTC') AS utc,
       period_retention(ts, 'week', 1, 'on', true, true, 'America/New_York') AS new_york
FROM (VALUES ('2024-01-07 12:00-05'::timestamptz), ('2024-01-07 21:00-05')) t(ts);

-- timestamp (local times, no zone) gives what timestamptz gives in UTC.
SELECT count(*) AS users,
       count(*) FILTER (WHERE a = b) AS calendar_equal, count(*) FILTER (WHERE c = d) AS rolling_equal
FROM (
    SELECT uid,
           period_retention(ts, 'week', 3, 'on', event = 'signup', true, 'UTC', '2024-01-24 00:00+00') AS a,
           period_retention((ts AT TIME ZONE 'UTC'), 'week', 3, 'on', event = 'signup', true, '2024-01-24 00:00') AS b,
           period_retention(ts, interval '5 days', 4) AS c,
           period_retention((ts AT TIME ZONE 'UTC'), interval '5 days', 4) AS d
    FROM app_events GROUP BY uid
) s
WHERE a IS NOT NULL;

-- NULL ts skips the row; NULL conditions are false; no start event or no rows gives NULL.
SELECT period_retention(ts, 'day', 2, 'on', s, r, 'UTC')
FROM (VALUES ('2024-01-01 10:00+00'::timestamptz, true, NULL::boolean), (NULL, true, true),
             ('2024-01-02 10:00+00', NULL, true)) t(ts, s, r);
SELECT period_retention(ts, 'day', 2, 'on', false, true, 'UTC') IS NULL AS no_start
FROM (VALUES ('2024-01-01'::timestamptz)) t(ts);
SELECT period_retention(ts, 'day', 2) IS NULL AS no_rows FROM app_events WHERE false;
-- Zero periods: just the cohort period.
SELECT period_retention(ts, 'month', 0) FROM app_events WHERE uid = 1;

-- Against the plain-SQL definition on random data: calendar weeks in Berlin, on and on-or-after.
SELECT setseed(0.9);
CREATE TABLE period_random AS
SELECT (random() * 200)::int AS uid, timestamptz '2024-01-01' + random() * interval '70 days' AS ts,
       random() < 0.3 AS s, random() < 0.6 AS r
FROM generate_series(1, 6000);
WITH firsts AS (
    SELECT uid, min(ts) AS first FROM period_random WHERE s GROUP BY uid
), plain AS (
    SELECT f.uid,
           ARRAY(SELECT (EXISTS (SELECT FROM period_random e WHERE e.uid = f.uid AND e.r AND e.ts >= f.first
                                 AND period_index(e.ts, f.first, 'week', 'Europe/Berlin') = k))::int
                 FROM generate_series(0, 6) k ORDER BY k) AS on_k,
           ARRAY(SELECT (EXISTS (SELECT FROM period_random e WHERE e.uid = f.uid AND e.r AND e.ts >= f.first
                                 AND period_index(e.ts, f.first, 'week', 'Europe/Berlin') >= k))::int
                 FROM generate_series(0, 6) k ORDER BY k) AS after_k
    FROM firsts f
), native AS (
    SELECT uid, period_retention(ts, 'week', 6, 'on', s, r, 'Europe/Berlin') AS on_k,
           period_retention(ts, 'week', 6, 'on_or_after', s, r, 'Europe/Berlin') AS after_k
    FROM period_random GROUP BY uid
)
SELECT count(*) AS users, count(*) FILTER (WHERE n.on_k = p.on_k AND n.after_k = p.after_k) AS equal,
       (SELECT count(*) FROM native WHERE on_k IS NULL) AS without_start
FROM native n JOIN plain p USING (uid);

-- cohort_retention (docs/retention.md): the cohort and the array from one aggregate.
SELECT uid, (c).cohort, (c).retained
FROM (SELECT uid, cohort_retention(ts, 'week', 3, 'on', event, ARRAY['signup'], ARRAY['open', 'purchase'], 'UTC') AS c
      FROM app_events GROUP BY uid) u
ORDER BY uid;
-- The triangle in one aggregate per user.
SELECT (c).cohort::date AS cohort, k AS week, count(*) AS users, sum((c).retained[k + 1]) AS retained
FROM (SELECT uid, cohort_retention(ts, 'week', 3, 'on', event = 'signup', true, 'UTC') AS c
      FROM app_events GROUP BY uid) per_user
CROSS JOIN generate_series(0, 3) k
WHERE c IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2;
-- Equal to cohort_period + period_retention on random data, for every form: calendar in a zone,
-- with as_of, rolling, local times, event names; serial and forced parallel.
CREATE FUNCTION pg_temp.cohort_check() RETURNS TABLE (users bigint, equal bigint, in_cohort bigint)
LANGUAGE sql AS $$
    WITH t AS (
        SELECT uid,
               cohort_retention(ts, 'week', 6, 'on', s, r, 'Europe/Berlin') AS a,
               ROW(cohort_period(ts, 'week', s, 'Europe/Berlin'),
                   period_retention(ts, 'week', 6, 'on', s, r, 'Europe/Berlin'))::cohort_retention AS a_plain,
               cohort_retention(ts, 'month', 2, 'on_or_after', s, r, 'UTC', '2024-03-01') AS b,
               ROW(cohort_period(ts, 'month', s, 'UTC'),
                   period_retention(ts, 'month', 2, 'on_or_after', s, r, 'UTC', '2024-03-01'))::cohort_retention AS b_plain,
               cohort_retention(ts, interval '5 days', 4, 'on', s, r) AS c,
               ROW(min(ts) FILTER (WHERE s), period_retention(ts, interval '5 days', 4, 'on', s, r))::cohort_retention AS c_plain,
               cohort_retention(ts AT TIME ZONE 'UTC', 'day', 3, 'on', s, r) AS d,
               ROW(cohort_period(ts AT TIME ZONE 'UTC', 'day', s),
                   period_retention(ts AT TIME ZONE 'UTC', 'day', 3, 'on', s, r))::cohort_retention_local AS d_plain,
               cohort_retention(ts, 'week', 2, 'on', CASE WHEN s THEN 'start' ELSE 'other' END, '{start}', '{other,start}', 'UTC') AS e,
               cohort_retention(ts, 'week', 2, 'on', s, true, 'UTC') AS e_plain
        FROM period_random GROUP BY uid
    )
    SELECT count(*),
           count(*) FILTER (WHERE a IS NOT DISTINCT FROM (CASE WHEN (a_plain).retained IS NULL THEN NULL ELSE a_plain END)
                              AND b IS NOT DISTINCT FROM (CASE WHEN (b_plain).retained IS NULL THEN NULL ELSE b_plain END)
                              AND c IS NOT DISTINCT FROM (CASE WHEN (c_plain).retained IS NULL THEN NULL ELSE c_plain END)
                              AND d IS NOT DISTINCT FROM (CASE WHEN (d_plain).retained IS NULL THEN NULL ELSE d_plain END)
                              AND e IS NOT DISTINCT FROM e_plain),
           count(a)
    FROM t
$$;
SELECT * FROM pg_temp.cohort_check();
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SELECT * FROM pg_temp.cohort_check();
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT cohort_retention(ts, 'week', 2) IS NULL AS no_rows FROM app_events WHERE false;
-- The array inside the composite keeps its 4-byte header (a subscript per row does not copy it
-- back to full form): the size of the array alone, as period_retention returns it.
SELECT pg_column_size((cohort_retention(ts, 'week', 8, 'on', true, true, 'UTC')).retained) AS in_composite,
       pg_column_size(period_retention(ts, 'week', 8, 'on', true, true, 'UTC')) AS alone
FROM app_events WHERE uid = 1;
SELECT ts, (cohort_retention(ts, 'week', 2, 'on', event = 'signup', true, 'UTC') OVER (ORDER BY ts)).cohort AS so_far
FROM app_events WHERE uid = 3 ORDER BY ts;

-- Forced parallel plan equals the serial answer.
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE pr_serial AS
SELECT uid, period_retention(ts, interval '5 days', 10, 'on', s, r, '2024-03-01') AS x FROM period_random GROUP BY uid;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
CREATE TEMP TABLE pr_parallel AS
SELECT uid, period_retention(ts, interval '5 days', 10, 'on', s, r, '2024-03-01') AS x FROM period_random GROUP BY uid;
SELECT count(*) AS users, (SELECT count(*) FROM (SELECT uid, x::text FROM pr_serial
                                               EXCEPT SELECT uid, x::text FROM pr_parallel) d) AS differences
FROM pr_parallel;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- As a window aggregate: the retention so far, row by row.
SELECT ts, period_retention(ts, 'week', 2, 'on', event = 'signup', true, 'UTC') OVER (ORDER BY ts) AS so_far
FROM app_events WHERE uid = 1 ORDER BY ts;

-- The event-name forms: (..., event, start_events text[], return_events text[], ...) give the
-- condition forms' answers (event = ANY(start_events) as the start, = ANY(return_events) as the
-- return) on random data with ties and NULL events, calendar (Berlin), rolling and local times,
-- an as-of time, per user and as a report; serial and forced parallel.
SELECT setseed(0.31);
CREATE TABLE names_events AS
SELECT (random() * 150)::int AS uid,
       timestamptz '2024-01-01' + (random() * 2000)::int * interval '1 hour' AS ts,
       (ARRAY['signup', 'open', 'buy', 'help', NULL])[1 + (random() * 4)::int] AS event
FROM generate_series(1, 5000);
CREATE FUNCTION pg_temp.retention_names_check() RETURNS TABLE (form text, users bigint, equal bigint)
LANGUAGE sql AS $$
    SELECT 'calendar', count(*), count(*) FILTER (WHERE n IS NOT DISTINCT FROM c)
    FROM (SELECT uid, period_retention(ts, 'week', 6, 'on', event, ARRAY['signup', 'open'], ARRAY['buy', 'open'],
                                       'Europe/Berlin', '2024-03-01') AS n,
                 period_retention(ts, 'week', 6, 'on', event IN ('signup', 'open'), event IN ('buy', 'open'),
                                  'Europe/Berlin', '2024-03-01') AS c
          FROM names_events GROUP BY uid) u
    UNION ALL
    SELECT 'rolling', count(*), count(*) FILTER (WHERE n IS NOT DISTINCT FROM c)
    FROM (SELECT uid, period_retention(ts, interval '5 days', 8, 'on_or_after', event, ARRAY['signup'], ARRAY['buy']) AS n,
                 period_retention(ts, interval '5 days', 8, 'on_or_after', event = 'signup', event = 'buy') AS c
          FROM names_events GROUP BY uid) u
    UNION ALL
    SELECT 'local', count(*), count(*) FILTER (WHERE n IS NOT DISTINCT FROM c)
    FROM (SELECT uid, period_retention(ts AT TIME ZONE 'UTC', 'day', 20, 'on', event, ARRAY['open'], ARRAY['open', 'help']) AS n,
                 period_retention(ts AT TIME ZONE 'UTC', 'day', 20, 'on', event = 'open', event IN ('open', 'help')) AS c
          FROM names_events GROUP BY uid) u
    UNION ALL
    SELECT 'report', 1, (SELECT (retention_report(uid, ts, 'week', 6, 'on', event, ARRAY['signup'], ARRAY['buy', 'help'], 'Europe/Berlin'))::text
                                = (retention_report(uid, ts, 'week', 6, 'on', event = 'signup', event IN ('buy', 'help'), 'Europe/Berlin'))::text
                         FROM names_events)::int
    UNION ALL
    SELECT 'report, rolling, value', 1,
           (SELECT (retention_report(uid, ts, interval '7 days', 4, 'on', event, ARRAY['signup'], ARRAY['buy'], 'UTC', NULL, uid::float8))::text
                   = (retention_report(uid, ts, interval '7 days', 4, 'on', event = 'signup', event = 'buy', 'UTC', NULL, uid::float8))::text
            FROM names_events)::int
$$;
SELECT * FROM pg_temp.retention_names_check();
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SELECT * FROM pg_temp.retention_names_check();
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
-- Over a window, and the names bound as parameters (a BI tool binds a text array).
SELECT ts, period_retention(ts, 'week', 2, 'on', event, ARRAY['signup'], ARRAY['open', 'buy'], 'UTC') OVER (ORDER BY ts) AS so_far
FROM app_events WHERE uid = 1 ORDER BY ts;
PREPARE retained(text[], text[]) AS
SELECT count(*) FILTER (WHERE r[2] = 1) AS week_1
FROM (SELECT uid, period_retention(ts, 'week', 4, 'on', event, $1, $2, 'UTC') AS r FROM names_events GROUP BY uid) u;
EXECUTE retained('{signup}', '{open,buy}');
SELECT count(*) FILTER (WHERE r[2] = 1) AS week_1
FROM (SELECT uid, period_retention(ts, 'week', 4, 'on', event = 'signup', event IN ('open', 'buy'), 'UTC') AS r
      FROM names_events GROUP BY uid) u;
DEALLOCATE retained;

-- lifecycle: the examples of docs/retention.md (the app_events table above; weeks from 2024-01-01).
SELECT uid, lifecycle(ts, 'week', '2024-01-01 00:00+00', 5, 'UTC') AS weeks
FROM app_events
GROUP BY uid
ORDER BY uid;

SELECT k - 1 AS week, status, count(*) AS users
FROM (
    SELECT uid, lifecycle(ts, 'week', '2024-01-01 00:00+00', 5, 'UTC') AS s
    FROM app_events
    GROUP BY uid
) per_user
CROSS JOIN LATERAL unnest(s) WITH ORDINALITY AS x(status, k)
WHERE status IS NOT NULL
GROUP BY k, status
ORDER BY k, status;

-- Activity before the range decides new against resurrecting; FILTER picks the event.
SELECT lifecycle(ts, 'day', '2024-01-10 00:00+00', 3, 'UTC') AS days,
       lifecycle(ts, 'day', '2024-01-10 00:00+00', 3, 'UTC') FILTER (WHERE ts >= '2024-01-10') AS from_jan_10
FROM (VALUES ('2024-01-02 10:00+00'::timestamptz), ('2024-01-09 10:00+00'), ('2024-01-11 10:00+00')) t(ts);

-- Against the definition in plain SQL on random data.
WITH active AS (
    SELECT DISTINCT uid, period_index(ts, '2024-01-01 00:00+00', 'week', 'UTC') AS p FROM period_random WHERE r
), firsts AS (
    SELECT uid, min(p) AS first FROM active GROUP BY uid
), plain AS (
    SELECT f.uid, ARRAY(
        SELECT CASE
                   WHEN EXISTS (SELECT FROM active a WHERE a.uid = f.uid AND a.p = k) THEN
                       CASE WHEN f.first = k THEN 'new'
                            WHEN EXISTS (SELECT FROM active a WHERE a.uid = f.uid AND a.p = k - 1) THEN 'returning'
                            ELSE 'resurrecting' END
                   WHEN EXISTS (SELECT FROM active a WHERE a.uid = f.uid AND a.p = k - 1) THEN 'dormant'
               END
        FROM generate_series(2, 8) k ORDER BY k) AS s
    FROM firsts f
), native AS (
    SELECT uid, lifecycle(ts, 'week', '2024-01-15 00:00+00', 7, 'UTC') FILTER (WHERE r) AS s
    FROM period_random GROUP BY uid
)
SELECT count(*) AS users, count(*) FILTER (WHERE n.s IS NOT DISTINCT FROM p.s) AS equal
FROM native n JOIN plain p USING (uid);

-- No rows: NULL. Parallel plans: the serial answer.
SELECT lifecycle(ts, 'week', now(), 3) IS NULL AS no_rows FROM app_events WHERE false;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE lc_serial AS
SELECT uid, lifecycle(ts, 'day', '2024-01-20 00:00+00', 30, 'Europe/Berlin') AS s FROM period_random GROUP BY uid;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
CREATE TEMP TABLE lc_parallel AS
SELECT uid, lifecycle(ts, 'day', '2024-01-20 00:00+00', 30, 'Europe/Berlin') AS s FROM period_random GROUP BY uid;
SELECT count(*) AS users, (SELECT count(*) FROM (SELECT uid, s::text FROM lc_serial
                                               EXCEPT SELECT uid, s::text FROM lc_parallel) d) AS differences
FROM lc_parallel;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- active_periods (stickiness): the examples of docs/retention.md.
SELECT uid, active_periods(ts, 'day', 'UTC') AS active_days, active_periods(ts, 'week', 'UTC') AS active_weeks
FROM app_events
GROUP BY uid
ORDER BY uid;

SELECT days AS "active days in the week", count(*) AS users
FROM (
    SELECT uid, active_periods(ts, 'day', 'UTC') AS days
    FROM app_events
    WHERE ts >= '2024-01-08' AND ts < '2024-01-15'
    GROUP BY uid
) per_user
GROUP BY days
ORDER BY days;

-- Days in the given zone; NULL ts skipped; no rows is 0.
SELECT active_periods(ts, 'day', 'UTC') AS utc, active_periods(ts, 'day', 'America/Los_Angeles') AS los_angeles
FROM (VALUES ('2024-01-01 06:00+00'::timestamptz), ('2024-01-01 10:00+00'), (NULL)) t(ts);
SELECT active_periods(ts, 'day') AS no_rows FROM app_events WHERE false;

-- Against count(DISTINCT ...) on random data, serial and forced parallel.
SELECT count(*) AS users, count(*) FILTER (WHERE native = plain) AS equal
FROM (SELECT uid, active_periods(ts, 'day', 'Europe/Berlin') AS native,
             count(DISTINCT (ts AT TIME ZONE 'Europe/Berlin')::date) AS plain
      FROM period_random GROUP BY uid) s;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT uid, active_periods(ts, 'day', 'UTC') FROM period_random GROUP BY uid;
SELECT count(*) AS users, count(*) FILTER (WHERE native = plain) AS equal
FROM (SELECT uid, active_periods(ts, 'day', 'UTC') AS native FROM period_random GROUP BY uid) n
JOIN (SELECT uid, count(DISTINCT (ts AT TIME ZONE 'UTC')::date) AS plain FROM period_random GROUP BY uid) p USING (uid);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- active_users_report: DAU, WAU, MAU and stickiness in one statement (docs/retention.md).
SELECT (unnest(active_users_report(uid, ts, 'day', '{1,7}', 'UTC'))).*
FROM app_events
WHERE ts < '2024-01-06';

-- Against count(DISTINCT ...) over a calendar joined to each user's active days, on random data
-- with NULL ids and times, in Berlin; serial and forced parallel; integer and text ids.
SELECT setseed(0.6);
CREATE TABLE active_random AS
SELECT CASE WHEN random() < 0.01 THEN NULL ELSE (random() * 300)::int END AS uid,
       CASE WHEN random() < 0.01 THEN NULL
            ELSE timestamptz '2024-03-01 00:00+00' + random() * interval '60 days' END AS ts
FROM generate_series(1, 20000);
CREATE TABLE active_plain AS
WITH days AS (
    SELECT DISTINCT uid, (ts AT TIME ZONE 'Europe/Berlin')::date AS d FROM active_random
    WHERE uid IS NOT NULL AND ts IS NOT NULL
), calendar AS (
    SELECT generate_series(min(d), max(d), interval '1 day')::date AS day FROM days
)
SELECT (c.day::timestamp AT TIME ZONE 'Europe/Berlin') AS period_start, w AS window_periods,
       count(DISTINCT a.uid) AS users,
       (SELECT count(DISTINCT uid) FROM days WHERE d = c.day)::float8 / nullif(count(DISTINCT a.uid), 0) AS stickiness
FROM calendar c CROSS JOIN unnest('{1,7,30}'::int[]) w
LEFT JOIN days a ON a.d > c.day - w AND a.d <= c.day
GROUP BY c.day, w;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS cells,
       count(*) FILTER (WHERE (n.users, n.stickiness) IS NOT DISTINCT FROM (p.users, p.stickiness)) AS equal,
       max(n.users) FILTER (WHERE n.window_periods = 30) AS most_mau
FROM unnest((SELECT active_users_report(uid, ts, 'day', '{1,7,30}', 'Europe/Berlin') FROM active_random)) n
FULL JOIN active_plain p USING (period_start, window_periods);
SELECT count(*) AS cells, count(*) FILTER (WHERE n.users = p.users) AS equal
FROM unnest((SELECT active_users_report('user-' || uid, ts, 'day', '{1,7,30}', 'Europe/Berlin') FROM active_random)) n
FULL JOIN active_plain p USING (period_start, window_periods);
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT active_users_report(uid, ts, 'day', '{1,7,30}', 'Europe/Berlin') FROM active_random;
SELECT count(*) AS cells, count(*) FILTER (WHERE n.users = p.users) AS equal
FROM unnest((SELECT active_users_report(uid, ts, 'day', '{1,7,30}', 'Europe/Berlin') FROM active_random)) n
FULL JOIN active_plain p USING (period_start, window_periods);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- Weeks, the defaults (days; 1, 7 and 30 days; the session's zone), a breakdown, no rows.
SELECT (unnest(active_users_report(uid, ts, 'week', '{1,4}', 'UTC'))).* FROM app_events;
SELECT count(*) AS rows, count(DISTINCT window_periods) AS windows
FROM unnest((SELECT active_users_report(uid, ts) FROM active_random));
SELECT uid % 2 AS half, (unnest(active_users_report(uid, ts, 'week', '{1}', 'UTC'))).users
FROM active_random WHERE ts < '2024-03-11' GROUP BY 1 ORDER BY 1, 2;
SELECT cardinality(active_users_report(uid, ts)) AS no_rows FROM app_events WHERE false;
-- Bad input: the SQLSTATEs of the per-user functions.
CREATE FUNCTION pg_temp.report_error(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT pg_temp.report_error($$SELECT active_users_report(uid, ts, NULL) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT active_users_report(uid, ts, 'day', '{}') FROM app_events$$);
SELECT pg_temp.report_error($$SELECT active_users_report(uid, ts, 'day', '{7,0}') FROM app_events$$);
SELECT pg_temp.report_error($$SELECT active_users_report(uid, ts, 'day', '{1,NULL}') FROM app_events$$);
SELECT pg_temp.report_error($$SELECT active_users_report(uid, ts, 'fortnight') FROM app_events$$);
SELECT pg_temp.report_error($$SELECT active_users_report(uid, ts, 'day', '{1}', 'Mars/Olympus') FROM app_events$$);
SELECT pg_temp.report_error($$SELECT active_users_report(uid, ts, CASE WHEN uid = 1 THEN 'day' ELSE 'week' END) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT active_users_report(uid, ts, 'day') FROM (VALUES (1, timestamptz 'infinity')) v(uid, ts)$$);
SELECT pg_temp.report_error($$SELECT active_users_report(uid, ts, 'day') FROM (VALUES (1, timestamptz '2000-01-01'), (2, '2600-01-01')) v(uid, ts)$$);

-- lifecycle_report: the lifecycle chart in one statement (docs/retention.md).
SELECT (unnest(lifecycle_report(uid, ts, 'week', '2024-01-01 00:00+00', 5, 'UTC'))).*
FROM app_events;

-- Against the per-user lifecycle folded in SQL, on random data; serial and forced parallel; text ids.
CREATE TABLE lifecycle_plain AS
SELECT k, count(*) FILTER (WHERE s[k] = 'new') AS new, count(*) FILTER (WHERE s[k] = 'returning') AS ret,
       count(*) FILTER (WHERE s[k] = 'resurrecting') AS resurrecting, count(*) FILTER (WHERE s[k] = 'dormant') AS dormant,
       count(*) FILTER (WHERE s[k] = 'dormant')::float8
           / nullif(count(*) FILTER (WHERE k = 1 AND was_active OR k > 1 AND s[k - 1] <> 'dormant'), 0) AS churn
FROM (SELECT uid, lifecycle(ts, 'week', '2024-01-15 00:00+00', 7, 'UTC') AS s,
             bool_or(period_index(ts, '2024-01-15 00:00+00', 'week', 'UTC') = -1) AS was_active
      FROM period_random GROUP BY uid) u, generate_series(1, 7) k
GROUP BY k;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS periods, count(*) FILTER (WHERE (n.new_users, n.returning_users, n.resurrecting_users, n.dormant_users, n.churn)
                                              IS NOT DISTINCT FROM (p.new, p.ret, p.resurrecting, p.dormant, p.churn)) AS equal
FROM unnest((SELECT lifecycle_report(uid, ts, 'week', '2024-01-15 00:00+00', 7, 'UTC') FROM period_random))
     WITH ORDINALITY n JOIN lifecycle_plain p ON p.k = n.ordinality;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SELECT count(*) AS periods, count(*) FILTER (WHERE (n.new_users, n.returning_users, n.resurrecting_users, n.dormant_users)
                                              = (p.new, p.ret, p.resurrecting, p.dormant)) AS equal
FROM unnest((SELECT lifecycle_report('u' || uid, ts, 'week', '2024-01-15 00:00+00', 7, 'UTC') FROM period_random))
     WITH ORDINALITY n JOIN lifecycle_plain p ON p.k = n.ordinality;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT cardinality(lifecycle_report(uid, ts, 'week', now(), 3)) AS no_rows FROM app_events WHERE false;
SELECT pg_temp.report_error($$SELECT lifecycle_report(uid, ts, 'week', NULL, 3) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT lifecycle_report(uid, ts, 'week', now(), 0) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT lifecycle_report(uid, ts, 'week', now(), 256) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT lifecycle_report(uid, ts, '7 days', now(), 3) FROM app_events$$);

-- retention_report: the cohort triangle in one statement (docs/retention.md).
SELECT cohort_start::date AS cohort, period, cohort_users, retained_users, rate
FROM unnest((SELECT retention_report(uid, ts, 'week', 3, 'on', event, ARRAY['signup'], ARRAY['open', 'purchase'], 'UTC')
             FROM app_events));
SELECT (unnest(retention_report(uid, ts, 'week', 3, 'on', event = 'signup', true, 'UTC'))).*
FROM app_events;
-- Rolling weeks, a value column, as of a time (docs/retention.md).
SELECT cohort_start::date AS cohort, period, cohort_users, retained_users, value,
       cumulative_value_per_user AS ltv
FROM unnest((SELECT retention_report(uid, ts, interval '7 days', 3, 'on', event = 'signup', true, 'UTC',
                                     '2024-02-01', CASE WHEN event = 'purchase' THEN 20 END)
             FROM app_events));

-- Against cohort_period + period_retention per user, grouped in SQL, on random data: weeks in
-- Berlin and rolling 7-day periods (cohorts: the Berlin day of the first start), 'on' and
-- 'on_or_after', an as-of time, a value column summed per cell (NULLs among the values); serial
-- and forced parallel; text ids. A cell's retained count is NULL unless every user's cell is
-- complete at the as-of time.
CREATE FUNCTION pg_temp.triangle_check(mode text, id_type text, period text DEFAULT 'week')
RETURNS TABLE (cells bigint, equal bigint, valued bigint)
LANGUAGE plpgsql AS $$
DECLARE
    rolling boolean := period <> 'week';
    unit text := CASE WHEN rolling THEN 'day' ELSE 'week' END;
    period_arg text := CASE WHEN rolling THEN format('%L::interval', period) ELSE quote_literal(period) END;
    zone_arg text := CASE WHEN rolling THEN '' ELSE quote_literal('Europe/Berlin') || ',' END;
BEGIN
    RETURN QUERY EXECUTE format($q$
        WITH per_user AS (
            SELECT uid, min(ts) FILTER (WHERE s) AS first, cohort_period(ts, %3$L, s, 'Europe/Berlin') AS cohort,
                   period_retention(ts, %4$s, 6, %1$L, s, r, %5$s '2024-02-20') AS ret
            FROM period_random GROUP BY uid
        ), cells AS (
            SELECT cohort, k - 1 AS period, count(*) AS users,
                   CASE WHEN count(ret[k]) = count(*) THEN sum(ret[k]) END AS retained
            FROM per_user, generate_series(1, 7) k WHERE cohort IS NOT NULL GROUP BY cohort, k
        ), valued AS (
            SELECT u.cohort, CASE WHEN %6$L THEN period_index(e.ts, u.first, %4$s)
                                  ELSE period_index(e.ts, u.first, 'week', 'Europe/Berlin') END AS period,
                   sum(e.v) AS value
            FROM per_user u JOIN period_random e USING (uid)
            WHERE u.cohort IS NOT NULL AND e.ts >= u.first
            GROUP BY 1, 2
        ), plain AS (
            SELECT c.*, CASE WHEN c.retained IS NOT NULL THEN coalesce(v.value, 0) END AS value
            FROM cells c LEFT JOIN valued v USING (cohort, period)
        )
        SELECT count(*),
               count(*) FILTER (WHERE (n.cohort_users, n.retained_users, n.value)
                                      IS NOT DISTINCT FROM (p.users, p.retained, p.value)),
               count(*) FILTER (WHERE n.value > 0)
        FROM unnest((SELECT retention_report(uid::%2$s, ts, %4$s, 6, %1$L, s, r, 'Europe/Berlin', '2024-02-20', v)
                     FROM period_random)) n
        FULL JOIN plain p ON p.cohort = n.cohort_start AND p.period = n.period
    $q$, mode, id_type, unit, period_arg, zone_arg, rolling);
END
$$;
ALTER TABLE period_random ADD COLUMN v double precision;
UPDATE period_random SET v = nullif(uid % 4, 0) * (1 + extract(epoch FROM ts)::bigint % 3);
SET max_parallel_workers_per_gather = 0;
SELECT m, t, p, c.* FROM unnest(ARRAY['on', 'on_or_after']) m, unnest(ARRAY['integer', 'text']) t,
     unnest(ARRAY['week', '7 days']) p, LATERAL pg_temp.triangle_check(m, t, p) c;
-- The value's running total per cohort user (lifetime value) is the sum of the cells so far.
SELECT count(*) AS cells,
       count(*) FILTER (WHERE abs(cumulative_value_per_user * cohort_users - sum_to_date) < 1e-6) AS cumulative_ok
FROM (SELECT c.*, sum(value) OVER (PARTITION BY cohort_start ORDER BY period) AS sum_to_date
      FROM unnest((SELECT retention_report(uid, ts, 'week', 6, 'on', s, r, 'Europe/Berlin', NULL, v)
                   FROM period_random)) c) t;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT retention_report(uid, ts, 'week', 6) FROM period_random;
SELECT m, p, c.* FROM unnest(ARRAY['on', 'on_or_after']) m, unnest(ARRAY['week', '7 days']) p,
     LATERAL pg_temp.triangle_check(m, 'integer', p) c;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT cardinality(retention_report(uid, ts, 'week', 3)) AS no_rows FROM app_events WHERE false;
SELECT pg_temp.report_error($$SELECT retention_report(uid, ts, 'week', NULL) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT retention_report(uid, ts, 'week', 256) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT retention_report(uid, ts, 'week', 3, 'after') FROM app_events$$);
SELECT pg_temp.report_error($$SELECT retention_report(uid, ts, '1 month', 3) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT retention_report(uid, ts, interval '-7 days', 3) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT retention_report(uid, ts, '7 days', 3, 'on', true, true, 'UTC', NULL, 1.0) FROM (VALUES (1, 'infinity'::timestamptz)) t(uid, ts)$$);

-- The BI shapes of docs/reports.md.
-- Superset heatmap: the cohort on one axis, the period on the other, the rate as the metric.
SELECT cohort_start::date AS cohort, period, cohort_users, round(rate::numeric, 2) AS rate
FROM unnest((SELECT retention_report(uid, ts, 'week', 2, 'on', event = 'signup', true, 'UTC')
             FROM app_events
             WHERE ts >= '2024-01-01' AND ts < '2024-03-01'))
ORDER BY cohort, period;
-- Grafana time series (Format as: Time series): time, metric, value in long form. The events
-- start 6 days before the panel's range, so the first 7-day windows are whole.
SELECT period_start AS "time", window_periods || '-day active users' AS metric, users AS value
FROM unnest((SELECT active_users_report(uid, ts, 'day', '{1,7}', 'UTC')
             FROM app_events
             WHERE ts BETWEEN '2024-01-10T00:00:00Z'::timestamptz - interval '6 days' AND '2024-01-12T23:59:59Z'))
WHERE period_start >= '2024-01-10T00:00:00Z'
ORDER BY 1, 2;
-- A nightly job: the report into a table, one statement.
CREATE TEMP TABLE weekly_lifecycle AS
SELECT * FROM unnest((SELECT lifecycle_report(uid, ts, 'week', '2024-01-01 00:00+00', 5, 'UTC') FROM app_events))
WITH NO DATA;
INSERT INTO weekly_lifecycle
SELECT * FROM unnest((SELECT lifecycle_report(uid, ts, 'week', '2024-01-01 00:00+00', 5, 'UTC') FROM app_events));
SELECT period_start::date, new_users, returning_users, resurrecting_users, dormant_users FROM weekly_lifecycle ORDER BY 1;

-- retention over calendar periods (docs/retention.md): the examples.
SELECT uid, retention(ts, 'week', '2024-01-01 00:00+00', 4, 'UTC') AS weekly
FROM app_events
GROUP BY uid
ORDER BY uid;
SELECT uid, retention(ts >= '2024-01-01 00:00+00' AND ts < '2024-01-08 00:00+00',
                      ts >= '2024-01-08 00:00+00' AND ts < '2024-01-15 00:00+00',
                      ts >= '2024-01-15 00:00+00' AND ts < '2024-01-22 00:00+00',
                      ts >= '2024-01-22 00:00+00' AND ts < '2024-01-29 00:00+00') AS weekly
FROM app_events
GROUP BY uid
ORDER BY uid;
-- Against the written-out conditions on random data with tied times and NULL times: weeks in
-- Berlin (DST changes inside the range), months in the session's zone (the form without a zone).
SELECT setseed(0.3);
CREATE TABLE range_random AS
SELECT (random() * 150)::int AS uid,
       CASE WHEN random() < 0.03 THEN NULL
            ELSE timestamptz '2024-01-01' + (random() * 150)::int * interval '1 day' + (random() * 3)::int * interval '8 hours'
       END AS ts
FROM generate_series(1, 5000);
CREATE FUNCTION pg_temp.in_period(ts timestamptz, unit text, k int, zone text, start timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT date_trunc(unit, ts AT TIME ZONE zone)
           = date_trunc(unit, start AT TIME ZONE zone) + k * CASE unit WHEN 'week' THEN interval '7 days' ELSE interval '1 month' END
$$;
CREATE TEMP TABLE range_serial AS
SELECT uid, retention(ts, 'week', '2024-01-10 00:00+00', 6, 'Europe/Berlin') AS weeks,
       retention(ts, 'month', '2024-02-10 00:00+00', 3) AS months,
       retention(pg_temp.in_period(ts, 'week', 0, 'Europe/Berlin', '2024-01-10 00:00+00'),
                 pg_temp.in_period(ts, 'week', 1, 'Europe/Berlin', '2024-01-10 00:00+00'),
                 pg_temp.in_period(ts, 'week', 2, 'Europe/Berlin', '2024-01-10 00:00+00'),
                 pg_temp.in_period(ts, 'week', 3, 'Europe/Berlin', '2024-01-10 00:00+00'),
                 pg_temp.in_period(ts, 'week', 4, 'Europe/Berlin', '2024-01-10 00:00+00'),
                 pg_temp.in_period(ts, 'week', 5, 'Europe/Berlin', '2024-01-10 00:00+00')) AS weeks_plain,
       retention(pg_temp.in_period(ts, 'month', 0, 'UTC', '2024-02-10 00:00+00'),
                 pg_temp.in_period(ts, 'month', 1, 'UTC', '2024-02-10 00:00+00'),
                 pg_temp.in_period(ts, 'month', 2, 'UTC', '2024-02-10 00:00+00')) AS months_plain
FROM range_random
GROUP BY uid;
SELECT count(*) AS users, count(*) FILTER (WHERE weeks = weeks_plain) AS equal_weeks,
       count(*) FILTER (WHERE months = months_plain) AS equal_months,
       count(*) FILTER (WHERE weeks[1] = 1 AND weeks[6] = 1) AS retained_week_5
FROM range_serial;
-- Forced parallel plan: the same answer (partial states ORed).
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT uid, retention(ts, 'week', '2024-01-10 00:00+00', 6, 'Europe/Berlin') FROM range_random GROUP BY uid;
CREATE TEMP TABLE range_parallel AS
SELECT uid, retention(ts, 'week', '2024-01-10 00:00+00', 6, 'Europe/Berlin') AS weeks FROM range_random GROUP BY uid;
EXPLAIN (COSTS OFF)
SELECT retention(ts, 'week', '2024-01-10 00:00+00', 6, 'Europe/Berlin') FROM range_random;
SELECT retention(ts, 'week', '2024-01-10 00:00+00', 6, 'Europe/Berlin') AS all_users FROM range_random;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT retention(ts, 'week', '2024-01-10 00:00+00', 6, 'Europe/Berlin') AS all_users_serial FROM range_random;
SELECT count(*) AS users, count(*) FILTER (WHERE p.weeks = s.weeks) AS equal_parallel
FROM range_parallel p JOIN range_serial s USING (uid);
-- As a window function: user 1's running state (the row in week 3 is outside three periods).
SELECT ts, retention(ts, 'week', '2024-01-01 00:00+00', 3, 'UTC') OVER (ORDER BY ts) AS running
FROM app_events WHERE uid = 1 ORDER BY ts;
-- Empty group, only NULL times, the largest count, a bound parameter.
SELECT retention(ts, 'week', '2024-01-01 00:00+00', 3) IS NULL AS empty_is_null FROM app_events WHERE false;
SELECT retention(NULL::timestamptz, 'week', '2024-01-01 00:00+00', 3) AS null_times FROM app_events;
SELECT cardinality(retention(ts, 'day', '2024-01-01 00:00+00', 56, 'UTC')) AS periods_56,
       retention(ts, 'day', '2024-01-01 00:00+00', 56, 'UTC') @> '{1}' AS has_day_0
FROM app_events;
SET plan_cache_mode = force_generic_plan;
PREPARE weekly_retention(timestamptz, int) AS
SELECT uid, retention(ts, 'week', $1, $2, 'UTC') FROM app_events GROUP BY uid ORDER BY uid;
EXECUTE weekly_retention('2024-01-08 00:00+00', 3);
DEALLOCATE weekly_retention;
RESET plan_cache_mode;
-- Bad input.
SELECT pg_temp.report_error($$SELECT retention(ts, NULL, '2024-01-01 00:00+00', 3) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT retention(ts, 'week', NULL, 3) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT retention(ts, 'week', '2024-01-01 00:00+00', NULL) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT retention(ts, 'week', '2024-01-01 00:00+00', 0) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT retention(ts, 'week', '2024-01-01 00:00+00', 57) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT retention(ts, 'fortnight', '2024-01-01 00:00+00', 3) FROM app_events$$);
SELECT pg_temp.report_error($$SELECT retention(ts, 'week', '2024-01-01 00:00+00', 3, 'Mars/Olympus') FROM app_events$$);
SELECT pg_temp.report_error($$SELECT retention(ts, 'week', '2024-01-01 00:00+00', CASE WHEN event = 'open' THEN 2 ELSE 3 END) FROM app_events WHERE uid = 1$$);
SELECT pg_temp.report_error($$SELECT retention(ts, 'week', '2024-01-01 00:00+00', 3, 'UTC') FROM (VALUES (timestamptz 'infinity')) v(ts)$$);
SELECT pg_temp.report_error($$SELECT retention_periods_finalfn(5)$$);
SELECT pg_temp.report_error($$SELECT retention_periods_transfn(5, now(), 'week', now(), 3)$$);
-- The support functions called by hand, outside an aggregate, behave as inside one.
SELECT retention_periods_finalfn(retention_periods_transfn(NULL, '2024-01-02 00:00+00', 'week', '2024-01-01 00:00+00', 3, 'UTC'))
       AS by_hand;
SELECT pg_temp.report_error($$SELECT retention_periods_combinefn((2::bigint << 56) | 1, 3::bigint << 56)$$);

DROP TABLE visits, retention_random, app_events, period_random, active_random, active_plain, lifecycle_plain, range_random;
