// fmgr glue of window_funnel and window_funnel_events (timestamptz, timestamp and bigint time,
// with and without a mode); the algorithm is core/funnel.
#include "../core/funnel.hpp"
#include "aggregate.hpp"
#include "boundary.hpp"
#include "call_site.hpp"
#include "conditions.hpp"
#include "time.hpp"

#include <cstring>

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(window_funnel_transfn);
PG_FUNCTION_INFO_V1(window_funnel_int_transfn);
PG_FUNCTION_INFO_V1(window_funnel_finalfn);
PG_FUNCTION_INFO_V1(window_funnel_events_finalfn);
}

namespace core = pg_product_analytics::core;
namespace pg = pg_product_analytics::pg;
using core::FunnelEvaluator;
using core::FunnelOptions;
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

// Shared by the transition functions: arguments are (state, window, [mode,] ts, steps), the window
// already converted to the time unit.
Datum
accumulate(FunctionCallInfo fcinfo, std::int64_t window)
{
	const bool has_mode = PG_NARGS() == 5;
	const int ts_arg = has_mode ? 3 : 2;
	const int steps_arg = ts_arg + 1;
	if (has_mode && PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("funnel mode must not be null")));
	if (PG_ARGISNULL(steps_arg))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("steps array must not be null")));
	FunnelOptions options;
	options.window = window;
	options.modes = has_mode ? modes_of(fcinfo, 2) : 0;
	pg::ConditionMask row = pg::read_conditions(PG_GETARG_ARRAYTYPE_P(steps_arg));
	options.steps = row.count;
	const bool skip = PG_ARGISNULL(ts_arg); // a row without a timestamp is not an event
	const std::int64_t ts = skip ? 0 : PG_GETARG_INT64(ts_arg);
	PG_RETURN_POINTER(pg::transition<FunnelState>(
	    fcinfo, [&](std::pmr::memory_resource *r) { return FunnelState(options, r); },
	    [&](FunnelState &state) {
		    if (!skip)
			    state.add(options, ts, row.mask);
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
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("funnel window must not be null")));
	return accumulate(fcinfo, pg::interval_micros(PG_GETARG_INTERVAL_P(1), "funnel window"));
}

/*
 * window_funnel_int_transfn(state internal, window bigint, [mode text,] ts bigint, steps boolean[])
 * The same for integer time: the window is in the unit of ts.
 */
extern "C" Datum
window_funnel_int_transfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("funnel window must not be null")));
	return accumulate(fcinfo, PG_GETARG_INT64(1));
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
