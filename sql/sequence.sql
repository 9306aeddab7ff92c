-- sequence_match, sequence_count, sequence_match_events, sequence_next_node (docs/sequence.md):
-- the documented examples, ClickHouse's own test cases, ties, NULLs, every error, OVER (...),
-- the event-name forms against the condition forms, plain-SQL cross-checks on random data, forced
-- parallel plans, and an adversarial pattern over a large group.
SET TimeZone = 'UTC';
SET DateStyle = ISO;
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- The documented examples.
CREATE TABLE clicks (uid int, ts timestamptz, event text);
INSERT INTO clicks VALUES
    (1, '2024-05-01 10:00', 'search'), (1, '2024-05-01 10:02', 'view'),
    (1, '2024-05-01 10:05', 'add_to_cart'), (1, '2024-05-01 10:30', 'purchase'),
    (2, '2024-05-01 11:00', 'search'), (2, '2024-05-01 11:20', 'add_to_cart'),
    (3, '2024-05-01 12:00', 'signup'), (3, '2024-05-01 12:01', 'search'),
    (3, '2024-05-01 12:03', 'add_to_cart'), (3, '2024-05-01 12:04', 'search');

SELECT uid,
       sequence_match('(?1).*(?t<=600)(?2)', ts, event, ARRAY['search', 'add_to_cart']) AS within_10_min,
       sequence_match('(?1).*(?2)', ts, event = 'search', event = 'add_to_cart') AS ever
FROM clicks GROUP BY uid ORDER BY uid;

SELECT uid, sequence_count('(?1).*(?2)', ts, event, ARRAY['search', 'add_to_cart']) AS searches_then_carts
FROM clicks GROUP BY uid ORDER BY uid;

SELECT uid, sequence_match_events('(?1).*(?2).*(?3)', ts, event, ARRAY['search', 'add_to_cart', 'purchase'])
FROM clicks GROUP BY uid ORDER BY uid;

SELECT uid,
       sequence_match('(?1)(?2)', ts, event = 'search', event = 'add_to_cart') AS adjacent,
       sequence_match('(?1)(?2)', ts, event = 'search', event = 'add_to_cart', event = 'view') AS adjacent_seeing_views
FROM clicks GROUP BY uid ORDER BY uid;

SELECT uid,
       sequence_next_node('forward', 'first_match', ts, event, event = 'search', event = 'search') AS after_search,
       sequence_next_node('backward', 'first_match', ts, event, event = 'add_to_cart', event = 'add_to_cart') AS before_cart
FROM clicks GROUP BY uid ORDER BY uid;

SELECT next_event, count(*) AS users
FROM (SELECT uid, sequence_next_node('forward', 'head', ts, event, event = 'signup', event = 'signup') AS next_event
      FROM clicks GROUP BY uid) s
WHERE next_event IS NOT NULL
GROUP BY next_event ORDER BY users DESC, next_event LIMIT 5;

SELECT uid, ts, event,
       sequence_match('(?1).*(?2)', ts, event, ARRAY['search', 'add_to_cart'])
           OVER (PARTITION BY uid ORDER BY ts) AS converted_so_far
FROM clicks WHERE uid = 3 ORDER BY ts;

-- The other aggregates OVER (...): the running count, chain and next event per row.
SELECT uid, ts, event,
       sequence_count('(?1).*(?2)', ts, event, ARRAY['search', 'add_to_cart']) OVER w AS carts_after_search,
       sequence_match_events('(?1).*(?2)', ts, event, ARRAY['search', 'add_to_cart']) OVER w AS chain,
       sequence_next_node('forward', 'first_match', ts, event, event = 'search', event = 'search') OVER w AS after_search
FROM clicks WHERE uid IN (1, 3) WINDOW w AS (PARTITION BY uid ORDER BY ts) ORDER BY uid, ts;

SELECT sequence_match('(?1)(?2)', ts, event = 'a', event = 'b') AS a_then_b,
       sequence_match('(?2)(?1)', ts, event = 'a', event = 'b') AS b_then_a
FROM (VALUES (timestamptz '2024-05-01 10:00', 'b'), ('2024-05-01 10:00', 'a')) v(ts, event);

-- ClickHouse's test suite (00222_sequence_aggregate_function_family), integer time.
CREATE TABLE ch (time bigint, data int);
INSERT INTO ch VALUES (0,0),(1,0),(2,0),(3,0),(4,1),(5,2),(6,0),(7,0),(8,0),(9,0),(10,1),(11,1);
SELECT p AS pattern,
       (SELECT sequence_match(p, time, data = 0, data = 1, data = 2, data = 3) FROM ch) AS match,
       (SELECT sequence_count(p, time, data = 0, data = 1, data = 2, data = 3) FROM ch) AS count,
       (SELECT sequence_match_events(p, time, data = 0, data = 1, data = 2, data = 3) FROM ch) AS events
FROM unnest(ARRAY['', '.', '.*', '(?1)', '(?2)', '(?3)', '(?4)', '(?1)(?1)', '(?1)(?1)(?1)',
                  '(?1)(?1)(?1)(?1)', '(?1)(?1)(?1)(?1)(?1)', '(?1)(?1)(?1)(?1)(?2)',
                  '(?1)(?t>10)(?2)', '(?1)(?t>11)(?2)', '(?1)(?t<11)(?2)', '(?1)(?t<3)(?3)',
                  '(?1)(?t<=2)(?3)', '(?1)(?t<2)(?3)', '(?2)(?t>=7)(?2)', '(?2)(?t>7)(?2)',
                  '(?2)(?3)(?1)']) WITH ORDINALITY u(p, n) ORDER BY n;
SELECT p AS pattern,
       (SELECT sequence_match(p, time, data = 1, data = 2) FROM ch) AS match,
       (SELECT sequence_count(p, time, data = 1, data = 2) FROM ch) AS count,
       (SELECT sequence_match_events(p, time, data = 1, data = 2) FROM ch) AS events
FROM unnest(ARRAY['(?1)(?t==2)(?2)', '(?1)(?t==1)(?2)']) p;

-- Time conditions bound the elements on either side, with events between allowed; seconds with
-- up to six decimals for timestamps; a trailing time condition constrains nothing.
SELECT p AS pattern, sequence_match(p, ts, event = 'search', event = 'add_to_cart') AS match
FROM clicks, unnest(ARRAY['(?1)(?t<=300)(?2)', '(?1)(?t<300)(?2)', '(?1)(?t<=299.999999)(?2)',
                          '(?1)(?t>=1200)(?2)', '(?1)(?t>1200)(?2)', '(?1)(?t==300)(?2)',
                          '(?1)(?2)(?t<=1)', '(?1) .* (?t <= 300) (?2)']) p
WHERE uid = 1 GROUP BY p ORDER BY p;
SELECT sequence_match('(?1)(?t<=5)(?2)', ts::timestamp, event = 'search', event = 'add_to_cart') AS ts_without_zone,
       sequence_match('(?1)(?t<=300)(?2)', ts::timestamp, event = 'search', event = 'add_to_cart') AS ts_300
FROM clicks WHERE uid = 1;

-- NULL: a NULL ts skips the row, a NULL condition or event is false / no condition; no rows at all.
SELECT sequence_match('(?1)(?2)', ts, event = 'a', event = 'b') AS null_ts_skipped,
       sequence_count('(?1)', ts, event = 'a') AS null_event_is_false,
       sequence_match_events('(?1)(?2)', ts, event, ARRAY['a', 'b']) AS names_null_event
FROM (VALUES (timestamptz '2024-01-01', 'a'), (NULL, 'x'), ('2024-01-02', NULL), ('2024-01-03', 'b')) v(ts, event);
SELECT sequence_match('(?1)', ts, true) AS match, sequence_count('(?1)', ts, true) AS count,
       sequence_match_events('(?1)', ts, true) AS events,
       sequence_next_node('forward', 'head', ts, 'x', true, true) AS next
FROM (SELECT now() AS ts WHERE false) s;

-- Errors.
SELECT pg_temp.error_of($$SELECT sequence_match(NULL, 1::bigint, true)$$);
SELECT pg_temp.error_of($$SELECT sequence_match('(?1)', 1::bigint, VARIADIC NULL::boolean[])$$);
SELECT pg_temp.error_of($$SELECT sequence_match('(?1)', 1::bigint, 'a', NULL::text[])$$);
SELECT pg_temp.error_of($$SELECT sequence_match('(?1)', 1::bigint, 'a', '{}'::text[])$$);
SELECT pg_temp.error_of($$SELECT sequence_match('(?1)(?x)', 1::bigint, true)$$);
SELECT pg_temp.error_of($$SELECT sequence_match('(?1)(?t<1.5)(?1)', 1::bigint, true)$$);
SELECT pg_temp.error_of($$SELECT sequence_match('(?1)(?t<1.0000001)(?1)', now(), true)$$);
SELECT pg_temp.error_of($$SELECT sequence_match('(?t<5)(?1)', now(), true)$$);
SELECT pg_temp.error_of($$SELECT sequence_match('(?3)', now(), true, false)$$);
SELECT pg_temp.error_of($$SELECT sequence_match('(?65)', now(), true)$$);
SELECT pg_temp.error_of($$SELECT sequence_match(repeat('.', 65), now(), true)$$);
SELECT pg_temp.error_of($$SELECT sequence_match('(?1)', now(), VARIADIC array_fill(true, ARRAY[65]))$$);
SELECT pg_temp.error_of($$SELECT sequence_match(p, now(), true) FROM (VALUES ('(?1)'), ('(?1)(?1)')) v(p)$$);
SELECT pg_temp.error_of($$SELECT sequence_next_node(NULL, 'head', now(), 'a', true, true)$$);
SELECT pg_temp.error_of($$SELECT sequence_next_node('forward', NULL, now(), 'a', true, true)$$);
SELECT pg_temp.error_of($$SELECT sequence_next_node('sideways', 'head', now(), 'a', true, true)$$);
SELECT pg_temp.error_of($$SELECT sequence_next_node('forward', 'middle', now(), 'a', true, true)$$);
SELECT pg_temp.error_of($$SELECT sequence_next_node('forward', 'head', now(), 'a', true, VARIADIC NULL::boolean[])$$);
SELECT pg_temp.error_of($$SELECT sequence_next_node('forward', 'head', now(), 'a', true, VARIADIC '{}'::boolean[])$$);
SELECT pg_temp.error_of($$SELECT sequence_next_node('forward', 'head', now(), 'a', true, NULL::text[])$$);
SELECT pg_temp.error_of($$SELECT sequence_next_node('forward', 'head', now(), 'a', true, ARRAY['a', NULL])$$);
SELECT sequence_match('(?1)', now(), true) AS still_alive;

-- Bound parameters (a BI tool binds the pattern and the names).
PREPARE seq(text, text[]) AS
SELECT uid, sequence_match($1, ts, event, $2) AS m FROM clicks GROUP BY uid ORDER BY uid;
EXECUTE seq('(?1).*(?t<=600)(?2)', ARRAY['search', 'add_to_cart']);
EXECUTE seq('(?2)', ARRAY['search', 'purchase']);
DEALLOCATE seq;

-- sequence_next_node: every base and direction, against a window-function formulation.
SELECT setseed(0.3);
CREATE TABLE paths AS
SELECT (random() * 300)::int AS uid, timestamptz '2024-01-01' + (random() * 200)::int * interval '1 minute' AS ts,
       (ARRAY['home', 'search', 'cart', 'buy', NULL])[1 + (random() * 4.4)::int] AS event
FROM generate_series(1, 20000);
CREATE VIEW paths_ranked AS
SELECT uid, ts, event, row_number() OVER w AS r, count(*) OVER (PARTITION BY uid) AS n,
       lead(event) OVER w AS next1, lag(event) OVER w AS prev1, lead(event, 2) OVER w AS next2
FROM paths WHERE event IS NOT NULL AND ts IS NOT NULL
WINDOW w AS (PARTITION BY uid ORDER BY ts, event);
CREATE TEMP VIEW next_per_user AS
SELECT uid,
       sequence_next_node('forward', 'first_match', ts, event, event = 'search', event = 'search') AS f_first,
       sequence_next_node('forward', 'last_match', ts, event, event = 'search', event = 'search', event = 'cart') AS f_last2,
       sequence_next_node('backward', 'last_match', ts, event, event = 'buy', event = 'buy') AS b_last,
       sequence_next_node('forward', 'head', ts, event, true, event = 'home') AS f_head,
       sequence_next_node('backward', 'tail', ts, event, event <> 'home', true) AS b_tail
FROM paths GROUP BY uid;
CREATE TEMP TABLE next_native AS SELECT * FROM next_per_user;
CREATE TEMP TABLE next_plain AS
SELECT u.uid,
       (SELECT next1 FROM paths_ranked p WHERE p.uid = u.uid AND event = 'search' ORDER BY r LIMIT 1) AS f_first,
       (SELECT CASE WHEN next1 = 'cart' THEN next2 END FROM paths_ranked p WHERE p.uid = u.uid AND event = 'search'
        ORDER BY r DESC LIMIT 1) AS f_last2,
       (SELECT prev1 FROM paths_ranked p WHERE p.uid = u.uid AND event = 'buy' ORDER BY r DESC LIMIT 1) AS b_last,
       (SELECT next1 FROM paths_ranked p WHERE p.uid = u.uid AND r = 1 AND event = 'home') AS f_head,
       (SELECT prev1 FROM paths_ranked p WHERE p.uid = u.uid AND r = n AND event <> 'home') AS b_tail
FROM (SELECT DISTINCT uid FROM paths) u;
CREATE TEMP TABLE next_names AS
SELECT uid,
       sequence_next_node('forward', 'first_match', ts, event, event = 'search', ARRAY['search']) AS f_first,
       sequence_next_node('forward', 'last_match', ts, event, event = 'search', ARRAY['search', 'cart']) AS f_last2,
       sequence_next_node('backward', 'last_match', ts, event, event = 'buy', ARRAY['buy']) AS b_last,
       sequence_next_node('forward', 'head', ts, event, true, ARRAY['home']) AS f_head
FROM paths GROUP BY uid;
SELECT count(*) AS users, count(*) FILTER (WHERE n.f_first IS NOT DISTINCT FROM c.f_first
    AND n.f_last2 IS NOT DISTINCT FROM c.f_last2 AND n.b_last IS NOT DISTINCT FROM c.b_last
    AND n.f_head IS NOT DISTINCT FROM c.f_head) AS names_equal_conditions
FROM next_names n JOIN next_native c USING (uid);
SELECT count(*) AS users,
       count(*) FILTER (WHERE n.f_first IS NOT DISTINCT FROM p.f_first AND n.f_last2 IS NOT DISTINCT FROM p.f_last2
                          AND n.b_last IS NOT DISTINCT FROM p.b_last AND n.f_head IS NOT DISTINCT FROM p.f_head
                          AND n.b_tail IS NOT DISTINCT FROM p.b_tail) AS agree,
       count(n.f_first) > 100 AS answers_not_all_null
FROM next_native n JOIN next_plain p USING (uid);

-- Random data with ties and NULL events: the event-name forms equal the condition forms, and
-- sequence_match of (?1).*(?2) equals a plain-SQL formulation (ties: (?1) rows first).
CREATE TABLE seq_random AS
SELECT (random() * 2000)::int AS uid, (random() * 500)::bigint AS t,
       (ARRAY['a', 'b', 'c', NULL])[1 + (random() * 3.4)::int] AS event
FROM generate_series(1, 100000);
CREATE TEMP VIEW seq_per_user AS
SELECT uid,
       sequence_match('(?1).*(?2)', t, event = 'a', event = 'b') AS m,
       sequence_count('(?1)(?t<=20)(?2).(?3)', t, event = 'a', event = 'b', event = 'c') AS c,
       sequence_match_events('(?1)(?1).*(?t>=10)(?t<50)(?2)(?3)', t, event = 'a', event = 'b', event = 'c') AS e
FROM seq_random GROUP BY uid;
CREATE TEMP TABLE seq_conditions AS SELECT * FROM seq_per_user;
CREATE TEMP TABLE seq_names AS
SELECT uid,
       sequence_match('(?1).*(?2)', t, event, ARRAY['a', 'b']) AS m,
       sequence_count('(?1)(?t<=20)(?2).(?3)', t, event, ARRAY['a', 'b', 'c']) AS c,
       sequence_match_events('(?1)(?1).*(?t>=10)(?t<50)(?2)(?3)', t, event, ARRAY['a', 'b', 'c']) AS e
FROM seq_random GROUP BY uid;
SELECT count(*) AS users, count(*) FILTER (WHERE c.m = n.m AND c.c = n.c AND c.e = n.e) AS names_equal,
       count(*) FILTER (WHERE c.m = coalesce(p.first_a <= p.last_b, false)) AS plain_equal,
       sum(c.c) > 0 AND count(*) FILTER (WHERE cardinality(c.e) = 4) > 0 AS not_trivial
FROM seq_conditions c JOIN seq_names n USING (uid)
JOIN (SELECT uid, min(t) FILTER (WHERE event = 'a') AS first_a, max(t) FILTER (WHERE event = 'b') AS last_b
      FROM seq_random GROUP BY uid) p USING (uid);

-- Several patterns in one query (more than the four a call site keeps parsed): each equals the
-- same pattern alone.
CREATE TEMP VIEW seq_patterns AS
SELECT p, count(*) FILTER (WHERE m) AS users, sum(c) AS matches
FROM (SELECT p, uid, sequence_match(p, t, event, ARRAY['a', 'b', 'c']) AS m,
             sequence_count(p, t, event, ARRAY['a', 'b', 'c']) AS c
      FROM seq_random, unnest(ARRAY['(?1)(?2)', '(?1).*(?3)', '(?2)(?t<=5)(?3)', '(?3).(?1)', '(?1)(?1)', '(?2).*(?t>100)(?2)']) p
      GROUP BY p, uid) s
GROUP BY p;
CREATE TEMP TABLE seq_patterns_serial AS SELECT * FROM seq_patterns;
SELECT count(*) AS patterns,
       count(*) FILTER (WHERE (t.users, t.matches) = (SELECT count(*) FILTER (WHERE m), sum(c)
                        FROM (SELECT uid, sequence_match(t.p, s.t, event, ARRAY['a', 'b', 'c']) AS m,
                                     sequence_count(t.p, s.t, event, ARRAY['a', 'b', 'c']) AS c
                              FROM seq_random s GROUP BY uid) x)) AS equal_alone
FROM seq_patterns_serial t;

-- Forced parallel plans give the serial answers.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT * FROM seq_per_user;
CREATE TEMP TABLE seq_parallel AS SELECT * FROM seq_per_user;
EXPLAIN (COSTS OFF) SELECT * FROM next_per_user;
CREATE TEMP TABLE next_parallel AS SELECT * FROM next_per_user;
CREATE TEMP TABLE seq_patterns_parallel AS SELECT * FROM seq_patterns;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT count(*) AS users, count(*) FILTER (WHERE s.m = p.m AND s.c = p.c AND s.e = p.e) AS parallel_equal
FROM seq_conditions s JOIN seq_parallel p USING (uid);
SELECT count(*) AS users, count(*) FILTER (WHERE (s.*)::text = (p.*)::text) AS parallel_equal
FROM next_native s JOIN next_parallel p USING (uid);
SELECT count(*) AS patterns, count(*) FILTER (WHERE (s.*)::text = (p.*)::text) AS parallel_equal
FROM seq_patterns_serial s JOIN seq_patterns_parallel p USING (p);

-- An adversarial pattern over one user's 300 000 rows: the automaton reads each row once.
SELECT sequence_match(repeat('(?1).*(?2).*', 20) || '(?3)', t, t % 2 = 0, t % 2 = 1, false) AS never,
       cardinality(sequence_match_events(repeat('(?1).*(?2).*', 20) || '(?3)', t, t % 2 = 0, t % 2 = 1, false)) AS longest_start,
       sequence_count('(?1)(?t<=1)(?2)', t, t % 2 = 0, t % 2 = 1) AS pairs
FROM generate_series(0::bigint, 299999) t;
