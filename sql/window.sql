-- Aggregates used as window functions, OVER (...).
CREATE TABLE window_events (uid int, ts int, event text);
INSERT INTO window_events VALUES
    (1, 1, 'signup'), (1, 2, 'view'), (1, 3, 'buy'), (1, 4, 'view'),
    (2, 1, 'view'), (2, 2, 'signup'), (2, 5, 'buy'),
    (3, 7, 'buy');

-- Running retention per user: signed up, and viewed / bought, by this row? (Existential:
-- user 2's view before the signup counts, as in ClickHouse.)
SELECT uid, ts, event,
       retention(event = 'signup', event = 'view', event = 'buy')
           OVER (PARTITION BY uid ORDER BY ts) AS running
FROM window_events
ORDER BY uid, ts;

-- The whole partition, on every row.
SELECT uid, ts,
       retention(event = 'signup', event = 'buy') OVER (PARTITION BY uid) AS whole
FROM window_events
ORDER BY uid, ts;

-- A sliding frame (the aggregate is recomputed per frame: there is no inverse transition).
SELECT uid, ts,
       retention(event = 'view', event = 'buy')
           OVER (PARTITION BY uid ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS last_two
FROM window_events
ORDER BY uid, ts;

-- An empty frame gives NULL, as for an empty group.
SELECT uid, ts,
       retention(event = 'view') OVER (PARTITION BY uid ORDER BY ts ROWS BETWEEN 2 PRECEDING AND 1 PRECEDING) AS before
FROM window_events
ORDER BY uid, ts;

-- Window and grouped forms agree on the whole partition.
SELECT count(*) AS differences FROM (
    SELECT DISTINCT uid, retention(event = 'signup', event = 'view', event = 'buy') OVER (PARTITION BY uid) r
    FROM window_events
    EXCEPT
    SELECT uid, retention(event = 'signup', event = 'view', event = 'buy') FROM window_events GROUP BY uid
) d;

DROP TABLE window_events;

-- window_funnel OVER (...): the running level per row, and a mode applied per partition.
CREATE TABLE window_clicks (uid int, ts bigint, step int);
INSERT INTO window_clicks VALUES (1, 1, 1), (1, 2, 2), (1, 3, 9), (1, 4, 3), (2, 1, 2), (2, 5, 1), (2, 6, 2);
SELECT uid, ts, step,
       window_funnel(10::bigint, ts, step = 1, step = 2, step = 3) OVER w AS running,
       window_funnel(10::bigint, 'strict_order', ts, step = 1, step = 2, step = 3) OVER w AS strict_running,
       window_funnel_events(10::bigint, ts, step = 1, step = 2, step = 3) OVER w AS chain,
       window_funnel(10::bigint, ts, step = 1, step = 2, step = 3) OVER (PARTITION BY uid) AS whole
FROM window_clicks
WINDOW w AS (PARTITION BY uid ORDER BY ts)
ORDER BY uid, ts;
DROP TABLE window_clicks;

-- Retention-family aggregates OVER (...): lifecycle and active periods so far.
CREATE TABLE window_visits (uid int, ts timestamptz);
INSERT INTO window_visits VALUES
    (1, '2024-01-01 10:00+00'), (1, '2024-01-02 10:00+00'), (1, '2024-01-09 10:00+00'), (1, '2024-01-23 10:00+00'),
    (2, '2024-01-08 10:00+00'), (2, '2024-01-08 11:00+00');
SELECT uid, ts AT TIME ZONE 'UTC' AS utc,
       lifecycle(ts, 'week', '2024-01-01 00:00+00', 4, 'UTC') OVER w AS lifecycle_so_far,
       active_periods(ts, 'day', 'UTC') OVER w AS active_days_so_far,
       active_periods(ts, 'week', 'UTC') OVER (PARTITION BY uid) AS active_weeks
FROM window_visits
WINDOW w AS (PARTITION BY uid ORDER BY ts)
ORDER BY uid, ts;
DROP TABLE window_visits;
