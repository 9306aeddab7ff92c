-- Forced parallel plans (Partial Aggregate in workers, serialize, Finalize in the leader) give
-- exactly the serial answer.
SELECT setseed(0.25);
CREATE TABLE parallel_events AS
SELECT (random() * 5000)::int AS uid, (random() * 60)::int AS day
FROM generate_series(1, 200000);
ANALYZE parallel_events;

-- Serial answers first.
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_funnel AS
SELECT uid, window_funnel(5::bigint, day, day % 7 = 0, day % 7 = 1, day % 7 = 3) AS level,
       window_funnel(5::bigint, 'strict_order, strict_increase', day, day % 7 = 0, day % 7 = 1) AS strict,
       window_funnel_events(5::bigint, day, day % 7 = 0, day % 7 = 1, day % 7 = 3) AS chain
FROM parallel_events GROUP BY uid;
CREATE TEMP TABLE serial_by_user AS
SELECT uid, retention(day < 7, day >= 7 AND day < 14, day >= 14 AND day < 21, day >= 50) AS r
FROM parallel_events GROUP BY uid;
CREATE TEMP TABLE serial_total AS
SELECT retention(day < 7, uid = 4999 AND day = 3, day = 59, uid < 0) AS r FROM parallel_events;

-- Now force the parallel plan.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

EXPLAIN (COSTS OFF)
SELECT uid, retention(day < 7, day >= 7 AND day < 14, day >= 14 AND day < 21, day >= 50)
FROM parallel_events GROUP BY uid;
EXPLAIN (COSTS OFF)
SELECT retention(day < 7, uid = 4999 AND day = 3, day = 59, uid < 0) FROM parallel_events;

CREATE TEMP TABLE parallel_by_user AS
SELECT uid, retention(day < 7, day >= 7 AND day < 14, day >= 14 AND day < 21, day >= 50) AS r
FROM parallel_events GROUP BY uid;
SELECT count(*) AS users,
       (SELECT count(*) FROM (TABLE serial_by_user EXCEPT TABLE parallel_by_user) d) AS missing,
       (SELECT count(*) FROM (TABLE parallel_by_user EXCEPT TABLE serial_by_user) d) AS extra
FROM parallel_by_user;

-- One group merged across workers.
SELECT r, r = (SELECT r FROM serial_total) AS same_as_serial
FROM (SELECT retention(day < 7, uid = 4999 AND day = 3, day = 59, uid < 0) AS r FROM parallel_events) p;

-- window_funnel: states of events are merged across workers (sorted runs) and give the serial answer.
EXPLAIN (COSTS OFF)
SELECT uid, window_funnel(5::bigint, day, day % 7 = 0, day % 7 = 1, day % 7 = 3)
FROM parallel_events GROUP BY uid;
CREATE TEMP TABLE parallel_funnel AS
SELECT uid, window_funnel(5::bigint, day, day % 7 = 0, day % 7 = 1, day % 7 = 3) AS level,
       window_funnel(5::bigint, 'strict_order, strict_increase', day, day % 7 = 0, day % 7 = 1) AS strict,
       window_funnel_events(5::bigint, day, day % 7 = 0, day % 7 = 1, day % 7 = 3) AS chain
FROM parallel_events GROUP BY uid;
SELECT count(*) AS users,
       (SELECT count(*) FROM (TABLE serial_funnel EXCEPT TABLE parallel_funnel) d) AS missing,
       (SELECT count(*) FROM (TABLE parallel_funnel EXCEPT TABLE serial_funnel) d) AS extra
FROM parallel_funnel;
SELECT level, count(*) FROM parallel_funnel GROUP BY level ORDER BY level;
-- One group over the whole table, merged across workers.
SELECT window_funnel(0::bigint, day, uid = 17, uid = 4000, uid = 12) AS level FROM parallel_events;
SET max_parallel_workers_per_gather = 0;
SELECT window_funnel(0::bigint, day, uid = 17, uid = 4000, uid = 12) AS serial_level FROM parallel_events;
SET max_parallel_workers_per_gather = 2;
SELECT window_funnel(interval '1 day', now(), true) AS empty_parallel FROM parallel_events WHERE day > 1000;

-- session_stats: states of rows merged across workers give the serial answer.
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_sessions AS
SELECT uid, session_stats(day::bigint * 1000 + uid % 7, 3000::bigint, day % 13 = 0) AS s
FROM parallel_events GROUP BY uid;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT uid, session_stats(day::bigint * 1000 + uid % 7, 3000::bigint, day % 13 = 0) FROM parallel_events GROUP BY uid;
CREATE TEMP TABLE parallel_sessions AS
SELECT uid, session_stats(day::bigint * 1000 + uid % 7, 3000::bigint, day % 13 = 0) AS s
FROM parallel_events GROUP BY uid;
SELECT count(*) AS users,
       (SELECT count(*) FROM (SELECT uid, s::text FROM serial_sessions
                              EXCEPT SELECT uid, s::text FROM parallel_sessions) d) AS differences,
       sum((s).sessions) AS sessions
FROM parallel_sessions;

-- No rows at all in a parallel plan: NULL, as in the serial plan.
SELECT retention(day < 7) FROM parallel_events WHERE day > 1000;

-- The parallel answer is not trivially all-ones or all-zeros.
SELECT r, count(*) FROM parallel_by_user GROUP BY r ORDER BY r;

-- Funnel options (per user and the three reports): partial states share the call site's options;
-- the parallel answers equal the serial ones.
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_options AS
SELECT uid, window_funnel_events(funnel_options(window_units => 9, step_window_units => '{4,NULL}', exclude_from => '{1}',
                                                exclude_to => '{3}', exclusion_rule => 'end_chain'),
                                 day::bigint, day % 7 = 0, day % 7 = 1, day % 7 = 3, day % 7 = 2) AS chain
FROM parallel_events GROUP BY uid;
CREATE TEMP TABLE serial_option_reports AS
SELECT funnel_report(uid, funnel_options(window_units => 9, exclude_from => '{1}', exclude_to => '{3}'),
                     day::bigint, day % 7 = 0, day % 7 = 1, day % 7 = 3, day % 7 = 2)::text AS report,
       funnel_breakdown(uid, funnel_options(window_units => 9, control => 'v0'), day::bigint, 'v' || (uid % 3),
                        day % 7 = 0, day % 7 = 1, day % 7 = 3)::text AS breakdown,
       funnel_trend(uid, funnel_options(step_windows => '{4 days, 4 days}'), 'month',
                    timestamp '2024-01-01' + day * interval '1 day', day % 7 = 0, day % 7 = 1, day % 7 = 3)::text AS trend
FROM parallel_events;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT funnel_report(uid, funnel_options(window_units => 9), day::bigint, day % 7 = 0, day % 7 = 1) FROM parallel_events;
SELECT count(*) AS users,
       count(*) FILTER (WHERE p.chain = s.chain) AS equal,
       count(*) FILTER (WHERE cardinality(p.chain) = 3) AS complete
FROM (SELECT uid, window_funnel_events(funnel_options(window_units => 9, step_window_units => '{4,NULL}',
                                                      exclude_from => '{1}', exclude_to => '{3}',
                                                      exclusion_rule => 'end_chain'),
                                       day::bigint, day % 7 = 0, day % 7 = 1, day % 7 = 3, day % 7 = 2) AS chain
      FROM parallel_events GROUP BY uid) p
JOIN serial_options s USING (uid);
SELECT s.report = p.report AS same_report, s.breakdown = p.breakdown AS same_breakdown, s.trend = p.trend AS same_trend,
       length(p.breakdown) > 100 AS breakdown_not_empty
FROM serial_option_reports s, (
    SELECT funnel_report(uid, funnel_options(window_units => 9, exclude_from => '{1}', exclude_to => '{3}'),
                         day::bigint, day % 7 = 0, day % 7 = 1, day % 7 = 3, day % 7 = 2)::text AS report,
           funnel_breakdown(uid, funnel_options(window_units => 9, control => 'v0'), day::bigint, 'v' || (uid % 3),
                            day % 7 = 0, day % 7 = 1, day % 7 = 3)::text AS breakdown,
           funnel_trend(uid, funnel_options(step_windows => '{4 days, 4 days}'), 'month',
                        timestamp '2024-01-01' + day * interval '1 day', day % 7 = 0, day % 7 = 1, day % 7 = 3)::text AS trend
    FROM parallel_events) p;

RESET ALL;
DROP TABLE parallel_events;
