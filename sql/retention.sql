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

DROP TABLE visits, retention_random;
