-- The demo's report over the sample events (scripts/generate_events.sql). Each function family
-- adds its section here.
\set ON_ERROR_STOP on
\pset footer off
SET TimeZone = 'UTC';

\echo
\echo '== Sample events =='
SELECT count(*) AS events, count(DISTINCT user_id) AS users,
       min(ts)::date AS first_day, max(ts)::date AS last_day
FROM events;
SELECT event, count(*) AS events, count(DISTINCT user_id) AS users
FROM events GROUP BY event ORDER BY events DESC;

-- Week index from Monday 2026-06-01, the first full week of the data, for conditions that mix
-- weeks with events. OFFSET 0 keeps PostgreSQL from inlining the week expression into every
-- condition that uses it (it would be computed once per condition and row).
CREATE TEMP VIEW weekly AS
SELECT *, floor(date_part('epoch', ts - timestamptz '2026-06-01 00:00+00') / 604800)::int AS week
FROM events
OFFSET 0;

\echo
\echo '== Weekly retention (retention over calendar weeks): users active in week 0 (from Monday 2026-06-01, UTC) who are active again in week k =='
SELECT k - 1 AS week, sum(r[k]) AS users, round(100.0 * sum(r[k]) / nullif(sum(r[1]), 0), 1) AS "% of week 0"
FROM (
    SELECT user_id, retention(ts, 'week', '2026-06-01 00:00+00', 9, 'UTC') AS r
    FROM events
    GROUP BY user_id
) per_user
CROSS JOIN generate_series(1, 9) k
GROUP BY k ORDER BY k;

\echo
\echo '== Weekly cohort triangle (retention_report, one statement + a pivot for the terminal): % of each signup-week cohort active k weeks later, weeks in UTC =='
-- As of the end of the data: weeks not over yet are NULL (blank).
SELECT cohort_start::date AS "cohort week", max(cohort_users) AS users,
       max(round(100 * rate::numeric, 1)) FILTER (WHERE period = 0) AS "wk 0",
       max(round(100 * rate::numeric, 1)) FILTER (WHERE period = 1) AS "wk 1",
       max(round(100 * rate::numeric, 1)) FILTER (WHERE period = 2) AS "wk 2",
       max(round(100 * rate::numeric, 1)) FILTER (WHERE period = 3) AS "wk 3",
       max(round(100 * rate::numeric, 1)) FILTER (WHERE period = 4) AS "wk 4",
       max(round(100 * rate::numeric, 1)) FILTER (WHERE period = 5) AS "wk 5",
       max(round(100 * rate::numeric, 1)) FILTER (WHERE period = 6) AS "wk 6",
       max(round(100 * rate::numeric, 1)) FILTER (WHERE period = 7) AS "wk 7",
       max(round(100 * rate::numeric, 1)) FILTER (WHERE period = 8) AS "wk 8"
FROM unnest((SELECT retention_report(user_id, ts, 'week', 8, 'on', event = 'signup', true, 'UTC',
                                     '2026-08-30 00:00+00') FROM events))
GROUP BY 1
ORDER BY 1;

\echo
\echo '== Lifecycle (lifecycle_report, one statement): users per week and status, churn, weeks in UTC from 2026-06-01 =='
SELECT period_start::date AS week, new_users AS new, returning_users AS returning, resurrecting_users AS resurrecting,
       -dormant_users AS dormant, round(100 * churn::numeric, 1) AS "churn %"
FROM unnest((SELECT lifecycle_report(user_id, ts, 'week', '2026-06-01 00:00+00', 13, 'UTC') FROM events))
ORDER BY 1;

\echo
\echo '== Week-1 and week-4 retention of the users who signed up in week 0, by device =='
SELECT device, sum(r[1]) AS signed_up,
       round(100.0 * sum(r[2]) / nullif(sum(r[1]), 0), 1) AS "% week 1",
       round(100.0 * sum(r[3]) / nullif(sum(r[1]), 0), 1) AS "% week 4"
FROM (
    SELECT user_id, min(device) AS device,
           retention(event = 'signup' AND week = 0, week = 1, week = 4) AS r
    FROM weekly
    GROUP BY user_id
) per_user
GROUP BY device ORDER BY device;

\echo
\echo '== Funnel (funnel_report, one statement): page_view -> signup -> activate -> add_to_cart -> purchase, 7-day window =='
SELECT r.step, (ARRAY['page_view', 'signup', 'activate', 'add_to_cart', 'purchase'])[r.step] AS name, r.users,
       round(100 * r.conversion_from_previous::numeric, 1) AS "% of previous",
       round(100 * r.conversion_from_first::numeric, 1) AS "% of first",
       justify_hours(date_trunc('second', r.median_time_from_previous)) AS "median time from previous",
       justify_hours(date_trunc('second', r.p90_time_from_previous)) AS "p90 time from previous"
FROM unnest((SELECT funnel_report(user_id, interval '7 days', ts, event,
                                  ARRAY['page_view', 'signup', 'activate', 'add_to_cart', 'purchase'])
             FROM events)) r
ORDER BY r.step;

\echo
\echo '== Experiment (funnel_breakdown, one statement): new_checkout against control, signup -> add_to_cart -> purchase, 7 days =='
SELECT breakdown AS variant, step, (ARRAY['signup', 'add_to_cart', 'purchase'])[step] AS name, users,
       round(100 * conversion_from_first::numeric, 2) AS "% of signups",
       round(100 * difference::numeric, 2) AS "difference (points)",
       '[' || round(100 * ci_low::numeric, 2) || ', ' || round(100 * ci_high::numeric, 2) || ']' AS "95% interval",
       round(p_value::numeric, 4) AS "p-value",
       round(100 * probability_better::numeric, 1) AS "% chance better"
FROM unnest((SELECT funnel_breakdown(user_id, funnel_options("window" => interval '7 days', control => 'control'),
                                     ts, variant, event, ARRAY['signup', 'add_to_cart', 'purchase'])
             FROM events))
ORDER BY variant, step;

\echo
\echo '== Funnel trend (funnel_trend): users entering signup -> purchase per week (UTC), and how many bought within 7 days =='
SELECT period_start::date AS week, entered, converted, round(100 * conversion::numeric, 1) AS "% converted"
FROM unnest((SELECT funnel_trend(user_id, funnel_options("window" => interval '7 days'), 'week', 'UTC',
                                 ts, event, ARRAY['signup', 'purchase'])
             FROM events))
ORDER BY 1 LIMIT 6;

\echo
\echo '== Active users (active_users_report, one statement): DAU, WAU, MAU and stickiness (DAU / MAU), last 7 days, UTC =='
SELECT period_start::date AS day,
       max(users) FILTER (WHERE window_periods = 1) AS dau,
       max(users) FILTER (WHERE window_periods = 7) AS wau,
       max(users) FILTER (WHERE window_periods = 30) AS mau,
       round(100 * max(stickiness) FILTER (WHERE window_periods = 30)::numeric, 1) AS "DAU/MAU %"
FROM unnest((SELECT active_users_report(user_id, ts, 'day', '{1,7,30}', 'UTC') FROM events)) r
GROUP BY 1 ORDER BY 1 DESC LIMIT 7;

\echo
\echo '== Sessions (session_report, one statement): 30-minute gap, split at midnight UTC =='
SELECT users, sessions, round(sessions_per_user::numeric, 2) AS "sessions per user",
       round(100 * bounce_rate::numeric, 1) AS "bounce rate %",
       justify_hours(date_trunc('second', mean_length)) AS "mean length",
       justify_hours(date_trunc('second', median_length)) AS "median length",
       justify_hours(date_trunc('second', p90_length)) AS "p90 length",
       users_with_1_session AS "1", users_with_2_sessions AS "2", users_with_3_to_5_sessions AS "3-5",
       users_with_6_to_10_sessions AS "6-10", users_with_11_or_more_sessions AS "11+"
FROM (SELECT (session_report(user_id, ts, interval '30 minutes', false, NULL, 'UTC')).* FROM events) r;

\echo
\echo '== Paths (sequence_next_node, sequence_match): what users do right after signing up, top 5 =='
SELECT next_event AS "next after signup", count(*) AS users,
       round(100 * count(*) / sum(count(*)) OVER (), 1) AS "%"
FROM (SELECT user_id, sequence_next_node('forward', 'first_match', ts, event, event = 'signup', event = 'signup') AS next_event
      FROM events GROUP BY user_id) s
WHERE next_event IS NOT NULL
GROUP BY next_event ORDER BY users DESC, next_event LIMIT 5;

\echo
\echo '== Paths: users who searched, then added to cart within 10 minutes, and then bought (sequence_match) =='
SELECT count(*) FILTER (WHERE searched) AS "searched",
       count(*) FILTER (WHERE quick_cart) AS "then cart within 10 min",
       count(*) FILTER (WHERE quick_cart_then_buy) AS "then bought"
FROM (SELECT user_id,
             sequence_match('(?1)', ts, event, ARRAY['search']) AS searched,
             sequence_match('(?1).*(?t<=600)(?2)', ts, event, ARRAY['search', 'add_to_cart']) AS quick_cart,
             sequence_match('(?1).*(?t<=600)(?2).*(?3)', ts, event, ARRAY['search', 'add_to_cart', 'purchase'])
                 AS quick_cart_then_buy
      FROM events GROUP BY user_id) s;
