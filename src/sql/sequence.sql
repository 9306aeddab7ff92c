-- sequence_match, sequence_count, sequence_match_events and sequence_next_node   (docs/sequence.md)
-- One state for the three pattern aggregates; timestamptz, timestamp and bigint time; conditions
-- or event names.

-- The parallel-support functions of every aggregate of the family, one declaration pattern
-- (the C side: PPA_STATE_SUPPORT_FUNCTIONS).
-- @for agg in ["sequence", "sequence_next_node"]
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

-- The transition functions of the pattern aggregates: (pattern, ts, conds boolean[]) or, in the
-- event-name forms, (pattern, ts, event text, conds text[]): condition N is event = conds[N].
-- @for ts_type, int in [("timestamptz", ""), ("timestamp", ""), ("bigint", "int_")]
-- @for conds, form in [("conds boolean[]", ""), ("event text, conds text[]", "names_")]
CREATE FUNCTION sequence_{{form}}transfn(state internal, pattern text, ts {{ts_type}}, {{conds}})
RETURNS internal AS 'MODULE_PATHNAME', 'sequence_{{form}}{{int}}transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION sequence_{{form}}transfn(state internal, pattern text, ts {{ts_type}}, {{conds}}) IS
    'transition function of sequence_match, sequence_count and sequence_match_events';
-- @end
-- @end

CREATE FUNCTION sequence_match_finalfn(state internal)
RETURNS boolean AS 'MODULE_PATHNAME', 'sequence_match_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION sequence_match_finalfn(internal) IS 'final function of sequence_match';
CREATE FUNCTION sequence_count_finalfn(state internal)
RETURNS bigint AS 'MODULE_PATHNAME', 'sequence_count_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION sequence_count_finalfn(internal) IS 'final function of sequence_count';
-- One final function per result type of sequence_match_events (same C function).
-- @for suffix, ts_type in [("tz", "timestamptz"), ("ts", "timestamp"), ("int", "bigint")]
CREATE FUNCTION sequence_match_events_{{suffix}}_finalfn(state internal)
RETURNS {{ts_type}}[] AS 'MODULE_PATHNAME', 'sequence_match_events_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION sequence_match_events_{{suffix}}_finalfn(internal) IS 'final function of sequence_match_events ({{ts_type}})';
-- @end

-- The eighteen pattern aggregates: {sequence_match, sequence_count, sequence_match_events} x
-- {timestamptz, timestamp, bigint} x {conditions, event names}. SSPACE: a typical group keeps a
-- few dozen rows of 16 bytes.
-- @for ts_type, suffix in [("timestamptz", "tz"), ("timestamp", "ts"), ("bigint", "int")]
-- @for conds, sfunc, named in [("VARIADIC conds boolean[]", "sequence_transfn", ""), ("event text, conds text[]", "sequence_names_transfn", ", conditions named by event")]
-- @for agg, finalfn, what in [("sequence_match", "sequence_match_finalfn", "whether the events match the pattern"), ("sequence_count", "sequence_count_finalfn", "number of non-overlapping matches of the pattern"), ("sequence_match_events", f"sequence_match_events_{suffix}_finalfn", "timestamps of the (?N) events of the first match (or of the longest matching start of the pattern)")]
CREATE AGGREGATE {{agg}}(pattern text, ts {{ts_type}}, {{conds}}) (
    SFUNC = {{sfunc}},
    STYPE = internal,
    SSPACE = 512,
    FINALFUNC = {{finalfn}},
    COMBINEFUNC = sequence_combinefn,
    SERIALFUNC = sequence_serialfn,
    DESERIALFUNC = sequence_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE {{agg}}(pattern text, ts {{ts_type}}, {{conds}}) IS '{{what}}{{named}}';
-- @end
-- @end
-- @end

-- sequence_next_node: the event value of the row right after (before) a run of rows matching the
-- event conditions from a base row; conditions, or event names (condition N: event = event_names[N]).
-- @for ts_type in ["timestamptz", "timestamp", "bigint"]
-- @for conds, form in [("event_conds boolean[]", ""), ("event_names text[]", "names_")]
-- @let params = f'direction text, base text, ts {ts_type}, event text, base_condition boolean'
CREATE FUNCTION sequence_next_node_{{form}}transfn(state internal, {{params}}, {{conds}})
RETURNS internal AS 'MODULE_PATHNAME', 'sequence_next_node_{{form}}transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION sequence_next_node_{{form}}transfn(state internal, {{params}}, {{conds}}) IS
    'transition function of sequence_next_node';
-- @end
-- @end
CREATE FUNCTION sequence_next_node_finalfn(state internal)
RETURNS text AS 'MODULE_PATHNAME', 'sequence_next_node_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION sequence_next_node_finalfn(internal) IS 'final function of sequence_next_node';
-- @for ts_type in ["timestamptz", "timestamp", "bigint"]
-- @for conds, form in [("VARIADIC event_conds boolean[]", ""), ("event_names text[]", "names_")]
-- @let params = f'direction text, base text, ts {ts_type}, event text, base_condition boolean'
CREATE AGGREGATE sequence_next_node({{params}}, {{conds}}) (
    SFUNC = sequence_next_node_{{form}}transfn,
    STYPE = internal,
    SSPACE = 256,
    FINALFUNC = sequence_next_node_finalfn,
    COMBINEFUNC = sequence_next_node_combinefn,
    SERIALFUNC = sequence_next_node_serialfn,
    DESERIALFUNC = sequence_next_node_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE sequence_next_node({{params}}, {{conds}}) IS
    'value of event on the row right after (forward) or before (backward) the rows matching the event conditions in turn from the base row';
-- @end
-- @end
