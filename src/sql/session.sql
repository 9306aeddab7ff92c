-- Sessionization window functions   (docs/sessions.md)

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
