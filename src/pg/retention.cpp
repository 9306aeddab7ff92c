// fmgr glue of retention(VARIADIC conds boolean[]) -> integer[]; the algorithm is core/retention.
#include "../core/retention.hpp"
#include "../core/period.hpp"
#include "aggregate.hpp"
#include "boundary.hpp"
#include "conditions.hpp"
#include "report.hpp"
#include "time.hpp"

#include <cmath>
#include <cstring>
#include <string_view>

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
#include "utils/array.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(retention_transfn);
PG_FUNCTION_INFO_V1(retention_mask_transfn);
PG_FUNCTION_INFO_V1(retention_mask_finalfn);
PG_FUNCTION_INFO_V1(retention_finalfn);
PG_FUNCTION_INFO_V1(retention_periods_transfn);
PG_FUNCTION_INFO_V1(retention_periods_finalfn);
PG_FUNCTION_INFO_V1(retention_periods_combinefn);
PG_FUNCTION_INFO_V1(period_retention_transfn);
PG_FUNCTION_INFO_V1(period_retention_rolling_transfn);
PG_FUNCTION_INFO_V1(period_retention_local_transfn);
PG_FUNCTION_INFO_V1(period_retention_names_transfn);
PG_FUNCTION_INFO_V1(period_retention_names_rolling_transfn);
PG_FUNCTION_INFO_V1(period_retention_names_local_transfn);
PG_FUNCTION_INFO_V1(period_retention_finalfn);
PG_FUNCTION_INFO_V1(cohort_retention_finalfn);
PG_FUNCTION_INFO_V1(cohort_retention_transfn);
PG_FUNCTION_INFO_V1(cohort_retention_rolling_transfn);
PG_FUNCTION_INFO_V1(cohort_retention_local_transfn);
PG_FUNCTION_INFO_V1(cohort_retention_names_transfn);
PG_FUNCTION_INFO_V1(cohort_retention_names_rolling_transfn);
PG_FUNCTION_INFO_V1(cohort_retention_names_local_transfn);
PG_FUNCTION_INFO_V1(lifecycle_transfn);
PG_FUNCTION_INFO_V1(lifecycle_finalfn);
PG_FUNCTION_INFO_V1(active_periods_transfn);
PG_FUNCTION_INFO_V1(active_periods_finalfn);
PG_FUNCTION_INFO_V1(active_users_report_transfn);
PG_FUNCTION_INFO_V1(active_users_report_finalfn);
PG_FUNCTION_INFO_V1(lifecycle_report_transfn);
PG_FUNCTION_INFO_V1(lifecycle_report_finalfn);
PG_FUNCTION_INFO_V1(retention_report_transfn);
PG_FUNCTION_INFO_V1(retention_report_rolling_transfn);
PG_FUNCTION_INFO_V1(retention_report_names_transfn);
PG_FUNCTION_INFO_V1(retention_report_names_rolling_transfn);
PG_FUNCTION_INFO_V1(retention_report_finalfn);
}

using pg_product_analytics::core::RetentionState;
namespace pg = pg_product_analytics::pg;

namespace {

// Adds one row to the group's state.
inline Datum
accumulate(FunctionCallInfo fcinfo, pg::ConditionMask row)
{
	PG_RETURN_POINTER(pg::transition<RetentionState>(
	    fcinfo, [&](std::pmr::memory_resource *) { return RetentionState(row.count); },
	    [&](RetentionState &state) { state.add(row.count, row.mask); }));
}

// retention's result: an integer[] of the n values, in the current memory context.
ArrayType *
int4_array(const std::int32_t *values, int n)
{
	Datum elems[pg_product_analytics::core::kMaxConditions];
	for (int i = 0; i < n; i++)
		elems[i] = Int32GetDatum(values[i]);
	return construct_array(elems, n, INT4OID, sizeof(int32), true, TYPALIGN_INT);
}

} // namespace

/*
 * retention_transfn(state internal, conds boolean[]) -> internal
 * The VARIADIC form (any count, or an explicit VARIADIC array). Not strict: state is NULL on a
 * group's first row. A NULL conds array (VARIADIC NULL) is ERROR 22004; NULL elements are false.
 */
extern "C" Datum
retention_transfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("conditions array must not be null")));
	return accumulate(fcinfo, pg::read_conditions(PG_GETARG_ARRAYTYPE_P(1)));
}

/*
 * retention_mask_transfn(state bigint, c1 boolean, ..., cN boolean) -> bigint, N = 1..64
 * The fixed-arity forms, which the parser prefers over the VARIADIC one when the conditions are
 * written out: no array is built per row, and the state is the bigint mask of the conditions
 * seen (bit i: condition i + 1), passed by value. Not strict: state NULL before the group's first
 * row; NULL conditions are false. Plain C: nothing here can fail.
 */
extern "C" Datum
retention_mask_transfn(PG_FUNCTION_ARGS)
{
	const std::uint64_t seen = PG_ARGISNULL(0) ? 0 : static_cast<std::uint64_t>(PG_GETARG_INT64(0));
	PG_RETURN_INT64(static_cast<int64>(seen | pg::read_condition_args(fcinfo, 1).mask));
}

/*
 * retention_mask_finalfn(state bigint, c1 boolean, ..., cN boolean) -> integer[]
 * FINALFUNC_EXTRA: the condition arguments are NULL placeholders that give N. NULL for an empty
 * group (no state).
 */
extern "C" Datum
retention_mask_finalfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	const int n = PG_NARGS() - 1 < 64 ? PG_NARGS() - 1 : 64;
	std::int32_t values[pg_product_analytics::core::kMaxConditions];
	pg_product_analytics::core::retention_result(static_cast<std::uint64_t>(PG_GETARG_INT64(0)),
	                                             static_cast<std::size_t>(n), values);
	PG_RETURN_ARRAYTYPE_P(int4_array(values, n));
}

PPA_STATE_SUPPORT_FUNCTIONS(retention, RetentionState, "retention")

/*
 * retention_finalfn(state internal) -> integer[]
 * Strict: an empty group (no state) gives NULL. Read-only on the state, so it may run several
 * times on one state (window aggregates). The array is built in the current memory context.
 */
extern "C" Datum
retention_finalfn(PG_FUNCTION_ARGS)
{
	auto *state = reinterpret_cast<RetentionState *>(PG_GETARG_POINTER(0));
	std::int32_t values[pg_product_analytics::core::kMaxConditions];
	state->result(values);
	PG_RETURN_ARRAYTYPE_P(int4_array(values, static_cast<int>(state->conditions())));
}

// ---------------------------------------------------------------------------------------------
// period_retention

namespace core = pg_product_analytics::core;
using core::PeriodRetentionOptions;
using core::PeriodRetentionState;

namespace {

// mode: '' or 'on' (the default), or 'on_or_after'.
bool
on_or_after(NullableDatum mode)
{
	if (mode.isnull)
		return false;
	text *t = DatumGetTextPP(mode.value);
	std::string_view m(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	if (m.empty() || m == "on")
		return false;
	if (m == "on_or_after")
		return true;
	ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
	                errmsg("unknown retention mode \"%.*s\"", static_cast<int>(m.size()), m.data()),
	                errhint("Valid modes: on, on_or_after.")));
	pg_unreachable();
}

// period_retention's options and zone, read from the arguments as period_retention and
// retention_report take them: the period at `first` (an interval when `rolling`, else text: a
// calendar unit, or an interval literal as a BI tool binds it: then rolling too), the count and
// the mode after it; the zone at `zone_argno` (-1: none), read for calendar periods and, when
// `rolling_zone` (the report's cohort days), for rolling ones; as-of at `as_of_argno`. Parsed on
// the first row only when all of them are constants or bound parameters.
struct RetentionArgs {
	PeriodRetentionOptions retention;
	pg_tz *tz;
};

RetentionArgs
retention_args(FunctionCallInfo fcinfo, int first, bool rolling, int zone_argno, int as_of_argno, bool rolling_zone)
{
	const int zone_or_first = zone_argno < 0 ? first : zone_argno;
	return pg::constant_options<RetentionArgs>(fcinfo, {first, first + 1, first + 2, zone_or_first, as_of_argno}, [&] {
		if (PG_ARGISNULL(first) || PG_ARGISNULL(first + 1))
			ereport(ERROR,
			        (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("retention period and count must not be null")));
		PeriodRetentionOptions options;
		const int32 periods = PG_GETARG_INT32(first + 1);
		if (periods < 0)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			                errmsg("number of retention periods must not be negative")));
		options.periods = static_cast<std::size_t>(periods);
		options.on_or_after = on_or_after(pg::optional_arg(fcinfo, first + 2));
		if (rolling) {
			options.length = pg::interval_micros(PG_GETARG_INTERVAL_P(first), "retention period");
			options.calendar.unit = core::PeriodUnit::Day;
		} else {
			const pg::PeriodArg period = pg::period_arg(fcinfo, PG_GETARG_TEXT_PP(first));
			rolling = period.rolling;
			options.length = period.length;
			options.calendar.unit = period.unit;
		}
		options.rolling = rolling;
		pg::Zone zone{nullptr, 0};
		if (zone_argno >= 0 && (rolling_zone || !rolling))
			zone = pg::zone_arg(fcinfo, zone_argno);
		options.calendar.zone = zone.id;
		NullableDatum as_of = pg::optional_arg(fcinfo, as_of_argno);
		if (!as_of.isnull) {
			options.has_as_of = true;
			options.as_of =
			    rolling ? DatumGetTimestampTz(as_of.value)
			            : pg::calendar_period_of(options.calendar.unit, DatumGetTimestampTz(as_of.value), zone.tz);
		}
		return RetentionArgs{options, zone.tz};
	});
}

// Whether the row is a start and a return event: the boolean arguments `first` and `first + 1`
// (absent: any event; NULL: false), or in the event-name forms the event (argument `first`) in
// the start events (`first + 1`) and in the return events (`first + 2`).
struct StartReturn {
	bool is_start;
	bool is_return;
};

StartReturn
start_return(FunctionCallInfo fcinfo, int first, bool names)
{
	if (names)
		return StartReturn{pg::match_step_names(fcinfo, first, first + 1, 0, "start events").mask != 0,
		                   pg::match_step_names(fcinfo, first, first + 2, 1, "return events").mask != 0};
	NullableDatum start = pg::optional_arg(fcinfo, first), ret = pg::optional_arg(fcinfo, first + 1);
	return StartReturn{PG_NARGS() <= first || (!start.isnull && DatumGetBool(start.value)),
	                   PG_NARGS() <= first + 1 || (!ret.isnull && DatumGetBool(ret.value))};
}

// Arguments: (state, ts, period, periods, [mode, [is_start, is_return | event, start_events,
// return_events, [time_zone,] [as_of]]]); calendar periods of timestamptz have a time_zone
// argument before as_of; rolling periods and calendar periods of timestamp (local times, no
// zone) do not. The event-name forms have one argument more before the zone.
// With `cohort` (cohort_retention), a row that makes the first start earlier also gives the state
// the start of its period (the cohort), computed here before the barrier: once per user for rows in
// time order.
Datum
period_retention_accumulate(FunctionCallInfo fcinfo, bool rolling, bool local = false, bool names = false,
                            bool cohort = false)
{
	const bool zoned = !rolling && !local;
	const int zone_arg = names ? 8 : 7;
	const RetentionArgs args =
	    retention_args(fcinfo, 2, rolling, zoned ? zone_arg : -1, zoned ? zone_arg + 1 : zone_arg, false);
	const PeriodRetentionOptions &options = args.retention;
	rolling = options.rolling;
	pg_tz *zone = args.tz;
	const bool skip = PG_ARGISNULL(1);
	const std::int64_t ts = skip ? 0 : PG_GETARG_TIMESTAMPTZ(1);
	const StartReturn sr = start_return(fcinfo, 5, names);
	const bool is_start = sr.is_start, is_return = sr.is_return;
	if (!skip && rolling)
		pg::require_finite(ts, "rolling period");
	const std::int64_t period = (skip || rolling) ? 0 : pg::calendar_period_of(options.calendar.unit, ts, zone);
	bool new_cohort = false;
	std::int64_t cohort_start = 0;
	if (cohort && !skip && is_start) {
		const auto *state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<PeriodRetentionState *>(PG_GETARG_POINTER(0));
		if (state == nullptr || !state->has_start() || ts < state->start_time()) {
			new_cohort = true;
			cohort_start = rolling ? ts : pg::period_start(options.calendar.unit, ts, zone);
		}
	}
	PG_RETURN_POINTER(pg::transition<PeriodRetentionState>(
	    fcinfo, [&](std::pmr::memory_resource *r) { return PeriodRetentionState(options, r); },
	    [&](PeriodRetentionState &state) {
		    if (!skip)
			    state.add(options, ts, period, is_start, is_return);
		    if (new_cohort)
			    state.set_cohort_start(cohort_start);
	    }));
}

} // namespace

/*
 * period_retention_transfn(state internal, ts timestamptz, period text, periods integer[, mode text
 *     [, is_start boolean, is_return boolean[, time_zone text[, as_of timestamptz]]]])
 * Calendar periods in time_zone (NULL: the session's). Not strict: state NULL on a group's first
 * row, allocated in the aggregate context; a NULL ts skips the row; NULL conditions are false.
 */
extern "C" Datum
period_retention_transfn(PG_FUNCTION_ARGS)
{
	return period_retention_accumulate(fcinfo, false);
}

/*
 * period_retention_rolling_transfn(state internal, ts timestamptz, period interval, periods
 *     integer[, mode text[, is_start boolean, is_return boolean[, as_of timestamptz]]])
 * Rolling periods of a fixed length from the first start event.
 */
extern "C" Datum
period_retention_rolling_transfn(PG_FUNCTION_ARGS)
{
	return period_retention_accumulate(fcinfo, true);
}

/*
 * period_retention_local_transfn(state internal, ts timestamp, period text, periods integer[, mode
 *     text[, is_start boolean, is_return boolean[, as_of timestamp]]])
 * Calendar periods of local times (timestamp without time zone): no zone is involved.
 */
extern "C" Datum
period_retention_local_transfn(PG_FUNCTION_ARGS)
{
	return period_retention_accumulate(fcinfo, false, true);
}

/*
 * period_retention_names_transfn(state internal, ts timestamptz, period text, periods integer,
 *     mode text, event text, start_events text[], return_events text[][, time_zone text[, as_of
 *     timestamptz]]); period_retention_names_rolling_transfn (period interval, no zone) and
 *     period_retention_names_local_transfn (ts timestamp, no zone): the event-name forms. A row
 *     is a start when its event is one of start_events, a return when one of return_events
 *     (compared by bytes; a NULL event is neither). NULL arrays or names are ERROR 22004, an
 *     empty array 22023, more than 64 names 54000.
 */
extern "C" Datum
period_retention_names_transfn(PG_FUNCTION_ARGS)
{
	return period_retention_accumulate(fcinfo, false, false, true);
}

extern "C" Datum
period_retention_names_rolling_transfn(PG_FUNCTION_ARGS)
{
	return period_retention_accumulate(fcinfo, true, false, true);
}

extern "C" Datum
period_retention_names_local_transfn(PG_FUNCTION_ARGS)
{
	return period_retention_accumulate(fcinfo, false, true, true);
}

/*
 * cohort_retention_transfn and its _rolling, _local, _names, _names_rolling, _names_local forms:
 * period_retention's, also keeping the cohort (the start of the first start's period).
 */
extern "C" Datum
cohort_retention_transfn(PG_FUNCTION_ARGS)
{
	return period_retention_accumulate(fcinfo, false, false, false, true);
}

extern "C" Datum
cohort_retention_rolling_transfn(PG_FUNCTION_ARGS)
{
	return period_retention_accumulate(fcinfo, true, false, false, true);
}

extern "C" Datum
cohort_retention_local_transfn(PG_FUNCTION_ARGS)
{
	return period_retention_accumulate(fcinfo, false, true, false, true);
}

extern "C" Datum
cohort_retention_names_transfn(PG_FUNCTION_ARGS)
{
	return period_retention_accumulate(fcinfo, false, false, true, true);
}

extern "C" Datum
cohort_retention_names_rolling_transfn(PG_FUNCTION_ARGS)
{
	return period_retention_accumulate(fcinfo, true, false, true, true);
}

extern "C" Datum
cohort_retention_names_local_transfn(PG_FUNCTION_ARGS)
{
	return period_retention_accumulate(fcinfo, false, true, true, true);
}

PPA_STATE_SUPPORT_FUNCTIONS(period_retention, PeriodRetentionState, "retention")

/*
 * period_retention_finalfn(state internal) -> integer[]
 * Not strict: NULL for an empty group or a user without a start event; otherwise periods + 1
 * elements of 1, 0, or NULL for a period not complete at as_of. Read-only on the state.
 */
namespace {

// period_retention's array for a state in the cohort (periods + 1 elements of 1, 0, or NULL for a
// period not complete at as_of), or nullptr for a user without a start event.
ArrayType *
retention_array(const PeriodRetentionState *state)
{
	Datum values[core::kMaxRetentionPeriods + 1];
	bool nulls[core::kMaxRetentionPeriods + 1];
	bool in_cohort = false;
	std::int8_t result[core::kMaxRetentionPeriods + 1];
	pg::guard([&] { in_cohort = state->result_into(result); });
	if (!in_cohort)
		return nullptr;
	const int count = static_cast<int>(state->options().periods) + 1;
	for (int i = 0; i < count; i++) {
		nulls[i] = result[i] < 0;
		values[i] = Int32GetDatum(result[i] < 0 ? 0 : result[i]);
	}
	int dims[1] = {count};
	int lbs[1] = {1};
	return construct_md_array(values, nulls, 1, dims, lbs, INT4OID, sizeof(int32), true, TYPALIGN_INT);
}

} // namespace

extern "C" Datum
period_retention_finalfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	ArrayType *array = retention_array(reinterpret_cast<PeriodRetentionState *>(PG_GETARG_POINTER(0)));
	if (array == nullptr)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(array);
}

/*
 * cohort_retention_finalfn(state internal) -> cohort_retention | cohort_retention_local
 * Not strict: NULL for an empty group or a user without a start event; otherwise the cohort (the
 * start of the first start's calendar period in the zone, or the first start itself for rolling
 * periods) and period_retention's array.
 */
extern "C" Datum
cohort_retention_finalfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	TupleDesc desc = pg::result_desc(fcinfo, 2);
	const auto *state = reinterpret_cast<PeriodRetentionState *>(PG_GETARG_POINTER(0));
	ArrayType *array = retention_array(state);
	if (array == nullptr)
		PG_RETURN_NULL();
	Datum values[2] = {Int64GetDatum(state->cohort_start()), PointerGetDatum(array)}; // both timestamp types are int64
	bool nulls[2] = {false, false};
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

// ---------------------------------------------------------------------------------------------
// lifecycle

using core::LifecycleRange;
using core::LifecycleState;

namespace {

// A range of calendar periods as lifecycle, lifecycle_report and retention over periods take it:
// period, range start, number of periods and the optional zone from argument `first` on (`what`
// names the function in errors). Parsed on the first row only when all are constants or bound
// parameters.
struct RangeArgs {
	LifecycleRange range;
	pg_tz *tz;
};

RangeArgs
range_args(FunctionCallInfo fcinfo, int first, const char *what)
{
	return pg::constant_options<RangeArgs>(fcinfo, {first, first + 1, first + 2, first + 3}, [&] {
		if (PG_ARGISNULL(first) || PG_ARGISNULL(first + 1) || PG_ARGISNULL(first + 2))
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			                errmsg("%s period, range start and number of periods must not be null", what)));
		const core::PeriodUnit unit = pg::period_unit_of(PG_GETARG_TEXT_PP(first));
		const pg::Zone zone = pg::zone_arg(fcinfo, first + 3);
		const int32 periods = PG_GETARG_INT32(first + 2);
		if (periods < 1)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s needs at least one period", what)));
		return RangeArgs{LifecycleRange{pg::calendar_period_of(unit, PG_GETARG_TIMESTAMPTZ(first + 1), zone.tz),
		                                static_cast<std::size_t>(periods), core::CalendarKey{unit, zone.id}},
		                 zone.tz};
	});
}

} // namespace

/*
 * lifecycle_transfn(state internal, ts timestamptz, period text, range_start timestamptz,
 *     periods integer[, time_zone text]) -> internal
 * Not strict: state NULL on a group's first row (fixed size, in the aggregate context); a NULL ts
 * skips the row. NULL period, range_start or periods is ERROR 22004.
 */
extern "C" Datum
lifecycle_transfn(PG_FUNCTION_ARGS)
{
	const RangeArgs args = range_args(fcinfo, 2, "lifecycle");
	const LifecycleRange &range = args.range;
	const bool skip = PG_ARGISNULL(1);
	const std::int64_t period =
	    skip ? 0 : pg::calendar_period_of(range.calendar.unit, PG_GETARG_TIMESTAMPTZ(1), args.tz);
	PG_RETURN_POINTER(pg::transition<LifecycleState>(
	    fcinfo, [&](std::pmr::memory_resource *) { return LifecycleState(range); },
	    [&](LifecycleState &state) {
		    if (!skip)
			    state.add(range, period);
	    }));
}

PPA_STATE_SUPPORT_FUNCTIONS(lifecycle, LifecycleState, "lifecycle")

// ---------------------------------------------------------------------------------------------
// retention over calendar periods: the state is a core::RangeMask (a bigint by value)

using core::RangeMask;

/*
 * retention_periods_transfn(state bigint, ts timestamptz, period text, range_start timestamptz,
 *     periods integer[, time_zone text]) -> bigint
 * Not strict: state NULL before the group's first row. A row sets the bit of its period when that
 * is one of the `periods` periods from range_start's (each row's own arguments: as conditions
 * would be); a NULL ts sets none. NULL period, range_start or periods is ERROR 22004, periods < 1
 * 22023, more than 56 ERROR 54000, a count that changes within a group 22023. Plain C.
 */
extern "C" Datum
retention_periods_transfn(PG_FUNCTION_ARGS)
{
	const RangeArgs args = range_args(fcinfo, 2, "retention");
	const LifecycleRange &range = args.range;
	if (range.count > RangeMask::kMaxPeriods)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
		                errmsg("too many retention periods: %zu given, the limit is %zu", range.count,
		                       RangeMask::kMaxPeriods)));
	std::uint64_t state =
	    PG_ARGISNULL(0) ? RangeMask::empty(range.count) : static_cast<std::uint64_t>(PG_GETARG_INT64(0));
	if (RangeMask::periods(state) != range.count)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("retention's number of periods changed within a group")));
	if (!PG_ARGISNULL(1)) {
		const std::int64_t period = pg::calendar_period_of(range.calendar.unit, PG_GETARG_TIMESTAMPTZ(1), args.tz);
		const std::uint64_t k = static_cast<std::uint64_t>(period) - static_cast<std::uint64_t>(range.first);
		if (k < range.count)
			state |= std::uint64_t{1} << k;
	}
	PG_RETURN_INT64(static_cast<int64>(state));
}

/*
 * retention_periods_combinefn(state1 bigint, state2 bigint) -> bigint
 * Strict (PostgreSQL keeps the other state when one is NULL). ERROR 22023 when the counts differ
 * or a state is not one of retention's.
 */
extern "C" Datum
retention_periods_combinefn(PG_FUNCTION_ARGS)
{
	const auto a = static_cast<std::uint64_t>(PG_GETARG_INT64(0));
	const auto b = static_cast<std::uint64_t>(PG_GETARG_INT64(1));
	if (RangeMask::periods(a) == 0 || RangeMask::periods(a) != RangeMask::periods(b))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("retention's number of periods changed within a group")));
	PG_RETURN_INT64(static_cast<int64>(a | b));
}

/*
 * retention_periods_finalfn(state bigint) -> integer[]
 * Strict: NULL for an empty group. ERROR 22023 for a bigint that is not a retention state.
 */
extern "C" Datum
retention_periods_finalfn(PG_FUNCTION_ARGS)
{
	const auto state = static_cast<std::uint64_t>(PG_GETARG_INT64(0));
	const std::size_t n = RangeMask::periods(state);
	if (n == 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("not a retention state")));
	std::int32_t values[RangeMask::kMaxPeriods];
	core::retention_result(RangeMask::seen(state), n, values);
	PG_RETURN_ARRAYTYPE_P(int4_array(values, static_cast<int>(n)));
}

/*
 * lifecycle_finalfn(state internal) -> text[]
 * Not strict: NULL for an empty group. One element per period of the range: 'new', 'returning',
 * 'resurrecting', 'dormant', or NULL when the user is not counted in that period.
 */
extern "C" Datum
lifecycle_finalfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	auto *state = reinterpret_cast<LifecycleState *>(PG_GETARG_POINTER(0));
	static const char *const kNames[] = {nullptr, "new", "returning", "resurrecting", "dormant"};
	int count = static_cast<int>(state->range().count);
	Datum values[core::kMaxLifecyclePeriods];
	bool nulls[core::kMaxLifecyclePeriods];
	for (int k = 0; k < count; k++) {
		const char *name = kNames[static_cast<int>(state->status(static_cast<std::size_t>(k)))];
		nulls[k] = name == nullptr;
		values[k] = name == nullptr ? Datum(0) : CStringGetTextDatum(name);
	}
	int dims[1] = {count};
	int lbs[1] = {1};
	PG_RETURN_ARRAYTYPE_P(construct_md_array(values, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
}

// ---------------------------------------------------------------------------------------------
// active_periods (stickiness)

using core::ActivePeriodsState;

/*
 * active_periods_transfn(state internal, ts timestamptz, period text[, time_zone text]) -> internal
 * Not strict: state NULL on a group's first row, in the aggregate context; a NULL ts skips the
 * row; NULL period is ERROR 22004.
 */
extern "C" Datum
active_periods_transfn(PG_FUNCTION_ARGS)
{
	const pg::CalendarArgs calendar = pg::calendar_args(fcinfo, 2, 3);
	const core::CalendarKey key = calendar.key;
	const bool skip = PG_ARGISNULL(1);
	const std::int64_t period = skip ? 0 : pg::calendar_period_of(key.unit, PG_GETARG_TIMESTAMPTZ(1), calendar.tz);
	PG_RETURN_POINTER(pg::transition<ActivePeriodsState>(
	    fcinfo, [&](std::pmr::memory_resource *r) { return ActivePeriodsState(key, r); },
	    [&](ActivePeriodsState &state) {
		    if (!skip)
			    state.add(key, period);
	    }));
}

PPA_STATE_SUPPORT_FUNCTIONS(active_periods, ActivePeriodsState, "active periods")

/*
 * active_periods_finalfn(state internal) -> integer
 * Not strict: an empty group has 0 active periods. Sorts the state in place (same entries),
 * checking for interrupts between slices.
 */
extern "C" Datum
active_periods_finalfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_INT32(0);
	auto *state = reinterpret_cast<ActivePeriodsState *>(PG_GETARG_POINTER(0));
	pg::sort_in_slices(*state);
	std::int64_t n = state->count();
	if (n > PG_INT32_MAX)
		ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("too many active periods")));
	PG_RETURN_INT32(static_cast<int32>(n));
}

// ---------------------------------------------------------------------------------------------
// active_users_report

using core::ActiveUsersOptions;
using core::ActiveUsersState;

namespace {

// The windows argument: a one-dimensional integer[] without NULLs (ERROR 22004 / 22023 else).
void
read_windows(ArrayType *array, ActiveUsersOptions &o)
{
	if (ARR_NDIM(array) > 1 || ARR_ELEMTYPE(array) != INT4OID)
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("windows must be a one-dimensional integer array")));
	if (ARR_HASNULL(array))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("windows must not contain NULL")));
	int n = ARR_NDIM(array) == 0 ? 0 : ARR_DIMS(array)[0];
	if (n > static_cast<int>(core::kMaxActiveWindows))
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
		                errmsg("too many windows: %d given, the limit is %zu", n, core::kMaxActiveWindows)));
	const auto *values = reinterpret_cast<const int32 *>(ARR_DATA_PTR(array));
	o.windows = static_cast<std::size_t>(n);
	for (int i = 0; i < n; i++)
		o.window[i] = values[i];
}

} // namespace

/*
 * active_users_report_transfn(state internal, user_id anyelement, ts timestamptz[, period text
 *     [, windows integer[] [, time_zone text]]]) -> internal
 * Defaults: 'day', '{1,7,30}' (DAU, WAU, MAU), the session's TimeZone. Not strict: state NULL on a
 * group's first row (made in the aggregate context); NULL user id or ts skips the row; NULL
 * period or windows is ERROR 22004; parameters changing within a group ERROR 22023.
 */
extern "C" Datum
active_users_report_transfn(PG_FUNCTION_ARGS)
{
	struct Options {
		ActiveUsersOptions active;
		pg_tz *tz;
	};
	// Period, windows and zone (arguments 3..5): parsed once when constant.
	const Options o = pg::constant_options<Options>(fcinfo, {3, 4, 5}, [&] {
		ActiveUsersOptions options;
		NullableDatum period = pg::optional_arg(fcinfo, 3), windows = pg::optional_arg(fcinfo, 4);
		if ((PG_NARGS() > 3 && period.isnull) || (PG_NARGS() > 4 && windows.isnull))
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("period and windows must not be null")));
		options.calendar.unit =
		    PG_NARGS() > 3 ? pg::period_unit_of(DatumGetTextPP(period.value)) : core::PeriodUnit::Day;
		if (PG_NARGS() > 4) {
			read_windows(DatumGetArrayTypeP(windows.value), options);
		} else {
			options.windows = 3;
			options.window[0] = 1;
			options.window[1] = 7;
			options.window[2] = 30;
		}
		const pg::Zone zone = pg::zone_arg(fcinfo, 5);
		options.calendar.zone = zone.id;
		return Options{options, zone.tz};
	});
	const ActiveUsersOptions &options = o.active;
	const pg::UserArg user = pg::user_arg(fcinfo, 1);
	const bool skip = user.isnull || PG_ARGISNULL(2);
	const std::int64_t p = skip ? 0 : pg::calendar_period_of(options.calendar.unit, PG_GETARG_TIMESTAMPTZ(2), o.tz);
	PG_RETURN_POINTER(pg::transition<ActiveUsersState>(
	    fcinfo,
	    [&](std::pmr::memory_resource *r) {
		    return ActiveUsersState(options, user.kind, pg_get_timezone_name(o.tz), r);
	    },
	    [&](ActiveUsersState &state) {
		    if (!skip)
			    pg::with_user_key(user, [&](auto key) { state.add(options, key, p); });
	    }));
}

PPA_STATE_SUPPORT_FUNCTIONS(active_users_report, ActiveUsersState, "active users report")

/*
 * active_users_report_finalfn(state internal) -> active_users_row[]
 * Period starts are local midnights in the zone the state was built in. Not
 * strict: no rows give an empty array. One element per period from the first active one to the
 * last and per window: the period's start, the window, the users active in the window ending
 * with the period, and stickiness (users of the period itself / users of the window).
 */
extern "C" Datum
active_users_report_finalfn(PG_FUNCTION_ARGS)
{
	Oid element = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	if (!OidIsValid(element))
		elog(ERROR, "active_users_report_finalfn called with a non-array result type");
	if (PG_ARGISNULL(0))
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(element));
	TupleDesc desc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(element, -1));
	auto *state = reinterpret_cast<ActiveUsersState *>(PG_GETARG_POINTER(0));
	pg_tz *zone = pg::zone_of_state(state->zone_name()); // the zone the periods were taken in
	core::ActiveUsersBuilder *builder = nullptr;
	pg::guard([&] {
		builder = pg::make_in_context_with<core::ActiveUsersBuilder>(
		    CurrentMemoryContext, [&](std::pmr::memory_resource *r) { return core::ActiveUsersBuilder(*state, r); });
	});
	pg::build_in_slices(builder);
	std::pmr::vector<core::ActiveUsersRow> *rows = nullptr;
	pg::guard([&] {
		rows = pg::make_in_context_with<std::pmr::vector<core::ActiveUsersRow>>(
		    CurrentMemoryContext, [&](std::pmr::memory_resource *) { return builder->result(); });
	});
	std::size_t n = rows->size();
	Datum *elements = static_cast<Datum *>(palloc(sizeof(Datum) * (n == 0 ? 1 : n)));
	Timestamp start = 0;
	for (std::size_t i = 0; i < n; i++) {
		const core::ActiveUsersRow &r = (*rows)[i];
		if (i == 0 || r.period != (*rows)[i - 1].period)
			start = pg::period_number_start(state->options().calendar.unit, r.period, zone);
		Datum values[4] = {TimestampTzGetDatum(start), Int32GetDatum(static_cast<int32>(r.window)),
		                   Int64GetDatum(r.users), Float8GetDatum(std::isnan(r.stickiness) ? 0.0 : r.stickiness)};
		bool nulls[4] = {false, false, false, std::isnan(r.stickiness)};
		elements[i] = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
		if (i % 4096 == 4095)
			CHECK_FOR_INTERRUPTS();
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elements, static_cast<int>(n), element, -1, false, TYPALIGN_DOUBLE));
}

// ---------------------------------------------------------------------------------------------
// lifecycle_report

using core::LifecycleReportState;

/*
 * lifecycle_report_transfn(state internal, user_id anyelement, ts timestamptz, period text,
 *     range_start timestamptz, periods integer[, time_zone text]) -> internal
 * Not strict: state NULL on a group's first row (made in the aggregate context); NULL user id or
 * ts skips the row; NULL period, range_start or periods is ERROR 22004. The lifecycle of every
 * user, with lifecycle's semantics.
 */
extern "C" Datum
lifecycle_report_transfn(PG_FUNCTION_ARGS)
{
	const RangeArgs o = range_args(fcinfo, 3, "lifecycle");
	const LifecycleRange &range = o.range;
	const pg::UserArg user = pg::user_arg(fcinfo, 1);
	const bool skip = user.isnull || PG_ARGISNULL(2);
	const std::int64_t period = skip ? 0 : pg::calendar_period_of(range.calendar.unit, PG_GETARG_TIMESTAMPTZ(2), o.tz);
	PG_RETURN_POINTER(pg::transition<LifecycleReportState>(
	    fcinfo,
	    [&](std::pmr::memory_resource *r) {
		    return LifecycleReportState(range, user.kind, pg_get_timezone_name(o.tz), r);
	    },
	    [&](LifecycleReportState &state) {
		    if (!skip)
			    pg::with_user_key(user, [&](auto key) { state.add(range, key, period); });
	    }));
}

PPA_STATE_SUPPORT_FUNCTIONS(lifecycle_report, LifecycleReportState, "lifecycle report")

/*
 * lifecycle_report_finalfn(state internal) -> lifecycle_report_row[]
 * Not strict: no rows give an empty array. One element per period of the range: its start (in
 * the state's zone), users new, returning, resurrecting and dormant in it, and churn: dormant
 * users divided by the users active in the previous period (NULL when none were).
 */
extern "C" Datum
lifecycle_report_finalfn(PG_FUNCTION_ARGS)
{
	Oid element = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	if (!OidIsValid(element))
		elog(ERROR, "lifecycle_report_finalfn called with a non-array result type");
	if (PG_ARGISNULL(0))
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(element));
	TupleDesc desc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(element, -1));
	auto *state = reinterpret_cast<LifecycleReportState *>(PG_GETARG_POINTER(0));
	pg_tz *zone = pg::zone_of_state(state->zone_name());
	core::LifecycleReportBuilder *builder = nullptr;
	pg::guard([&] {
		builder = pg::make_in_context_with<core::LifecycleReportBuilder>(
		    CurrentMemoryContext,
		    [&](std::pmr::memory_resource *r) { return core::LifecycleReportBuilder(*state, r); });
	});
	pg::build_in_slices(builder);
	core::LifecycleReportRow rows[core::kMaxLifecyclePeriods];
	std::size_t n = 0;
	pg::guard([&] {
		auto result = builder->result();
		n = result.size();
		std::copy(result.begin(), result.end(), rows);
	});
	Datum elements[core::kMaxLifecyclePeriods];
	for (std::size_t k = 0; k < n; k++) {
		const core::LifecycleReportRow &r = rows[k];
		Datum values[6] = {TimestampTzGetDatum(pg::period_number_start(state->range().calendar.unit, r.period, zone)),
		                   Int64GetDatum(r.count[static_cast<int>(core::LifecycleStatus::New)]),
		                   Int64GetDatum(r.count[static_cast<int>(core::LifecycleStatus::Returning)]),
		                   Int64GetDatum(r.count[static_cast<int>(core::LifecycleStatus::Resurrecting)]),
		                   Int64GetDatum(r.count[static_cast<int>(core::LifecycleStatus::Dormant)]),
		                   Float8GetDatum(std::isnan(r.churn) ? 0.0 : r.churn)};
		bool nulls[6] = {false, false, false, false, false, std::isnan(r.churn)};
		elements[k] = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elements, static_cast<int>(n), element, -1, false, TYPALIGN_DOUBLE));
}

// ---------------------------------------------------------------------------------------------
// retention_report

using core::RetentionReportOptions;
using core::RetentionReportState;

namespace {

// Arguments: (state, user_id, ts, period, periods[, mode[, is_start, is_return[, time_zone
// [, as_of[, value]]]]]); `rolling`: period is an interval (else text: a calendar unit, or an
// interval literal as a BI tool binds it). Rolling periods group cohorts by the day, in
// time_zone, of each user's first start.
Datum
retention_report_accumulate(FunctionCallInfo fcinfo, bool rolling, bool names = false)
{
	// The event-name forms have one argument more (event, start_events, return_events) before the zone.
	const int zone_arg = names ? 9 : 8;
	const RetentionArgs parsed = retention_args(fcinfo, 3, rolling, zone_arg, zone_arg + 1, true);
	const PeriodRetentionOptions &options = parsed.retention;
	rolling = options.rolling;
	const pg::Zone zone{parsed.tz, options.calendar.zone};
	const bool with_value = PG_NARGS() > zone_arg + 2;
	NullableDatum value_arg = pg::optional_arg(fcinfo, zone_arg + 2);
	const double value = value_arg.isnull ? 0.0 : DatumGetFloat8(value_arg.value);
	const pg::UserArg user = pg::user_arg(fcinfo, 1);
	const bool skip = user.isnull || PG_ARGISNULL(2);
	const std::int64_t ts = skip ? 0 : PG_GETARG_TIMESTAMPTZ(2);
	const StartReturn sr = start_return(fcinfo, 6, names);
	const bool is_start = sr.is_start, is_return = sr.is_return;
	if (!skip && rolling)
		pg::require_finite(ts, "rolling period");
	const std::int64_t period = skip ? 0 : pg::calendar_period_of(options.calendar.unit, ts, zone.tz);
	const RetentionReportOptions report(options, with_value);
	PG_RETURN_POINTER(pg::transition<RetentionReportState>(
	    fcinfo,
	    [&](std::pmr::memory_resource *r) {
		    return RetentionReportState(report, user.kind, pg_get_timezone_name(zone.tz), r);
	    },
	    [&](RetentionReportState &state) {
		    if (!skip)
			    pg::with_user_key(user,
			                      [&](auto key) { state.add(report, key, ts, period, is_start, is_return, value); });
	    }));
}

} // namespace

/*
 * retention_report_transfn(state internal, user_id anyelement, ts timestamptz, period text,
 *     periods integer[, mode text[, is_start boolean, is_return boolean[, time_zone text
 *     [, as_of timestamptz[, value double precision]]]]]) -> internal
 * period_retention's arguments after the user id, and a value summed per cell. Not strict: state
 * NULL on a group's first row; NULL user id or ts skips the row; NULL conditions are false; a
 * NULL value is 0.
 */
extern "C" Datum
retention_report_transfn(PG_FUNCTION_ARGS)
{
	return retention_report_accumulate(fcinfo, false);
}

/*
 * retention_report_rolling_transfn(...): the same with period interval (rolling periods).
 */
extern "C" Datum
retention_report_rolling_transfn(PG_FUNCTION_ARGS)
{
	return retention_report_accumulate(fcinfo, true);
}

/*
 * retention_report_names_transfn(state internal, user_id anyelement, ts timestamptz, period text,
 *     periods integer, mode text, event text, start_events text[], return_events text[][,
 *     time_zone text[, as_of timestamptz[, value double precision]]]); and
 *     retention_report_names_rolling_transfn (period interval): the event-name forms, with
 *     period_retention's rule for the names.
 */
extern "C" Datum
retention_report_names_transfn(PG_FUNCTION_ARGS)
{
	return retention_report_accumulate(fcinfo, false, true);
}

extern "C" Datum
retention_report_names_rolling_transfn(PG_FUNCTION_ARGS)
{
	return retention_report_accumulate(fcinfo, true, true);
}

PPA_STATE_SUPPORT_FUNCTIONS(retention_report, RetentionReportState, "retention report")

/*
 * retention_report_finalfn(state internal) -> retention_report_cell[]
 * Not strict: no rows give an empty array. One element per cohort (the period of a user's first
 * start event, as cohort_period gives it) and period k = 0..periods after it: the cohort's users,
 * those with a return in period k (in k or later with 'on_or_after'), and their share; both NULL
 * when the cell is not complete at as_of.
 */
extern "C" Datum
retention_report_finalfn(PG_FUNCTION_ARGS)
{
	Oid element = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	if (!OidIsValid(element))
		elog(ERROR, "retention_report_finalfn called with a non-array result type");
	if (PG_ARGISNULL(0))
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(element));
	TupleDesc desc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(element, -1));
	auto *state = reinterpret_cast<RetentionReportState *>(PG_GETARG_POINTER(0));
	pg_tz *zone = pg::zone_of_state(state->zone_name());
	core::RetentionReportBuilder *builder = nullptr;
	pg::guard([&] {
		builder = pg::make_in_context_with<core::RetentionReportBuilder>(
		    CurrentMemoryContext,
		    [&](std::pmr::memory_resource *r) { return core::RetentionReportBuilder(*state, r); });
	});
	pg::build_in_slices(builder);
	std::pmr::vector<core::RetentionReportCell> *cells = nullptr;
	pg::guard([&] {
		cells = pg::make_in_context_with<std::pmr::vector<core::RetentionReportCell>>(
		    CurrentMemoryContext, [&](std::pmr::memory_resource *) { return builder->result(); });
	});
	const std::size_t n = cells->size();
	Datum *elements = static_cast<Datum *>(palloc(sizeof(Datum) * (n == 0 ? 1 : n)));
	Timestamp start = 0;
	for (std::size_t i = 0; i < n; i++) {
		const core::RetentionReportCell &c = (*cells)[i];
		if (i == 0 || c.cohort != (*cells)[i - 1].cohort)
			start = pg::period_number_start(state->options().retention.calendar.unit, c.cohort, zone);
		const bool value = state->options().with_value && c.complete;
		Datum values[7] = {TimestampTzGetDatum(start),
		                   Int32GetDatum(static_cast<int32>(c.k)),
		                   Int64GetDatum(c.users),
		                   Int64GetDatum(c.retained),
		                   Float8GetDatum(static_cast<double>(c.retained) / static_cast<double>(c.users)),
		                   Float8GetDatum(c.value),
		                   Float8GetDatum(c.value_to_date / static_cast<double>(c.users))};
		bool nulls[7] = {false, false, false, !c.complete, !c.complete, !value, !value};
		elements[i] = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
		if (i % 4096 == 4095)
			CHECK_FOR_INTERRUPTS();
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elements, static_cast<int>(n), element, -1, false, TYPALIGN_DOUBLE));
}
