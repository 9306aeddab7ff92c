-- Cohort attributes: min_by / max_by (docs/cohort.md).
SET TimeZone = 'UTC';
SET DateStyle = ISO;

-- The examples of docs/cohort.md.
CREATE TABLE touches (uid int, ts timestamptz, channel text, country text);
INSERT INTO touches VALUES
    (1, '2024-04-01 10:00', 'ads', 'DE'), (1, '2024-04-03 09:00', 'mail', 'DE'), (1, '2024-04-09 18:00', 'direct', 'FR'),
    (2, '2024-04-02 11:00', 'direct', 'US'), (2, '2024-04-02 11:00', 'ads', 'US'),
    (3, '2024-04-05 08:00', NULL, 'IN'), (3, '2024-04-06 08:00', 'mail', 'IN'),
    (4, NULL, 'ads', 'BR');

SELECT uid,
       min_by(channel, ts) AS first_touch,
       max_by(channel, ts) AS last_touch,
       min_by(country, ts) AS country_at_start
FROM touches
GROUP BY uid
ORDER BY uid;

SELECT first_touch, count(*) AS users
FROM (SELECT uid, min_by(channel, ts) AS first_touch FROM touches GROUP BY uid) u
GROUP BY first_touch
ORDER BY users DESC, first_touch;

SELECT uid, ts, channel,
       min_by(channel, ts) OVER (PARTITION BY uid ORDER BY ts) AS first_touch_so_far
FROM touches
WHERE uid = 1
ORDER BY ts;

-- Ties on the key: min_by takes the smallest value, max_by the largest, whatever the row order.
SELECT min_by(v, k) AS min_by, max_by(v, k) AS max_by,
       min_by(v, k ORDER BY v DESC) AS min_by_reversed, max_by(v, k ORDER BY v) AS max_by_reordered
FROM (VALUES (1, 'b'), (1, 'a'), (1, 'c'), (0, 'z'), (2, 'y')) t(k, v)
WHERE k = 1;

-- NULL keys are skipped; no non-NULL key gives NULL; a NULL value loses a tie.
SELECT min_by(v, k) FROM (VALUES (NULL::int, 'a'), (5, 'b'), (NULL, 'c')) t(k, v);
SELECT min_by(v, k) IS NULL AS no_key FROM (VALUES (NULL::int, 'a')) t(k, v);
SELECT min_by(v, k) AS non_null_wins_tie FROM (VALUES (1, NULL), (1, 'x')) t(k, v);
SELECT min_by(v, k) IS NULL AS null_value FROM (VALUES (1, NULL::text), (2, 'x')) t(k, v);
SELECT min_by(v, k) IS NULL AS empty FROM (VALUES (1, 'a')) t(k, v) WHERE false;

-- Any value type, any ordered key type; keys and values of different types.
SELECT min_by(ARRAY[k, k * 2], k) AS array_value, max_by(point(k, k), -k) AS point_value,
       min_by(k, k::text) AS text_key, max_by(k::numeric / 3, k::numeric) AS numeric_both,
       min_by(ROW(k, 'x')::record IS NOT NULL, k) AS bool_value
FROM generate_series(1, 12) k;
-- Ties on a value type without an ordering (point): decided by the bytes, still independent of order.
SELECT max_by(p, k)::text = max_by(p, k ORDER BY p[0] DESC)::text AS same, max_by(p, k)
FROM (VALUES (1, point(1, 2)), (1, point(2, 1)), (0, point(9, 9))) t(k, p);
-- Text keys compare with the collation of the call.
SELECT min_by(v, k COLLATE "C") AS c_collation FROM (VALUES ('a', 1), ('B', 2)) t(k, v);

-- Against the plain-SQL definition on random data (first row by key, ties by value).
SELECT setseed(0.6);
CREATE TABLE by_random AS
SELECT (random() * 300)::int AS uid, (random() * 50)::int AS k, md5(random()::text) AS v
FROM generate_series(1, 8000);
SELECT count(*) AS users,
       count(*) FILTER (WHERE a.first = b.first AND a.last = b.last) AS equal
FROM (SELECT uid, min_by(v, k) AS first, max_by(v, k) AS last FROM by_random GROUP BY uid) a
JOIN (
    SELECT DISTINCT uid,
           first_value(v) OVER (PARTITION BY uid ORDER BY k, v) AS first,
           first_value(v) OVER (PARTITION BY uid ORDER BY k DESC, v DESC) AS last
    FROM by_random
) b USING (uid);

-- A forced parallel plan gives the serial answer (text values travel between processes).
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE by_serial AS SELECT uid, min_by(v, k) AS f, max_by(v, k) AS l FROM by_random GROUP BY uid;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT uid, min_by(v, k) FROM by_random GROUP BY uid;
CREATE TEMP TABLE by_parallel AS SELECT uid, min_by(v, k) AS f, max_by(v, k) AS l FROM by_random GROUP BY uid;
SELECT count(*) AS users, (SELECT count(*) FROM (TABLE by_serial EXCEPT TABLE by_parallel) d) AS differences
FROM by_parallel;
SELECT min_by(v, k) = (SELECT min(v) FROM by_random WHERE k = (SELECT min(k) FROM by_random)) AS one_group
FROM by_random;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- period_index: calendar periods in a time zone. The same instant is in April in UTC and still
-- in March in New York; months have different lengths; weeks start on Monday.
SELECT period_index('2024-04-01 02:00+00', '2024-01-15 12:00+00', 'month', 'UTC') AS utc,
       period_index('2024-04-01 02:00+00', '2024-01-15 12:00+00', 'month', 'America/New_York') AS new_york;
SELECT period_index('2024-02-01 00:00+00', '2024-01-31 23:59+00', 'month', 'UTC') AS next_month,
       period_index('2024-01-31 00:00+00', '2024-01-01 00:00+00', 'month', 'UTC') AS same_month,
       period_index('2024-01-08 00:00+00', '2024-01-07 23:59+00', 'week', 'UTC') AS monday,
       period_index('2024-01-07 00:00+00', '2024-01-01 00:00+00', 'week', 'UTC') AS sunday,
       period_index('2023-12-31 00:00+00', '2024-01-01 00:00+00', 'day', 'UTC') AS before,
       period_index('2025-03-31 00:00+00', '2024-01-01 00:00+00', 'quarter', 'UTC') AS quarters,
       period_index('2025-12-31 00:00+00', '2024-01-01 00:00+00', 'years', 'UTC') AS years;
-- Days follow the zone across daylight saving: 2024-03-10 in New York has 23 hours.
SELECT period_index('2024-03-11 00:30 America/New_York', '2024-03-10 00:30 America/New_York', 'day',
                    'America/New_York') AS one_day,
       period_index('2024-03-11 00:30 America/New_York', '2024-03-10 00:30 America/New_York',
                    interval '1 day') AS rolling_day;
-- Calendar periods in zones with daylight saving come from the zone's offset, kept between its
-- transitions: the same days, weeks and months as PostgreSQL's own local times, over 350 years
-- of instants in sixteen zones (seconds around transitions too), with PostgreSQL's AT TIME ZONE
-- as the reference.
WITH z(zone) AS (VALUES ('Europe/Berlin'), ('America/New_York'), ('Australia/Lord_Howe'), ('Asia/Kolkata'),
                        ('America/Sao_Paulo'), ('Pacific/Chatham'), ('Africa/Casablanca'), ('Europe/Dublin'),
                        ('Antarctica/Troll'), ('Asia/Tehran'), ('America/St_Johns'), ('Europe/Moscow'),
                        ('Pacific/Apia'), ('UTC'), ('America/Santiago'), ('Asia/Gaza')),
spread AS (SELECT timestamptz '1850-01-01 00:00+00' + ((i::bigint * 1103515245 + 12345) % 11044800000) * interval '1 second' AS ts
           FROM generate_series(1, 4000) i),
near AS (SELECT timestamptz '2026-03-29 00:59:58+00' + (i % 60) * interval '1 year' + (i % 12) * interval '1 month'
                + (i % 7) * interval '1 hour' + k * interval '1 second' AS ts
         FROM generate_series(1, 600) i, generate_series(-3, 3) k),
instants AS (SELECT ts FROM spread UNION ALL SELECT ts FROM near),
a(anchor) AS (VALUES (timestamptz '2000-01-03 12:00+00'))
SELECT count(*) AS checked,
       count(*) FILTER (WHERE period_index(ts, anchor, 'day', zone)
                              <> (ts AT TIME ZONE zone)::date - (anchor AT TIME ZONE zone)::date) AS wrong_days,
       count(*) FILTER (WHERE period_index(ts, anchor, 'week', zone)
                              <> (date_trunc('week', ts AT TIME ZONE zone)::date
                                  - date_trunc('week', anchor AT TIME ZONE zone)::date) / 7) AS wrong_weeks,
       count(*) FILTER (WHERE period_index(ts, anchor, 'month', zone)
                              <> (extract(year FROM ts AT TIME ZONE zone) * 12 + extract(month FROM ts AT TIME ZONE zone))
                                 - (extract(year FROM anchor AT TIME ZONE zone) * 12
                                    + extract(month FROM anchor AT TIME ZONE zone))) AS wrong_months
FROM z CROSS JOIN LATERAL (SELECT ts FROM instants ORDER BY ts) i, a; -- each zone in time order
-- Without a zone argument the session's TimeZone is used.
SET TimeZone = 'Asia/Tokyo';
SELECT period_index('2024-04-01 02:00+00', '2024-01-15 12:00+00', 'month') AS tokyo;
SET TimeZone = 'UTC';
-- timestamp (no zone) and rolling periods.
SELECT period_index('2024-03-01'::timestamp, '2024-02-29'::timestamp, 'month') AS ts_month,
       period_index('2024-01-10 00:00+00'::timestamptz, '2024-01-01 00:00+00', interval '7 days') AS rolling_week,
       period_index('2023-12-31 23:00+00'::timestamptz, '2024-01-01 00:00+00', interval '7 days') AS rolling_before,
       period_index('2024-01-01 06:00'::timestamp, '2024-01-01 00:00'::timestamp, interval '6 hours') AS six_hours;
SELECT period_index(NULL::timestamptz, now(), 'day') IS NULL AS null_ts,
       period_index(now(), NULL::timestamptz, interval '1 day') IS NULL AS null_anchor;

-- cohort_period: the start of the user's first (start) period; OVER (PARTITION BY user) tags rows.
SELECT uid, cohort_period(ts, 'week', channel = 'mail', 'UTC') AS mail_week,
       cohort_period(ts, 'month') AS first_month
FROM touches
GROUP BY uid
ORDER BY uid;
SELECT uid, ts, cohort_period(ts, 'week', true, 'UTC') OVER (PARTITION BY uid) AS cohort_week,
       period_index(ts, cohort_period(ts, 'week', true, 'UTC') OVER (PARTITION BY uid), 'week', 'UTC') AS week_k
FROM touches
WHERE ts IS NOT NULL
ORDER BY uid, ts;
SELECT cohort_period(ts, 'day', true, 'Asia/Kolkata') AS kolkata_day,
       cohort_period(ts::timestamp, 'quarter') AS quarter
FROM touches;
SELECT cohort_period(ts, 'day') IS NULL AS no_rows FROM touches WHERE false;

-- cohort_period in a forced parallel plan equals the serial answer.
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE cohort_serial AS
SELECT uid, cohort_period(timestamptz '2024-01-01' + k * interval '1 day', 'week', v < '2', 'Europe/Berlin') AS c
FROM by_random GROUP BY uid;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
CREATE TEMP TABLE cohort_parallel AS
SELECT uid, cohort_period(timestamptz '2024-01-01' + k * interval '1 day', 'week', v < '2', 'Europe/Berlin') AS c
FROM by_random GROUP BY uid;
SELECT count(*) AS users, count(DISTINCT c) AS cohorts,
       (SELECT count(*) FROM (TABLE cohort_serial EXCEPT TABLE cohort_parallel) d) AS differences
FROM cohort_parallel;
RESET ALL;

-- The event-name form cohort_period(ts, period, event, start_events[, time_zone]) gives the
-- condition form's answer (event = ANY(start_events)), per user, local times too, over a window.
SELECT count(*) AS users,
       count(*) FILTER (WHERE n IS NOT DISTINCT FROM c) AS equal,
       count(*) FILTER (WHERE nl IS NOT DISTINCT FROM cl) AS equal_local
FROM (SELECT uid, cohort_period(ts, 'week', e, ARRAY['1', '3'], 'Europe/Berlin') AS n,
             cohort_period(ts, 'week', e IN ('1', '3'), 'Europe/Berlin') AS c,
             cohort_period(ts::timestamp, 'day', e, ARRAY['2']) AS nl,
             cohort_period(ts::timestamp, 'day', e = '2') AS cl
      FROM (SELECT uid, timestamptz '2024-01-01' + k * interval '7 hours' AS ts,
                   nullif(left(v, 1), '0') AS e -- a sixteenth of the events NULL
            FROM by_random) r
      GROUP BY uid) u;
SELECT uid, ts AT TIME ZONE 'UTC' AS utc_time,
       cohort_period(ts, 'week', channel, ARRAY['mail'], 'UTC') OVER (PARTITION BY uid) AT TIME ZONE 'UTC' AS mail_week
FROM touches
WHERE uid = 1
ORDER BY ts;

DROP TABLE touches, by_random;

-- Per-user time zones (docs/cohort.md): each group's period in its own zone.
SET TimeZone = 'UTC';
SET DateStyle = ISO;
SELECT uid, zone, cohort_period(ts, 'day', true, zone) AS first_local_day
FROM (VALUES (1, 'Asia/Tokyo', timestamptz '2024-01-01 20:00+00'), (2, 'UTC', '2024-01-01 20:00+00'),
             (1, 'Asia/Tokyo', '2024-01-02 01:00+00')) t(uid, zone, ts)
GROUP BY uid, zone
ORDER BY uid;
RESET TimeZone;
RESET DateStyle;
