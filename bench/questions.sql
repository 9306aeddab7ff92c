-- Benchmark questions over events(user_id, ts, event, device, country, variant), read by bench_driver.
-- Each question: the native function first, then the best plain-SQL formulations we could write.
-- Every variant of a question must return the same rows (the driver checks).

-- @floor
SELECT count(*), sum(n) FROM (SELECT user_id, count(*) AS n FROM events GROUP BY user_id) s;

-- @question retention_weekly | Weekly retention, 9 weeks (retention)
-- Users active in the first full week (from Monday 2026-06-01), and in each of the 8 following
-- weeks; conditions on fixed dates, one GROUP BY user_id, as ClickHouse users write it.
-- @variant native retention()
SELECT count(*), sum(r[1]), sum(r[2]), sum(r[3]), sum(r[4]), sum(r[5]), sum(r[6]), sum(r[7]), sum(r[8]), sum(r[9])
FROM (
    SELECT user_id, retention(
        ts >= '2026-06-01 00:00+00' AND ts < '2026-06-08 00:00+00',
        ts >= '2026-06-08 00:00+00' AND ts < '2026-06-15 00:00+00',
        ts >= '2026-06-15 00:00+00' AND ts < '2026-06-22 00:00+00',
        ts >= '2026-06-22 00:00+00' AND ts < '2026-06-29 00:00+00',
        ts >= '2026-06-29 00:00+00' AND ts < '2026-07-06 00:00+00',
        ts >= '2026-07-06 00:00+00' AND ts < '2026-07-13 00:00+00',
        ts >= '2026-07-13 00:00+00' AND ts < '2026-07-20 00:00+00',
        ts >= '2026-07-20 00:00+00' AND ts < '2026-07-27 00:00+00',
        ts >= '2026-07-27 00:00+00' AND ts < '2026-08-03 00:00+00') AS r
    FROM events
    GROUP BY user_id
) s;
-- @variant native period_retention() (period form: week 0 as the start, weeks from it)
SELECT count(*), sum(r[1]), sum(r[2]), sum(r[3]), sum(r[4]), sum(r[5]), sum(r[6]), sum(r[7]), sum(r[8]), sum(r[9])
FROM (
    SELECT user_id, period_retention(ts, 'week', 8, 'on',
                                     ts >= '2026-06-01 00:00+00' AND ts < '2026-06-08 00:00+00', true, 'UTC') AS r
    FROM events
    GROUP BY user_id
) s;
-- @variant native retention() over calendar periods (the weeks computed inside)
SELECT count(*), sum(r[1]), sum(r[2]), sum(r[3]), sum(r[4]), sum(r[5]), sum(r[6]), sum(r[7]), sum(r[8]), sum(r[9])
FROM (SELECT user_id, retention(ts, 'week', '2026-06-01 00:00+00', 9, 'UTC') AS r FROM events GROUP BY user_id) s;
-- @variant plain bool_or per week
SELECT count(*), sum(w0::int), sum((w0 AND w1)::int), sum((w0 AND w2)::int), sum((w0 AND w3)::int),
       sum((w0 AND w4)::int), sum((w0 AND w5)::int), sum((w0 AND w6)::int), sum((w0 AND w7)::int),
       sum((w0 AND w8)::int)
FROM (
    SELECT user_id,
        bool_or(ts >= '2026-06-01 00:00+00' AND ts < '2026-06-08 00:00+00') AS w0,
        bool_or(ts >= '2026-06-08 00:00+00' AND ts < '2026-06-15 00:00+00') AS w1,
        bool_or(ts >= '2026-06-15 00:00+00' AND ts < '2026-06-22 00:00+00') AS w2,
        bool_or(ts >= '2026-06-22 00:00+00' AND ts < '2026-06-29 00:00+00') AS w3,
        bool_or(ts >= '2026-06-29 00:00+00' AND ts < '2026-07-06 00:00+00') AS w4,
        bool_or(ts >= '2026-07-06 00:00+00' AND ts < '2026-07-13 00:00+00') AS w5,
        bool_or(ts >= '2026-07-13 00:00+00' AND ts < '2026-07-20 00:00+00') AS w6,
        bool_or(ts >= '2026-07-20 00:00+00' AND ts < '2026-07-27 00:00+00') AS w7,
        bool_or(ts >= '2026-07-27 00:00+00' AND ts < '2026-08-03 00:00+00') AS w8
    FROM events
    GROUP BY user_id
) s;
-- @variant plain bit_or of a week bit
SELECT count(*),
       sum(m & 1), sum((m & 3 = 3)::int), sum((m & 5 = 5)::int), sum((m & 9 = 9)::int),
       sum((m & 17 = 17)::int), sum((m & 33 = 33)::int), sum((m & 65 = 65)::int), sum((m & 129 = 129)::int),
       sum((m & 257 = 257)::int)
FROM (
    SELECT user_id,
        bit_or(CASE WHEN ts >= '2026-06-01 00:00+00' AND ts < '2026-08-03 00:00+00'
                    THEN 1 << floor(date_part('epoch', ts - '2026-06-01 00:00+00') / 604800)::int
                    ELSE 0 END) AS m
    FROM events
    GROUP BY user_id
) s;

-- @question retention_overhead | The aggregate alone: retention over 9 constant conditions
-- What the aggregate itself costs over the floor, without the price of evaluating conditions
-- (a diagnostic: the floor plus the transition calls; there is no plain-SQL counterpart to race).
-- @variant native retention()
SELECT count(*), sum(r[1]), sum(r[9])
FROM (SELECT user_id, retention(true, true, true, true, true, true, true, true, true) AS r FROM events GROUP BY user_id) s;

-- @question funnel_4 | Funnel, 4 steps, 7-day window (window_funnel)
-- page_view -> signup -> activate -> purchase; users reaching each step.
-- @variant native window_funnel()
SELECT count(*) FILTER (WHERE level >= 1), count(*) FILTER (WHERE level >= 2),
       count(*) FILTER (WHERE level >= 3), count(*) FILTER (WHERE level >= 4)
FROM (
    SELECT user_id, window_funnel(interval '7 days', ts, event = 'page_view', event = 'signup',
                                  event = 'activate', event = 'purchase') AS level
    FROM events
    GROUP BY user_id
) s;
-- @variant native window_funnel() event names
SELECT count(*) FILTER (WHERE level >= 1), count(*) FILTER (WHERE level >= 2),
       count(*) FILTER (WHERE level >= 3), count(*) FILTER (WHERE level >= 4)
FROM (
    SELECT user_id, window_funnel(interval '7 days', ts, event, ARRAY['page_view', 'signup', 'activate', 'purchase']) AS level
    FROM events
    GROUP BY user_id
) s;
-- @variant plain running max per step (window functions)
-- Over the matched rows in (ts, step) order, l_k is the latest start of a chain that reached
-- step k so far; a step-k row extends it when within the window. One sort, four window passes.
SELECT count(*) FILTER (WHERE level >= 1), count(*) FILTER (WHERE level >= 2),
       count(*) FILTER (WHERE level >= 3), count(*) FILTER (WHERE level >= 4)
FROM (
    SELECT user_id, max(CASE WHEN s4 IS NOT NULL THEN 4 WHEN s3 IS NOT NULL THEN 3
                             WHEN s2 IS NOT NULL THEN 2 WHEN step = 1 THEN 1 ELSE 0 END) AS level
    FROM (
        SELECT *, CASE WHEN step = 4 AND ts <= l3 + interval '7 days' THEN l3 END AS s4
        FROM (
            SELECT *, max(s3) OVER (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING) AS l3
            FROM (
                SELECT *, CASE WHEN step = 3 AND ts <= l2 + interval '7 days' THEN l2 END AS s3
                FROM (
                    SELECT *, max(s2) OVER (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING) AS l2
                    FROM (
                        SELECT *, CASE WHEN step = 2 AND ts <= l1 + interval '7 days' THEN l1 END AS s2
                        FROM (
                            SELECT user_id, ts, step,
                                   max(ts) FILTER (WHERE step = 1)
                                       OVER (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING) AS l1
                            FROM (
                                SELECT user_id, ts,
                                       CASE event WHEN 'page_view' THEN 1 WHEN 'signup' THEN 2
                                                  WHEN 'activate' THEN 3 ELSE 4 END AS step
                                FROM events
                                WHERE event IN ('page_view', 'signup', 'activate', 'purchase')
                            ) m
                        ) a
                    ) b
                ) c
            ) d
        ) e
    ) f
    GROUP BY user_id
) s;

-- @question funnel_4_options | Funnel, 4 steps, 7-day window, funnel options (window_funnel)
-- funnel_4 in the options form: one row fills one step, so it equals the ClickHouse form with
-- strict_once. The baseline of funnel_4_exclusion.
-- @variant native window_funnel(funnel_options) event names
SELECT count(*) FILTER (WHERE level >= 1), count(*) FILTER (WHERE level >= 2),
       count(*) FILTER (WHERE level >= 3), count(*) FILTER (WHERE level >= 4)
FROM (
    SELECT user_id, window_funnel(funnel_options("window" => interval '7 days'), ts, event,
                                  ARRAY['page_view', 'signup', 'activate', 'purchase']) AS level
    FROM events
    GROUP BY user_id
) s;
-- @variant native window_funnel() strict_once event names
SELECT count(*) FILTER (WHERE level >= 1), count(*) FILTER (WHERE level >= 2),
       count(*) FILTER (WHERE level >= 3), count(*) FILTER (WHERE level >= 4)
FROM (
    SELECT user_id, window_funnel(interval '7 days', 'strict_once', ts, event,
                                  ARRAY['page_view', 'signup', 'activate', 'purchase']) AS level
    FROM events
    GROUP BY user_id
) s;

-- @question funnel_4_exclusion | Funnel, 4 steps, per-step windows and one exclusion (window_funnel)
-- funnel_4_options with each step within 1 day / 3 days / 7 days of the previous and users who
-- added to cart between signup and activate excluded. Compare with funnel_4_options (the target:
-- at most 1.2 times its cost).
-- @variant native window_funnel(funnel_options) event names
SELECT count(*) FILTER (WHERE level >= 1), count(*) FILTER (WHERE level >= 2),
       count(*) FILTER (WHERE level >= 3), count(*) FILTER (WHERE level >= 4),
       count(*) FILTER (WHERE level = -1)
FROM (
    SELECT user_id, window_funnel(funnel_options("window" => interval '7 days',
                                                 step_windows => '{1 day, 3 days, 7 days}',
                                                 exclude => '{add_to_cart}', exclude_from => '{2}', exclude_to => '{3}'),
                                  ts, event, ARRAY['page_view', 'signup', 'activate', 'purchase']) AS level
    FROM events
    GROUP BY user_id
) s;

-- @question funnel_4_exclusion_frequent | The same with a frequent exclusion event (search, a quarter of all rows)
-- @variant native window_funnel(funnel_options) event names
SELECT count(*) FILTER (WHERE level >= 1), count(*) FILTER (WHERE level >= 2),
       count(*) FILTER (WHERE level >= 3), count(*) FILTER (WHERE level >= 4),
       count(*) FILTER (WHERE level = -1)
FROM (
    SELECT user_id, window_funnel(funnel_options("window" => interval '7 days',
                                                 step_windows => '{1 day, 3 days, 7 days}',
                                                 exclude => '{search}', exclude_from => '{2}', exclude_to => '{3}'),
                                  ts, event, ARRAY['page_view', 'signup', 'activate', 'purchase']) AS level
    FROM events
    GROUP BY user_id
) s;

-- @question report_funnel_4_options | Funnel report with funnel options, 4 steps (funnel_report)
-- @variant native funnel_report(funnel_options) event names
SELECT r.step, r.users
FROM unnest((SELECT funnel_report(user_id, funnel_options("window" => interval '7 days'), ts, event,
                                  ARRAY['page_view', 'signup', 'activate', 'purchase']) FROM events)) r
ORDER BY r.step;

-- @question report_funnel_4_exclusion | Funnel report, per-step windows and one exclusion (funnel_report)
-- Compare with report_funnel_4_options (the target: at most 1.2 times its cost).
-- @variant native funnel_report(funnel_options) event names
SELECT r.step, r.users
FROM unnest((SELECT funnel_report(user_id, funnel_options("window" => interval '7 days',
                                                          step_windows => '{1 day, 3 days, 7 days}',
                                                          exclude => '{add_to_cart}', exclude_from => '{2}',
                                                          exclude_to => '{3}'),
                                  ts, event, ARRAY['page_view', 'signup', 'activate', 'purchase']) FROM events)) r
ORDER BY r.step;
-- @variant native window_funnel(funnel_options) per user + outer query
SELECT k, count(*) FILTER (WHERE level >= k)
FROM (
    SELECT user_id, window_funnel(funnel_options("window" => interval '7 days',
                                                 step_windows => '{1 day, 3 days, 7 days}',
                                                 exclude => '{add_to_cart}', exclude_from => '{2}', exclude_to => '{3}'),
                                  ts, event, ARRAY['page_view', 'signup', 'activate', 'purchase']) AS level
    FROM events
    GROUP BY user_id
) s, generate_series(1, 4) k
GROUP BY k ORDER BY k;

-- @question report_funnel_4_variant | Funnel by experiment variant against control, with significance
-- signup -> add_to_cart -> purchase, 7 days: per variant and step the users, and the p-value of the
-- conversion from signup against control's. funnel_breakdown computes it in the aggregate; the
-- other form is funnel_report per variant and conversion_significance in SQL.
-- @variant native funnel_breakdown(control)
SELECT breakdown, step, users, round(p_value::numeric, 9)
FROM unnest((SELECT funnel_breakdown(user_id, funnel_options("window" => interval '7 days', control => 'control'),
                                     ts, variant, event, ARRAY['signup', 'add_to_cart', 'purchase'])
             FROM events))
ORDER BY 1, 2;
-- @variant native funnel_report() GROUP BY variant + conversion_significance()
WITH r AS (
    SELECT variant, (unnest(funnel_report(user_id, funnel_options("window" => interval '7 days'), ts, event,
                                          ARRAY['signup', 'add_to_cart', 'purchase']))).*
    FROM events GROUP BY variant
)
SELECT v.variant, v.step, v.users,
       CASE WHEN v.variant <> 'control'
            THEN round((conversion_significance(c1.users, c.users, v1.users, v.users)).p_value::numeric, 9) END
FROM r v
JOIN r v1 ON v1.variant = v.variant AND v1.step = 1
JOIN r c ON c.variant = 'control' AND c.step = v.step
JOIN r c1 ON c1.variant = 'control' AND c1.step = 1
ORDER BY 1, 2;

-- @question report_funnel_4 | Funnel report, 4 steps, 7-day window, one statement (funnel_report)
-- The same funnel as funnel_4 as a report: users reaching at least each step, one row per step.
-- @variant native funnel_report()
SELECT r.step, r.users
FROM unnest((SELECT funnel_report(user_id, interval '7 days', ts, event = 'page_view', event = 'signup',
                                  event = 'activate', event = 'purchase') FROM events)) r
ORDER BY r.step;
-- @variant native funnel_report() event names
SELECT r.step, r.users
FROM unnest((SELECT funnel_report(user_id, interval '7 days', ts, event,
                                  ARRAY['page_view', 'signup', 'activate', 'purchase']) FROM events)) r
ORDER BY r.step;
-- @variant native window_funnel() per user + outer query
SELECT k, count(*) FILTER (WHERE level >= k)
FROM (
    SELECT user_id, window_funnel(interval '7 days', ts, event = 'page_view', event = 'signup',
                                  event = 'activate', event = 'purchase') AS level
    FROM events
    GROUP BY user_id
) s, generate_series(1, 4) k
GROUP BY k ORDER BY k;
-- @variant plain running max per step (window functions)
SELECT k, count(*) FILTER (WHERE level >= k)
FROM (
    SELECT user_id, max(CASE WHEN s4 IS NOT NULL THEN 4 WHEN s3 IS NOT NULL THEN 3
                             WHEN s2 IS NOT NULL THEN 2 WHEN step = 1 THEN 1 ELSE 0 END) AS level
    FROM (
        SELECT *, CASE WHEN step = 4 AND ts <= l3 + interval '7 days' THEN l3 END AS s4
        FROM (
            SELECT *, max(s3) OVER (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING) AS l3
            FROM (
                SELECT *, CASE WHEN step = 3 AND ts <= l2 + interval '7 days' THEN l2 END AS s3
                FROM (
                    SELECT *, max(s2) OVER (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING) AS l2
                    FROM (
                        SELECT *, CASE WHEN step = 2 AND ts <= l1 + interval '7 days' THEN l1 END AS s2
                        FROM (
                            SELECT user_id, ts, step,
                                   max(ts) FILTER (WHERE step = 1)
                                       OVER (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING) AS l1
                            FROM (
                                SELECT user_id, ts,
                                       CASE event WHEN 'page_view' THEN 1 WHEN 'signup' THEN 2
                                                  WHEN 'activate' THEN 3 ELSE 4 END AS step
                                FROM events
                                WHERE event IN ('page_view', 'signup', 'activate', 'purchase')
                            ) m
                        ) a
                    ) b
                ) c
            ) d
        ) e
    ) f
    GROUP BY user_id
) s, generate_series(1, 4) k
GROUP BY k ORDER BY k;

-- @question report_funnel_4_country | Funnel report by country (about 10 groups)
-- @variant native funnel_report() GROUP BY country
SELECT country, (unnest(funnel_report(user_id, interval '7 days', ts, event = 'page_view', event = 'signup',
                                      event = 'activate', event = 'purchase'))).users
FROM events GROUP BY country ORDER BY 1, 2;
-- @variant native funnel_report() event names GROUP BY country
SELECT country, (unnest(funnel_report(user_id, interval '7 days', ts, event,
                                      ARRAY['page_view', 'signup', 'activate', 'purchase']))).users
FROM events GROUP BY country ORDER BY 1, 2;
-- @variant native window_funnel() per user and country + outer query
SELECT country, count(*) FILTER (WHERE level >= k)
FROM (
    SELECT country, user_id, window_funnel(interval '7 days', ts, event = 'page_view', event = 'signup',
                                           event = 'activate', event = 'purchase') AS level
    FROM events
    GROUP BY country, user_id
) s, generate_series(1, 4) k
GROUP BY country, k ORDER BY 1, 2;

-- @question funnel_4_events | Funnel, 4 steps, with step timestamps (window_funnel_events)
-- The same funnel and the median time from step 1 to step 4 of the users who completed it.
-- @variant native window_funnel_events()
SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', steps[4] - steps[1]))
FROM (
    SELECT user_id, window_funnel_events(interval '7 days', ts, event = 'page_view', event = 'signup',
                                         event = 'activate', event = 'purchase') AS steps
    FROM events
    GROUP BY user_id
) s
WHERE cardinality(steps) = 4;

-- @question funnel_8 | Funnel, 8 steps, 7-day window (window_funnel)
-- page_view -> search -> signup -> activate -> search -> add_to_cart -> page_view -> purchase.
-- @variant native window_funnel()
SELECT count(*) FILTER (WHERE level >= 4), count(*) FILTER (WHERE level >= 8), sum(level)
FROM (
    SELECT user_id, window_funnel(interval '7 days', ts, event = 'page_view', event = 'search', event = 'signup',
                                  event = 'activate', event = 'search', event = 'add_to_cart',
                                  event = 'page_view', event = 'purchase') AS level
    FROM events
    GROUP BY user_id
) s;
-- @variant native window_funnel() event names
SELECT count(*) FILTER (WHERE level >= 4), count(*) FILTER (WHERE level >= 8), sum(level)
FROM (
    SELECT user_id, window_funnel(interval '7 days', ts, event,
                                  ARRAY['page_view', 'search', 'signup', 'activate', 'search', 'add_to_cart',
                                        'page_view', 'purchase']) AS level
    FROM events
    GROUP BY user_id
) s;

-- @variant plain running max per step (window functions, one pass per step)
-- A row matching two steps (page_view: 1 and 7, search: 2 and 5) is one row per step, ordered by
-- (ts, step) as in the 4-step formulation; users without a matching row are level 0 (not counted).
SELECT count(*) FILTER (WHERE level >= 4), count(*) FILTER (WHERE level >= 8), sum(level)
FROM (
    SELECT user_id, max(CASE WHEN l8 IS NOT NULL THEN 8 WHEN l7 IS NOT NULL THEN 7 WHEN l6 IS NOT NULL THEN 6 WHEN l5 IS NOT NULL THEN 5 WHEN l4 IS NOT NULL THEN 4 WHEN l3 IS NOT NULL THEN 3 WHEN l2 IS NOT NULL THEN 2 WHEN l1 IS NOT NULL THEN 1 ELSE 0 END) AS level
    FROM (SELECT *, max(CASE WHEN step = 8 AND ts <= l7 + interval '7 days' THEN l7 END) OVER w AS l8
FROM (SELECT *, max(CASE WHEN step = 7 AND ts <= l6 + interval '7 days' THEN l6 END) OVER w AS l7
FROM (SELECT *, max(CASE WHEN step = 6 AND ts <= l5 + interval '7 days' THEN l5 END) OVER w AS l6
FROM (SELECT *, max(CASE WHEN step = 5 AND ts <= l4 + interval '7 days' THEN l4 END) OVER w AS l5
FROM (SELECT *, max(CASE WHEN step = 4 AND ts <= l3 + interval '7 days' THEN l3 END) OVER w AS l4
FROM (SELECT *, max(CASE WHEN step = 3 AND ts <= l2 + interval '7 days' THEN l2 END) OVER w AS l3
FROM (SELECT *, max(CASE WHEN step = 2 AND ts <= l1 + interval '7 days' THEN l1 END) OVER w AS l2
FROM (SELECT *, max(ts) FILTER (WHERE step = 1) OVER w AS l1 FROM (SELECT e.user_id, e.ts, k AS step
                FROM events e
                CROSS JOIN LATERAL unnest(CASE e.event WHEN 'page_view' THEN ARRAY[1, 7] WHEN 'search' THEN ARRAY[2, 5]
                                                       WHEN 'signup' THEN ARRAY[3] WHEN 'activate' THEN ARRAY[4]
                                                       WHEN 'add_to_cart' THEN ARRAY[6] WHEN 'purchase' THEN ARRAY[8] END) k) m WINDOW w AS (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING)) x2 WINDOW w AS (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING)) x3 WINDOW w AS (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING)) x4 WINDOW w AS (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING)) x5 WINDOW w AS (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING)) x6 WINDOW w AS (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING)) x7 WINDOW w AS (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING)) x8 WINDOW w AS (PARTITION BY user_id ORDER BY ts, step ROWS UNBOUNDED PRECEDING)) f
    GROUP BY user_id
) s;
-- @question funnel_one_group | Funnel over one group of about 1M events (window_funnel)
-- Every 10th user's events as a single group: memory and time of one very large state.
-- @variant native window_funnel()
SELECT window_funnel(interval '7 days', ts, event = 'page_view', event = 'signup',
                     event = 'activate', event = 'purchase')
FROM events
WHERE user_id % 10 = 0;

-- @question session_window_floor | Window floor: row_number() OVER (PARTITION BY user_id ORDER BY ts)
-- The cheapest window function over the same window: the sort every window function pays.
-- @variant row_number()
SELECT count(*), sum(n) FROM (SELECT row_number() OVER (PARTITION BY user_id ORDER BY ts) AS n FROM events) s;

-- @question session_number | Sessionize every event, 30-minute gap (session_number)
-- @variant native session_number()
SELECT count(*), sum(n)
FROM (SELECT session_number(ts, interval '30 minutes') OVER (PARTITION BY user_id ORDER BY ts) AS n FROM events) s;
-- @variant plain LAG + running SUM
SELECT count(*), sum(n)
FROM (
    SELECT 1 + sum(CASE WHEN ts - prev > interval '30 minutes' THEN 1 ELSE 0 END)
               OVER (PARTITION BY user_id ORDER BY ts ROWS UNBOUNDED PRECEDING) AS n
    FROM (SELECT user_id, ts, lag(ts) OVER (PARTITION BY user_id ORDER BY ts) AS prev FROM events) l
) s;

-- @question session_stats | Session statistics per user, 30-minute gap (session_stats)
-- Sessions, bounces and total session time over all users.
-- @variant native session_stats()
SELECT sum((s).sessions), sum((s).bounces), sum((date_part('epoch', (s).total_duration) * 1000000)::bigint)
FROM (SELECT user_id, session_stats(ts, interval '30 minutes') AS s FROM events GROUP BY user_id) u;
-- @variant plain LAG + running SUM, then GROUP BY session
SELECT count(*), count(*) FILTER (WHERE n = 1), sum((date_part('epoch', d) * 1000000)::bigint)
FROM (
    SELECT user_id, session, max(ts) - min(ts) AS d, count(*) AS n
    FROM (
        SELECT user_id, ts, sum(CASE WHEN ts - prev > interval '30 minutes' THEN 1 ELSE 0 END)
                                OVER (PARTITION BY user_id ORDER BY ts ROWS UNBOUNDED PRECEDING) AS session
        FROM (SELECT user_id, ts, lag(ts) OVER (PARTITION BY user_id ORDER BY ts) AS prev FROM events) l
    ) w
    GROUP BY user_id, session
) s;

-- @question report_sessions | Session report, 30-minute gap, one statement (session_report)
-- Users, sessions and bounces over all users.
-- @variant native session_report()
SELECT users, sessions, round(bounce_rate::numeric, 6)
FROM (SELECT (session_report(user_id, ts, interval '30 minutes')).* FROM events) r;
-- @variant native session_stats() per user + outer query
SELECT count(*), sum((s).sessions), round(sum((s).bounces)::numeric / sum((s).sessions), 6)
FROM (SELECT user_id, session_stats(ts, interval '30 minutes') AS s FROM events GROUP BY user_id) u;
-- @variant plain LAG + running SUM, then GROUP BY session
SELECT count(DISTINCT user_id), count(*), round(count(*) FILTER (WHERE n = 1)::numeric / count(*), 6)
FROM (
    SELECT user_id, s, count(*) AS n
    FROM (
        SELECT user_id, sum(CASE WHEN prev IS NULL OR ts - prev > interval '30 minutes' THEN 1 ELSE 0 END)
                   OVER (PARTITION BY user_id ORDER BY ts ROWS UNBOUNDED PRECEDING) AS s
        FROM (SELECT user_id, ts, lag(ts) OVER (PARTITION BY user_id ORDER BY ts) AS prev FROM events) l
    ) t
    GROUP BY user_id, s
) x;

-- @question report_triangle | Weekly cohort triangle, one statement (retention_report)
-- The same cells as triangle_weekly from the report aggregate.
-- @variant native retention_report()
SELECT count(*), sum(cohort_users), sum(retained_users)
FROM unnest((SELECT retention_report(user_id, ts, 'week', 8, 'on', true, true, 'UTC') FROM events));
-- @variant native cohort_period() + period_retention() per user + outer query
SELECT count(*), sum(users), sum(retained)
FROM (
    SELECT cohort, k, count(*) AS users, sum(r[k + 1]) AS retained
    FROM (
        SELECT user_id, cohort_period(ts, 'week', true, 'UTC') AS cohort,
               period_retention(ts, 'week', 8, 'on', true, true, 'UTC') AS r
        FROM events
        GROUP BY user_id
    ) u
    CROSS JOIN (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8)) k(k)
    GROUP BY cohort, k
) t;
-- @variant plain bit mask of active weeks per user
SELECT count(*), sum(users), sum(retained)
FROM (
    SELECT c AS cohort, k, count(*) AS users, sum(((m >> (c + k)) & 1)::int) AS retained
    FROM (
        SELECT user_id, min(w) AS c, bit_or(1::bigint << w) AS m
        FROM (SELECT user_id, floor(date_part('epoch', ts - '2026-06-01 00:00+00') / 604800)::int AS w
              FROM events OFFSET 0) e
        GROUP BY user_id
    ) u
    CROSS JOIN (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8)) k(k)
    GROUP BY c, k
) t;

-- @question triangle_weekly | Weekly cohort triangle, weeks 0..8 (cohort_period + period_retention)
-- Cohort = the UTC calendar week of a user's first event; retained in week k = any event k weeks
-- later. Output: cells, users summed over cells, retained users summed over cells. Every variant
-- takes k from a VALUES list: the planner then loops over the nine k rows inside each user's row
-- (with generate_series it materialized the users' rows instead, and a materialized array gets a
-- 1-byte header that each subscript copies back: the native variants 2.40x -> 2.16x the floor
-- in an A/B run, the plain one unchanged).
-- @variant native cohort_period() + period_retention()
SELECT count(*), sum(users), sum(retained)
FROM (
    SELECT cohort, k, count(*) AS users, sum(r[k + 1]) AS retained
    FROM (
        SELECT user_id, cohort_period(ts, 'week', true, 'UTC') AS cohort,
               period_retention(ts, 'week', 8, 'on', true, true, 'UTC') AS r
        FROM events
        GROUP BY user_id
    ) u
    CROSS JOIN (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8)) k(k)
    GROUP BY cohort, k
) t;
-- @variant native cohort_retention() (one aggregate)
-- The composite's fields taken once per user (OFFSET 0 keeps the planner from pushing the field
-- selections into the nine rows per user of the cross join).
SELECT count(*), sum(users), sum(retained)
FROM (
    SELECT cohort, k, count(*) AS users, sum(r[k + 1]) AS retained
    FROM (
        SELECT (c).cohort AS cohort, (c).retained AS r
        FROM (SELECT user_id, cohort_retention(ts, 'week', 8, 'on', true, true, 'UTC') AS c
              FROM events GROUP BY user_id) per_user
        OFFSET 0
    ) u
    CROSS JOIN (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8)) k(k)
    GROUP BY cohort, k
) t;
-- @variant plain bit mask of active weeks per user
-- Week index from a Monday at 00:00 UTC before all data; bit w set when active in week w.
SELECT count(*), sum(users), sum(retained)
FROM (
    SELECT c AS cohort, k, count(*) AS users, sum(((m >> (c + k)) & 1)::int) AS retained
    FROM (
        SELECT user_id, min(w) AS c, bit_or(1::bigint << w) AS m
        FROM (SELECT user_id, floor(date_part('epoch', ts - '2026-06-01 00:00+00') / 604800)::int AS w
              FROM events OFFSET 0) e
        GROUP BY user_id
    ) u
    CROSS JOIN (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8)) k(k)
    GROUP BY c, k
) t;

-- @question lifecycle_weekly | Lifecycle over 13 weeks (lifecycle)
-- Users per week and status (new, returning, resurrecting, dormant), weeks in UTC from Monday
-- 2026-06-01: counts over all weeks and statuses.
-- @variant native lifecycle()
-- unnest() in the select list (streamed by ProjectSet), not CROSS JOIN LATERAL unnest(s) (a
-- function scan that materializes each array's elements first): 2412 -> 2068 ms in an A/B run.
SELECT status, count(*)
FROM (SELECT unnest(lifecycle(ts, 'week', '2026-06-01 00:00+00', 13, 'UTC')) AS status FROM events GROUP BY user_id) u
WHERE status IS NOT NULL
GROUP BY status ORDER BY status;
-- @variant plain bit mask of active weeks per user
SELECT status, count(*)
FROM (
    SELECT CASE WHEN (m >> k) & 1 = 1 THEN
                    CASE WHEN c = k THEN 'new' WHEN k > 0 AND (m >> (k - 1)) & 1 = 1 THEN 'returning' ELSE 'resurrecting' END
                WHEN k > 0 AND (m >> (k - 1)) & 1 = 1 THEN 'dormant' END AS status
    FROM (
        SELECT user_id, min(w) AS c, bit_or(1::bigint << w) AS m
        FROM (SELECT user_id, floor(date_part('epoch', ts - '2026-06-01 00:00+00') / 604800)::int AS w
              FROM events OFFSET 0) e
        GROUP BY user_id
    ) u
    CROSS JOIN (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12)) k(k)
) s
WHERE status IS NOT NULL
GROUP BY status ORDER BY status;

-- @question report_lifecycle | Lifecycle report over 13 weeks, one statement (lifecycle_report)
-- The same counts as lifecycle_weekly, summed over the weeks, from the report aggregate.
-- @variant native lifecycle_report()
SELECT status, count
FROM (SELECT sum(new_users) AS n, sum(returning_users) AS ret, sum(resurrecting_users) AS res,
             sum(dormant_users) AS dor
      FROM unnest((SELECT lifecycle_report(user_id, ts, 'week', '2026-06-01 00:00+00', 13, 'UTC') FROM events))) r
CROSS JOIN LATERAL (VALUES ('dormant', dor), ('new', n), ('resurrecting', res), ('returning', ret)) v(status, count)
WHERE count > 0
ORDER BY status;
-- @variant native lifecycle() per user + outer query
SELECT status, count(*)
FROM (SELECT unnest(lifecycle(ts, 'week', '2026-06-01 00:00+00', 13, 'UTC')) AS status FROM events GROUP BY user_id) u
WHERE status IS NOT NULL
GROUP BY status ORDER BY status;
-- @variant plain bit mask of active weeks per user
SELECT status, count(*)
FROM (
    SELECT CASE WHEN (m >> k) & 1 = 1 THEN
                    CASE WHEN c = k THEN 'new' WHEN k > 0 AND (m >> (k - 1)) & 1 = 1 THEN 'returning' ELSE 'resurrecting' END
                WHEN k > 0 AND (m >> (k - 1)) & 1 = 1 THEN 'dormant' END AS status
    FROM (
        SELECT user_id, min(w) AS c, bit_or(1::bigint << w) AS m
        FROM (SELECT user_id, floor(date_part('epoch', ts - '2026-06-01 00:00+00') / 604800)::int AS w
              FROM events OFFSET 0) e
        GROUP BY user_id
    ) u
    CROSS JOIN (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12)) k(k)
) s
WHERE status IS NOT NULL
GROUP BY status ORDER BY status;

-- @question stickiness | Stickiness: active days per user and week (active_periods)
-- Weeks and days in UTC.
-- @variant native active_periods()
SELECT count(*), sum(days)
FROM (SELECT user_id, date_trunc('week', ts, 'UTC') AS week, active_periods(ts, 'day', 'UTC') AS days
      FROM events GROUP BY 1, 2) s;
-- @variant native active_periods() grouped by period_index() weeks
-- The same groups keyed by the week's number (our period_index, from Monday 2026-06-01 UTC) instead
-- of PostgreSQL's date_trunc(..., 'UTC'), which costs more per row than the aggregate itself.
SELECT count(*), sum(days)
FROM (SELECT user_id, period_index(ts, timestamptz '2026-06-01 00:00+00', 'week', 'UTC') AS week,
             active_periods(ts, 'day', 'UTC') AS days
      FROM events GROUP BY 1, 2) s;
-- @variant plain count(DISTINCT date_trunc('day', ts, 'UTC'))
SELECT count(*), sum(days)
FROM (SELECT user_id, date_trunc('week', ts, 'UTC') AS week, count(DISTINCT date_trunc('day', ts, 'UTC')) AS days
      FROM events GROUP BY 1, 2) s;
-- @variant plain count(DISTINCT (ts AT TIME ZONE 'UTC')::date)
SELECT count(*), sum(days)
FROM (SELECT user_id, date_trunc('week', ts, 'UTC') AS week, count(DISTINCT (ts AT TIME ZONE 'UTC')::date) AS days
      FROM events GROUP BY 1, 2) s;

-- @question report_active_users | DAU, WAU and MAU per day, one statement (active_users_report)
-- Distinct users active in the 1, 7 and 30 days ending with each day (UTC): sums over all days.
-- @variant native active_users_report()
SELECT window_periods, count(*), sum(users)
FROM unnest((SELECT active_users_report(user_id, ts, 'day', '{1,7,30}', 'UTC') FROM events)) r
GROUP BY 1 ORDER BY 1;
-- @variant plain active days per user, each spread over the windows it falls in, counted per day
-- A user active on day d is in the w-day window of days d .. d + w - 1: the distinct (user, day)
-- pairs of those spreads, counted per day, for the days of the data.
SELECT w, count(*), sum(users)
FROM (
    SELECT w, d + k AS day, count(DISTINCT user_id) AS users
    FROM (SELECT DISTINCT user_id, (ts AT TIME ZONE 'UTC')::date AS d FROM events) a
    CROSS JOIN unnest('{1,7,30}'::int[]) w
    CROSS JOIN LATERAL generate_series(0, w - 1) k
    WHERE d + k <= (SELECT max((ts AT TIME ZONE 'UTC')::date) FROM events)
    GROUP BY 1, 2
) s
GROUP BY 1 ORDER BY 1;

-- @question sequence_match_10min | Searched, then added to cart within 10 minutes (sequence_match)
-- Users with a search followed by an add_to_cart at most 600 s later (events between allowed;
-- equal timestamps: the search first).
-- @variant native sequence_match() event names
SELECT count(*) FILTER (WHERE m)
FROM (SELECT user_id, sequence_match('(?1).*(?t<=600)(?2)', ts, event, ARRAY['search', 'add_to_cart']) AS m
      FROM events GROUP BY user_id) s;
-- @variant native sequence_match() conditions
SELECT count(*) FILTER (WHERE m)
FROM (SELECT user_id, sequence_match('(?1).*(?t<=600)(?2)', ts, event = 'search', event = 'add_to_cart') AS m
      FROM events GROUP BY user_id) s;
-- @variant native sequence_match() event names, rows of other events filtered out (the same answer:
-- events that match no condition are not seen by the pattern)
SELECT count(*) FILTER (WHERE m)
FROM (SELECT user_id, sequence_match('(?1).*(?t<=600)(?2)', ts, event, ARRAY['search', 'add_to_cart']) AS m
      FROM events WHERE event IN ('search', 'add_to_cart') GROUP BY user_id) s;
-- @variant native sequence_match() event names over the index (events_indexed, index-only scan)
SELECT count(*) FILTER (WHERE m)
FROM (SELECT user_id, sequence_match('(?1).*(?t<=600)(?2)', ts, event, ARRAY['search', 'add_to_cart']) AS m
      FROM events_indexed WHERE event IN ('search', 'add_to_cart') GROUP BY user_id) s;
-- @variant plain window: latest search before each cart
SELECT count(*) FILTER (WHERE m)
FROM (
    SELECT user_id, bool_or(event = 'add_to_cart' AND ts - last_search <= interval '600 seconds') AS m
    FROM (SELECT user_id, ts, event,
                 max(ts) FILTER (WHERE event = 'search')
                     OVER (PARTITION BY user_id ORDER BY ts RANGE UNBOUNDED PRECEDING) AS last_search
          FROM events WHERE event IN ('search', 'add_to_cart')) w
    GROUP BY user_id
) s;
-- @variant plain EXISTS self-join (hash join on user_id)
SELECT count(DISTINCT a.user_id)
FROM events a
WHERE a.event = 'add_to_cart'
  AND EXISTS (SELECT 1 FROM events s
              WHERE s.user_id = a.user_id AND s.event = 'search'
                AND s.ts <= a.ts AND s.ts >= a.ts - interval '600 seconds');
-- @variant plain EXISTS over an index (events_indexed: the same rows, indexed on (event, user_id, ts))
SELECT count(DISTINCT a.user_id)
FROM events_indexed a
WHERE a.event = 'add_to_cart'
  AND EXISTS (SELECT 1 FROM events_indexed s
              WHERE s.event = 'search' AND s.user_id = a.user_id
                AND s.ts <= a.ts AND s.ts >= a.ts - interval '600 seconds');

-- @question sequence_match_trailing | The pattern '(?1).*(?2)(?t<=600)' (sequence_match)
-- A time condition at the end of a pattern constrains nothing (docs/sequence.md): search, later
-- add_to_cart; the plain formulation says so with two aggregates.
-- @variant native sequence_match() event names
SELECT count(*) FILTER (WHERE m)
FROM (SELECT user_id, sequence_match('(?1).*(?2)(?t<=600)', ts, event, ARRAY['search', 'add_to_cart']) AS m
      FROM events GROUP BY user_id) s;
-- @variant plain first search <= last cart
SELECT count(*) FILTER (WHERE m)
FROM (SELECT user_id, min(ts) FILTER (WHERE event = 'search') <= max(ts) FILTER (WHERE event = 'add_to_cart') AS m
      FROM events GROUP BY user_id) s;

-- @question sequence_next_signup | What users do right after their first signup, top 5 (sequence_next_node)
-- The event after each user's first signup, rows ordered by (ts, event).
-- @variant native sequence_next_node('forward', 'first_match')
SELECT next_event, count(*)
FROM (SELECT user_id, sequence_next_node('forward', 'first_match', ts, event, event = 'signup', event = 'signup') AS next_event
      FROM events GROUP BY user_id) s
WHERE next_event IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5;
-- @variant native sequence_next_node('forward', 'first_match') event names
SELECT next_event, count(*)
FROM (SELECT user_id, sequence_next_node('forward', 'first_match', ts, event, event = 'signup', ARRAY['signup']) AS next_event
      FROM events GROUP BY user_id) s
WHERE next_event IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5;
-- @variant plain lead() over every user's events
SELECT next_event, count(*)
FROM (SELECT DISTINCT ON (user_id) user_id, next_event
      FROM (SELECT user_id, ts, event, lead(event) OVER (PARTITION BY user_id ORDER BY ts, event) AS next_event
            FROM events) w
      WHERE event = 'signup'
      ORDER BY user_id, ts, event) s
WHERE next_event IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5;
-- @variant plain first signup, then the next row over an index (events_indexed, on (user_id, ts, event))
SELECT next_event, count(*)
FROM (SELECT f.user_id,
             (SELECT e.event FROM events_indexed e
              WHERE e.user_id = f.user_id AND (e.ts, e.event) > (f.ts, 'signup')
              ORDER BY e.ts, e.event LIMIT 1) AS next_event
      FROM (SELECT user_id, min(ts) AS ts FROM events_indexed WHERE event = 'signup' GROUP BY user_id) f) s
WHERE next_event IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5;

-- @question sequence_next_head | The row after a user's first row when it is a signup (sequence_next_node 'head')
-- The issue's form: base 'head' with base_condition event = 'signup' (rare in this data: first
-- events are page views), counted with the users it applies to.
-- @variant native sequence_next_node('forward', 'head')
SELECT count(*), count(next_event)
FROM (SELECT user_id, sequence_next_node('forward', 'head', ts, event, event = 'signup', event = 'signup') AS next_event
      FROM events GROUP BY user_id) s;
-- @variant native sequence_next_node('forward', 'head') event names
SELECT count(*), count(next_event)
FROM (SELECT user_id, sequence_next_node('forward', 'head', ts, event, event = 'signup', ARRAY['signup']) AS next_event
      FROM events GROUP BY user_id) s;
-- @variant plain the first two rows per user (row_number() over every user's events)
SELECT count(DISTINCT user_id), count(next_event)
FROM (SELECT user_id, CASE WHEN event = 'signup' THEN lead(event) OVER w END AS next_event,
             row_number() OVER w AS r
      FROM events WINDOW w AS (PARTITION BY user_id ORDER BY ts, event)) s
WHERE r = 1;
