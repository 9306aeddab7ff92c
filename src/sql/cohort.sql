-- Cohort attributes: min_by / max_by   (docs/cohort.md)

-- The parallel-support functions of every aggregate of the family, one declaration pattern
-- (the C side: PPA_STATE_SUPPORT_FUNCTIONS).
-- @for agg in ["cohort_period"]
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

CREATE FUNCTION min_by_transfn(state internal, value anyelement, key anycompatible)
RETURNS internal AS 'MODULE_PATHNAME', 'min_by_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION min_by_transfn(internal, anyelement, anycompatible) IS 'transition function of min_by';
CREATE FUNCTION max_by_transfn(state internal, value anyelement, key anycompatible)
RETURNS internal AS 'MODULE_PATHNAME', 'max_by_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION max_by_transfn(internal, anyelement, anycompatible) IS 'transition function of max_by';
CREATE FUNCTION by_combinefn(state1 internal, state2 internal)
RETURNS internal AS 'MODULE_PATHNAME', 'by_combinefn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION by_combinefn(internal, internal) IS 'combine function of min_by and max_by';
CREATE FUNCTION by_serialfn(state internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'by_serialfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION by_serialfn(internal) IS 'serialization function of min_by and max_by';
CREATE FUNCTION by_deserialfn(bytes bytea, unused internal)
RETURNS internal AS 'MODULE_PATHNAME', 'by_deserialfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION by_deserialfn(bytea, internal) IS 'deserialization function of min_by and max_by';
CREATE FUNCTION by_finalfn(state internal, value anyelement, key anycompatible)
RETURNS anyelement AS 'MODULE_PATHNAME', 'by_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION by_finalfn(internal, anyelement, anycompatible) IS 'final function of min_by and max_by';

-- @for name, extreme in [("min_by", "smallest"), ("max_by", "largest")]
CREATE AGGREGATE {{name}}(value anyelement, key anycompatible) (
    SFUNC = {{name}}_transfn,
    STYPE = internal,
    SSPACE = 128,
    FINALFUNC = by_finalfn,
    FINALFUNC_EXTRA,
    COMBINEFUNC = by_combinefn,
    SERIALFUNC = by_serialfn,
    DESERIALFUNC = by_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE {{name}}(anyelement, anycompatible) IS
    'the value at the {{extreme}} key (ties: the {{extreme}} value); NULL keys are skipped';
-- @end

-- Periods: period_index (calendar in a time zone, or rolling) and cohort_period.
CREATE FUNCTION period_index(ts timestamptz, anchor timestamptz, period text, time_zone text DEFAULT NULL)
RETURNS integer AS 'MODULE_PATHNAME', 'period_index_calendar_tz'
LANGUAGE C CALLED ON NULL INPUT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION period_index(timestamptz, timestamptz, text, text) IS
    'calendar periods (day, week from Monday, month, quarter, year) from anchor''s period to ts''s, in time_zone (default: the session''s)';
CREATE FUNCTION period_index(ts timestamp, anchor timestamp, period text)
RETURNS integer AS 'MODULE_PATHNAME', 'period_index_calendar'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION period_index(timestamp, timestamp, text) IS
    'calendar periods (day, week from Monday, month, quarter, year) from anchor''s period to ts''s';
CREATE FUNCTION period_index(ts timestamptz, anchor timestamptz, period interval)
RETURNS integer AS 'MODULE_PATHNAME', 'period_index_rolling'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION period_index(timestamptz, timestamptz, interval) IS
    'rolling periods: floor((ts - anchor) / period), period without months';
CREATE FUNCTION period_index(ts timestamp, anchor timestamp, period interval)
RETURNS integer AS 'MODULE_PATHNAME', 'period_index_rolling'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION period_index(timestamp, timestamp, interval) IS
    'rolling periods: floor((ts - anchor) / period), period without months';

CREATE FUNCTION cohort_period_tz_finalfn(state internal)
RETURNS timestamptz AS 'MODULE_PATHNAME', 'cohort_period_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION cohort_period_tz_finalfn(internal) IS 'final function of cohort_period';
CREATE FUNCTION cohort_period_finalfn(state internal)
RETURNS timestamp AS 'MODULE_PATHNAME', 'cohort_period_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION cohort_period_finalfn(internal) IS 'final function of cohort_period (timestamp)';

-- cohort_period(ts, period[, is_start[, time_zone]]) and the event-name form cohort_period(ts,
-- period, event, start_events[, time_zone]): no DEFAULT arguments for aggregates, so one
-- overload per optional argument.
-- @for start, names, first, how in [("is_start boolean", "", 2, ""), ("event text, start_events text[]", "names_", 3, "; start events by name")]
-- @for kind, finalfn, volatility, args in [("", "cohort_period_tz_finalfn", "STABLE", ["ts timestamptz", "period text", start, "time_zone text"]), ("local_", "cohort_period_finalfn", "IMMUTABLE", ["ts timestamp", "period text", start])]
-- @for params in prefixes(args, first)
CREATE FUNCTION cohort_period_{{names}}transfn(state internal, {{params}})
RETURNS internal AS 'MODULE_PATHNAME', 'cohort_period_{{names}}{{kind}}transfn'
LANGUAGE C CALLED ON NULL INPUT {{volatility}} PARALLEL SAFE;
COMMENT ON FUNCTION cohort_period_{{names}}transfn(state internal, {{params}}) IS 'transition function of cohort_period{{how}}';
CREATE AGGREGATE cohort_period({{params}}) (
    SFUNC = cohort_period_{{names}}transfn,
    STYPE = internal,
    SSPACE = 48,
    FINALFUNC = {{finalfn}},
    COMBINEFUNC = cohort_period_combinefn,
    SERIALFUNC = cohort_period_serialfn,
    DESERIALFUNC = cohort_period_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE cohort_period({{params}}) IS
    'start of the period (day, week, month, quarter, year) of the group''s first start event{{how}}';
-- @end
-- @end
-- @end
