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

-- Week index from Monday 2026-06-01, the first full week of the data. OFFSET 0 keeps PostgreSQL
-- from inlining the week expression into every condition that uses it (it would be computed nine
-- times per row).
CREATE TEMP VIEW weekly AS
SELECT *, floor(date_part('epoch', ts - timestamptz '2026-06-01 00:00+00') / 604800)::int AS week
FROM events
OFFSET 0;

\echo
\echo '== Weekly retention (retention): users active in week 0 (from 2026-06-01) who are active again in week k =='
SELECT k - 1 AS week, sum(r[k]) AS users, round(100.0 * sum(r[k]) / nullif(sum(r[1]), 0), 1) AS "% of week 0"
FROM (
    SELECT user_id,
           retention(week = 0, week = 1, week = 2, week = 3, week = 4, week = 5, week = 6, week = 7, week = 8) AS r
    FROM weekly
    GROUP BY user_id
) per_user
CROSS JOIN generate_series(1, 9) k
GROUP BY k ORDER BY k;

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
\echo '== Funnel (window_funnel, window_funnel_events): page_view -> signup -> activate -> add_to_cart -> purchase, 7-day window =='
WITH per_user AS (
    SELECT user_id,
           window_funnel_events(interval '7 days', ts, event = 'page_view', event = 'signup', event = 'activate',
                                event = 'add_to_cart', event = 'purchase') AS steps
    FROM events
    GROUP BY user_id
),
step_names(k, name) AS (
    VALUES (1, 'page_view'), (2, 'signup'), (3, 'activate'), (4, 'add_to_cart'), (5, 'purchase')
),
per_step AS (
    SELECT k, name,
           count(*) FILTER (WHERE cardinality(steps) >= k) AS users,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY steps[k] - steps[k - 1])
               FILTER (WHERE cardinality(steps) >= k AND k > 1) AS median_from_previous
    FROM per_user CROSS JOIN step_names
    GROUP BY k, name
)
SELECT k AS step, name, users,
       round(100.0 * users / nullif(lag(users) OVER (ORDER BY k), 0), 1) AS "% of previous",
       round(100.0 * users / first_value(users) OVER (ORDER BY k), 1) AS "% of first",
       justify_hours(date_trunc('second', median_from_previous)) AS "median time from previous"
FROM per_step
ORDER BY k;
