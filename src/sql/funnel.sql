-- window_funnel and window_funnel_events   (docs/funnel.md)
-- One state for both; timestamptz, timestamp and bigint time; with and without a mode.

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

CREATE FUNCTION window_funnel_combinefn(state1 internal, state2 internal)
RETURNS internal AS 'MODULE_PATHNAME', 'window_funnel_combinefn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION window_funnel_combinefn(internal, internal) IS 'combine function of window_funnel';

CREATE FUNCTION window_funnel_serialfn(state internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'window_funnel_serialfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION window_funnel_serialfn(internal) IS 'serialization function of window_funnel';

CREATE FUNCTION window_funnel_deserialfn(bytes bytea, unused internal)
RETURNS internal AS 'MODULE_PATHNAME', 'window_funnel_deserialfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION window_funnel_deserialfn(bytea, internal) IS 'deserialization function of window_funnel';

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

-- The twelve aggregates: {window_funnel, window_funnel_events} x {timestamptz, timestamp, bigint}
-- x {without, with mode}. SSPACE: a typical group keeps a few dozen rows of 16 bytes; without it
-- the planner assumes 8 kB per state and hash aggregation spills early.
-- @for ts_type, window_type, suffix in [("timestamptz", "interval", "tz"), ("timestamp", "interval", "ts"), ("bigint", "bigint", "int")]
-- @for mode in ["", "mode text, "]
-- @let params = f'"window" {window_type}, {mode}ts {ts_type}, VARIADIC steps boolean[]'
CREATE AGGREGATE window_funnel({{params}}) (
    SFUNC = window_funnel_transfn,
    STYPE = internal,
    SSPACE = 512,
    FINALFUNC = window_funnel_finalfn,
    COMBINEFUNC = window_funnel_combinefn,
    SERIALFUNC = window_funnel_serialfn,
    DESERIALFUNC = window_funnel_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE window_funnel({{params}}) IS 'deepest step reached by a chain of steps within the window';
CREATE AGGREGATE window_funnel_events({{params}}) (
    SFUNC = window_funnel_transfn,
    STYPE = internal,
    SSPACE = 512,
    FINALFUNC = window_funnel_events_{{suffix}}_finalfn,
    COMBINEFUNC = window_funnel_combinefn,
    SERIALFUNC = window_funnel_serialfn,
    DESERIALFUNC = window_funnel_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE window_funnel_events({{params}}) IS
    'timestamps of the steps of the chain that reached the deepest step';
-- @end
-- @end
