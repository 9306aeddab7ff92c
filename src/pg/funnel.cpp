// fmgr glue of window_funnel and window_funnel_events (timestamptz, timestamp and bigint time,
// with and without a mode); the algorithm is core/funnel.
#include "../core/funnel.hpp"
#include "aggregate.hpp"
#include "boundary.hpp"
#include "call_site.hpp"
#include "conditions.hpp"
#include "report.hpp"
#include "time.hpp"

#include <cmath>
#include <cstring>

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(window_funnel_transfn);
PG_FUNCTION_INFO_V1(window_funnel_int_transfn);
PG_FUNCTION_INFO_V1(window_funnel_finalfn);
PG_FUNCTION_INFO_V1(window_funnel_events_finalfn);
PG_FUNCTION_INFO_V1(funnel_report_transfn);
PG_FUNCTION_INFO_V1(funnel_report_int_transfn);
PG_FUNCTION_INFO_V1(funnel_report_names_transfn);
PG_FUNCTION_INFO_V1(funnel_report_names_int_transfn);
PG_FUNCTION_INFO_V1(window_funnel_names_transfn);
PG_FUNCTION_INFO_V1(window_funnel_names_int_transfn);
PG_FUNCTION_INFO_V1(funnel_report_finalfn);
}

namespace core = pg_product_analytics::core;
namespace pg = pg_product_analytics::pg;
using core::FunnelEvaluator;
using core::FunnelOptions;
using core::FunnelReportState;
using core::FunnelState;

namespace {

// The modes of this call site: rows nearly always carry the same constant, so parsing happens
// once per query, not per row.
std::uint32_t
modes_of(FunctionCallInfo fcinfo, int argno)
{
	text *t = PG_GETARG_TEXT_PP(argno);
	const char *data = VARDATA_ANY(t);
	int length = VARSIZE_ANY_EXHDR(t);
	pg::CallSite &site = pg::call_site(fcinfo);
	if (const std::uint32_t *modes = site.modes.find(data, length))
		return *modes;
	std::uint32_t modes = 0;
	pg::guard([&] { modes = core::parse_funnel_modes(std::string_view(data, static_cast<std::size_t>(length))); });
	site.modes.put(data, length, modes);
	return modes;
}

// A row's funnel arguments: ([user,] window, [mode,] ts, steps) or, in the event-name forms,
// ([user,] window, [mode,] ts, event, step_names); the window already converted to the time unit;
// `first` is the window's argument number (1, or 2 after a report's user id).
struct FunnelRow {
	FunnelOptions options;
	bool skip; // NULL ts: not an event
	std::int64_t ts;
	std::uint64_t mask;
};

// The window argument `argno`: an interval (timestamps) or a bigint (integer time).
std::int64_t
window_of(FunctionCallInfo fcinfo, int argno, bool integer_time)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("funnel window must not be null")));
	return integer_time ? PG_GETARG_INT64(argno) : pg::interval_micros(PG_GETARG_INTERVAL_P(argno), "funnel window");
}

FunnelRow
funnel_row(FunctionCallInfo fcinfo, int first, bool integer_time, bool names)
{
	const bool has_mode = PG_NARGS() == first + (names ? 5 : 4);
	const int ts_arg = first + (has_mode ? 2 : 1);
	const int steps_arg = ts_arg + 1;
	if (!names && PG_ARGISNULL(steps_arg))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("steps array must not be null")));
	struct Params {
		std::int64_t window;
		std::uint32_t modes;
	};
	// The window and mode: parsed once when constant.
	const Params params = pg::constant_options<Params>(fcinfo, {first, has_mode ? first + 1 : first}, [&] {
		if (has_mode && PG_ARGISNULL(first + 1))
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("funnel mode must not be null")));
		return Params{window_of(fcinfo, first, integer_time), has_mode ? modes_of(fcinfo, first + 1) : 0};
	});
	FunnelRow row;
	row.options.window = params.window;
	row.options.modes = params.modes;
	pg::ConditionMask steps = names ? pg::match_step_names(fcinfo, steps_arg, steps_arg + 1)
	                                : pg::read_conditions(PG_GETARG_ARRAYTYPE_P(steps_arg));
	row.options.steps = steps.count;
	row.mask = steps.mask;
	row.skip = PG_ARGISNULL(ts_arg);
	row.ts = row.skip ? 0 : PG_GETARG_INT64(ts_arg);
	return row;
}

Datum
accumulate(FunctionCallInfo fcinfo, bool integer_time, bool names = false)
{
	const FunnelRow row = funnel_row(fcinfo, 1, integer_time, names);
	PG_RETURN_POINTER(pg::transition<FunnelState>(
	    fcinfo, [&](std::pmr::memory_resource *r) { return FunnelState(row.options, r); },
	    [&](FunnelState &state) {
		    if (!row.skip)
			    state.add(row.options, row.ts, row.mask);
	    }));
}

// funnel_report: arguments (state, user_id, window, [mode,] ts, steps | event, step_names).
Datum
accumulate_report(FunctionCallInfo fcinfo, bool integer_time, bool names = false)
{
	const FunnelRow row = funnel_row(fcinfo, 2, integer_time, names);
	const pg::UserArg user = pg::user_arg(fcinfo, 1);
	PG_RETURN_POINTER(pg::transition<FunnelReportState>(
	    fcinfo, [&](std::pmr::memory_resource *r) { return FunnelReportState(row.options, user.kind, r); },
	    [&](FunnelReportState &state) {
		    if (!row.skip && !user.isnull)
			    pg::with_user_key(user, [&](auto key) { state.add(row.options, key, row.ts, row.mask); });
	    }));
}

// Sorts the state and runs the evaluator in slices, checking for interrupts between slices (no
// C++ object with a destructor is alive there: the evaluator lives in the current memory context,
// which destroys it on reset, also after an error).
FunnelEvaluator *
evaluate(FunnelState *state, bool track_steps)
{
	pg::sort_in_slices(*state);
	FunnelEvaluator *evaluator = nullptr;
	pg::guard([&] {
		evaluator = pg::make_in_context_with<FunnelEvaluator>(CurrentMemoryContext, [&](std::pmr::memory_resource *r) {
			return FunnelEvaluator(state->options(), track_steps, r);
		});
	});
	const auto &events = state->events();
	std::size_t pos = 0;
	bool done = false;
	while (!done) {
		pg::guard([&] {
			pos = evaluator->process(events.data(), events.size(), pos, pg::kInterruptBudget);
			done = evaluator->done();
		});
		if (!done)
			CHECK_FOR_INTERRUPTS();
	}
	return evaluator;
}

} // namespace

PPA_STATE_SUPPORT_FUNCTIONS(window_funnel, FunnelState, "funnel")

/*
 * window_funnel_transfn(state internal, window interval, [mode text,] ts timestamp[tz], steps boolean[])
 * Not strict: state is NULL on a group's first row; allocated in the aggregate context. NULL
 * window, mode or steps array is ERROR 22004; a NULL ts skips the row; NULL steps are false.
 */
extern "C" Datum
window_funnel_transfn(PG_FUNCTION_ARGS)
{
	return accumulate(fcinfo, false);
}

/*
 * window_funnel_int_transfn(state internal, window bigint, [mode text,] ts bigint, steps boolean[])
 * The same for integer time: the window is in the unit of ts.
 */
extern "C" Datum
window_funnel_int_transfn(PG_FUNCTION_ARGS)
{
	return accumulate(fcinfo, true);
}

/*
 * window_funnel_names_transfn(state internal, window interval, [mode text,] ts timestamp[tz],
 *     event text, step_names text[]); window_funnel_names_int_transfn: integer time.
 * The event-name form: step i is the rows whose event equals step_names[i] (by bytes); a NULL
 * event is no step. NULL step_names or a NULL name is ERROR 22004, an empty array 22023.
 */
extern "C" Datum
window_funnel_names_transfn(PG_FUNCTION_ARGS)
{
	return accumulate(fcinfo, false, true);
}

extern "C" Datum
window_funnel_names_int_transfn(PG_FUNCTION_ARGS)
{
	return accumulate(fcinfo, true, true);
}

/*
 * window_funnel_finalfn(state internal) -> integer
 * Not strict: an empty group is level 0. Sorts the state in place (same rows, so it may run
 * again on it in window use); cancellable between slices of work.
 */
extern "C" Datum
window_funnel_finalfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_INT32(0);
	FunnelEvaluator *evaluator = evaluate(reinterpret_cast<FunnelState *>(PG_GETARG_POINTER(0)), false);
	PG_RETURN_INT32(static_cast<int32>(evaluator->level()));
}

/*
 * window_funnel_events_finalfn(state internal) -> timestamptz[] | timestamp[] | bigint[]
 * Not strict: an empty group is an empty array. The element type is the aggregate's result
 * element type (all three are 8-byte integers inside). Same sorting and cancelling as above.
 */
extern "C" Datum
window_funnel_events_finalfn(PG_FUNCTION_ARGS)
{
	Oid element = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	if (element != TIMESTAMPTZOID && element != TIMESTAMPOID && element != INT8OID)
		elog(ERROR, "window_funnel_events_finalfn called with an unexpected result type");
	Datum values[core::kMaxConditions];
	int count = 0;
	if (!PG_ARGISNULL(0)) {
		FunnelEvaluator *evaluator = evaluate(reinterpret_cast<FunnelState *>(PG_GETARG_POINTER(0)), true);
		std::int64_t chain[core::kMaxConditions];
		count = static_cast<int>(evaluator->chain(chain));
		for (int i = 0; i < count; i++)
			values[i] = Int64GetDatum(chain[i]);
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(values, count, element, sizeof(int64), true, TYPALIGN_DOUBLE));
}

// ---------------------------------------------------------------------------------------------
// funnel_report

PPA_STATE_SUPPORT_FUNCTIONS(funnel_report, FunnelReportState, "funnel report")

/*
 * funnel_report_transfn(state internal, user_id anyelement, window interval, [mode text,]
 *     ts timestamp[tz], steps boolean[]); funnel_report_int_transfn: the same for integer time.
 * Not strict: state NULL on a group's first row (then made in the aggregate context). A NULL
 * user id or ts skips the row; NULL window, mode or steps array is ERROR 22004; NULL steps are false.
 */
extern "C" Datum
funnel_report_transfn(PG_FUNCTION_ARGS)
{
	return accumulate_report(fcinfo, false);
}

extern "C" Datum
funnel_report_int_transfn(PG_FUNCTION_ARGS)
{
	return accumulate_report(fcinfo, true);
}

/*
 * funnel_report_names_transfn(state internal, user_id anyelement, window interval, [mode text,]
 *     ts timestamp[tz], event text, step_names text[]); funnel_report_names_int_transfn: integer
 * time. The event-name form, as window_funnel_names_transfn.
 */
extern "C" Datum
funnel_report_names_transfn(PG_FUNCTION_ARGS)
{
	return accumulate_report(fcinfo, false, true);
}

extern "C" Datum
funnel_report_names_int_transfn(PG_FUNCTION_ARGS)
{
	return accumulate_report(fcinfo, true, true);
}

/*
 * funnel_report_finalfn(state internal) -> funnel_report_step[] | funnel_report_step_int[]
 * Not strict: no rows give an empty array. Folds every user's funnel in slices, checking for
 * interrupts between them; the builder lives in the current memory context (destroyed on reset).
 * One element per step: step, users reaching at least it, conversion from step 1 and from the
 * previous step (NULL when undefined), and the median and 90th percentile (percentile_disc) of
 * the time from the previous step (interval, or bigint for integer time; NULL for step 1).
 */
extern "C" Datum
funnel_report_finalfn(PG_FUNCTION_ARGS)
{
	Oid element = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	if (!OidIsValid(element))
		elog(ERROR, "funnel_report_finalfn called with a non-array result type");
	TupleDesc desc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(element, -1));
	if (desc->natts != 6)
		elog(ERROR, "funnel_report_finalfn called with an unexpected result type");
	const bool interval_times = TupleDescAttr(desc, 4)->atttypid == INTERVALOID;
	if (PG_ARGISNULL(0))
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(element));
	auto *state = reinterpret_cast<FunnelReportState *>(PG_GETARG_POINTER(0));
	core::FunnelReportBuilder *builder = nullptr;
	pg::guard([&] {
		state->flush();
		builder = pg::make_in_context_with<core::FunnelReportBuilder>(
		    CurrentMemoryContext, [&](std::pmr::memory_resource *r) { return core::FunnelReportBuilder(*state, r); });
	});
	pg::build_in_slices(builder);
	std::size_t count = 0;
	core::FunnelReportRow rows[core::kMaxConditions];
	pg::guard([&] {
		auto result = builder->result();
		count = result.size();
		std::copy(result.begin(), result.end(), rows);
	});
	Datum elements[core::kMaxConditions];
	for (std::size_t i = 0; i < count; i++) {
		const core::FunnelReportRow &r = rows[i];
		Datum values[6];
		bool nulls[6] = {false,         false,        std::isnan(r.from_first), std::isnan(r.from_previous),
		                 !r.have_times, !r.have_times};
		values[0] = Int32GetDatum(static_cast<int32>(r.step));
		values[1] = Int64GetDatum(r.users);
		values[2] = Float8GetDatum(nulls[2] ? 0.0 : r.from_first);
		values[3] = Float8GetDatum(nulls[3] ? 0.0 : r.from_previous);
		values[4] = values[5] = Int64GetDatum(0);
		if (r.have_times) {
			values[4] = interval_times ? IntervalPGetDatum(pg::micros_interval(r.median)) : Int64GetDatum(r.median);
			values[5] = interval_times ? IntervalPGetDatum(pg::micros_interval(r.p90)) : Int64GetDatum(r.p90);
		}
		elements[i] = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elements, static_cast<int>(count), element, -1, false, TYPALIGN_DOUBLE));
}
