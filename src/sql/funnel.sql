-- window_funnel and window_funnel_events   (docs/funnel.md)
-- One state for both; timestamptz, timestamp and bigint time; with and without a mode.

-- The parallel-support functions of every aggregate of the family, one declaration pattern
-- (the C side: PPA_STATE_SUPPORT_FUNCTIONS).
-- @for agg in ["window_funnel", "funnel_report"]
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

CREATE FUNCTION window_funnel_transfn(state internal, "window" interval, ts timestamptz, steps boolean[])
RETURNS internal AS 'MODULE_PATHNAME', 'window_funnel_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION window_funnel_transfn(state internal, "window" interval, mode text, ts timestamptz, steps boolean[])
RETURNS internal AS 'MODULE_PATHNAME', 'window_funnel_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION window_funnel_transfn(state internal, "window" interval, ts timestamp, steps boolean[])
RETURNS internal AS 'MODULE_PATHNAME', 'window_funnel_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION window_funnel_transfn(state internal, "window" interval, mode text, ts timestamp, steps boolean[])
RETURNS internal AS 'MODULE_PATHNAME', 'window_funnel_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION window_funnel_transfn(state internal, "window" bigint, ts bigint, steps boolean[])
RETURNS internal AS 'MODULE_PATHNAME', 'window_funnel_int_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION window_funnel_transfn(state internal, "window" bigint, mode text, ts bigint, steps boolean[])
RETURNS internal AS 'MODULE_PATHNAME', 'window_funnel_int_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION window_funnel_transfn(internal, interval, timestamptz, boolean[]) IS 'transition function of window_funnel';
COMMENT ON FUNCTION window_funnel_transfn(internal, interval, text, timestamptz, boolean[]) IS 'transition function of window_funnel';
COMMENT ON FUNCTION window_funnel_transfn(internal, interval, timestamp, boolean[]) IS 'transition function of window_funnel';
COMMENT ON FUNCTION window_funnel_transfn(internal, interval, text, timestamp, boolean[]) IS 'transition function of window_funnel';
COMMENT ON FUNCTION window_funnel_transfn(internal, bigint, bigint, boolean[]) IS 'transition function of window_funnel';
COMMENT ON FUNCTION window_funnel_transfn(internal, bigint, text, bigint, boolean[]) IS 'transition function of window_funnel';

CREATE FUNCTION window_funnel_finalfn(state internal)
RETURNS integer AS 'MODULE_PATHNAME', 'window_funnel_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION window_funnel_finalfn(internal) IS 'final function of window_funnel';

-- One final function per result type of window_funnel_events (same C function).
CREATE FUNCTION window_funnel_events_tz_finalfn(state internal)
RETURNS timestamptz[] AS 'MODULE_PATHNAME', 'window_funnel_events_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION window_funnel_events_ts_finalfn(state internal)
RETURNS timestamp[] AS 'MODULE_PATHNAME', 'window_funnel_events_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION window_funnel_events_int_finalfn(state internal)
RETURNS bigint[] AS 'MODULE_PATHNAME', 'window_funnel_events_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION window_funnel_events_tz_finalfn(internal) IS 'final function of window_funnel_events (timestamptz)';
COMMENT ON FUNCTION window_funnel_events_ts_finalfn(internal) IS 'final function of window_funnel_events (timestamp)';
COMMENT ON FUNCTION window_funnel_events_int_finalfn(internal) IS 'final function of window_funnel_events (bigint)';

-- The event-name forms' transition function: (..., ts, event text, steps text[]): step i is the
-- rows whose event is steps[i], matched inside (one text argument per row instead of N conditions).
-- @for ts_type, window_type, symbol in [("timestamptz", "interval", "window_funnel_names_transfn"), ("timestamp", "interval", "window_funnel_names_transfn"), ("bigint", "bigint", "window_funnel_names_int_transfn")]
-- @for mode in ["", "mode text, "]
-- @let params = f'"window" {window_type}, {mode}ts {ts_type}, event text, steps text[]'
CREATE FUNCTION window_funnel_names_transfn(state internal, {{params}})
RETURNS internal AS 'MODULE_PATHNAME', '{{symbol}}'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION window_funnel_names_transfn(state internal, {{params}}) IS 'transition function of window_funnel (event names)';
-- @end
-- @end

-- The twenty-four aggregates: {window_funnel, window_funnel_events} x {timestamptz, timestamp,
-- bigint} x {without, with mode} x {conditions, event names}. SSPACE: a typical group keeps a few
-- dozen rows of 16 bytes; without it the planner assumes 8 kB per state and hash aggregation
-- spills early.
-- @for ts_type, window_type, suffix in [("timestamptz", "interval", "tz"), ("timestamp", "interval", "ts"), ("bigint", "bigint", "int")]
-- @for mode in ["", "mode text, "]
-- @for steps, sfunc, named in [("VARIADIC steps boolean[]", "window_funnel_transfn", ""), ("event text, steps text[]", "window_funnel_names_transfn", ", steps named by event")]
-- @let params = f'"window" {window_type}, {mode}ts {ts_type}, {steps}'
CREATE AGGREGATE window_funnel({{params}}) (
    SFUNC = {{sfunc}},
    STYPE = internal,
    SSPACE = 512,
    FINALFUNC = window_funnel_finalfn,
    COMBINEFUNC = window_funnel_combinefn,
    SERIALFUNC = window_funnel_serialfn,
    DESERIALFUNC = window_funnel_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE window_funnel({{params}}) IS 'deepest step reached by a chain of steps within the window{{named}}';
CREATE AGGREGATE window_funnel_events({{params}}) (
    SFUNC = {{sfunc}},
    STYPE = internal,
    SSPACE = 512,
    FINALFUNC = window_funnel_events_{{suffix}}_finalfn,
    COMBINEFUNC = window_funnel_combinefn,
    SERIALFUNC = window_funnel_serialfn,
    DESERIALFUNC = window_funnel_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE window_funnel_events({{params}}) IS
    'timestamps of the steps of the chain that reached the deepest step{{named}}';
-- @end
-- @end
-- @end

-- funnel_report: the funnel of every user of a group in one aggregate, one element per step
-- (docs/funnel.md). The user id is any type: by-value types (smallint, integer, bigint) compare
-- as integers, others (uuid, text) by their bytes.
CREATE TYPE funnel_report_step AS (
    step integer,
    users bigint,
    conversion_from_first double precision,
    conversion_from_previous double precision,
    median_time_from_previous interval,
    p90_time_from_previous interval
);
COMMENT ON TYPE funnel_report_step IS
    'one step of funnel_report: users reaching at least the step, conversion, time from the previous step';
CREATE TYPE funnel_report_step_int AS (
    step integer,
    users bigint,
    conversion_from_first double precision,
    conversion_from_previous double precision,
    median_time_from_previous bigint,
    p90_time_from_previous bigint
);
COMMENT ON TYPE funnel_report_step_int IS 'one step of funnel_report over integer time (times in the unit of ts)';

CREATE FUNCTION funnel_report_finalfn(state internal)
RETURNS funnel_report_step[] AS 'MODULE_PATHNAME', 'funnel_report_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION funnel_report_finalfn(internal) IS 'final function of funnel_report';
CREATE FUNCTION funnel_report_int_finalfn(state internal)
RETURNS funnel_report_step_int[] AS 'MODULE_PATHNAME', 'funnel_report_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION funnel_report_int_finalfn(internal) IS 'final function of funnel_report (integer time)';

-- SSPACE: the state of a whole report (users and their rows), far above one group's row. The
-- condition and event-name forms, as window_funnel's.
-- @for ts_type, window_type, int, finalfn in [("timestamptz", "interval", "", "funnel_report_finalfn"), ("timestamp", "interval", "", "funnel_report_finalfn"), ("bigint", "bigint", "int_", "funnel_report_int_finalfn")]
-- @for mode in ["", "mode text, "]
-- @for steps, form, named in [("VARIADIC steps boolean[]", "", ""), ("event text, steps text[]", "names_", ", steps named by event")]
-- @let params = f'user_id anyelement, "window" {window_type}, {mode}ts {ts_type}, {steps}'
CREATE FUNCTION funnel_report_{{form}}transfn(state internal, {{params}})
RETURNS internal AS 'MODULE_PATHNAME', 'funnel_report_{{form}}{{int}}transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION funnel_report_{{form}}transfn(state internal, {{params}}) IS 'transition function of funnel_report';
CREATE AGGREGATE funnel_report({{params}}) (
    SFUNC = funnel_report_{{form}}transfn,
    STYPE = internal,
    SSPACE = 1048576,
    FINALFUNC = {{finalfn}},
    COMBINEFUNC = funnel_report_combinefn,
    SERIALFUNC = funnel_report_serialfn,
    DESERIALFUNC = funnel_report_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE funnel_report({{params}}) IS
    'the funnel of every user (by user_id) in one pass{{named}}: one element per step with users reaching it, conversion and time from the previous step';
-- @end
-- @end
-- @end

-- The options form (docs/funnel.md, "Funnel options"): funnel_options(...) with named arguments
-- and defaults builds the options (an aggregate call cannot take named arguments), and
-- window_funnel(options, ts, ...) / window_funnel_events(options, ts, ...) take them.
CREATE TYPE funnel_options AS (
    "window" interval,
    step_windows interval[],
    step_order text,
    exclude text[],
    exclude_from integer[],
    exclude_to integer[],
    exclusion_rule text,
    mode text,
    window_units bigint,
    step_window_units bigint[],
    breakdown_attribution text,
    control text
);
COMMENT ON TYPE funnel_options IS 'the options of a funnel: windows, step order, exclusions (make it with funnel_options())';

CREATE FUNCTION funnel_options(
    "window" interval DEFAULT NULL,
    step_windows interval[] DEFAULT NULL,
    step_order text DEFAULT 'ordered',
    exclude text[] DEFAULT NULL,
    exclude_from integer[] DEFAULT NULL,
    exclude_to integer[] DEFAULT NULL,
    exclusion_rule text DEFAULT 'exclude_user',
    mode text DEFAULT '',
    window_units bigint DEFAULT NULL,
    step_window_units bigint[] DEFAULT NULL,
    breakdown_attribution text DEFAULT 'first_touch',
    control text DEFAULT NULL)
RETURNS funnel_options AS 'MODULE_PATHNAME', 'funnel_options'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE
-- Costly on purpose: with bound parameters ($1) in a prepared statement, a generic plan would
-- evaluate it on every row; the cost makes the plan cache keep custom plans, where it is folded
-- into one constant.
COST 10000;
COMMENT ON FUNCTION funnel_options(interval, interval[], text, text[], integer[], integer[], text, text, bigint, bigint[], text, text) IS
    'funnel options for window_funnel, window_funnel_events and funnel_report: window, per-step windows, step order, exclusions';

-- @for agg in ["window_funnel_options"]
CREATE FUNCTION {{agg}}_combinefn(state1 internal, state2 internal)
RETURNS internal AS 'MODULE_PATHNAME', '{{agg}}_combinefn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{agg}}_combinefn(internal, internal) IS 'combine function of window_funnel with options';
CREATE FUNCTION {{agg}}_serialfn(state internal)
RETURNS bytea AS 'MODULE_PATHNAME', '{{agg}}_serialfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{agg}}_serialfn(internal) IS 'serialization function of window_funnel with options';
CREATE FUNCTION {{agg}}_deserialfn(bytes bytea, unused internal)
RETURNS internal AS 'MODULE_PATHNAME', '{{agg}}_deserialfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{agg}}_deserialfn(bytea, internal) IS 'deserialization function of window_funnel with options';
-- @end

CREATE FUNCTION window_funnel_options_finalfn(state internal)
RETURNS integer AS 'MODULE_PATHNAME', 'window_funnel_options_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION window_funnel_options_finalfn(internal) IS 'final function of window_funnel with options';
-- @for suffix, type in [("tz", "timestamptz"), ("ts", "timestamp"), ("int", "bigint")]
CREATE FUNCTION window_funnel_options_events_{{suffix}}_finalfn(state internal)
RETURNS {{type}}[] AS 'MODULE_PATHNAME', 'window_funnel_options_events_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION window_funnel_options_events_{{suffix}}_finalfn(internal) IS 'final function of window_funnel_events with options ({{type}})';
-- @end

-- Twelve aggregates: {window_funnel, window_funnel_events} x {timestamptz, timestamp, bigint} x
-- {conditions (the steps, then one per exclusion), event names}.
-- @for ts_type, suffix, int in [("timestamptz", "tz", ""), ("timestamp", "ts", ""), ("bigint", "int", "int_")]
-- @for steps, transfn_steps, form, named in [("VARIADIC steps boolean[]", "steps boolean[]", "", ""), ("event text, steps text[]", "event text, steps text[]", "names_", ", steps named by event")]
CREATE FUNCTION window_funnel_options_{{form}}transfn(state internal, options funnel_options, ts {{ts_type}}, {{transfn_steps}})
RETURNS internal AS 'MODULE_PATHNAME', 'window_funnel_options_{{form}}{{int}}transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION window_funnel_options_{{form}}transfn(state internal, options funnel_options, ts {{ts_type}}, {{transfn_steps}}) IS 'transition function of window_funnel with options';
CREATE AGGREGATE window_funnel(options funnel_options, ts {{ts_type}}, {{steps}}) (
    SFUNC = window_funnel_options_{{form}}transfn,
    STYPE = internal,
    SSPACE = 512,
    FINALFUNC = window_funnel_options_finalfn,
    COMBINEFUNC = window_funnel_options_combinefn,
    SERIALFUNC = window_funnel_options_serialfn,
    DESERIALFUNC = window_funnel_options_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE window_funnel(options funnel_options, ts {{ts_type}}, {{steps}}) IS
    'deepest step reached with funnel options (-1: excluded){{named}}';
CREATE AGGREGATE window_funnel_events(options funnel_options, ts {{ts_type}}, {{steps}}) (
    SFUNC = window_funnel_options_{{form}}transfn,
    STYPE = internal,
    SSPACE = 512,
    FINALFUNC = window_funnel_options_events_{{suffix}}_finalfn,
    COMBINEFUNC = window_funnel_options_combinefn,
    SERIALFUNC = window_funnel_options_serialfn,
    DESERIALFUNC = window_funnel_options_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE window_funnel_events(options funnel_options, ts {{ts_type}}, {{steps}}) IS
    'timestamps of the counted chain with funnel options{{named}}';
-- @end
-- @end

-- conversion_significance (docs/funnel.md, "Comparing variants"): control a against variant b.
CREATE TYPE conversion_comparison AS (
    rate_a double precision,
    rate_b double precision,
    difference double precision,
    ci_low double precision,
    ci_high double precision,
    p_value double precision,
    probability_b_better double precision
);
COMMENT ON TYPE conversion_comparison IS
    'two conversion rates compared: difference, its 95% interval, z-test p-value, Bayesian probability that b is better';
CREATE FUNCTION conversion_significance(users_a bigint, converted_a bigint, users_b bigint, converted_b bigint)
RETURNS conversion_comparison AS 'MODULE_PATHNAME', 'conversion_significance'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION conversion_significance(bigint, bigint, bigint, bigint) IS
    'compares the conversion of variant b with control a: difference, 95% interval, p-value, probability b is better';

-- funnel_report, funnel_breakdown and funnel_trend with funnel options (docs/funnel.md).
-- @for agg in ["funnel_report_options"]
CREATE FUNCTION {{agg}}_combinefn(state1 internal, state2 internal)
RETURNS internal AS 'MODULE_PATHNAME', '{{agg}}_combinefn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{agg}}_combinefn(internal, internal) IS 'combine function of the funnel reports with options';
CREATE FUNCTION {{agg}}_serialfn(state internal)
RETURNS bytea AS 'MODULE_PATHNAME', '{{agg}}_serialfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{agg}}_serialfn(internal) IS 'serialization function of the funnel reports with options';
CREATE FUNCTION {{agg}}_deserialfn(bytes bytea, unused internal)
RETURNS internal AS 'MODULE_PATHNAME', '{{agg}}_deserialfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{agg}}_deserialfn(bytea, internal) IS 'deserialization function of the funnel reports with options';
-- @end

CREATE TYPE funnel_breakdown_step AS (
    breakdown text,
    step integer,
    users bigint,
    conversion_from_first double precision,
    conversion_from_previous double precision,
    median_time_from_previous interval,
    p90_time_from_previous interval,
    difference double precision,
    ci_low double precision,
    ci_high double precision,
    p_value double precision,
    probability_better double precision
);
COMMENT ON TYPE funnel_breakdown_step IS
    'one step of one breakdown value of funnel_breakdown, with its conversion compared to the control value';
CREATE TYPE funnel_breakdown_step_int AS (
    breakdown text,
    step integer,
    users bigint,
    conversion_from_first double precision,
    conversion_from_previous double precision,
    median_time_from_previous bigint,
    p90_time_from_previous bigint,
    difference double precision,
    ci_low double precision,
    ci_high double precision,
    p_value double precision,
    probability_better double precision
);
COMMENT ON TYPE funnel_breakdown_step_int IS 'one step of funnel_breakdown over integer time (times in the unit of ts)';
CREATE TYPE funnel_trend_period AS (
    period_start timestamptz,
    entered bigint,
    converted bigint,
    conversion double precision
);
COMMENT ON TYPE funnel_trend_period IS 'users entering the funnel in a period and those of them who converted';
CREATE TYPE funnel_trend_period_local AS (
    period_start timestamp,
    entered bigint,
    converted bigint,
    conversion double precision
);
COMMENT ON TYPE funnel_trend_period_local IS 'funnel_trend over timestamp without time zone';

-- @for name, rettype in [("funnel_report_options_finalfn", "funnel_report_step"), ("funnel_report_options_int_finalfn", "funnel_report_step_int"), ("funnel_breakdown_finalfn", "funnel_breakdown_step"), ("funnel_breakdown_int_finalfn", "funnel_breakdown_step_int"), ("funnel_trend_finalfn", "funnel_trend_period"), ("funnel_trend_local_finalfn", "funnel_trend_period_local")]
-- @let symbol = name.replace("_int_", "_").replace("_local_", "_")
CREATE FUNCTION {{name}}(state internal)
RETURNS {{rettype}}[] AS 'MODULE_PATHNAME', '{{symbol}}'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{name}}(internal) IS 'final function of a funnel report with options ({{rettype}})';
-- @end

-- funnel_report and funnel_breakdown: {timestamptz, timestamp, bigint} x {conditions, event names}.
-- @for ts_type, int in [("timestamptz", ""), ("timestamp", ""), ("bigint", "int_")]
-- @for steps, transfn_steps, named in [("VARIADIC steps boolean[]", "steps boolean[]", ""), ("event text, steps text[]", "event text, steps text[]", ", steps named by event")]
-- @for agg, transfn, finalfn, extra, what in [("funnel_report", "funnel_report_options_transfn", "funnel_report_options_", "", "the funnel of every user with funnel options (excluded users at no step)"), ("funnel_breakdown", "funnel_breakdown_transfn", "funnel_breakdown_", "breakdown text, ", "the funnel per breakdown value attributed to each user, compared with a control value")]
-- @let params = f'user_id anyelement, options funnel_options, ts {ts_type}, {extra}'
CREATE FUNCTION {{transfn}}(state internal, {{params}}{{transfn_steps}})
RETURNS internal AS 'MODULE_PATHNAME', '{{transfn}}'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{transfn}}(state internal, {{params}}{{transfn_steps}}) IS 'transition function of {{agg}} with funnel options';
CREATE AGGREGATE {{agg}}({{params}}{{steps}}) (
    SFUNC = {{transfn}},
    STYPE = internal,
    SSPACE = 1048576,
    FINALFUNC = {{finalfn}}{{int}}finalfn,
    COMBINEFUNC = funnel_report_options_combinefn,
    SERIALFUNC = funnel_report_options_serialfn,
    DESERIALFUNC = funnel_report_options_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE {{agg}}({{params}}{{steps}}) IS '{{what}}{{named}}';
-- @end
-- @end
-- @end

-- funnel_trend: timestamptz (periods in a time zone) and timestamp (local periods).
-- @for zone, ts_type, finalfn in [("time_zone text, ", "timestamptz", "funnel_trend_finalfn"), ("", "timestamp", "funnel_trend_local_finalfn")]
-- @for steps, transfn_steps, named in [("VARIADIC steps boolean[]", "steps boolean[]", ""), ("event text, steps text[]", "event text, steps text[]", ", steps named by event")]
-- @let params = f'user_id anyelement, options funnel_options, period text, {zone}ts {ts_type}, '
CREATE FUNCTION funnel_trend_transfn(state internal, {{params}}{{transfn_steps}})
RETURNS internal AS 'MODULE_PATHNAME', 'funnel_trend_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION funnel_trend_transfn(state internal, {{params}}{{transfn_steps}}) IS 'transition function of funnel_trend';
CREATE AGGREGATE funnel_trend({{params}}{{steps}}) (
    SFUNC = funnel_trend_transfn,
    STYPE = internal,
    SSPACE = 1048576,
    FINALFUNC = {{finalfn}},
    COMBINEFUNC = funnel_report_options_combinefn,
    SERIALFUNC = funnel_report_options_serialfn,
    DESERIALFUNC = funnel_report_options_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE funnel_trend({{params}}{{steps}}) IS
    'users entering the funnel per calendar period of their first step, and how many converted{{named}}';
-- @end
-- @end
