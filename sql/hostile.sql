-- Hostile input across families: per-user time zones under every plan shape, parameters that
-- change within a group, ±infinity and out-of-range results, rolling periods bound as text.
SET TimeZone = 'UTC';
SET DateStyle = ISO;
SELECT setseed(0.5);

-- 3000 users, half in Asia/Kolkata (UTC+05:30) and half in UTC, 200k events around midnight so
-- that the zone decides the day. Every aggregate of every family, per user, with the user's zone.
CREATE TABLE zoned AS
SELECT uid, CASE WHEN uid % 2 = 0 THEN 'Asia/Kolkata' ELSE 'UTC' END AS zone,
       timestamptz '2024-03-01 00:00:00+00' + (random() * 40)::int * interval '1 day'
           + ((random() * 600)::int - 300) * interval '1 minute' AS ts,
       (random() * 4)::int AS step, random() < 0.3 AS is_start
FROM (SELECT (random() * 2999)::int AS uid FROM generate_series(1, 200000)) g;
ANALYZE zoned;

CREATE VIEW per_user AS
SELECT uid, concat_ws(' | ',
    cohort_period(ts, 'week', true, zone) FILTER (WHERE step = 1),
    cohort_period(ts, 'day', is_start, zone) FILTER (WHERE step <> 1),
    period_retention(ts, 'week', 4, 'on', step = 0, step = 2, zone)::text,
    lifecycle(ts, 'week', '2024-03-04', 5, zone)::text,
    active_periods(ts, 'day', zone),
    session_stats(ts, interval '2 hours', step = 3, NULL, zone)::text,
    window_funnel(interval '3 days', ts, step = 0, step = 1, step = 2),
    window_funnel_events(interval '3 days', 'strict_once', ts, step = 0, step <= 1, step >= 1)::text,
    period_retention(ts, interval '5 days', 6, 'on_or_after', step = 1, step = 3)::text,
    retention(step = 0, step = 1, step = 4)::text,
    min_by(zone || step, ts), max_by(step, ts)) AS answer
FROM zoned GROUP BY uid;

-- Serial, sorted grouping: the reference.
SET max_parallel_workers_per_gather = 0;
SET enable_hashagg = off;
CREATE TABLE answer_sorted AS SELECT * FROM per_user;
-- Hash aggregation: groups interleave, so a call site sees the zone change from row to row.
SET enable_hashagg = on;
SET enable_sort = off;
CREATE TABLE answer_hashed AS SELECT * FROM per_user;
RESET enable_sort;
-- Forced parallel plan: every state is serialized by workers, deserialized and combined by the
-- leader (Finalize over Partial).
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT * FROM per_user;
CREATE TABLE answer_parallel AS SELECT * FROM per_user;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
RESET enable_hashagg;
SELECT (SELECT count(*) FROM answer_sorted) AS users,
       (SELECT count(*) FROM (TABLE answer_sorted EXCEPT TABLE answer_hashed) d) AS hashed_differ,
       (SELECT count(*) FROM (TABLE answer_sorted EXCEPT TABLE answer_parallel) d) AS parallel_differ;

-- The cohort week against plain SQL in the user's zone: date_trunc('week', first start, zone).
SELECT count(*) AS users,
       count(*) FILTER (WHERE native = date_trunc('week', first, zone)) AS equal
FROM (SELECT uid, zone, min(ts) AS first, cohort_period(ts, 'week', true, zone) AS native
      FROM zoned WHERE step = 1 GROUP BY uid, zone) s;

-- Three rows, two users, each with one zone: no false "changed within a group" in any plan.
CREATE TABLE two_users (uid int, ts timestamptz, zone text);
INSERT INTO two_users VALUES (1, '2024-01-01 20:00+00', 'Asia/Tokyo'), (2, '2024-01-01 20:00+00', 'UTC'),
                             (1, '2024-01-02 01:00+00', 'Asia/Tokyo');
SET enable_hashagg = on;
SELECT uid, cohort_period(ts, 'day', true, zone), active_periods(ts, 'day', zone)
FROM two_users GROUP BY uid ORDER BY uid;
SET enable_hashagg = off;
SELECT uid, cohort_period(ts, 'day', true, zone), active_periods(ts, 'day', zone)
FROM two_users GROUP BY uid ORDER BY uid;
RESET enable_hashagg;

-- A parameter that changes within one group is ERROR 22023 in every family.
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT pg_temp.error_of($$SELECT cohort_period(ts, 'day', true, zone) FROM two_users$$);
SELECT pg_temp.error_of($$SELECT period_retention(ts, 'week', 3, 'on', true, true, zone) FROM two_users$$);
SELECT pg_temp.error_of($$SELECT lifecycle(ts, 'week', '2024-01-01', 3, zone) FROM two_users$$);
SELECT pg_temp.error_of($$SELECT active_periods(ts, 'day', zone) FROM two_users$$);
SELECT pg_temp.error_of($$SELECT active_periods(ts, p) FROM (VALUES (now(), 'week'), (now(), 'day')) v(ts, p)$$);
SELECT pg_temp.error_of($$SELECT session_stats(ts, interval '1 hour', false, NULL, zone) FROM two_users$$);
SELECT pg_temp.error_of($$SELECT period_retention(ts, p, 3) FROM (VALUES (now(), 'week'), (now(), 'month')) v(ts, p)$$);
-- The detail and the hint travel with the error.
DO $$
DECLARE
    d text;
    h text;
BEGIN
    PERFORM active_periods(ts, 'day', zone) FROM two_users;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RAISE NOTICE 'detail: %', d;
    RAISE NOTICE 'hint: %', h;
END
$$;

-- ±infinity and results out of range: errors with their SQLSTATE, never a wrapped number.
SELECT pg_temp.error_of($$SELECT period_index('infinity', '-infinity', interval '1 day')$$);
SELECT pg_temp.error_of($$SELECT period_index(timestamptz 'infinity', now(), 'week', 'UTC')$$);
SELECT pg_temp.error_of($$SELECT period_index(timestamptz '-infinity', now(), 'day', 'Asia/Kolkata')$$);
SELECT pg_temp.error_of($$SELECT cohort_period(ts, 'day') FROM (VALUES (timestamptz 'infinity')) v(ts)$$);
SELECT pg_temp.error_of($$SELECT active_periods(ts, 'day', '+05:30') FROM (VALUES (timestamptz 'infinity')) v(ts)$$);
SELECT pg_temp.error_of($$SELECT period_retention(ts, interval '1 day', 2) FROM (VALUES (timestamptz '-infinity')) v(ts)$$);
SELECT pg_temp.error_of($$SELECT period_index(timestamptz '294276-12-31 23:00+00', '4713-01-01 00:00+00 BC', interval '1 hour')$$);
SELECT pg_temp.error_of($$SELECT session_stats(ts, 9223372036854775807::bigint)
    FROM unnest(ARRAY[-9223372036854775807, -1, 9223372036854775806]) ts$$);
SELECT pg_temp.error_of($$SELECT session_stats(ts, interval '106751991 days')
    FROM unnest(ARRAY[timestamptz '4713-01-01 00:00+00 BC', '2000-01-01', '294276-12-31 23:59+00']) ts$$);
-- Funnels and sessions order ±infinity before and after every finite time; no finite window or
-- gap reaches them.
SELECT window_funnel(interval '1 day', ts, ts < '2030-01-01', ts > '2030-01-01') AS level,
       window_funnel_events(interval '1 day', ts, ts < '2030-01-01', ts > '2030-01-01') AS chain,
       window_funnel(interval '1 day', ts, ts = '-infinity', ts = 'infinity') AS infinite_level,
       (session_stats(ts, interval '1 hour')).sessions AS sessions
FROM unnest(ARRAY['-infinity', '2024-01-01', 'infinity']::timestamptz[]) ts;
SELECT ts, session_number(ts, interval '1 hour') OVER (ORDER BY ts)
FROM unnest(ARRAY['-infinity', '2024-01-01', 'infinity']::timestamptz[]) ts;
-- A session just inside the range is fine.
SELECT (session_stats(ts, 9223372036854775807::bigint)).total_duration
FROM unnest(ARRAY[0, 9223372036854775807]) ts;

-- A rolling period bound as text (how JDBC, psycopg and node-postgres send a parameter) is an
-- interval: the same answers as the interval form.
PREPARE by_text(text) AS
SELECT period_index(timestamptz '2024-01-20', '2024-01-01', $1) AS idx,
       (SELECT period_retention(ts, $1, 3) FROM (VALUES (timestamptz '2024-01-01'), ('2024-01-09'), ('2024-01-30')) v(ts)) AS r;
EXECUTE by_text('7 days');
SELECT period_index(timestamptz '2024-01-20', '2024-01-01', interval '7 days') AS idx,
       (SELECT period_retention(ts, interval '7 days', 3) FROM (VALUES (timestamptz '2024-01-01'), ('2024-01-09'), ('2024-01-30')) v(ts)) AS r;
-- A calendar-only function names the fix in its hint.
DO $$
DECLARE
    h text;
BEGIN
    PERFORM lifecycle(now(), '7 days', now(), 3);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RAISE NOTICE '%: %', SQLSTATE, h;
END
$$;
SELECT pg_temp.error_of($$SELECT period_index(now(), now(), '1 month')$$);
SELECT pg_temp.error_of($$SELECT period_index(now(), now(), '-3 days')$$);

DROP VIEW per_user;
DROP TABLE zoned, answer_sorted, answer_hashed, answer_parallel, two_users;
