-- Every SQLSTATE we promise for bad input, and that the backend survives each error.
-- The error's hint, when it has one, follows the message.
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (hint: ' || nullif(hint, '') || ')', '');
END $$;

-- retention
SELECT pg_temp.error_of($$SELECT retention(VARIADIC NULL::boolean[])$$);
SELECT pg_temp.error_of($$SELECT retention(VARIADIC '{}'::boolean[])$$);
SELECT pg_temp.error_of($$SELECT retention(VARIADIC array_fill(true, ARRAY[65]))$$);
SELECT pg_temp.error_of($$SELECT retention(VARIADIC array_fill(true, ARRAY[1000000]))$$);
SELECT pg_temp.error_of($$SELECT retention(VARIADIC '{{t,f},{t,t}}'::boolean[])$$);
SELECT pg_temp.error_of($$SELECT retention(VARIADIC CASE WHEN x = 1 THEN '{t,t}'::boolean[] ELSE '{t}' END)
                          FROM (VALUES (1), (2)) t(x)$$);
-- The error is raised for the offending group only when it is reached.
SELECT pg_temp.error_of($$SELECT g, retention(VARIADIC CASE WHEN g = 2 THEN '{}'::boolean[] ELSE '{t}' END)
                          FROM (VALUES (1), (2)) t(g) GROUP BY g$$);

-- Support functions take or return internal, so SQL cannot call them with a forged state
-- (corrupt serialized states, XX001, are covered by the unit tests).
-- (The message differs between PostgreSQL minor versions: only the rejection is compared.)
SELECT pg_temp.error_of($$SELECT retention_transfn(NULL::internal, ARRAY[true])$$) <> 'no error' AS rejected;

-- The backend is still alive and the function still works.
SELECT retention(x = 1, x = 2) FROM (VALUES (1), (2)) t(x);

-- window_funnel / window_funnel_events
SELECT pg_temp.error_of($$SELECT window_funnel(NULL::interval, now(), true)$$);
SELECT pg_temp.error_of($$SELECT window_funnel(NULL::bigint, 1::bigint, true)$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 day', NULL::text, now(), true)$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 day', now(), VARIADIC NULL::boolean[])$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 month', now(), true)$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 year 2 days', now(), true)$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '-1 hour', now(), true)$$);
SELECT pg_temp.error_of($$SELECT window_funnel(-5::bigint, 1::bigint, true)$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 day', 'strict', now(), true)$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 day', 'strict_order,', now(), true)$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 day', 'allow_reentry', now(), true)$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 day', now(), VARIADIC '{}'::boolean[])$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 day', now(), VARIADIC array_fill(true, ARRAY[65]))$$);
SELECT pg_temp.error_of($$SELECT window_funnel_events(interval '1 day', now(), VARIADIC array_fill(true, ARRAY[65]))$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 day', now(), VARIADIC '{{t},{t}}'::boolean[])$$);
-- A parameter that changes within a group.
SELECT pg_temp.error_of($$SELECT window_funnel(x * interval '1 day', now(), true) FROM generate_series(1, 2) x$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 day', CASE WHEN x = 1 THEN '' ELSE 'strict_order' END, now(), true)
                          FROM generate_series(1, 2) x$$);
SELECT pg_temp.error_of($$SELECT window_funnel(interval '1 day', now(), VARIADIC array_fill(true, ARRAY[x]))
                          FROM generate_series(1, 2) x$$);
-- The limits hold at 64 steps and a zero window.
SELECT window_funnel(interval '0', now(), VARIADIC array_fill(true, ARRAY[64])) AS level_64;
-- Still alive.
SELECT window_funnel(interval '1 day', now(), true, true);

-- sessions
SELECT pg_temp.error_of($$SELECT session_number(ts, NULL::interval) OVER (ORDER BY ts) FROM (VALUES (now())) t(ts)$$);
SELECT pg_temp.error_of($$SELECT session_number(ts, NULL::bigint) OVER (ORDER BY ts) FROM (VALUES (1::bigint)) t(ts)$$);
SELECT pg_temp.error_of($$SELECT session_number(ts, interval '-1 minute') OVER (ORDER BY ts) FROM (VALUES (now())) t(ts)$$);
SELECT pg_temp.error_of($$SELECT session_number(ts, interval '1 month') OVER (ORDER BY ts) FROM (VALUES (now())) t(ts)$$);
SELECT pg_temp.error_of($$SELECT session_start(ts, interval '1 hour', max_length => interval '0') OVER (ORDER BY ts)
                          FROM (VALUES (now())) t(ts)$$);
SELECT pg_temp.error_of($$SELECT session_number(ts, interval '1 hour', midnight_in => 'Mars/Olympus') OVER (ORDER BY ts)
                          FROM (VALUES (now())) t(ts)$$);
-- The window must be ordered by the timestamp.
SELECT pg_temp.error_of($$SELECT session_number(ts, 10::bigint) OVER (ORDER BY ts DESC)
                          FROM (VALUES (1::bigint), (2)) t(ts)$$);
SELECT pg_temp.error_of($$SELECT session_number(ts, 10::bigint) OVER () FROM (VALUES (2::bigint), (1)) t(ts)$$);
-- A parameter that changes within a partition.
SELECT pg_temp.error_of($$SELECT session_number(ts, ts) OVER (ORDER BY ts) FROM (VALUES (1::bigint), (2)) t(ts)$$);
-- A type without equality.
SELECT pg_temp.error_of($$SELECT conditional_change_event(p) OVER (ORDER BY i)
                          FROM (VALUES (1, point(1, 1)), (2, point(1, 2))) t(i, p)$$);
-- Still alive.
SELECT session_number(1::bigint, 1::bigint) OVER ();
-- session_stats
SELECT pg_temp.error_of($$SELECT session_stats(now(), NULL::interval)$$);
SELECT pg_temp.error_of($$SELECT session_stats(now(), interval '-1 second')$$);
SELECT pg_temp.error_of($$SELECT session_stats(now(), interval '1 hour', false, interval '-1 hour')$$);
SELECT pg_temp.error_of($$SELECT session_stats(now(), interval '1 hour', false, NULL, 'Nowhere/Town')$$);
SELECT pg_temp.error_of($$SELECT session_stats(ts, ts) FROM (VALUES (1::bigint), (2)) t(ts)$$);
-- min_by / max_by
SELECT pg_temp.error_of($$SELECT min_by(v, k) FROM (VALUES (1, point(1, 1))) t(v, k)$$);
SELECT pg_temp.error_of($$SELECT max_by(v, k) FROM (VALUES (1, '{"a": 1}'::json)) t(v, k)$$);
-- period_index / cohort_period
SELECT pg_temp.error_of($$SELECT period_index(now(), now(), 'fortnight')$$);
SELECT pg_temp.error_of($$SELECT period_index(now(), now(), NULL::text)$$);
SELECT pg_temp.error_of($$SELECT period_index(now(), now(), 'day', 'Moon/Base')$$);
SELECT pg_temp.error_of($$SELECT period_index(now(), now(), interval '1 month')$$);
SELECT pg_temp.error_of($$SELECT period_index(now(), now(), interval '0')$$);
SELECT pg_temp.error_of($$SELECT period_index(now(), now() - interval '100 years', interval '1 microsecond')$$);
SELECT pg_temp.error_of($$SELECT cohort_period(now(), NULL::text)$$);
SELECT pg_temp.error_of($$SELECT cohort_period(now(), 'decade')$$);
SELECT pg_temp.error_of($$SELECT cohort_period(now(), CASE WHEN x = 1 THEN 'day' ELSE 'week' END)
                          FROM generate_series(1, 2) x$$);
-- period_retention
SELECT pg_temp.error_of($$SELECT period_retention(now(), 'fortnight', 3)$$);
SELECT pg_temp.error_of($$SELECT period_retention(now(), NULL::text, 3)$$);
SELECT pg_temp.error_of($$SELECT period_retention(now(), 'week', NULL)$$);
SELECT pg_temp.error_of($$SELECT period_retention(now(), 'week', -1)$$);
SELECT pg_temp.error_of($$SELECT period_retention(now(), 'week', 256)$$);
SELECT pg_temp.error_of($$SELECT period_retention(now(), 'week', 3, 'after')$$);
SELECT pg_temp.error_of($$SELECT period_retention(now(), interval '1 month', 3)$$);
SELECT pg_temp.error_of($$SELECT period_retention(now(), interval '0', 3)$$);
SELECT pg_temp.error_of($$SELECT period_retention(now(), 'week', 3, 'on', true, true, 'Nowhere/Land')$$);
-- cohort_retention: period_retention's errors through its own transition functions; an infinite
-- first start has no cohort period (22008).
SELECT pg_temp.error_of($$SELECT cohort_retention(now(), NULL::text, 3)$$);
SELECT pg_temp.error_of($$SELECT cohort_retention(now(), 'week', -1)$$);
SELECT pg_temp.error_of($$SELECT cohort_retention(now(), 'week', 3, 'after')$$);
SELECT pg_temp.error_of($$SELECT cohort_retention(now(), interval '1 month', 3)$$);
SELECT pg_temp.error_of($$SELECT cohort_retention(now(), 'week', 3, 'on', true, true, 'Nowhere/Land')$$);
SELECT pg_temp.error_of($$SELECT cohort_retention('infinity'::timestamptz, 'week', 3, 'on', true, true, 'UTC')$$);
SELECT pg_temp.error_of($$SELECT cohort_retention(now(), 'week', 4, 'on', 'signup', NULL, ARRAY['buy'])$$);
-- The event-name forms: NULL array or name 22004, empty or 2-D array 22023, more than 64 names 54000.
SELECT pg_temp.error_of($$SELECT period_retention(now(), 'week', 4, 'on', 'signup', NULL, ARRAY['buy'])$$);
SELECT pg_temp.error_of($$SELECT period_retention(now(), 'week', 4, 'on', 'signup', ARRAY['signup'], ARRAY['buy', NULL])$$);
SELECT pg_temp.error_of($$SELECT period_retention(now(), 'week', 4, 'on', 'signup', '{}', ARRAY['buy'])$$);
SELECT pg_temp.error_of($$SELECT period_retention(now(), 'week', 4, 'on', 'signup', '{{a},{b}}', ARRAY['buy'])$$);
SELECT pg_temp.error_of($$SELECT period_retention(now(), 'week', 4, 'on', 'signup', ARRAY['signup'],
                                                  (SELECT array_agg(i::text) FROM generate_series(1, 65) i))$$);
SELECT pg_temp.error_of($$SELECT retention_report(1, now(), 'week', 4, 'on', 'signup', ARRAY['signup'], NULL)$$);
SELECT pg_temp.error_of($$SELECT cohort_period(now(), 'week', 'signup'::text, NULL)$$);
SELECT pg_temp.error_of($$SELECT cohort_period(now(), 'week', 'signup'::text, '{}')$$);
SELECT pg_temp.error_of($$SELECT period_retention(now(), 'week', x) FROM generate_series(1, 2) x$$);
SELECT array_length(period_retention(now(), 'day', 255), 1) AS limit_255;
-- lifecycle
SELECT pg_temp.error_of($$SELECT lifecycle(now(), 'week', now(), 0)$$);
SELECT pg_temp.error_of($$SELECT lifecycle(now(), 'week', now(), 256)$$);
SELECT pg_temp.error_of($$SELECT lifecycle(now(), 'week', NULL, 3)$$);
SELECT pg_temp.error_of($$SELECT lifecycle(now(), 'eon', now(), 3)$$);
SELECT pg_temp.error_of($$SELECT lifecycle(now(), 'week', now() + x * interval '7 days', 3) FROM generate_series(1, 2) x$$);
-- active_periods
SELECT pg_temp.error_of($$SELECT active_periods(now(), NULL::text)$$);
SELECT pg_temp.error_of($$SELECT active_periods(now(), 'hour')$$);
SELECT pg_temp.error_of($$SELECT active_periods(now(), 'day', 'Mars/Base')$$);
