-- Benchmark questions over events(user_id, ts, event, device, country), read by bench_driver.
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
