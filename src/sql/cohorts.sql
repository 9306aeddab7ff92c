-- Cohort attributes: min_by / max_by   (docs/cohorts.md)

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

CREATE AGGREGATE min_by(value anyelement, key anycompatible) (
    SFUNC = min_by_transfn,
    STYPE = internal,
    SSPACE = 128,
    FINALFUNC = by_finalfn,
    FINALFUNC_EXTRA,
    COMBINEFUNC = by_combinefn,
    SERIALFUNC = by_serialfn,
    DESERIALFUNC = by_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE min_by(anyelement, anycompatible) IS
    'the value at the smallest key (ties: the smallest value); NULL keys are skipped';
CREATE AGGREGATE max_by(value anyelement, key anycompatible) (
    SFUNC = max_by_transfn,
    STYPE = internal,
    SSPACE = 128,
    FINALFUNC = by_finalfn,
    FINALFUNC_EXTRA,
    COMBINEFUNC = by_combinefn,
    SERIALFUNC = by_serialfn,
    DESERIALFUNC = by_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE max_by(anyelement, anycompatible) IS
    'the value at the largest key (ties: the largest value); NULL keys are skipped';
