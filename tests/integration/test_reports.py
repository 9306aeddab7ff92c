#!/usr/bin/env python3
"""Report aggregates read through psycopg2 with bound parameters, as Superset does.

Every parameter is sent by psycopg2 as a literal it quotes (text for strings), so the queries
cast what must be typed: the window as %s::interval. Each report is compared with the per-user
aggregate + plain SQL formulation of the same report. TEST_PG_CONNINFO names the database.
Prints one line per check and a last line "N passed, N failed".
"""
import os
import sys

import datetime
import psycopg2

conn = psycopg2.connect(os.environ["TEST_PG_CONNINFO"])
conn.autocommit = True
cur = conn.cursor()
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok      {name}")
    else:
        failed += 1
        print(f"FAILED  {name} {detail}")


cur.execute("DROP TABLE IF EXISTS report_events")
cur.execute("""
    CREATE TABLE report_events AS
    SELECT (i % 997)::bigint AS user_id, md5((i % 997)::text) AS distinct_id,
           timestamptz '2024-01-01' + (i * 37 % 100000) * interval '1 minute' AS ts,
           (ARRAY['view', 'signup', 'buy'])[1 + i % 3] AS event
    FROM generate_series(1, 30000) i
""")

funnel = """
    SELECT step, users, conversion_from_first, median_time_from_previous
    FROM unnest((SELECT funnel_report({user}, %s::interval, %s, ts, event = %s, event = %s, event = %s)
                 FROM report_events)) r
    ORDER BY step
"""
per_user = """
    SELECT k, count(*) FILTER (WHERE level >= k)
    FROM (SELECT user_id, window_funnel(%s::interval, %s, ts, event = %s, event = %s, event = %s) AS level
          FROM report_events GROUP BY user_id) s, generate_series(1, 3) k
    GROUP BY k ORDER BY k
"""
params = ("2 days", "strict_order", "view", "signup", "buy")
cur.execute(per_user, params)
expected = cur.fetchall()
for user in ("user_id", "distinct_id"):
    cur.execute(funnel.format(user=user), params)
    rows = cur.fetchall()
    check(f"funnel_report by {user}: users per step", [(r[0], r[1]) for r in rows] == expected, (rows, expected))
    check(f"funnel_report by {user}: types", isinstance(rows[0][1], int) and isinstance(rows[1][2], float)
          and rows[0][3] is None and rows[1][3] is not None, rows)

# DAU / WAU per day with the zone and the windows bound (a Python list becomes an integer array).
cur.execute("""
    SELECT period_start, window_periods, users
    FROM unnest((SELECT active_users_report(user_id, ts, %s, %s, %s) FROM report_events))
    ORDER BY 1, 2
""", ("day", [1, 7], "Asia/Kolkata"))
report = cur.fetchall()
cur.execute("""
    WITH days AS (SELECT DISTINCT user_id, (ts AT TIME ZONE %s)::date AS d FROM report_events),
         calendar AS (SELECT generate_series(min(d), max(d), interval '1 day')::date AS day FROM days)
    SELECT c.day::timestamp AT TIME ZONE %s, w, count(DISTINCT a.user_id)
    FROM calendar c CROSS JOIN unnest(%s::int[]) w LEFT JOIN days a ON a.d > c.day - w AND a.d <= c.day
    GROUP BY 1, 2 ORDER BY 1, 2
""", ("Asia/Kolkata", "Asia/Kolkata", [1, 7]))
check("active_users_report: users per day and window", report == cur.fetchall() and len(report) > 100,
      report[:4])
check("active_users_report: types", all(isinstance(r[2], int) for r in report) and report[0][0].tzinfo is not None)

# Lifecycle and session reports with bound parameters, against their per-user aggregates.
cur.execute("""
    SELECT new_users, returning_users, resurrecting_users, dormant_users
    FROM unnest((SELECT lifecycle_report(distinct_id, ts, %s, %s::timestamptz, %s, %s) FROM report_events))
""", ("day", "2024-01-10", 20, "UTC"))
report = cur.fetchall()
cur.execute("""
    SELECT count(*) FILTER (WHERE s[k] = 'new'), count(*) FILTER (WHERE s[k] = 'returning'),
           count(*) FILTER (WHERE s[k] = 'resurrecting'), count(*) FILTER (WHERE s[k] = 'dormant')
    FROM (SELECT user_id, lifecycle(ts, %s, %s::timestamptz, %s, %s) AS s FROM report_events GROUP BY user_id) u,
         generate_series(1, 20) k
    GROUP BY k ORDER BY k
""", ("day", "2024-01-10", 20, "UTC"))
check("lifecycle_report: statuses per period", report == cur.fetchall() and len(report) == 20, report[:3])
cur.execute("SELECT users, sessions, median_length FROM "
            "(SELECT (session_report(user_id, ts, %s::interval)).* FROM report_events) r", ("2 hours",))
users, sessions, median = cur.fetchone()
cur.execute("SELECT count(*), sum((s).sessions) FROM "
            "(SELECT user_id, session_stats(ts, %s::interval) AS s FROM report_events GROUP BY user_id) u", ("2 hours",))
check("session_report: users and sessions", (users, sessions) == tuple(int(x) for x in cur.fetchone())
      and median is not None, (users, sessions))

# The event-name form with the names bound as a list (psycopg2 sends ARRAY['view', ...]).
cur.execute("""
    SELECT step, users FROM unnest((SELECT funnel_report(user_id, %s::interval, %s, ts, event, %s)
                                    FROM report_events)) ORDER BY step
""", ("2 days", "strict_order", ["view", "signup", "buy"]))
check("funnel_report: step names bound as a list", cur.fetchall() == expected, expected)

# The cohort triangle with the mode, zone and as-of time bound.
cur.execute("""
    SELECT cohort_start, period, cohort_users, retained_users
    FROM unnest((SELECT retention_report(distinct_id, ts, %s, %s, %s, event = %s, true, %s, %s::timestamptz)
                 FROM report_events))
    ORDER BY 1, 2
""", ("day", 5, "on", "signup", "UTC", "2024-02-01"))
report = cur.fetchall()
cur.execute("""
    WITH u AS (SELECT user_id, cohort_period(ts, %s, event = %s, %s) AS c,
                      period_retention(ts, %s, %s, %s, event = %s, true, %s, %s::timestamptz) AS r
               FROM report_events GROUP BY user_id)
    SELECT c, k - 1, count(*), sum(r[k]) FROM u, generate_series(1, 6) k WHERE c IS NOT NULL
    GROUP BY 1, 2 ORDER BY 1, 2
""", ("day", "signup", "UTC", "day", 5, "on", "signup", "UTC", "2024-02-01"))
check("retention_report: the triangle's cells", report == cur.fetchall() and len(report) > 6, report[:3])

# Rolling periods bound as text (how Superset sends an interval) and a revenue value: cohorts
# are the days of the first signups; the value of the cohort's buys per period after it.
cur.execute("""
    SELECT cohort_start, period, cohort_users, retained_users, value
    FROM unnest((SELECT retention_report(user_id, ts, %s, %s, %s, event = %s, true, %s, NULL::timestamptz,
                                         CASE WHEN event = %s THEN (user_id %% 10)::float8 END)
                 FROM report_events))
    ORDER BY 1, 2
""", ("2 days", 3, "on", "signup", "UTC", "buy"))
report = cur.fetchall()
cur.execute("""
    WITH u AS (SELECT user_id, min(ts) FILTER (WHERE event = %s) AS first,
                      date_trunc('day', min(ts) FILTER (WHERE event = %s), %s) AS c,
                      period_retention(ts, %s::interval, %s, %s, event = %s, true) AS r
               FROM report_events GROUP BY user_id),
         v AS (SELECT c, period_index(e.ts, u.first, %s::interval) AS k, sum((e.user_id %% 10)::float8) AS value
               FROM u JOIN report_events e USING (user_id) WHERE e.event = %s AND e.ts >= u.first GROUP BY 1, 2),
         cells AS (SELECT c, k - 1 AS k, count(*) AS users, sum(r[k]) AS retained
                   FROM u, generate_series(1, 4) k WHERE c IS NOT NULL GROUP BY 1, 2)
    SELECT c, k, users, retained, coalesce(v.value, 0) FROM cells LEFT JOIN v USING (c, k) ORDER BY 1, 2
""", ("signup", "signup", "UTC", "2 days", 3, "on", "signup", "2 days", "buy"))
check("retention_report: rolling periods bound as text, with a value", report == cur.fetchall() and len(report) > 6
      and any(r[4] > 0 for r in report), report[:3])

# A bad bound mode is the documented error.
try:
    cur.execute(funnel.format(user="user_id"), ("2 days", "strict_everything", "view", "signup", "buy"))
    check("bad mode through a bound parameter", False, "no error")
except psycopg2.Error as e:
    check("bad mode through a bound parameter", e.pgcode == "22023", e.pgcode)

# Sequences through psycopg: the pattern and the names bound, list -> text[]; typed results
# (bool, int, a list of aware datetimes, str); the same answers as the condition form.
cur.execute("""
    SELECT user_id, sequence_match(%s, ts, event, %s), sequence_count(%s, ts, event, %s),
           sequence_match_events(%s, ts, event, %s),
           sequence_next_node('forward', 'first_match', ts, event, event = %s, event = %s)
    FROM report_events GROUP BY user_id ORDER BY user_id
""", ("(?1).*(?t<=86400)(?2)", ["signup", "buy"], "(?1).*(?2)", ["view", "buy"], "(?1)(?2)", ["view", "signup"],
      "signup", "signup"))
seq = cur.fetchall()
cur.execute("""
    SELECT user_id, sequence_match('(?1).*(?t<=86400)(?2)', ts, event = 'signup', event = 'buy'),
           sequence_count('(?1).*(?2)', ts, event = 'view', event = 'buy'),
           sequence_match_events('(?1)(?2)', ts, event = 'view', event = 'signup'),
           sequence_next_node('forward', 'first_match', ts, event, event = 'signup', event = 'signup')
    FROM report_events GROUP BY user_id ORDER BY user_id
""")
check("sequences: bound pattern and names equal the condition form", seq == cur.fetchall() and len(seq) == 997, seq[:2])
check("sequences: types", isinstance(seq[0][1], bool) and isinstance(seq[0][2], int)
      and all(t.tzinfo is not None for t in seq[0][3]) and any(isinstance(r[4], str) for r in seq)
      and any(r[1] for r in seq) and any(r[2] > 1 for r in seq), seq[:2])
try:
    cur.execute("SELECT sequence_match(%s, ts, event, %s) FROM report_events", ("(?1)(?t<)", ["view"]))
    check("bad pattern through a bound parameter", False, "no error")
except psycopg2.Error as e:
    check("bad pattern through a bound parameter", e.pgcode == "22023" and "position 9" in str(e), str(e))

# Funnel options through psycopg: every option bound (str -> interval, list -> text[] / interval[] /
# integer[]); the levels equal the per-user condition form; the reports' types.
options = """funnel_options("window" => %s::interval, step_windows => %s::interval[], exclude => %s::text[],
                            exclude_from => %s::int[], exclude_to => %s::int[], exclusion_rule => %s)"""
option_params = ("3 days", ["1 day", None], ["buy"], [1], [2], "exclude_user")
cur.execute(f"""
    SELECT user_id, window_funnel({options}, ts, event, %s) FROM report_events GROUP BY user_id ORDER BY user_id
""", option_params + (["view", "signup", "buy"],))
named = cur.fetchall()
cur.execute(f"""
    SELECT user_id, window_funnel({options}, ts, event = 'view', event = 'signup', event = 'buy', event = 'buy')
    FROM report_events GROUP BY user_id ORDER BY user_id
""", option_params[:2] + (None,) + option_params[3:])
check("funnel options: bound names equal the condition form", named == cur.fetchall() and len(named) == 997
      and any(r[1] >= 2 for r in named), named[:3])
cur.execute(f"""
    SELECT breakdown, step, users, conversion_from_first, median_time_from_previous, p_value, probability_better
    FROM unnest((SELECT funnel_breakdown(user_id, funnel_options("window" => %s::interval, control => %s),
                                         ts, CASE WHEN user_id %% 2 = 0 THEN 'a' ELSE 'b' END, event, %s)
                 FROM report_events WHERE NOT (event = 'buy' AND user_id %% 5 = 0 AND user_id %% 3 <> 0)))
""", ("30 days", "a", ["view", "signup", "buy"]))
breakdown = cur.fetchall()
check("funnel_breakdown: rows and types", len(breakdown) == 6 and breakdown[0][0] == "a" and breakdown[3][0] == "b"
      and isinstance(breakdown[1][2], int) and isinstance(breakdown[1][3], float)
      and isinstance(breakdown[1][4], datetime.timedelta) and breakdown[1][5] is None
      and isinstance(breakdown[5][5], float) and 0 <= breakdown[5][6] <= 1, breakdown)
cur.execute("SELECT * FROM conversion_significance(%s, %s, %s, %s)", (1000, 100, 1000, 130))
significance = cur.fetchone()
check("conversion_significance: floats from bound counts", abs(significance[5] - 0.0354884505) < 1e-9
      and abs(significance[2] - 0.03) < 1e-12, significance)
cur.execute("""
    SELECT period_start, entered, converted
    FROM unnest((SELECT funnel_trend(user_id, funnel_options("window" => %s::interval), %s, %s, ts, event, %s)
                 FROM report_events))
""", ("3 days", "month", "Europe/Berlin", ["view", "signup", "buy"]))
trend = cur.fetchall()
check("funnel_trend: aware month starts in the zone", len(trend) >= 2 and all(t[0].tzinfo is not None for t in trend)
      and all(t[0].astimezone(datetime.timezone(datetime.timedelta(hours=1))).day == 1 or
              t[0].astimezone(datetime.timezone(datetime.timedelta(hours=2))).day == 1 for t in trend)
      and sum(t[1] for t in trend) > 0, trend)
try:
    cur.execute("SELECT window_funnel(funnel_options(step_order => %s), ts, event, %s) FROM report_events",
                ("sideways", ["view"]))
    check("bad step_order through a bound parameter", False, "no error")
except psycopg2.Error as e:
    check("bad step_order through a bound parameter", e.pgcode == "22023", e.pgcode)

cur.execute("DROP TABLE report_events")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
