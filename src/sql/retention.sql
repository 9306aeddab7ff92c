-- retention(VARIADIC conds boolean[]) -> integer[]   (docs/retention.md)

-- The parallel-support functions of every aggregate of the family, one declaration pattern
-- (the C side: PPA_STATE_SUPPORT_FUNCTIONS).
-- @for agg in ["retention", "period_retention", "lifecycle", "active_periods", "active_users_report", "lifecycle_report", "retention_report"]
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

CREATE FUNCTION retention_transfn(state internal, conds boolean[])
RETURNS internal
AS 'MODULE_PATHNAME', 'retention_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_transfn(internal, boolean[]) IS 'transition function of retention';

CREATE FUNCTION retention_finalfn(state internal)
RETURNS integer[]
AS 'MODULE_PATHNAME', 'retention_finalfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_finalfn(internal) IS 'final function of retention';

CREATE AGGREGATE retention(VARIADIC conds boolean[]) (
    SFUNC = retention_transfn,
    STYPE = internal,
    -- Bytes per group (state + palloc header). Without it the planner assumes 8 kB per internal
    -- state, and hash aggregation spills to disk after work_mem / 8 kB groups.
    SSPACE = 32,
    FINALFUNC = retention_finalfn,
    COMBINEFUNC = retention_combinefn,
    SERIALFUNC = retention_serialfn,
    DESERIALFUNC = retention_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE retention(boolean[]) IS
    'ClickHouse retention: r[1] = any(conds[1]), r[k] = any(conds[1]) AND any(conds[k]); NULL counts as false';

-- Fixed-arity overloads retention(c1 boolean, ..., cN boolean), N = 1..64. When the conditions are
-- written out, the parser prefers these over the VARIADIC form, so no boolean[] is built per row
-- (about a sixth of the query time with nine conditions; docs/benchmarks.md). Same semantics.
-- The count is the overload's, so the state is only the mask of conditions seen: a bigint,
-- passed by value and kept in PostgreSQL's own per-group slot (no allocation per group, no
-- pointer to follow per row; bit_or combines partial states). NULL until the group's first row,
-- so an empty group still gives NULL; the final function learns N from its extra arguments.
-- @for n in range(1, 65)
CREATE FUNCTION retention_mask_transfn(state bigint, {{conds(n)}})
RETURNS bigint
AS 'MODULE_PATHNAME', 'retention_mask_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_mask_transfn(bigint, {{conds(n)}}) IS 'transition function of retention';
CREATE FUNCTION retention_mask_finalfn(state bigint, {{conds(n)}})
RETURNS integer[]
AS 'MODULE_PATHNAME', 'retention_mask_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_mask_finalfn(bigint, {{conds(n)}}) IS 'final function of retention';
CREATE AGGREGATE retention({{conds(n)}}) (
    SFUNC = retention_mask_transfn,
    STYPE = bigint,
    FINALFUNC = retention_mask_finalfn,
    FINALFUNC_EXTRA,
    COMBINEFUNC = int8or,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE retention({{conds(n)}}) IS
    'ClickHouse retention: r[1] = any(c1), r[k] = any(c1) AND any(ck); NULL counts as false';
-- @end

-- retention over calendar periods: retention(c1, ..., cN) with ck = "ts in the (k-1)-th period
-- after the one holding range_start" (N = periods, 1..56), the periods computed inside. The state
-- is a bigint by value, as for the written-out conditions: bits 0..55 the periods seen, bits 56..62
-- the period count (the final function has no other way to learn it, in a window too).
CREATE FUNCTION retention_periods_finalfn(state bigint)
RETURNS integer[] AS 'MODULE_PATHNAME', 'retention_periods_finalfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_periods_finalfn(bigint) IS 'final function of retention over calendar periods';
CREATE FUNCTION retention_periods_combinefn(state1 bigint, state2 bigint)
RETURNS bigint AS 'MODULE_PATHNAME', 'retention_periods_combinefn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_periods_combinefn(bigint, bigint) IS 'combine function of retention over calendar periods';
-- @for zone in ["", ", time_zone text"]
CREATE FUNCTION retention_periods_transfn(state bigint, ts timestamptz, period text, range_start timestamptz,
                                          periods integer{{zone}})
RETURNS bigint AS 'MODULE_PATHNAME', 'retention_periods_transfn'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_periods_transfn(bigint, timestamptz, text, timestamptz, integer{{zone.replace(" time_zone", "")}})
    IS 'transition function of retention over calendar periods';
CREATE AGGREGATE retention(ts timestamptz, period text, range_start timestamptz, periods integer{{zone}}) (
    SFUNC = retention_periods_transfn,
    STYPE = bigint,
    FINALFUNC = retention_periods_finalfn,
    COMBINEFUNC = retention_periods_combinefn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE retention(timestamptz, text, timestamptz, integer{{zone.replace(" time_zone", "")}}) IS
    'retention over calendar periods: r[1] = active in the period of range_start, r[k] = that and active k - 1 periods later';
-- @end

-- period_retention: the cohort-triangle building block   (docs/retention.md)
CREATE FUNCTION period_retention_finalfn(state internal)
RETURNS integer[] AS 'MODULE_PATHNAME', 'period_retention_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION period_retention_finalfn(internal) IS 'final function of period_retention';

-- cohort_retention: period_retention and the cohort from one state (the cohort triangle's
-- building block in one aggregate). Its result type: the cohort, then period_retention's array.
CREATE TYPE cohort_retention AS (cohort timestamptz, retained integer[]);
COMMENT ON TYPE cohort_retention IS 'a user''s cohort (the start of the first start''s period) and retention array';
CREATE TYPE cohort_retention_local AS (cohort timestamp, retained integer[]);
COMMENT ON TYPE cohort_retention_local IS 'cohort_retention over timestamp without time zone';
-- @for suffix, type in [("", "cohort_retention"), ("_local", "cohort_retention_local")]
CREATE FUNCTION cohort_retention{{suffix}}_finalfn(state internal)
RETURNS {{type}} AS 'MODULE_PATHNAME', 'cohort_retention_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION cohort_retention{{suffix}}_finalfn(internal) IS 'final function of cohort_retention ({{type}})';
-- @end

-- Overloads by the optional arguments given (aggregates take no DEFAULT arguments):
-- calendar periods (period text) ... [, time_zone text [, as_of timestamptz]], rolling periods
-- (period interval) ... [, as_of timestamptz]; for timestamp (local times) neither has a zone. The
-- event-name forms take (event, start_events, return_events) for (is_start, is_return).
-- @for events, names, first, how in [("is_start boolean, is_return boolean", "", 3, ""), ("event text, start_events text[], return_events text[]", "_names", 5, "; events by name")]
-- @for kind, args in [("", ["ts timestamptz", "period text", "periods integer", "mode text", events, "time_zone text", "as_of timestamptz"]), ("_rolling", ["ts timestamptz", "period interval", "periods integer", "mode text", events, "as_of timestamptz"]), ("_local", ["ts timestamp", "period text", "periods integer", "mode text", events, "as_of timestamp"]), ("_rolling", ["ts timestamp", "period interval", "periods integer", "mode text", events, "as_of timestamp"])]
-- @let transfn = "period_retention" + names + kind + "_transfn"
-- @for params in prefixes(args, first)
CREATE FUNCTION {{transfn}}(state internal, {{params}})
RETURNS internal AS 'MODULE_PATHNAME', '{{transfn}}'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{transfn}}(state internal, {{params}}) IS 'transition function of period_retention{{how}}';
CREATE AGGREGATE period_retention({{params}}) (
    SFUNC = {{transfn}},
    STYPE = internal,
    SSPACE = 128,
    FINALFUNC = period_retention_finalfn,
    COMBINEFUNC = period_retention_combinefn,
    SERIALFUNC = period_retention_serialfn,
    DESERIALFUNC = period_retention_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE period_retention({{params}}) IS
    'per user: for periods 0..periods after the first start event''s period, whether a return event happened there{{how}}';
-- @let cohort_transfn = transfn.replace("period_retention", "cohort_retention")
-- @let cohort_final = "cohort_retention_local_finalfn" if args[0] == "ts timestamp" else "cohort_retention_finalfn"
CREATE FUNCTION {{cohort_transfn}}(state internal, {{params}})
RETURNS internal AS 'MODULE_PATHNAME', '{{cohort_transfn}}'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{cohort_transfn}}(state internal, {{params}}) IS 'transition function of cohort_retention{{how}}';
CREATE AGGREGATE cohort_retention({{params}}) (
    SFUNC = {{cohort_transfn}},
    STYPE = internal,
    SSPACE = 128,
    FINALFUNC = {{cohort_final}},
    COMBINEFUNC = period_retention_combinefn,
    SERIALFUNC = period_retention_serialfn,
    DESERIALFUNC = period_retention_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE cohort_retention({{params}}) IS
    'per user: the cohort (start of the first start event''s period) and period_retention''s array, in one pass{{how}}';
-- @end
-- @end
-- @end

-- lifecycle: PostHog's lifecycle statuses per user and period   (docs/retention.md)
CREATE FUNCTION lifecycle_finalfn(state internal)
RETURNS text[] AS 'MODULE_PATHNAME', 'lifecycle_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lifecycle_finalfn(internal) IS 'final function of lifecycle';

CREATE FUNCTION lifecycle_transfn(state internal, ts timestamptz, period text, range_start timestamptz, periods integer)
RETURNS internal AS 'MODULE_PATHNAME', 'lifecycle_transfn'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lifecycle_transfn(internal, timestamptz, text, timestamptz, integer) IS 'transition function of lifecycle';
CREATE FUNCTION lifecycle_transfn(state internal, ts timestamptz, period text, range_start timestamptz, periods integer,
                                  time_zone text)
RETURNS internal AS 'MODULE_PATHNAME', 'lifecycle_transfn'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lifecycle_transfn(internal, timestamptz, text, timestamptz, integer, text) IS 'transition function of lifecycle';

CREATE AGGREGATE lifecycle(ts timestamptz, period text, range_start timestamptz, periods integer) (
    SFUNC = lifecycle_transfn,
    STYPE = internal,
    SSPACE = 80,
    FINALFUNC = lifecycle_finalfn,
    COMBINEFUNC = lifecycle_combinefn,
    SERIALFUNC = lifecycle_serialfn,
    DESERIALFUNC = lifecycle_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE lifecycle(timestamptz, text, timestamptz, integer) IS
    'per period of the range: new, returning, resurrecting, dormant, or NULL (not counted)';
CREATE AGGREGATE lifecycle(ts timestamptz, period text, range_start timestamptz, periods integer, time_zone text) (
    SFUNC = lifecycle_transfn,
    STYPE = internal,
    SSPACE = 80,
    FINALFUNC = lifecycle_finalfn,
    COMBINEFUNC = lifecycle_combinefn,
    SERIALFUNC = lifecycle_serialfn,
    DESERIALFUNC = lifecycle_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE lifecycle(timestamptz, text, timestamptz, integer, text) IS
    'per period of the range: new, returning, resurrecting, dormant, or NULL (not counted)';

-- active_periods: distinct calendar periods with activity (stickiness)   (docs/retention.md)
CREATE FUNCTION active_periods_finalfn(state internal)
RETURNS integer AS 'MODULE_PATHNAME', 'active_periods_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION active_periods_finalfn(internal) IS 'final function of active_periods';
CREATE FUNCTION active_periods_transfn(state internal, ts timestamptz, period text)
RETURNS internal AS 'MODULE_PATHNAME', 'active_periods_transfn'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION active_periods_transfn(internal, timestamptz, text) IS 'transition function of active_periods';
CREATE FUNCTION active_periods_transfn(state internal, ts timestamptz, period text, time_zone text)
RETURNS internal AS 'MODULE_PATHNAME', 'active_periods_transfn'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION active_periods_transfn(internal, timestamptz, text, text) IS 'transition function of active_periods';
CREATE AGGREGATE active_periods(ts timestamptz, period text) (
    SFUNC = active_periods_transfn, STYPE = internal, SSPACE = 320, FINALFUNC = active_periods_finalfn,
    COMBINEFUNC = active_periods_combinefn, SERIALFUNC = active_periods_serialfn,
    DESERIALFUNC = active_periods_deserialfn, PARALLEL = SAFE
);
COMMENT ON AGGREGATE active_periods(timestamptz, text) IS
    'number of distinct calendar periods (day, week, ...) with a row, in the session''s time zone';
CREATE AGGREGATE active_periods(ts timestamptz, period text, time_zone text) (
    SFUNC = active_periods_transfn, STYPE = internal, SSPACE = 320, FINALFUNC = active_periods_finalfn,
    COMBINEFUNC = active_periods_combinefn, SERIALFUNC = active_periods_serialfn,
    DESERIALFUNC = active_periods_deserialfn, PARALLEL = SAFE
);
COMMENT ON AGGREGATE active_periods(timestamptz, text, text) IS
    'number of distinct calendar periods (day, week, ...) with a row, in time_zone';

-- active_users_report: DAU, WAU, MAU and stickiness per period, users grouped inside (docs/retention.md).
CREATE TYPE active_users_row AS (
    period_start timestamptz,
    window_periods integer,
    users bigint,
    stickiness double precision
);
COMMENT ON TYPE active_users_row IS
    'one period and window of active_users_report: distinct users active in the window ending with the period, and users of the period / users of the window';

CREATE FUNCTION active_users_report_finalfn(state internal)
RETURNS active_users_row[] AS 'MODULE_PATHNAME', 'active_users_report_finalfn'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION active_users_report_finalfn(internal) IS 'final function of active_users_report';

-- Overloads for the optional arguments (aggregates take no DEFAULT): period 'day', windows
-- '{1,7,30}', the session's time zone.
-- @for params in prefixes(["user_id anyelement", "ts timestamptz", "period text", "windows integer[]", "time_zone text"], 2)
CREATE FUNCTION active_users_report_transfn(state internal, {{params}})
RETURNS internal AS 'MODULE_PATHNAME', 'active_users_report_transfn'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION active_users_report_transfn(state internal, {{params}}) IS 'transition function of active_users_report';
CREATE AGGREGATE active_users_report({{params}}) (
    SFUNC = active_users_report_transfn,
    STYPE = internal,
    SSPACE = 1048576,
    FINALFUNC = active_users_report_finalfn,
    COMBINEFUNC = active_users_report_combinefn,
    SERIALFUNC = active_users_report_serialfn,
    DESERIALFUNC = active_users_report_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE active_users_report({{params}}) IS
    'per period: distinct users active in rolling windows of periods ending there (DAU, WAU, MAU) and stickiness, users grouped inside';
-- @end

-- lifecycle_report: new / returning / resurrecting / dormant users and churn per period, users
-- grouped inside (docs/retention.md).
CREATE TYPE lifecycle_report_row AS (
    period_start timestamptz,
    new_users bigint,
    returning_users bigint,
    resurrecting_users bigint,
    dormant_users bigint,
    churn double precision
);
COMMENT ON TYPE lifecycle_report_row IS
    'one period of lifecycle_report: users per lifecycle status, and dormant users / users active in the previous period';

CREATE FUNCTION lifecycle_report_finalfn(state internal)
RETURNS lifecycle_report_row[] AS 'MODULE_PATHNAME', 'lifecycle_report_finalfn'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lifecycle_report_finalfn(internal) IS 'final function of lifecycle_report';

-- @for params in prefixes(["user_id anyelement", "ts timestamptz", "period text", "range_start timestamptz", "periods integer", "time_zone text"], 5)
CREATE FUNCTION lifecycle_report_transfn(state internal, {{params}})
RETURNS internal AS 'MODULE_PATHNAME', 'lifecycle_report_transfn'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lifecycle_report_transfn(state internal, {{params}}) IS 'transition function of lifecycle_report';
CREATE AGGREGATE lifecycle_report({{params}}) (
    SFUNC = lifecycle_report_transfn,
    STYPE = internal,
    SSPACE = 1048576,
    FINALFUNC = lifecycle_report_finalfn,
    COMBINEFUNC = lifecycle_report_combinefn,
    SERIALFUNC = lifecycle_report_serialfn,
    DESERIALFUNC = lifecycle_report_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE lifecycle_report({{params}}) IS
    'per period of the range: users new, returning, resurrecting and dormant, and churn, users grouped inside';
-- @end

-- retention_report: the cohort triangle in one statement, users grouped inside (docs/retention.md).
CREATE TYPE retention_report_cell AS (
    cohort_start timestamptz,
    period integer,
    cohort_users bigint,
    retained_users bigint,
    rate double precision,
    value double precision,
    cumulative_value_per_user double precision
);
COMMENT ON TYPE retention_report_cell IS
    'one cell of retention_report: a cohort (first start period) and period k after it, its users, those retained, and the value (revenue) of the period and per user to date';
CREATE FUNCTION retention_report_finalfn(state internal)
RETURNS retention_report_cell[] AS 'MODULE_PATHNAME', 'retention_report_finalfn'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_report_finalfn(internal) IS 'final function of retention_report';

-- Calendar periods (period text, or an interval literal as text) and rolling periods (period
-- interval): the same arguments, one C function each; the event-name forms take (event,
-- start_events, return_events) for (is_start, is_return).
-- @for transfn, period_type, events, first, how in [("retention_report_transfn", "text", "is_start boolean, is_return boolean", 4, ""), ("retention_report_rolling_transfn", "interval", "is_start boolean, is_return boolean", 4, ""), ("retention_report_names_transfn", "text", "event text, start_events text[], return_events text[]", 6, "; events by name"), ("retention_report_names_rolling_transfn", "interval", "event text, start_events text[], return_events text[]", 6, "; events by name")]
-- @for params in prefixes(["user_id anyelement", "ts timestamptz", "period " + period_type, "periods integer", "mode text", events, "time_zone text", "as_of timestamptz", "value double precision"], first)
CREATE FUNCTION {{transfn}}(state internal, {{params}})
RETURNS internal AS 'MODULE_PATHNAME', '{{transfn}}'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION {{transfn}}(state internal, {{params}}) IS 'transition function of retention_report{{how}}';
CREATE AGGREGATE retention_report({{params}}) (
    SFUNC = {{transfn}},
    STYPE = internal,
    SSPACE = 1048576,
    FINALFUNC = retention_report_finalfn,
    COMBINEFUNC = retention_report_combinefn,
    SERIALFUNC = retention_report_serialfn,
    DESERIALFUNC = retention_report_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE retention_report({{params}}) IS
    'the cohort triangle: per cohort period and period k after it, cohort users and users retained, users grouped inside{{how}}';
-- @end
-- @end

