-- Sessionization window functions: session_number, session_start, conditional_true_event,
-- conditional_change_event (docs/session.md).
SET TimeZone = 'UTC';
SET DateStyle = ISO;
SET IntervalStyle = postgres;

-- The examples of docs/session.md.
CREATE TABLE hits (uid int, ts timestamptz, page text, campaign text);
INSERT INTO hits VALUES
    (1, '2024-03-01 09:00', '/home', 'mail'), (1, '2024-03-01 09:10', '/pricing', 'mail'),
    (1, '2024-03-01 09:40', '/signup', 'mail'), (1, '2024-03-01 10:20', '/home', 'mail'),
    (1, '2024-03-01 10:25', '/docs', 'ads'),
    (2, '2024-03-01 23:50', '/home', NULL), (2, '2024-03-02 00:05', '/docs', NULL),
    (2, '2024-03-02 00:05', '/pricing', NULL);

SELECT uid, ts, page,
       session_number(ts, interval '30 minutes') OVER w AS session,
       session_start(ts, interval '30 minutes') OVER w AS session_start
FROM hits
WINDOW w AS (PARTITION BY uid ORDER BY ts, page)
ORDER BY uid, ts, page;

SELECT uid, ts, campaign,
       session_number(ts, interval '30 minutes', boundary => new_campaign) OVER w AS by_campaign,
       session_number(ts, interval '1 hour', max_length => interval '1 hour') OVER w AS capped,
       session_number(ts, interval '30 minutes', midnight_in => 'UTC') OVER w AS split_at_midnight
FROM (
    SELECT *, campaign IS DISTINCT FROM lag(campaign) OVER (PARTITION BY uid ORDER BY ts, page) AS new_campaign
    FROM hits
) h
WINDOW w AS (PARTITION BY uid ORDER BY ts, page)
ORDER BY uid, ts, page;

SELECT DISTINCT uid, session_start,
       first_value(page) OVER s AS entry_page,
       last_value(page) OVER s AS exit_page,
       count(*) OVER s AS hits
FROM (
    SELECT *, session_start(ts, interval '30 minutes') OVER (PARTITION BY uid ORDER BY ts, page) AS session_start
    FROM hits
) h
WINDOW s AS (PARTITION BY uid, session_start ORDER BY ts, page ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
ORDER BY uid, session_start;

SELECT uid, count(DISTINCT session_start) AS sessions,
       avg(duration) AS mean_duration,
       count(*) FILTER (WHERE hits = 1) AS bounces
FROM (
    SELECT uid, session_start, max(ts) - session_start AS duration, count(*) AS hits
    FROM (
        SELECT *, session_start(ts, interval '30 minutes') OVER (PARTITION BY uid ORDER BY ts) AS session_start
        FROM hits
    ) h
    GROUP BY uid, session_start
) s
GROUP BY uid
ORDER BY uid;

SELECT x, conditional_true_event(x > 3) OVER (ORDER BY x) AS true_event,
       conditional_change_event(x / 2) OVER (ORDER BY x) AS change_event
FROM generate_series(1, 6) x;

SELECT i, v,
       conditional_true_event(v = 'b') OVER (ORDER BY i) AS true_event,
       conditional_change_event(v) OVER (ORDER BY i) AS change_event
FROM (VALUES (1, 'a'), (2, 'a'), (3, 'b'), (4, NULL), (5, 'b'), (6, 'c'), (7, 'c')) t(i, v);

-- session_stats: the same rules as an aggregate, in one pass, no window.
SELECT uid, (session_stats(ts, interval '30 minutes')).*
FROM hits
GROUP BY uid
ORDER BY uid;

SELECT uid, (s).sessions, (s).bounces, (s).longest_duration
FROM (
    SELECT uid, session_stats(ts, interval '30 minutes', page = '/docs', interval '1 hour', 'UTC') AS s
    FROM hits
    GROUP BY uid
) per_user
ORDER BY uid;

-- Gap: strictly greater splits, equal continues; the first row starts session 1.
SELECT ts, session_number(ts, 10::bigint) OVER (ORDER BY ts)
FROM (VALUES (0::bigint), (10), (21), (21), (31), (42)) t(ts);

-- A zero gap: every distinct timestamp is its own session; equal timestamps share one.
SELECT ts, session_number(ts, 0::bigint) OVER (ORDER BY ts) FROM (VALUES (1::bigint), (1), (2)) t(ts);

-- NULL timestamps: NULL result, and the rows after them are unaffected.
SELECT i, ts, session_number(ts, 10::bigint) OVER (ORDER BY i) AS session,
       session_start(ts, 10::bigint) OVER (ORDER BY i) AS start
FROM (VALUES (1, 0::bigint), (2, NULL), (3, 5), (4, NULL), (5, 30)) t(i, ts);

-- NULL boundary is false; NULL max_length and midnight_in mean no such rule.
SELECT ts, session_number(ts, 10::bigint, NULL, NULL) OVER (ORDER BY ts) FROM (VALUES (0::bigint), (5)) t(ts);

-- Partitions are independent.
SELECT uid, ts, session_number(ts, 10::bigint) OVER (PARTITION BY uid ORDER BY ts)
FROM (VALUES (1, 0::bigint), (2, 100), (1, 5), (2, 200), (1, 50)) t(uid, ts)
ORDER BY uid, ts;

-- The midnight split follows the zone's calendar, across daylight saving changes. New York
-- springs forward on 2024-03-10 and falls back on 2024-11-03; Berlin is six hours ahead.
SELECT ts AT TIME ZONE 'America/New_York' AS new_york_time,
       session_number(ts, interval '3 hours', midnight_in => 'America/New_York') OVER w AS new_york,
       session_number(ts, interval '3 hours', midnight_in => 'Europe/Berlin') OVER w AS berlin
FROM (VALUES ('2024-03-09 23:30 America/New_York'::timestamptz), ('2024-03-10 00:30 America/New_York'),
             ('2024-03-10 03:10 America/New_York'), ('2024-11-03 00:30 America/New_York'),
             ('2024-11-03 01:30 EDT'), ('2024-11-03 01:10 EST'), ('2024-11-03 23:59 America/New_York'),
             ('2024-11-04 00:01 America/New_York')) t(ts)
WINDOW w AS (ORDER BY ts)
ORDER BY ts;

-- timestamp without time zone: split_at_midnight uses the calendar date.
SELECT ts, session_number(ts, interval '1 hour', split_at_midnight => true) OVER (ORDER BY ts) AS session,
       session_start(ts, interval '1 hour', split_at_midnight => true) OVER (ORDER BY ts) AS start
FROM (VALUES ('2024-01-01 23:30'::timestamp), ('2024-01-02 00:10'), ('2024-01-02 00:50')) t(ts);

-- Used inside a subquery grouped by user: sessions per user.
SELECT uid, max(s) AS sessions
FROM (SELECT uid, session_number(ts, interval '30 minutes') OVER (PARTITION BY uid ORDER BY ts) s FROM hits) h
GROUP BY uid ORDER BY uid;

-- Against LAG + running SUM on random data (the plain-SQL formulation).
SELECT setseed(0.3);
CREATE TABLE session_random AS
SELECT (random() * 50)::int AS uid, (random() * 100000)::bigint AS ts FROM generate_series(1, 5000);
SELECT count(*) AS rows, count(*) FILTER (WHERE native = plain) AS equal, max(native) AS most_sessions
FROM (
    SELECT session_number(ts, 300::bigint) OVER (PARTITION BY uid ORDER BY ts) AS native,
           1 + sum(CASE WHEN ts - prev > 300 THEN 1 ELSE 0 END) OVER (PARTITION BY uid ORDER BY ts
                                                                         ROWS UNBOUNDED PRECEDING) AS plain
    FROM (SELECT uid, ts, lag(ts) OVER (PARTITION BY uid ORDER BY ts) AS prev FROM session_random) l
) s;

-- session_stats against the window functions on the same random data.
SELECT count(*) AS users,
       count(*) FILTER (WHERE (a.s).sessions = b.sessions AND (a.s).bounces = b.bounces
                        AND (a.s).total_duration = b.total AND (a.s).longest_duration = b.longest) AS equal
FROM (SELECT uid, session_stats(ts, 300::bigint) AS s FROM session_random GROUP BY uid) a
JOIN (
    SELECT uid, count(*) AS sessions, count(*) FILTER (WHERE n = 1) AS bounces, sum(d) AS total, max(d) AS longest
    FROM (
        SELECT uid, start, max(ts) - start AS d, count(*) AS n
        FROM (SELECT uid, ts, session_start(ts, 300::bigint) OVER (PARTITION BY uid ORDER BY ts) AS start
              FROM session_random) w
        GROUP BY uid, start
    ) per_session
    GROUP BY uid
) b USING (uid);

-- Input order does not matter; equal timestamps with a boundary: the boundary row starts the
-- session the others join.
SELECT (session_stats(ts, 10::bigint, b)).sessions AS sessions,
       (session_stats(ts, 10::bigint, b ORDER BY ts DESC)).sessions AS reversed
FROM (VALUES (1::bigint, false), (5, false), (5, true), (7, false)) t(ts, b);

-- With a gap only, session_stats keeps sessions rather than rows; rows out of time order wait
-- and are folded in. Every order gives what the form that keeps rows (a boundary argument) gives.
SELECT setseed(0.7);
CREATE TABLE session_orders AS
SELECT g % 5 AS uid, (random() * 400000)::bigint AS ts FROM generate_series(1, 15000) g;
SELECT uid, rows, (k).sessions, k = ordered AND k = reversed AND k = shuffled AS same_in_every_order
FROM (
    SELECT uid, count(*) AS rows, session_stats(ts, 300::bigint, false) AS k,
           session_stats(ts, 300::bigint ORDER BY ts) AS ordered,
           session_stats(ts, 300::bigint ORDER BY ts DESC) AS reversed,
           session_stats(ts, 300::bigint ORDER BY md5(ts::text)) AS shuffled
    FROM session_orders GROUP BY uid
) s
ORDER BY uid;

-- NULL timestamps are skipped; an empty group has no sessions.
SELECT (session_stats(ts, 10::bigint)).* FROM (VALUES (1::bigint), (NULL), (3)) t(ts);
SELECT (session_stats(ts, interval '1 hour')).* FROM hits WHERE false;

-- As a window aggregate: statistics of the sessions so far.
SELECT uid, ts, (session_stats(ts, interval '30 minutes') OVER (PARTITION BY uid ORDER BY ts)).sessions AS so_far
FROM hits WHERE uid = 1 ORDER BY ts;

-- session_report: the session KPIs of every user in one statement (docs/session.md).
SELECT (session_report(uid, ts, interval '30 minutes')).* FROM hits;

-- Against session_stats per user folded in SQL (and the lengths from the window functions), on the
-- random data with NULL ids; serial and forced parallel; integer and text ids.
CREATE TABLE session_lengths AS
SELECT uid, sn, max(ts) - min(ts) AS length
FROM (SELECT uid, ts, session_number(ts, 300::bigint) OVER (PARTITION BY uid ORDER BY ts) AS sn FROM session_random) s
GROUP BY uid, sn;
CREATE TABLE session_plain AS
SELECT count(*) AS users, sum((s).sessions)::bigint AS sessions, sum((s).sessions)::float8 / count(*) AS sessions_per_user,
       sum((s).bounces)::float8 / sum((s).sessions) AS bounce_rate,
       sum((s).total_duration)::bigint / sum((s).sessions)::bigint AS mean_length,
       (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY length) FROM session_lengths) AS median_length,
       (SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY length) FROM session_lengths) AS p90_length,
       count(*) FILTER (WHERE (s).sessions = 1) AS one, count(*) FILTER (WHERE (s).sessions = 2) AS two,
       count(*) FILTER (WHERE (s).sessions BETWEEN 3 AND 5) AS few, count(*) FILTER (WHERE (s).sessions BETWEEN 6 AND 10) AS some,
       count(*) FILTER (WHERE (s).sessions > 10) AS many
FROM (SELECT uid, session_stats(ts, 300::bigint) AS s FROM session_random GROUP BY uid) u;
INSERT INTO session_random VALUES (NULL, 5), (NULL, 99999);
SET max_parallel_workers_per_gather = 0;
SELECT (session_report(uid, ts, 300::bigint)).* FROM session_random;
SELECT (SELECT session_report(uid, ts, 300::bigint) FROM session_random)::text = (SELECT p::text FROM session_plain p) AS serial_equal,
       (SELECT session_report('u' || uid, ts, 300::bigint) FROM session_random)::text = (SELECT p::text FROM session_plain p) AS text_ids_equal;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT session_report(uid, ts, 300::bigint) FROM session_random;
SELECT (SELECT session_report(uid, ts, 300::bigint) FROM session_random)::text = (SELECT p::text FROM session_plain p) AS parallel_equal;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
-- No rows: zero users, NULL rates and lengths. Bad input: session_stats' errors.
SELECT (session_report(uid, ts, interval '30 minutes')).* FROM hits WHERE false;
CREATE FUNCTION pg_temp.report_error(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT pg_temp.report_error($$SELECT session_report(uid, ts, NULL::interval) FROM hits$$);
SELECT pg_temp.report_error($$SELECT session_report(uid, ts, interval '-1 minute') FROM hits$$);
SELECT pg_temp.report_error($$SELECT session_report(uid, ts, interval '1 month') FROM hits$$);
SELECT pg_temp.report_error($$SELECT session_report(uid, ts, interval '30 minutes', false, NULL, 'Mars/Olympus') FROM hits$$);
SELECT pg_temp.report_error($$SELECT session_report(uid, ts, make_interval(mins => uid)) FROM hits$$);

DROP TABLE hits, session_random, session_orders, session_lengths, session_plain;
