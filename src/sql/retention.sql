-- retention(VARIADIC conds boolean[]) -> integer[]   (docs/retention.md)

CREATE FUNCTION retention_transfn(state internal, conds boolean[])
RETURNS internal
AS 'MODULE_PATHNAME', 'retention_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_transfn(internal, boolean[]) IS 'transition function of retention';

CREATE FUNCTION retention_combinefn(state1 internal, state2 internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'retention_combinefn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_combinefn(internal, internal) IS 'combine function of retention';

CREATE FUNCTION retention_serialfn(state internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'retention_serialfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_serialfn(internal) IS 'serialization function of retention';

CREATE FUNCTION retention_deserialfn(bytes bytea, unused internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'retention_deserialfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_deserialfn(bytea, internal) IS 'deserialization function of retention';

CREATE FUNCTION retention_finalfn(state internal)
RETURNS integer[]
AS 'MODULE_PATHNAME', 'retention_finalfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION retention_finalfn(internal) IS 'final function of retention';

CREATE AGGREGATE retention(VARIADIC conds boolean[]) (
    SFUNC = retention_transfn,
    STYPE = internal,
    FINALFUNC = retention_finalfn,
    COMBINEFUNC = retention_combinefn,
    SERIALFUNC = retention_serialfn,
    DESERIALFUNC = retention_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE retention(boolean[]) IS
    'ClickHouse retention: r[1] = any(conds[1]), r[k] = any(conds[1]) AND any(conds[k]); NULL counts as false';
