// fmgr glue of the sessionization window functions: session_number, session_start (timestamptz,
// timestamp and bigint time), conditional_true_event and conditional_change_event.
#include "../core/session.hpp"
#include "aggregate.hpp"
#include "boundary.hpp"
#include "call_site.hpp"
#include "report.hpp"
#include "time.hpp"

#include <cstring>

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
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
PG_FUNCTION_INFO_V1(session_stats_tz_transfn);
PG_FUNCTION_INFO_V1(session_stats_ts_transfn);
PG_FUNCTION_INFO_V1(session_stats_int_transfn);
PG_FUNCTION_INFO_V1(session_stats_finalfn);
PG_FUNCTION_INFO_V1(session_stats_int_finalfn);
PG_FUNCTION_INFO_V1(session_report_tz_transfn);
PG_FUNCTION_INFO_V1(session_report_ts_transfn);
PG_FUNCTION_INFO_V1(session_report_int_transfn);
PG_FUNCTION_INFO_V1(session_report_finalfn);
}

namespace core = pg_product_analytics::core;
namespace pg = pg_product_analytics::pg;

namespace {

enum class TimeKind { TimestampTz, Timestamp, Integer };

// Per window partition (WinGetPartitionLocalMemory: zeroed for each partition).
struct SessionPartition {
	bool initialized;
	core::SessionOptions options;
	core::SessionCursor cursor;
};

// The split rules from their arguments (shared by the window functions and the aggregate): gap
// (required), max_length (NULL: none) and the midnight split (timestamptz: a zone name, NULL:
// none; timestamp: a boolean). Plain C-style, call outside guard().
struct SessionParams {
	core::SessionOptions options;
	pg_tz *zone; // timestamptz midnight split
};

SessionParams
session_params(FunctionCallInfo fcinfo, TimeKind kind, NullableDatum gap, NullableDatum max_length,
               NullableDatum midnight)
{
	SessionParams p{};
	if (gap.isnull)
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("session gap must not be null")));
	p.options.gap = kind == TimeKind::Integer ? DatumGetInt64(gap.value)
	                                          : pg::interval_micros(DatumGetIntervalP(gap.value), "session gap");
	if (!max_length.isnull)
		p.options.max_length = kind == TimeKind::Integer
		                           ? DatumGetInt64(max_length.value)
		                           : pg::interval_micros(DatumGetIntervalP(max_length.value), "maximum session length");
	if (kind != TimeKind::Integer && !midnight.isnull) {
		if (kind == TimeKind::TimestampTz) {
			pg::Zone zone = pg::zone_by_name(fcinfo, DatumGetTextPP(midnight.value));
			p.zone = zone.tz;
			p.options.day_zone = zone.id;
			p.options.split_days = true;
		} else {
			p.options.split_days = DatumGetBool(midnight.value);
		}
	}
	return p;
}

// The row's calendar day for the midnight split: in the zone (timestamptz), or the date (timestamp,
// zone NULL).
std::int64_t
day_of(const SessionParams &p, std::int64_t ts)
{
	return p.options.split_days ? pg::calendar_period_of(core::PeriodUnit::Day, ts, p.zone) : 0;
}

NullableDatum
window_arg(WindowObject win, int argno)
{
	NullableDatum d;
	d.value = WinGetFuncArgCurrent(win, argno, &d.isnull);
	return d;
}

// Window functions' arguments: (ts, gap, boundary, max_length[, midnight]). Returns false for a
// NULL ts (the row gets NULL and does not move the session state); otherwise advances.
bool
advance(FunctionCallInfo fcinfo, TimeKind kind, SessionPartition *&part)
{
	WindowObject win = PG_WINDOW_OBJECT();
	part = static_cast<SessionPartition *>(WinGetPartitionLocalMemory(win, sizeof(SessionPartition)));
	WinSetMarkPosition(win, WinGetCurrentPosition(win)); // rows behind us are never read again
	NullableDatum none{0, true};
	SessionParams p = session_params(fcinfo, kind, window_arg(win, 1), window_arg(win, 3),
	                                 kind == TimeKind::Integer ? none : window_arg(win, 4));
	NullableDatum ts = window_arg(win, 0);
	if (ts.isnull)
		return false;
	NullableDatum boundary = window_arg(win, 2);
	const bool is_boundary = !boundary.isnull && DatumGetBool(boundary.value);
	const std::int64_t day = day_of(p, DatumGetInt64(ts.value));
	if (part->initialized && !(p.options == part->options))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("session parameters changed within a window partition")));
	pg::guard([&] {
		if (!part->initialized) {
			core::check_session_options(p.options);
			part->options = p.options;
			part->initialized = true;
		}
		core::session_advance(part->cursor, part->options, DatumGetInt64(ts.value), is_boundary, day);
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
	FmgrInfo *&eq = pg::call_site(fcinfo).equality;
	if (eq == nullptr) {
		Oid type = get_fn_expr_argtype(fcinfo->flinfo, 0);
		TypeCacheEntry *entry = lookup_type_cache(type, TYPECACHE_EQ_OPR_FINFO);
		if (!OidIsValid(entry->eq_opr_finfo.fn_oid))
			ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
			                errmsg("could not identify an equality operator for type %s", format_type_be(type))));
		eq = &entry->eq_opr_finfo;
	}
	if (!DatumGetBool(FunctionCall2Coll(eq, PG_GET_COLLATION(), previous, current)))
		(*count)++;
	PG_RETURN_INT64(*count);
}

// ---------------------------------------------------------------------------------------------
// session_stats aggregate

namespace {

using core::SessionStatsState;

// Arguments: (state, ts, gap[, boundary[, max_length[, midnight]]]).
Datum
session_stats_accumulate(FunctionCallInfo fcinfo, TimeKind kind)
{
	SessionParams p = session_params(fcinfo, kind, pg::optional_arg(fcinfo, 2), pg::optional_arg(fcinfo, 4),
	                                 pg::optional_arg(fcinfo, 5));
	const bool skip = PG_ARGISNULL(1); // a row without a timestamp is not an event
	const std::int64_t ts = skip ? 0 : PG_GETARG_INT64(1);
	NullableDatum boundary = pg::optional_arg(fcinfo, 3);
	const bool is_boundary = !boundary.isnull && DatumGetBool(boundary.value);
	const auto day = static_cast<std::int32_t>(skip ? 0 : day_of(p, ts));
	PG_RETURN_POINTER(pg::transition<SessionStatsState>(
	    fcinfo, [&](std::pmr::memory_resource *r) { return SessionStatsState(p.options, PG_NARGS() > 3, r); },
	    [&](SessionStatsState &state) {
		    if (!skip)
			    state.add(p.options, ts, is_boundary, day);
	    }));
}

// Sorts and reads in slices, checking for interrupts between them. The reader is plain data on
// this stack frame: nothing with a destructor is alive at the checks.
core::SessionStats
session_stats_of(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		return core::SessionStats{};
	auto *state = reinterpret_cast<SessionStatsState *>(PG_GETARG_POINTER(0));
	pg::sort_in_slices(*state);
	core::SessionStatsReader reader(*state);
	bool done = false;
	while (true) {
		pg::guard([&] { done = reader.step(pg::kInterruptBudget); });
		if (done)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	core::SessionStats stats;
	pg::guard([&] { stats = reader.result(); }); // a duration out of range throws
	return stats;
}

Datum
session_stats_tuple(FunctionCallInfo fcinfo, const core::SessionStats &s, bool integer_time)
{
	TupleDesc desc = pg::result_desc(fcinfo, 6);
	Datum values[6];
	bool nulls[6] = {false, false, false, false, false, false};
	values[0] = Int64GetDatum(s.sessions);
	values[1] = Int64GetDatum(s.events);
	values[2] = Int64GetDatum(s.bounces);
	if (integer_time) {
		values[3] = Int64GetDatum(s.total_duration);
		values[4] = Float8GetDatum(s.sessions == 0 ? 0.0 : static_cast<double>(s.total_duration) / s.sessions);
		values[5] = Int64GetDatum(s.longest_duration);
	} else {
		values[3] = IntervalPGetDatum(pg::micros_interval(s.total_duration));
		values[4] = IntervalPGetDatum(pg::micros_interval(s.sessions == 0 ? 0 : s.total_duration / s.sessions));
		values[5] = IntervalPGetDatum(pg::micros_interval(s.longest_duration));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

} // namespace

/*
 * session_stats_{tz,ts,int}_transfn(state internal, ts, gap[, boundary[, max_length[, midnight]]])
 * Not strict: state is NULL on a group's first row; allocated in the aggregate context. A NULL ts
 * skips the row; NULL gap is ERROR 22004; NULL boundary is false; NULL max_length/midnight: none.
 */
extern "C" Datum
session_stats_tz_transfn(PG_FUNCTION_ARGS)
{
	return session_stats_accumulate(fcinfo, TimeKind::TimestampTz);
}
extern "C" Datum
session_stats_ts_transfn(PG_FUNCTION_ARGS)
{
	return session_stats_accumulate(fcinfo, TimeKind::Timestamp);
}
extern "C" Datum
session_stats_int_transfn(PG_FUNCTION_ARGS)
{
	return session_stats_accumulate(fcinfo, TimeKind::Integer);
}

PPA_STATE_SUPPORT_FUNCTIONS(session_stats, core::SessionStatsState, "session statistics")

/*
 * session_stats_finalfn(internal) -> session_stats; session_stats_int_finalfn -> session_stats_int
 * Not strict: an empty group has zero sessions. Sorts the state in place (same rows).
 */
extern "C" Datum
session_stats_finalfn(PG_FUNCTION_ARGS)
{
	return session_stats_tuple(fcinfo, session_stats_of(fcinfo), false);
}
extern "C" Datum
session_stats_int_finalfn(PG_FUNCTION_ARGS)
{
	return session_stats_tuple(fcinfo, session_stats_of(fcinfo), true);
}

// ---------------------------------------------------------------------------------------------
// session_report

namespace {

// Arguments: (state, user_id, ts, gap[, boundary[, max_length[, midnight]]]).
Datum
session_report_accumulate(FunctionCallInfo fcinfo, TimeKind kind)
{
	// Gap, maximum length and midnight zone (arguments 3, 5, 6): parsed once when constant.
	const SessionParams p = pg::constant_options<SessionParams>(fcinfo, {3, 5, 6}, [&] {
		return session_params(fcinfo, kind, pg::optional_arg(fcinfo, 3), pg::optional_arg(fcinfo, 5),
		                      pg::optional_arg(fcinfo, 6));
	});
	const pg::UserArg user = pg::user_arg(fcinfo, 1);
	const bool skip = user.isnull || PG_ARGISNULL(2);
	const std::int64_t ts = skip ? 0 : PG_GETARG_INT64(2);
	NullableDatum boundary = pg::optional_arg(fcinfo, 4);
	const bool is_boundary = !boundary.isnull && DatumGetBool(boundary.value);
	const auto day = static_cast<std::int32_t>(skip ? 0 : day_of(p, ts));
	PG_RETURN_POINTER(pg::transition<core::SessionReportState>(
	    fcinfo, [&](std::pmr::memory_resource *r) { return core::SessionReportState(p.options, user.kind, r); },
	    [&](core::SessionReportState &state) {
		    if (!skip)
			    pg::with_user_key(user, [&](auto key) { state.add(p.options, key, ts, is_boundary, day); });
	    }));
}

} // namespace

/*
 * session_report_{tz,ts,int}_transfn(state internal, user_id anyelement, ts, gap[, boundary
 *     [, max_length[, midnight]]]) -> internal
 * Not strict: state NULL on a group's first row (made in the aggregate context); NULL user id or
 * ts skips the row; the rest as session_stats.
 */
extern "C" Datum
session_report_tz_transfn(PG_FUNCTION_ARGS)
{
	return session_report_accumulate(fcinfo, TimeKind::TimestampTz);
}
extern "C" Datum
session_report_ts_transfn(PG_FUNCTION_ARGS)
{
	return session_report_accumulate(fcinfo, TimeKind::Timestamp);
}
extern "C" Datum
session_report_int_transfn(PG_FUNCTION_ARGS)
{
	return session_report_accumulate(fcinfo, TimeKind::Integer);
}

PPA_STATE_SUPPORT_FUNCTIONS(session_report, core::SessionReportState, "session report")

/*
 * session_report_finalfn(internal) -> session_report_row | session_report_row_int
 * Not strict: no rows give zero users and NULL rates and lengths. Scans every user's sessions in
 * slices, checking for interrupts between them.
 */
extern "C" Datum
session_report_finalfn(PG_FUNCTION_ARGS)
{
	TupleDesc desc;
	if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE || desc->natts != 12)
		elog(ERROR, "session_report_finalfn called with an unexpected result type");
	desc = BlessTupleDesc(desc);
	const bool intervals = TupleDescAttr(desc, 4)->atttypid == INTERVALOID;
	core::SessionReport r;
	if (!PG_ARGISNULL(0)) {
		auto *state = reinterpret_cast<core::SessionReportState *>(PG_GETARG_POINTER(0));
		core::SessionReportBuilder *builder = nullptr;
		pg::guard([&] {
			state->flush();
			builder = pg::make_in_context_with<core::SessionReportBuilder>(
			    CurrentMemoryContext,
			    [&](std::pmr::memory_resource *m) { return core::SessionReportBuilder(*state, m); });
		});
		pg::build_in_slices(builder);
		pg::guard([&] { r = builder->result(); });
	}
	Datum values[12];
	bool nulls[12] = {};
	values[0] = Int64GetDatum(r.users);
	values[1] = Int64GetDatum(r.sessions);
	nulls[2] = nulls[3] = r.users == 0;
	values[2] = Float8GetDatum(r.users == 0 ? 0.0 : static_cast<double>(r.sessions) / static_cast<double>(r.users));
	values[3] =
	    Float8GetDatum(r.sessions == 0 ? 0.0 : static_cast<double>(r.bounces) / static_cast<double>(r.sessions));
	const std::int64_t lengths[3] = {r.sessions == 0 ? 0 : r.total_length / r.sessions, r.median_length, r.p90_length};
	for (int i = 0; i < 3; i++) {
		nulls[4 + i] = r.sessions == 0;
		values[4 + i] = intervals ? IntervalPGetDatum(pg::micros_interval(lengths[i])) : Int64GetDatum(lengths[i]);
	}
	for (int k = 0; k < 5; k++)
		values[7 + k] = Int64GetDatum(r.users_by_sessions[k]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
