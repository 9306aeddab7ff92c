// fmgr glue of the sessionization window functions: session_number, session_start (timestamptz,
// timestamp and bigint time), conditional_true_event and conditional_change_event.
#include "../core/session.hpp"
#include "boundary.hpp"
#include "time.hpp"

#include <cstring>

extern "C" {
#include "catalog/pg_type.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/typcache.h"
#include "windowapi.h"

PG_FUNCTION_INFO_V1(session_number_tz);
PG_FUNCTION_INFO_V1(session_start_tz);
PG_FUNCTION_INFO_V1(session_number_ts);
PG_FUNCTION_INFO_V1(session_start_ts);
PG_FUNCTION_INFO_V1(session_number_int);
PG_FUNCTION_INFO_V1(session_start_int);
PG_FUNCTION_INFO_V1(conditional_true_event);
PG_FUNCTION_INFO_V1(conditional_change_event);
}

namespace core = pg_product_analytics::core;
namespace pg = pg_product_analytics::pg;

namespace {

enum class TimeKind { TimestampTz, Timestamp, Integer };

// Per window partition (WinGetPartitionLocalMemory: zeroed for each partition).
struct SessionPartition {
	bool initialized;
	core::SessionOptions options;
	pg_tz *zone; // of the midnight split (timestamptz)
	core::SessionCursor cursor;
};

// Per call site (fn_extra): the time zone of the midnight split, looked up once.
struct ZoneCache {
	pg_tz *zone;
	int length;
	char name[FLEXIBLE_ARRAY_MEMBER];
};

pg_tz *
zone_of(FunctionCallInfo fcinfo, text *name)
{
	auto *cache = static_cast<ZoneCache *>(fcinfo->flinfo->fn_extra);
	const char *data = VARDATA_ANY(name);
	int length = VARSIZE_ANY_EXHDR(name);
	if (cache != nullptr && cache->length == length && std::memcmp(cache->name, data, length) == 0)
		return cache->zone;
	char *cname = text_to_cstring(name);
	pg_tz *zone = pg_tzset(cname);
	if (zone == nullptr)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("time zone \"%s\" not recognized", cname),
		                errhint("Use a full time zone name such as 'Europe/Berlin' or 'UTC'.")));
	cache = static_cast<ZoneCache *>(
	    MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, offsetof(ZoneCache, name) + static_cast<std::size_t>(length)));
	cache->zone = zone;
	cache->length = length;
	std::memcpy(cache->name, data, static_cast<std::size_t>(length));
	fcinfo->flinfo->fn_extra = cache;
	return zone;
}

// The local calendar day of ts in `zone` (Julian day number). DST-aware: PostgreSQL's zone rules.
std::int64_t
local_day(Timestamp ts, pg_tz *zone)
{
	struct pg_tm tm;
	fsec_t fsec;
	int offset;
	if (timestamp2tm(ts, &offset, &tm, &fsec, nullptr, zone) != 0)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday);
}

// Arguments: (ts, gap, boundary, max_length[, midnight]). Returns false for a NULL ts (the row
// gets NULL and does not move the session state); otherwise advances and returns true.
bool
advance(FunctionCallInfo fcinfo, TimeKind kind, SessionPartition *&part)
{
	WindowObject win = PG_WINDOW_OBJECT();
	part = static_cast<SessionPartition *>(WinGetPartitionLocalMemory(win, sizeof(SessionPartition)));
	WinSetMarkPosition(win, WinGetCurrentPosition(win)); // rows behind us are never read again
	bool isnull;
	Datum gap = WinGetFuncArgCurrent(win, 1, &isnull);
	if (isnull)
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("session gap must not be null")));
	core::SessionOptions options;
	options.gap =
	    kind == TimeKind::Integer ? DatumGetInt64(gap) : pg::interval_micros(DatumGetIntervalP(gap), "session gap");
	Datum max_length = WinGetFuncArgCurrent(win, 3, &isnull);
	if (!isnull)
		options.max_length = kind == TimeKind::Integer
		                         ? DatumGetInt64(max_length)
		                         : pg::interval_micros(DatumGetIntervalP(max_length), "maximum session length");
	pg_tz *zone = nullptr;
	if (kind != TimeKind::Integer) {
		Datum midnight = WinGetFuncArgCurrent(win, 4, &isnull);
		if (!isnull) {
			if (kind == TimeKind::TimestampTz) {
				zone = zone_of(fcinfo, DatumGetTextPP(midnight));
				options.split_days = true;
			} else {
				options.split_days = DatumGetBool(midnight);
			}
		}
	}
	Datum ts_datum = WinGetFuncArgCurrent(win, 0, &isnull);
	if (isnull)
		return false;
	std::int64_t ts = DatumGetInt64(ts_datum);
	Datum boundary_datum = WinGetFuncArgCurrent(win, 2, &isnull);
	bool boundary = !isnull && DatumGetBool(boundary_datum);
	std::int64_t day = 0;
	if (options.split_days)
		day = zone != nullptr ? local_day(ts, zone) : (ts >= 0 ? ts / USECS_PER_DAY : -((-ts - 1) / USECS_PER_DAY) - 1);
	bool changed = part->initialized && (!(options == part->options) || zone != part->zone);
	if (changed)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("session parameters changed within a window partition")));
	pg::guard([&] {
		if (!part->initialized) {
			core::check_session_options(options);
			part->options = options;
			part->zone = zone;
			part->initialized = true;
		}
		core::session_advance(part->cursor, part->options, ts, boundary, day);
	});
	return true;
}

Datum
session_number(FunctionCallInfo fcinfo, TimeKind kind)
{
	SessionPartition *part;
	if (!advance(fcinfo, kind, part))
		PG_RETURN_NULL();
	PG_RETURN_INT64(part->cursor.number);
}

Datum
session_start(FunctionCallInfo fcinfo, TimeKind kind)
{
	SessionPartition *part;
	if (!advance(fcinfo, kind, part))
		PG_RETURN_NULL();
	PG_RETURN_INT64(part->cursor.start_ts); // timestamptz, timestamp and bigint are all int64
}

} // namespace

/*
 * session_number(ts, gap, boundary, max_length, midnight) OVER (PARTITION BY ... ORDER BY ts) -> bigint
 * session_start(...) -> the session's first timestamp
 * Window functions; state in partition-local memory (plain data), one row at a time, marking the
 * current row so the tuplestore keeps nothing behind it. A NULL ts gives NULL and is skipped.
 */
extern "C" Datum
session_number_tz(PG_FUNCTION_ARGS)
{
	return session_number(fcinfo, TimeKind::TimestampTz);
}
extern "C" Datum
session_start_tz(PG_FUNCTION_ARGS)
{
	return session_start(fcinfo, TimeKind::TimestampTz);
}
extern "C" Datum
session_number_ts(PG_FUNCTION_ARGS)
{
	return session_number(fcinfo, TimeKind::Timestamp);
}
extern "C" Datum
session_start_ts(PG_FUNCTION_ARGS)
{
	return session_start(fcinfo, TimeKind::Timestamp);
}
extern "C" Datum
session_number_int(PG_FUNCTION_ARGS)
{
	return session_number(fcinfo, TimeKind::Integer);
}
extern "C" Datum
session_start_int(PG_FUNCTION_ARGS)
{
	return session_start(fcinfo, TimeKind::Integer);
}

/*
 * conditional_true_event(cond boolean) OVER (...) -> bigint
 * Starts at 0 and counts the rows so far (this one included) where cond is true; NULL is not true.
 * A counter in partition-local memory.
 */
extern "C" Datum
conditional_true_event(PG_FUNCTION_ARGS)
{
	WindowObject win = PG_WINDOW_OBJECT();
	auto *count = static_cast<int64 *>(WinGetPartitionLocalMemory(win, sizeof(int64)));
	WinSetMarkPosition(win, WinGetCurrentPosition(win));
	bool isnull;
	Datum cond = WinGetFuncArgCurrent(win, 0, &isnull);
	if (!isnull && DatumGetBool(cond))
		(*count)++;
	PG_RETURN_INT64(*count);
}

/*
 * conditional_change_event(expr anyelement) OVER (...) -> bigint
 * Starts at 0 and counts the rows so far where expr differs from the previous row's expr, with the
 * type's default equality; a change to or from NULL is not a change (Snowflake: the same as
 * conditional_true_event(expr <> lag(expr))). Reads the previous row back from the window, so it
 * marks one row behind the current.
 */
extern "C" Datum
conditional_change_event(PG_FUNCTION_ARGS)
{
	WindowObject win = PG_WINDOW_OBJECT();
	auto *count = static_cast<int64 *>(WinGetPartitionLocalMemory(win, sizeof(int64)));
	int64 pos = WinGetCurrentPosition(win);
	if (pos > 0)
		WinSetMarkPosition(win, pos - 1);
	if (pos == 0)
		PG_RETURN_INT64(*count);
	bool isnull, previous_isnull, isout;
	Datum current = WinGetFuncArgCurrent(win, 0, &isnull);
	Datum previous = WinGetFuncArgInPartition(win, 0, -1, WINDOW_SEEK_CURRENT, false, &previous_isnull, &isout);
	if (isnull || previous_isnull || isout)
		PG_RETURN_INT64(*count);
	auto *eq = static_cast<FmgrInfo *>(fcinfo->flinfo->fn_extra);
	if (eq == nullptr) {
		Oid type = get_fn_expr_argtype(fcinfo->flinfo, 0);
		TypeCacheEntry *entry = lookup_type_cache(type, TYPECACHE_EQ_OPR_FINFO);
		if (!OidIsValid(entry->eq_opr_finfo.fn_oid))
			ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
			                errmsg("could not identify an equality operator for type %s", format_type_be(type))));
		eq = &entry->eq_opr_finfo;
		fcinfo->flinfo->fn_extra = eq;
	}
	if (!DatumGetBool(FunctionCall2Coll(eq, PG_GET_COLLATION(), previous, current)))
		(*count)++;
	PG_RETURN_INT64(*count);
}
