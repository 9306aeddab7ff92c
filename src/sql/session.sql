-- Sessionization window functions   (docs/session.md)

-- The parallel-support functions of every aggregate of the family, one declaration pattern
-- (the C side: PPA_STATE_SUPPORT_FUNCTIONS).
-- @for agg in ["session_stats", "session_report"]
CREATE FUNCTION {{agg}}_combinefn(state1 internal, state2 internal)
RETURNS internal AS 'MODULE_PATHNAME', '{{agg}}_combinefn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{agg}}_combinefn(internal, internal) IS 'combine function of {{agg}}';
CREATE FUNCTION {{agg}}_serialfn(state internal)
RETURNS bytea AS 'MODULE_PATHNAME', '{{agg}}_serialfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{agg}}_serialfn(internal) IS 'serialization function of {{agg}}';
CREATE FUNCTION {{agg}}_deserialfn(bytes bytea, unused internal)
RETURNS internal AS 'MODULE_PATHNAME', '{{agg}}_deserialfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{agg}}_deserialfn(bytea, internal) IS 'deserialization function of {{agg}}';
-- @end

CREATE FUNCTION session_number(ts timestamptz, gap interval, boundary boolean DEFAULT false,
                               max_length interval DEFAULT NULL, midnight_in text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'session_number_tz'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION session_number(ts timestamp, gap interval, boundary boolean DEFAULT false,
                               max_length interval DEFAULT NULL, split_at_midnight boolean DEFAULT false)
RETURNS bigint AS 'MODULE_PATHNAME', 'session_number_ts'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION session_number(ts bigint, gap bigint, boundary boolean DEFAULT false, max_length bigint DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'session_number_int'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION session_number(timestamptz, interval, boolean, interval, text) IS
    '1-based session number of the row within its window partition (a new session after a gap greater than gap)';
COMMENT ON FUNCTION session_number(timestamp, interval, boolean, interval, boolean) IS
    '1-based session number of the row within its window partition (a new session after a gap greater than gap)';
COMMENT ON FUNCTION session_number(bigint, bigint, boolean, bigint) IS
    '1-based session number of the row within its window partition (a new session after a gap greater than gap)';

CREATE FUNCTION session_start(ts timestamptz, gap interval, boundary boolean DEFAULT false,
                              max_length interval DEFAULT NULL, midnight_in text DEFAULT NULL)
RETURNS timestamptz AS 'MODULE_PATHNAME', 'session_start_tz'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION session_start(ts timestamp, gap interval, boundary boolean DEFAULT false,
                              max_length interval DEFAULT NULL, split_at_midnight boolean DEFAULT false)
RETURNS timestamp AS 'MODULE_PATHNAME', 'session_start_ts'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION session_start(ts bigint, gap bigint, boundary boolean DEFAULT false, max_length bigint DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'session_start_int'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION session_start(timestamptz, interval, boolean, interval, text) IS
    'first timestamp of the row''s session: a session key stable when older or newer data changes';
COMMENT ON FUNCTION session_start(timestamp, interval, boolean, interval, boolean) IS
    'first timestamp of the row''s session: a session key stable when older or newer data changes';
COMMENT ON FUNCTION session_start(bigint, bigint, boolean, bigint) IS
    'first timestamp of the row''s session: a session key stable when older or newer data changes';

CREATE FUNCTION conditional_true_event(cond boolean)
RETURNS bigint AS 'MODULE_PATHNAME', 'conditional_true_event'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION conditional_true_event(boolean) IS
    'Snowflake/Vertica: starts at 0, plus one on every row so far where cond is true';

CREATE FUNCTION conditional_change_event(expr anyelement)
RETURNS bigint AS 'MODULE_PATHNAME', 'conditional_change_event'
LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION conditional_change_event(anyelement) IS
    'Snowflake/Vertica: starts at 0, plus one on every row whose expr differs from the previous row''s (NULL is no change)';

-- session_stats: per-user session statistics in one aggregate pass.
CREATE TYPE session_stats AS (
    sessions bigint,
    events bigint,
    bounces bigint,
    total_duration interval,
    mean_duration interval,
    longest_duration interval
);
COMMENT ON TYPE session_stats IS
    'result of session_stats: durations are last event - first event of each session; bounces are one-event sessions';
CREATE TYPE session_stats_int AS (
    sessions bigint,
    events bigint,
    bounces bigint,
    total_duration bigint,
    mean_duration double precision,
    longest_duration bigint
);
COMMENT ON TYPE session_stats_int IS 'result of session_stats over bigint time (durations in the unit of ts)';

CREATE FUNCTION session_stats_finalfn(state internal)
RETURNS session_stats AS 'MODULE_PATHNAME', 'session_stats_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION session_stats_finalfn(internal) IS 'final function of session_stats';
CREATE FUNCTION session_stats_int_finalfn(state internal)
RETURNS session_stats_int AS 'MODULE_PATHNAME', 'session_stats_int_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION session_stats_int_finalfn(internal) IS 'final function of session_stats (bigint time)';

-- Aggregates take no DEFAULT arguments: one overload per number of split rules given, for each
-- time type: (ts, gap[, boundary[, max_length[, midnight]]]).
-- @for suffix, finalfn, args in [("tz", "session_stats_finalfn", ["ts timestamptz", "gap interval", "boundary boolean", "max_length interval", "midnight_in text"]), ("ts", "session_stats_finalfn", ["ts timestamp", "gap interval", "boundary boolean", "max_length interval", "split_at_midnight boolean"]), ("int", "session_stats_int_finalfn", ["ts bigint", "gap bigint", "boundary boolean", "max_length bigint"])]
-- @for params in prefixes(args, 2)
CREATE FUNCTION session_stats_{{suffix}}_transfn(state internal, {{params}})
RETURNS internal AS 'MODULE_PATHNAME', 'session_stats_{{suffix}}_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION session_stats_{{suffix}}_transfn(state internal, {{params}}) IS 'transition function of session_stats';
CREATE AGGREGATE session_stats({{params}}) (
    SFUNC = session_stats_{{suffix}}_transfn,
    STYPE = internal,
    SSPACE = 512,
    FINALFUNC = {{finalfn}},
    COMBINEFUNC = session_stats_combinefn,
    SERIALFUNC = session_stats_serialfn,
    DESERIALFUNC = session_stats_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE session_stats({{params}}) IS
    'sessions, events, bounces and total, mean and longest session duration of a group, in one pass';
-- @end
-- @end

-- session_report: the sessions of every user in one aggregate, users grouped inside (docs/session.md).
-- @for name, length_type, what in [("session_report_row", "interval", "timestamps"), ("session_report_row_int", "bigint", "integer time")]
CREATE TYPE {{name}} AS (
    users bigint,
    sessions bigint,
    sessions_per_user double precision,
    bounce_rate double precision,
    mean_length {{length_type}},
    median_length {{length_type}},
    p90_length {{length_type}},
    users_with_1_session bigint,
    users_with_2_sessions bigint,
    users_with_3_to_5_sessions bigint,
    users_with_6_to_10_sessions bigint,
    users_with_11_or_more_sessions bigint
);
COMMENT ON TYPE {{name}} IS 'result of session_report ({{what}}): lengths are last event - first event of each session';
-- @end
CREATE FUNCTION session_report_finalfn(state internal)
RETURNS session_report_row AS 'MODULE_PATHNAME', 'session_report_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION session_report_finalfn(internal) IS 'final function of session_report';
CREATE FUNCTION session_report_int_finalfn(state internal)
RETURNS session_report_row_int AS 'MODULE_PATHNAME', 'session_report_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION session_report_int_finalfn(internal) IS 'final function of session_report (integer time)';

-- @for suffix, finalfn, args in [("tz", "session_report_finalfn", ["user_id anyelement", "ts timestamptz", "gap interval", "boundary boolean", "max_length interval", "midnight_in text"]), ("ts", "session_report_finalfn", ["user_id anyelement", "ts timestamp", "gap interval", "boundary boolean", "max_length interval", "split_at_midnight boolean"]), ("int", "session_report_int_finalfn", ["user_id anyelement", "ts bigint", "gap bigint", "boundary boolean", "max_length bigint"])]
-- @for params in prefixes(args, 3)
CREATE FUNCTION session_report_{{suffix}}_transfn(state internal, {{params}})
RETURNS internal AS 'MODULE_PATHNAME', 'session_report_{{suffix}}_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION session_report_{{suffix}}_transfn(state internal, {{params}}) IS 'transition function of session_report';
CREATE AGGREGATE session_report({{params}}) (
    SFUNC = session_report_{{suffix}}_transfn,
    STYPE = internal,
    SSPACE = 1048576,
    FINALFUNC = {{finalfn}},
    COMBINEFUNC = session_report_combinefn,
    SERIALFUNC = session_report_serialfn,
    DESERIALFUNC = session_report_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE session_report({{params}}) IS
    'users, sessions, sessions per user, bounce rate and session length (mean, median, p90) of every user, in one pass';
-- @end
-- @end

