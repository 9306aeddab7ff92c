# Sourced by bench/run.sh and bench/profile.sh (from the repository root, with `users` set):
# builds and installs, starts the throwaway benchmark server (stopped on exit), generates the
# events of $users users with the fixed seed, builds events_indexed (the same rows with two
# indexes, for the plain-SQL variants that probe an index) and warms everything into shared buffers.
scripts/build.sh
export PPA_PORT=${PPA_BENCH_PORT:-55434}
trap 'scripts/pgserver.sh stop' EXIT
source "$(scripts/pgserver.sh start bench)"

echo "Generating events for $users users ..." >&2
psql -X -q -c "CREATE EXTENSION pg_product_analytics"
psql -X -q -v users="$users" -v seed=0.42 -f scripts/generate_events.sql >&2
# Kept apart so the other questions' plans over events stay as they are.
psql -X -q -c "CREATE TABLE events_indexed AS TABLE events" \
    -c "CREATE INDEX ON events_indexed (user_id, ts, event)" \
    -c "CREATE INDEX ON events_indexed (event, user_id, ts)" -c "VACUUM (ANALYZE) events_indexed"
# Every variant reads from memory.
psql -X -q -c "CREATE EXTENSION pg_prewarm" -c "SELECT pg_prewarm('events')" >/dev/null
psql -X -q -c "SELECT pg_prewarm(c::regclass) FROM unnest(ARRAY['events_indexed', 'events_indexed_user_id_ts_event_idx', 'events_indexed_event_user_id_ts_idx']) c" >/dev/null
