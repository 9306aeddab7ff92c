-- Every SQLSTATE we promise for bad input, and that the backend survives each error.
CREATE FUNCTION pg_temp.error_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- retention
SELECT pg_temp.error_of($$SELECT retention(VARIADIC NULL::boolean[])$$);
SELECT pg_temp.error_of($$SELECT retention(VARIADIC '{}'::boolean[])$$);
SELECT pg_temp.error_of($$SELECT retention(VARIADIC array_fill(true, ARRAY[65]))$$);
SELECT pg_temp.error_of($$SELECT retention(VARIADIC array_fill(true, ARRAY[1000000]))$$);
SELECT pg_temp.error_of($$SELECT retention(VARIADIC '{{t,f},{t,t}}'::boolean[])$$);
SELECT pg_temp.error_of($$SELECT retention(VARIADIC CASE WHEN x = 1 THEN '{t,t}'::boolean[] ELSE '{t}' END)
                          FROM (VALUES (1), (2)) t(x)$$);
-- The error is raised for the offending group only when it is reached.
SELECT pg_temp.error_of($$SELECT g, retention(VARIADIC CASE WHEN g = 2 THEN '{}'::boolean[] ELSE '{t}' END)
                          FROM (VALUES (1), (2)) t(g) GROUP BY g$$);

-- Support functions take or return internal, so SQL cannot call them with a forged state
-- (corrupt serialized states, XX001, are covered by the unit tests).
SELECT pg_temp.error_of($$SELECT retention_transfn(NULL::internal, ARRAY[true])$$);

-- The backend is still alive and the function still works.
SELECT retention(x = 1, x = 2) FROM (VALUES (1), (2)) t(x);
