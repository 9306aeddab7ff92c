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

// Whether an evaluator made for this state may serve the call site's later groups: the options
// form only when its spec is the call site's kept one (a state's own copy dies with the state).
bool
keepable(const FunnelState &)
{
	return true;
}
bool
keepable(const core::FunnelSpecState &state)
{
	return state.spec_shared();
}

// Sorts the state and runs the evaluator in slices, checking for interrupts between slices (no
// C++ object with a destructor is alive there: the evaluator lives in a memory context, which
// destroys it on reset, also after an error). The call site keeps its first evaluator in fn_mcxt
// and resets it for each later group with the same options (no allocation per group; its
// buffers stay as large as the largest group needed, until the query ends); a group with other
// options gets one in the current context. Either form: FunnelState with FunnelEvaluator,
// FunnelSpecState with FunnelPathEvaluator.
template <class Evaluator, class State>
Evaluator *
evaluate(FunctionCallInfo fcinfo, State *state, bool track_steps)
{
	pg::sort_in_slices(*state);
	void *&kept = pg::call_site(fcinfo).evaluator;
	Evaluator *evaluator = nullptr;
	pg::guard([&] {
		auto *previous = static_cast<Evaluator *>(kept);
		if (previous != nullptr && previous->reusable_for(state->options(), track_steps)) {
			previous->reset();
			evaluator = previous;
			return;
		}
		const bool keep = previous == nullptr && keepable(*state);
		evaluator = pg::make_in_context_with<Evaluator>(
		    keep ? fcinfo->flinfo->fn_mcxt : CurrentMemoryContext,
		    [&](std::pmr::memory_resource *r) { return Evaluator(state->options(), track_steps, r); });
		if (keep)
			kept = evaluator;
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

// The final functions of window_funnel and window_funnel_events, in either form.
template <class Evaluator, class State>
Datum
level_result(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_INT32(0);
	Evaluator *evaluator = evaluate<Evaluator>(fcinfo, reinterpret_cast<State *>(PG_GETARG_POINTER(0)), false);
	PG_RETURN_INT32(static_cast<int32>(core::user_level(*evaluator)));
}

template <class Evaluator, class State>
Datum
chain_result(FunctionCallInfo fcinfo)
{
	Oid element = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	if (element != TIMESTAMPTZOID && element != TIMESTAMPOID && element != INT8OID)
		elog(ERROR, "window_funnel_events final function called with an unexpected result type");
	Datum values[core::kMaxConditions];
	int count = 0;
	if (!PG_ARGISNULL(0)) {
		Evaluator *evaluator = evaluate<Evaluator>(fcinfo, reinterpret_cast<State *>(PG_GETARG_POINTER(0)), true);
		std::int64_t chain[core::kMaxConditions];
		count = static_cast<int>(evaluator->chain(chain));
		for (int i = 0; i < count; i++)
			values[i] = Int64GetDatum(chain[i]);
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(values, count, element, sizeof(int64), true, TYPALIGN_DOUBLE));
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
	return level_result<FunnelEvaluator, FunnelState>(fcinfo);
}

/*
 * window_funnel_events_finalfn(state internal) -> timestamptz[] | timestamp[] | bigint[]
 * Not strict: an empty group is an empty array. The element type is the aggregate's result
 * element type (all three are 8-byte integers inside). Same sorting and cancelling as above.
 */
extern "C" Datum
window_funnel_events_finalfn(PG_FUNCTION_ARGS)
{
	return chain_result<FunnelEvaluator, FunnelState>(fcinfo);
}

// ---------------------------------------------------------------------------------------------
// funnel_report

namespace {

// The median and 90th percentile of a report row as Datums: an interval, or a bigint for integer
// time; `nulls` says which are undefined.
void
report_times(const core::FunnelReportRow &r, bool interval_times, Datum *values, bool *nulls)
{
	nulls[0] = nulls[1] = !r.have_times;
	values[0] = values[1] = Int64GetDatum(0);
	if (r.have_times) {
		values[0] = interval_times ? IntervalPGetDatum(pg::micros_interval(r.median)) : Int64GetDatum(r.median);
		values[1] = interval_times ? IntervalPGetDatum(pg::micros_interval(r.p90)) : Int64GetDatum(r.p90);
	}
}

// The result array of funnel_report (either form): one funnel_report_step (or _int) per row.
Datum
report_array(FunctionCallInfo fcinfo, const core::FunnelReportRow *rows, std::size_t count)
{
	Oid element = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	if (!OidIsValid(element))
		elog(ERROR, "funnel_report_finalfn called with a non-array result type");
	TupleDesc desc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(element, -1));
	if (desc->natts != 6)
		elog(ERROR, "funnel_report_finalfn called with an unexpected result type");
	const bool interval_times = TupleDescAttr(desc, 4)->atttypid == INTERVALOID;
	Datum elements[core::kMaxConditions];
	for (std::size_t i = 0; i < count; i++) {
		const core::FunnelReportRow &r = rows[i];
		Datum values[6];
		bool nulls[6] = {false, false, std::isnan(r.from_first), std::isnan(r.from_previous), false, false};
		values[0] = Int32GetDatum(static_cast<int32>(r.step));
		values[1] = Int64GetDatum(r.users);
		values[2] = Float8GetDatum(nulls[2] ? 0.0 : r.from_first);
		values[3] = Float8GetDatum(nulls[3] ? 0.0 : r.from_previous);
		report_times(r, interval_times, values + 4, nulls + 4);
		elements[i] = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elements, static_cast<int>(count), element, -1, false, TYPALIGN_DOUBLE));
}

} // namespace

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
	if (PG_ARGISNULL(0))
		return report_array(fcinfo, nullptr, 0);
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
	return report_array(fcinfo, rows, count);
}

// ---------------------------------------------------------------------------------------------
// The options form: funnel_options(...) makes a funnel_options value (a composite type, named
// arguments with defaults, since an aggregate call cannot take named arguments);
// window_funnel(options, ts, ...) reads it once per call site into a core::FunnelSpec.

extern "C" {
#include "executor/executor.h"
#include "utils/builtins.h"
PG_FUNCTION_INFO_V1(funnel_options);
PG_FUNCTION_INFO_V1(window_funnel_options_transfn);
PG_FUNCTION_INFO_V1(window_funnel_options_int_transfn);
PG_FUNCTION_INFO_V1(window_funnel_options_names_transfn);
PG_FUNCTION_INFO_V1(window_funnel_options_names_int_transfn);
PG_FUNCTION_INFO_V1(window_funnel_options_finalfn);
PG_FUNCTION_INFO_V1(window_funnel_options_events_finalfn);
PG_FUNCTION_INFO_V1(window_funnel_options_deserialfn);
}

using core::FunnelPathEvaluator;
using core::FunnelSpec;
using core::FunnelSpecState;

namespace {

// The attributes of type funnel_options, in the order of funnel_options()'s arguments.
enum OptionField : int {
	kWindow,
	kStepWindows,
	kStepOrder,
	kExclude,
	kExcludeFrom,
	kExcludeTo,
	kExclusionRule,
	kMode,
	kWindowUnits,
	kStepWindowUnits,
	kBreakdownAttribution,
	kControl,
	kOptionFields
};

struct OptionValues {
	Datum value[kOptionFields];
	bool null[kOptionFields];
};

// A funnel's options as a transition function keeps them: the core's, and the exclusion names of
// the event-name forms (count 0 in the condition forms).
struct ParsedOptions {
	FunnelSpec spec;
	pg::StepNames exclude;
	const char *control; ///< the breakdown's control value (spec.control != 0), in the parse's context
	int control_length;
};

bool
text_is(Datum d, const char *word)
{
	text *t = DatumGetTextPP(d);
	const std::size_t n = VARSIZE_ANY_EXHDR(t);
	return n == std::strlen(word) && std::memcmp(VARDATA_ANY(t), word, n) == 0;
}

// The step of a breakdown_attribution 'step_N' (0 for first_touch / last_touch); ERROR 22023 for
// anything else.
int
attribution_step(Datum d)
{
	if (text_is(d, "first_touch") || text_is(d, "last_touch"))
		return 0;
	text *t = DatumGetTextPP(d);
	const char *p = VARDATA_ANY(t);
	const int n = VARSIZE_ANY_EXHDR(t);
	int step = 0;
	bool ok = n > 5 && n <= 7 && std::memcmp(p, "step_", 5) == 0 && p[5] != '0';
	for (int i = 5; ok && i < n; i++) {
		ok = p[i] >= '0' && p[i] <= '9';
		step = step * 10 + (p[i] - '0');
	}
	if (!ok)
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		         errmsg("unknown funnel breakdown_attribution \"%s\"", text_to_cstring(t)),
		         errhint("Valid attributions: first_touch, last_touch, step_N (N a step number, e.g. step_2).")));
	return step;
}

// A one-dimensional array's elements (an empty array has none); `what` names it in errors.
int
array_elements(Datum d, Oid type, int16 length, bool byval, char align, const char *what, Datum **values, bool **nulls)
{
	ArrayType *array = DatumGetArrayTypeP(d);
	if (ARR_NDIM(array) > 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must be a one-dimensional array", what)));
	int count = 0;
	deconstruct_array(array, type, length, byval, align, values, nulls, &count);
	return count;
}

int
array_length(const OptionValues &f, OptionField field)
{
	if (f.null[field])
		return -1;
	ArrayType *array = DatumGetArrayTypeP(f.value[field]);
	return ARR_NDIM(array) == 0 ? 0 : ARR_DIMS(array)[0];
}

// Step numbers of exclude_from / exclude_to: no NULL elements.
int
step_numbers(const OptionValues &f, OptionField field, const char *what, int *out)
{
	Datum *values;
	bool *nulls;
	const int n = array_elements(f.value[field], INT4OID, 4, true, TYPALIGN_INT, what, &values, &nulls);
	if (n > static_cast<int>(core::kMaxConditions))
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
		                errmsg("too many funnel exclusions: %d given, the limit is %zu", n, core::kMaxConditions)));
	for (int i = 0; i < n; i++) {
		if (nulls[i])
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not contain nulls", what)));
		if (out != nullptr)
			out[i] = DatumGetInt32(values[i]);
	}
	return n;
}

// What check_option_values parsed on the way.
struct CheckedOptions {
	std::uint32_t modes;  ///< core::FunnelMode flags
	int attribution_step; ///< 0: first_touch or last_touch
};

// What does not depend on the steps: names, signs and shapes. Shared by funnel_options() and the
// aggregates (a funnel_options value may also be written as a row literal).
CheckedOptions
check_option_values(const OptionValues &f)
{
	if (f.null[kStepOrder] || f.null[kExclusionRule] || f.null[kMode] || f.null[kBreakdownAttribution])
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
		                errmsg("funnel option %s must not be null", f.null[kStepOrder]       ? "step_order"
		                                                            : f.null[kExclusionRule] ? "exclusion_rule"
		                                                            : f.null[kMode]          ? "mode"
		                                                                            : "breakdown_attribution")));
	const int step = attribution_step(f.value[kBreakdownAttribution]);
	if (!text_is(f.value[kStepOrder], "ordered") && !text_is(f.value[kStepOrder], "strict") &&
	    !text_is(f.value[kStepOrder], "any"))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("unknown funnel step_order \"%s\"", TextDatumGetCString(f.value[kStepOrder])),
		                errhint("Valid step orders: ordered, strict, any.")));
	if (!text_is(f.value[kExclusionRule], "exclude_user") && !text_is(f.value[kExclusionRule], "end_chain"))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("unknown funnel exclusion_rule \"%s\"", TextDatumGetCString(f.value[kExclusionRule])),
		                errhint("Valid exclusion rules: exclude_user, end_chain.")));
	text *mode = DatumGetTextPP(f.value[kMode]);
	std::uint32_t modes = 0;
	pg::guard([&] {
		modes = core::parse_funnel_modes(
		    std::string_view(VARDATA_ANY(mode), static_cast<std::size_t>(VARSIZE_ANY_EXHDR(mode))));
	});
	if ((modes & ~(core::kStrictIncrease | core::kStrictOnce)) != 0)
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		         errmsg("funnel mode \"%s\" cannot be used in funnel_options", TextDatumGetCString(f.value[kMode])),
		         errhint("funnel_options takes the modes strict_increase and strict_once (always on); for events "
		                 "without others in between use step_order => 'strict'.")));
	if (!f.null[kWindow] && !f.null[kWindowUnits])
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("funnel options give both window and window_units"),
		         errhint("window is an interval, for timestamps; window_units a bigint, for bigint time.")));
	if (!f.null[kStepWindows] && !f.null[kStepWindowUnits])
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("funnel options give both step_windows and step_window_units")));
	if (!f.null[kWindow] && pg::interval_micros(DatumGetIntervalP(f.value[kWindow]), "funnel window") < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("funnel window must not be negative")));
	if (!f.null[kWindowUnits] && DatumGetInt64(f.value[kWindowUnits]) < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("funnel window_units must not be negative")));
	Datum *values;
	bool *nulls;
	if (!f.null[kStepWindows]) {
		const int n = array_elements(f.value[kStepWindows], INTERVALOID, 16, false, TYPALIGN_DOUBLE, "step_windows",
		                             &values, &nulls);
		for (int i = 0; i < n; i++)
			if (!nulls[i] && pg::interval_micros(DatumGetIntervalP(values[i]), "funnel step window") < 0)
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				                errmsg("funnel step window %d must not be negative", i + 1)));
	}
	if (!f.null[kStepWindowUnits]) {
		const int n = array_elements(f.value[kStepWindowUnits], INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
		                             "step_window_units", &values, &nulls);
		for (int i = 0; i < n; i++)
			if (!nulls[i] && DatumGetInt64(values[i]) < 0)
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				                errmsg("funnel step window %d must not be negative", i + 1)));
	}
	if (f.null[kExcludeFrom] != f.null[kExcludeTo])
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("funnel options give %s without %s", f.null[kExcludeTo] ? "exclude_from" : "exclude_to",
		                       f.null[kExcludeTo] ? "exclude_to" : "exclude_from")));
	if (!f.null[kExcludeFrom]) {
		const int from = step_numbers(f, kExcludeFrom, "exclude_from", nullptr);
		const int to = step_numbers(f, kExcludeTo, "exclude_to", nullptr);
		const int names = array_length(f, kExclude);
		if (from != to || (names >= 0 && names != from))
			ereport(ERROR,
			        (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("funnel exclusion arrays differ in length"),
			         errdetail("exclude has %d elements, exclude_from %d, exclude_to %d.", names, from, to)));
	}
	return CheckedOptions{modes, step};
}

OptionValues
option_values(HeapTupleHeader options)
{
	OptionValues f;
	for (int i = 0; i < kOptionFields; i++)
		f.value[i] = GetAttributeByNum(options, static_cast<AttrNumber>(i + 1), &f.null[i]);
	return f;
}

// The spec of a row whose steps are `given` names (event-name form) or `given` conditions
// (condition form: the steps, then one condition per exclusion). Errors 22023, 22004, 54000.
void
parse_options(HeapTupleHeader options, bool names_form, int given, bool integer_time, ParsedOptions *out,
              MemoryContext memory)
{
	const OptionValues f = option_values(options);
	const CheckedOptions checked = check_option_values(f);
	FunnelSpec spec;
	int exclusions = 0;
	if (names_form) {
		exclusions = std::max(array_length(f, kExclude), 0);
	} else {
		if (!f.null[kExclude])
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			                errmsg("funnel option exclude names events, which needs the event-name form"),
			                errhint("In the condition form, pass one condition per exclusion after the steps and "
			                        "give exclude_from and exclude_to.")));
		exclusions = std::max(array_length(f, kExcludeFrom), 0);
	}
	const int steps = names_form ? given : given - exclusions;
	if (steps < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("funnel needs a step condition before its %d exclusion conditions, %d conditions given",
		                       exclusions, given),
		                errhint("Pass the step conditions first, then one condition per exclusion.")));
	spec.steps = static_cast<std::size_t>(steps);
	spec.exclusions = static_cast<std::size_t>(exclusions);
	spec.order = text_is(f.value[kStepOrder], "strict") ? core::StepOrder::Strict
	             : text_is(f.value[kStepOrder], "any")  ? core::StepOrder::Any
	                                                    : core::StepOrder::Ordered;
	spec.rule = text_is(f.value[kExclusionRule], "end_chain") ? core::ExclusionRule::EndChain
	                                                          : core::ExclusionRule::ExcludeUser;
	spec.strict_increase = (checked.modes & core::kStrictIncrease) != 0;
	const OptionField window = integer_time ? kWindowUnits : kWindow;
	const OptionField other_window = integer_time ? kWindow : kWindowUnits;
	const OptionField step_windows = integer_time ? kStepWindowUnits : kStepWindows;
	const OptionField other_steps = integer_time ? kStepWindows : kStepWindowUnits;
	if (!f.null[other_window] || !f.null[other_steps])
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg(integer_time ? "funnel over bigint time takes window_units and step_window_units"
		                                    : "funnel over timestamps takes window and step_windows (intervals)"),
		                errhint(integer_time ? "Give the windows in the unit of ts: window_units => 3600."
		                                     : "window_units and step_window_units are for bigint time.")));
	if (!f.null[window])
		spec.window = integer_time ? DatumGetInt64(f.value[window])
		                           : pg::interval_micros(DatumGetIntervalP(f.value[window]), "funnel window");
	if (!f.null[step_windows]) {
		Datum *values;
		bool *nulls;
		const int n = integer_time ? array_elements(f.value[step_windows], INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
		                                            "step_window_units", &values, &nulls)
		                           : array_elements(f.value[step_windows], INTERVALOID, 16, false, TYPALIGN_DOUBLE,
		                                            "step_windows", &values, &nulls);
		if (n != steps - 1)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			                errmsg("%s must have one element per step after the first: %d expected, %d given",
			                       integer_time ? "step_window_units" : "step_windows", steps - 1, n),
			                errdetail("Element k is the longest time from step k to step k + 1 (NULL: no limit).")));
		for (int i = 0; i < n; i++)
			if (!nulls[i])
				spec.step_window[i] = integer_time
				                          ? DatumGetInt64(values[i])
				                          : pg::interval_micros(DatumGetIntervalP(values[i]), "funnel step window");
	}
	int from[core::kMaxConditions], to[core::kMaxConditions];
	if (!f.null[kExcludeFrom]) {
		step_numbers(f, kExcludeFrom, "exclude_from", from);
		step_numbers(f, kExcludeTo, "exclude_to", to);
	} else {
		for (int x = 0; x < exclusions && x < static_cast<int>(core::kMaxConditions); x++) {
			from[x] = 1; // the whole funnel
			to[x] = steps;
		}
	}
	for (int x = 0; x < exclusions && x < static_cast<int>(core::kMaxConditions); x++) {
		const auto clamp = [](int v) { return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v); };
		spec.exclude_from[x] = clamp(from[x]);
		spec.exclude_to[x] = clamp(to[x]);
		if (from[x] != spec.exclude_from[x] || to[x] != spec.exclude_to[x])
			spec.exclude_from[x] = spec.exclude_to[x] = 0; // out of range: the core names it
	}
	const int step = checked.attribution_step;
	spec.attribution = step > 0                                                ? core::Attribution::Step
	                   : text_is(f.value[kBreakdownAttribution], "last_touch") ? core::Attribution::LastTouch
	                                                                           : core::Attribution::FirstTouch;
	spec.attribution_step = static_cast<std::uint8_t>(step > 255 ? 255 : step);
	out->control = nullptr;
	out->control_length = 0;
	if (!f.null[kControl]) {
		text *control = DatumGetTextPP(f.value[kControl]);
		out->control_length = static_cast<int>(VARSIZE_ANY_EXHDR(control));
		char *copy = static_cast<char *>(MemoryContextAlloc(memory, static_cast<Size>(out->control_length) + 1));
		std::memcpy(copy, VARDATA_ANY(control), static_cast<std::size_t>(out->control_length));
		out->control = copy;
		spec.control = core::control_hash(std::string_view(copy, static_cast<std::size_t>(out->control_length)));
	}
	pg::guard([&] { core::check_funnel_spec(spec); });
	out->spec = spec;
	out->exclude.count = 0;
	out->exclude.distinct = 0;
	if (names_form && exclusions > 0)
		pg::parse_step_names(DatumGetArrayTypeP(f.value[kExclude]), memory, &out->exclude, "exclude names");
}

// A row of the options form: the options (argument `options_arg`), ts (`ts_arg`) and the steps
// from `steps_arg`: (event, steps text[]) or VARIADIC conds.
struct SpecRow {
	const ParsedOptions *options;
	bool stable; // kept by the call site: states point to its spec
	bool skip;   // NULL ts
	std::int64_t ts;
	std::uint64_t mask;
};

SpecRow
spec_row(FunctionCallInfo fcinfo, int options_arg, int ts_arg, int steps_arg, bool integer_time, bool names)
{
	if (PG_ARGISNULL(options_arg))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("funnel options must not be null")));
	if (!names && PG_ARGISNULL(steps_arg))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("steps array must not be null")));
	const pg::ConditionMask steps = names ? pg::match_step_names(fcinfo, steps_arg, steps_arg + 1)
	                                      : pg::read_conditions(PG_GETARG_ARRAYTYPE_P(steps_arg));
	const auto given = static_cast<int>(steps.count);
	pg::Kept<ParsedOptions> kept{pg::kept_constant_value<ParsedOptions>(fcinfo), true};
	const FunnelSpec *kept_spec = kept.value != nullptr ? &kept.value->spec : nullptr;
	if (kept_spec == nullptr ||
	    static_cast<int>(names ? kept_spec->steps : kept_spec->steps + kept_spec->exclusions) != given) {
		HeapTupleHeader options = PG_GETARG_HEAPTUPLEHEADER(options_arg);
		auto parse = [&](ParsedOptions *out, MemoryContext memory) {
			parse_options(options, names, given, integer_time, out, memory);
		};
		kept =
		    pg::kept_value<ParsedOptions>(fcinfo, reinterpret_cast<const char *>(options),
		                                  static_cast<int>(HeapTupleHeaderGetDatumLength(options)), parse, options_arg);
		kept_spec = &kept.value->spec;
		if (static_cast<int>(names ? kept_spec->steps : kept_spec->steps + kept_spec->exclusions) != given) {
			// The same options with another number of steps on this row: read for this row only.
			auto *row = static_cast<ParsedOptions *>(palloc(sizeof(ParsedOptions)));
			parse(row, CurrentMemoryContext);
			kept = pg::Kept<ParsedOptions>{row, false};
			kept_spec = &row->spec;
		}
	}
	SpecRow row{kept.value, kept.stable, PG_ARGISNULL(ts_arg), 0, steps.mask};
	if (!row.skip)
		row.ts = PG_GETARG_INT64(ts_arg);
	if (names && kept.value->exclude.count > 0 && !PG_ARGISNULL(steps_arg))
		row.mask |= pg::name_mask(kept.value->exclude, PG_GETARG_TEXT_PP(steps_arg)) << kept_spec->steps;
	return row;
}

Datum
accumulate_spec(FunctionCallInfo fcinfo, bool integer_time, bool names)
{
	const SpecRow row = spec_row(fcinfo, 1, 2, 3, integer_time, names);
	PG_RETURN_POINTER(pg::transition<FunnelSpecState>(
	    fcinfo, [&](std::pmr::memory_resource *r) { return FunnelSpecState(row.options->spec, row.stable, r); },
	    [&](FunnelSpecState &state) {
		    if (!row.skip)
			    state.add(row.options->spec, row.ts, row.mask);
	    }));
}

} // namespace

namespace {

// The deserialization function of a funnel options state (FunnelSpecState, FunnelSpecReportState):
// states whose options equal ones the call site keeps point to them, and the first options read
// that it does not keep yet are kept (a copy, matched by value), so the leader does not copy the
// options per partial state. Corrupt bytes are ERROR XX001.
template <class State>
Datum
deserialize_sharing_options(FunctionCallInfo fcinfo)
{
	bytea *in = PG_GETARG_BYTEA_PP(0);
	const auto *data = reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(in));
	const std::size_t size = VARSIZE_ANY_EXHDR(in);
	const ParsedOptions *kept[pg::CallSite::kKept];
	const int kept_count = pg::kept_values(fcinfo, kept);
	const FunnelSpec *specs[pg::CallSite::kKept];
	for (int i = 0; i < kept_count; i++)
		specs[i] = &kept[i]->spec;
	State *state = nullptr;
	pg::guard([&] {
		state = pg::make_in_context_with<State>(CurrentMemoryContext, [&](std::pmr::memory_resource *r) {
			return State::deserialize(data, size, r, specs, static_cast<std::size_t>(kept_count));
		});
	});
	bool known = false;
	for (int i = 0; i < kept_count; i++)
		known = known || specs[i] == &state->options();
	if (!known) {
		ParsedOptions read;
		read.spec = state->options();
		read.exclude.count = read.exclude.distinct = 0;
		read.control = nullptr; // not needed after a transition: states keep their own copy
		read.control_length = 0;
		pg::keep_read_value(fcinfo, read);
	}
	PG_RETURN_POINTER(state);
}

} // namespace

/*
 * funnel_options("window" interval, step_windows interval[], step_order text, exclude text[],
 *     exclude_from integer[], exclude_to integer[], exclusion_rule text, mode text,
 *     window_units bigint, step_window_units bigint[]) -> funnel_options
 * Not strict (NULL arguments are the defaults: no window, no exclusions). Checks what it can
 * without the steps (names, signs, shapes: ERROR 22023 / 22004) and returns the arguments as a
 * funnel_options value; the aggregates check the rest.
 */
extern "C" Datum
funnel_options(PG_FUNCTION_ARGS)
{
	OptionValues f;
	for (int i = 0; i < kOptionFields; i++) {
		f.null[i] = PG_ARGISNULL(i);
		f.value[i] = f.null[i] ? Datum(0) : PG_GETARG_DATUM(i);
	}
	check_option_values(f);
	TupleDesc desc;
	if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE || desc->natts != kOptionFields)
		elog(ERROR, "funnel_options called with an unexpected result type");
	desc = BlessTupleDesc(desc);
	HeapTuple tuple = heap_form_tuple(desc, f.value, f.null);
	PG_RETURN_DATUM(HeapTupleGetDatum(tuple));
}

/*
 * window_funnel_options_transfn(state internal, options funnel_options, ts timestamp[tz],
 *     steps boolean[]); _int_: bigint time; _names_: (..., ts, event text, steps text[]).
 * Not strict: state NULL on a group's first row (then made in the aggregate context). NULL
 * options or steps array is ERROR 22004; a NULL ts skips the row; NULL conditions are false.
 */
extern "C" Datum
window_funnel_options_transfn(PG_FUNCTION_ARGS)
{
	return accumulate_spec(fcinfo, false, false);
}

extern "C" Datum
window_funnel_options_int_transfn(PG_FUNCTION_ARGS)
{
	return accumulate_spec(fcinfo, true, false);
}

extern "C" Datum
window_funnel_options_names_transfn(PG_FUNCTION_ARGS)
{
	return accumulate_spec(fcinfo, false, true);
}

extern "C" Datum
window_funnel_options_names_int_transfn(PG_FUNCTION_ARGS)
{
	return accumulate_spec(fcinfo, true, true);
}

/*
 * window_funnel_options_finalfn(state internal) -> integer: the deepest step, 0 for none or an
 * empty group, -1 for a user the exclusion rule exclude_user excludes. Sorts the state in place;
 * cancellable between slices.
 */
extern "C" Datum
window_funnel_options_finalfn(PG_FUNCTION_ARGS)
{
	return level_result<FunnelPathEvaluator, FunnelSpecState>(fcinfo);
}

/*
 * window_funnel_options_events_finalfn(state internal) -> timestamptz[] | timestamp[] | bigint[]:
 * the timestamps of the counted chain; empty for no step, an empty group or an excluded user.
 * step_order any is ERROR 22023 (no chain of steps).
 */
extern "C" Datum
window_funnel_options_events_finalfn(PG_FUNCTION_ARGS)
{
	return chain_result<FunnelPathEvaluator, FunnelSpecState>(fcinfo);
}

extern "C" {
PG_FUNCTION_INFO_V1(window_funnel_options_combinefn);
PG_FUNCTION_INFO_V1(window_funnel_options_serialfn);
}

extern "C" Datum
window_funnel_options_combinefn(PG_FUNCTION_ARGS)
{
	return pg::combine<FunnelSpecState>(fcinfo);
}

extern "C" Datum
window_funnel_options_serialfn(PG_FUNCTION_ARGS)
{
	return pg::serialize<FunnelSpecState>(fcinfo, "funnel");
}

/*
 * window_funnel_options_deserialfn(bytes bytea, internal) -> internal: strict; in the current
 * memory context. States whose options equal ones the call site keeps point to them (the first
 * read ones are kept), so the leader does not copy the options per partial state; corrupt bytes
 * are ERROR XX001.
 */
extern "C" Datum
window_funnel_options_deserialfn(PG_FUNCTION_ARGS)
{
	return deserialize_sharing_options<FunnelSpecState>(fcinfo);
}

// ---------------------------------------------------------------------------------------------
// conversion_significance

extern "C" {
PG_FUNCTION_INFO_V1(conversion_significance);
}

namespace {

// A composite of double precision values, NULL where NaN (undefined); `desc` is blessed.
Datum
doubles_tuple(TupleDesc desc, const double *values, int count)
{
	Datum datums[16];
	bool nulls[16];
	for (int i = 0; i < count; i++) {
		nulls[i] = std::isnan(values[i]);
		datums[i] = Float8GetDatum(nulls[i] ? 0.0 : values[i]);
	}
	return HeapTupleGetDatum(heap_form_tuple(desc, datums, nulls));
}

} // namespace

/*
 * conversion_significance(users_a bigint, converted_a bigint, users_b bigint, converted_b bigint)
 *     -> conversion_comparison
 * Strict. Control a against variant b: rates, difference, its 95% interval, the z-test p-value and
 * the probability that b's rate is higher; NULL where undefined. Negative counts or more converted
 * than users are ERROR 22023.
 */
extern "C" Datum
conversion_significance(PG_FUNCTION_ARGS)
{
	TupleDesc desc;
	if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE || desc->natts != 7)
		elog(ERROR, "conversion_significance called with an unexpected result type");
	desc = BlessTupleDesc(desc);
	core::ConversionComparison c{};
	pg::guard([&] {
		c = core::compare_conversions(PG_GETARG_INT64(0), PG_GETARG_INT64(1), PG_GETARG_INT64(2), PG_GETARG_INT64(3));
	});
	const double values[7] = {c.rate_a, c.rate_b, c.difference, c.ci_low, c.ci_high, c.p_value, c.probability_b_better};
	PG_RETURN_DATUM(doubles_tuple(desc, values, 7));
}

// ---------------------------------------------------------------------------------------------
// funnel_report, funnel_breakdown and funnel_trend with funnel options

extern "C" {
PG_FUNCTION_INFO_V1(funnel_report_options_transfn);
PG_FUNCTION_INFO_V1(funnel_breakdown_transfn);
PG_FUNCTION_INFO_V1(funnel_trend_transfn);
PG_FUNCTION_INFO_V1(funnel_report_options_finalfn);
PG_FUNCTION_INFO_V1(funnel_breakdown_finalfn);
PG_FUNCTION_INFO_V1(funnel_trend_finalfn);
PG_FUNCTION_INFO_V1(funnel_report_options_combinefn);
PG_FUNCTION_INFO_V1(funnel_report_options_serialfn);
PG_FUNCTION_INFO_V1(funnel_report_options_deserialfn);
}

using core::FunnelSpecReportState;

namespace {

enum class ReportForm : std::uint8_t { Report, Breakdown, Trend };

// The layout of a report aggregate's arguments, from its form and argument types:
//   funnel_report    (user_id, options, ts, steps...)
//   funnel_breakdown (user_id, options, ts, breakdown text, steps...)
//   funnel_trend     (user_id, options, period text, [time_zone text,] ts, steps...)
// steps... = VARIADIC conds boolean[] | event text, steps text[].
struct ReportArgs {
	ReportForm form;
	bool integer_time;
	bool names;
	bool zone; // funnel_trend over timestamptz: a time_zone argument
	int ts_arg;
	int steps_arg;
};

ReportArgs
report_args(FunctionCallInfo fcinfo, ReportForm form)
{
	pg::CallSite &site = pg::call_site(fcinfo);
	if (site.layout_known)
		return ReportArgs{form,           site.layout[0] != 0, site.layout[1] != 0, site.layout[2] != 0,
		                  site.layout[3], site.layout[4]};
	ReportArgs a{form, false, false, false, 3, 4};
	const Oid last = get_fn_expr_argtype(fcinfo->flinfo, PG_NARGS() - 1);
	a.names = last == TEXTARRAYOID;
	if (form == ReportForm::Trend) {
		a.zone = get_fn_expr_argtype(fcinfo->flinfo, 5) == TIMESTAMPTZOID;
		a.ts_arg = a.zone ? 5 : 4;
	}
	a.steps_arg = a.ts_arg + (form == ReportForm::Breakdown ? 2 : 1);
	const Oid ts_type = get_fn_expr_argtype(fcinfo->flinfo, a.ts_arg);
	if (ts_type != TIMESTAMPTZOID && ts_type != TIMESTAMPOID && ts_type != INT8OID)
		elog(ERROR, "funnel report called with an unexpected ts type");
	a.integer_time = ts_type == INT8OID;
	site.layout[0] = a.integer_time;
	site.layout[1] = a.names;
	site.layout[2] = a.zone;
	site.layout[3] = a.ts_arg;
	site.layout[4] = a.steps_arg;
	site.layout_known = true;
	return a;
}

Datum
accumulate_spec_report(FunctionCallInfo fcinfo, ReportForm form)
{
	const ReportArgs a = report_args(fcinfo, form);
	const SpecRow row = spec_row(fcinfo, 2, a.ts_arg, a.steps_arg, a.integer_time, a.names);
	const pg::UserArg user = pg::user_arg(fcinfo, 1);
	pg::CalendarArgs calendar{};
	if (form == ReportForm::Trend)
		calendar = pg::calendar_args(fcinfo, 3, a.zone ? 4 : -1);
	std::string_view value;
	const bool has_value = form == ReportForm::Breakdown && !PG_ARGISNULL(a.ts_arg + 1);
	if (has_value) {
		text *t = PG_GETARG_TEXT_PP(a.ts_arg + 1);
		value = std::string_view(VARDATA_ANY(t), static_cast<std::size_t>(VARSIZE_ANY_EXHDR(t)));
	}
	const char *zone_name =
	    form == ReportForm::Trend && calendar.tz != nullptr ? pg_get_timezone_name(calendar.tz) : "";
	const ParsedOptions &options = *row.options;
	const std::string_view control(options.control != nullptr ? options.control : "",
	                               static_cast<std::size_t>(options.control_length));
	PG_RETURN_POINTER(pg::transition<FunnelSpecReportState>(
	    fcinfo,
	    [&](std::pmr::memory_resource *r) {
		    return FunnelSpecReportState(options.spec, row.stable, form == ReportForm::Breakdown,
		                                 options.spec.control != 0 ? &control : nullptr,
		                                 form == ReportForm::Trend ? &calendar.key : nullptr, zone_name, user.kind, r);
	    },
	    [&](FunnelSpecReportState &state) {
		    if (form == ReportForm::Trend)
			    state.check_trend(calendar.key);
		    if (!row.skip && !user.isnull)
			    pg::with_user_key(user, [&](auto key) {
				    state.add(options.spec, key, row.ts, row.mask, has_value ? &value : nullptr);
			    });
	    }));
}

// The state of a report's final function, flushed.
FunnelSpecReportState *
final_state(FunctionCallInfo fcinfo)
{
	auto *state = reinterpret_cast<FunnelSpecReportState *>(PG_GETARG_POINTER(0));
	pg::guard([&] { state->flush(); });
	return state;
}

} // namespace

/*
 * funnel_report_options_transfn, funnel_breakdown_transfn, funnel_trend_transfn(state internal,
 * user_id anyelement, options funnel_options, ...): the transition functions of funnel_report,
 * funnel_breakdown and funnel_trend with funnel options (the layouts in report_args). Not strict: state NULL on a
 * group's first row. A NULL user id or ts skips the row; NULL options, steps array or period is ERROR 22004; a NULL
 * breakdown value is the NULL value.
 */
extern "C" Datum
funnel_report_options_transfn(PG_FUNCTION_ARGS)
{
	return accumulate_spec_report(fcinfo, ReportForm::Report);
}

extern "C" Datum
funnel_breakdown_transfn(PG_FUNCTION_ARGS)
{
	return accumulate_spec_report(fcinfo, ReportForm::Breakdown);
}

extern "C" Datum
funnel_trend_transfn(PG_FUNCTION_ARGS)
{
	return accumulate_spec_report(fcinfo, ReportForm::Trend);
}

/*
 * funnel_report_options_finalfn(state internal) -> funnel_report_step[] | funnel_report_step_int[]:
 * as funnel_report's; users the exclusion rule excludes are counted at no step.
 */
extern "C" Datum
funnel_report_options_finalfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		return report_array(fcinfo, nullptr, 0);
	FunnelSpecReportState *state = final_state(fcinfo);
	core::FunnelSpecReportBuilder *builder = nullptr;
	pg::guard([&] {
		builder = pg::make_in_context_with<core::FunnelSpecReportBuilder>(
		    CurrentMemoryContext,
		    [&](std::pmr::memory_resource *r) { return core::FunnelSpecReportBuilder(*state, r); });
	});
	pg::build_in_slices(builder);
	std::size_t count = 0;
	core::FunnelReportRow rows[core::kMaxConditions];
	pg::guard([&] {
		auto result = builder->tally().rows();
		count = result.size();
		std::copy(result.begin(), result.end(), rows);
	});
	return report_array(fcinfo, rows, count);
}

/*
 * funnel_breakdown_finalfn(state internal) -> funnel_breakdown_step[] | funnel_breakdown_step_int[]:
 * per breakdown value (byte order, NULL last) and step, the report's columns and the comparison
 * of the conversion from step 1 with the control value's (NULL for the control itself, without a
 * control, or where undefined).
 */
extern "C" Datum
funnel_breakdown_finalfn(PG_FUNCTION_ARGS)
{
	Oid element = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	if (!OidIsValid(element))
		elog(ERROR, "funnel_breakdown_finalfn called with a non-array result type");
	TupleDesc desc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(element, -1));
	if (desc->natts != 12)
		elog(ERROR, "funnel_breakdown_finalfn called with an unexpected result type");
	const bool interval_times = TupleDescAttr(desc, 5)->atttypid == INTERVALOID;
	if (PG_ARGISNULL(0))
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(element));
	FunnelSpecReportState *state = final_state(fcinfo);
	core::FunnelBreakdownBuilder *builder = nullptr;
	pg::guard([&] {
		builder = pg::make_in_context_with<core::FunnelBreakdownBuilder>(
		    CurrentMemoryContext,
		    [&](std::pmr::memory_resource *r) { return core::FunnelBreakdownBuilder(*state, r); });
	});
	pg::build_in_slices(builder);
	// At most one row per step of each value and of NULL.
	const std::size_t most = (state->values().size() + 1) * state->options().steps;
	auto *rows = static_cast<core::FunnelBreakdownRow *>(
	    MemoryContextAllocHuge(CurrentMemoryContext, sizeof(core::FunnelBreakdownRow) * (most > 0 ? most : 1)));
	std::size_t count = 0;
	pg::guard([&] {
		auto result = builder->result();
		count = std::min(result.size(), most);
		std::copy(result.begin(), result.begin() + static_cast<std::ptrdiff_t>(count), rows);
	});
	Datum *elements =
	    static_cast<Datum *>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Datum) * (count > 0 ? count : 1)));
	for (std::size_t i = 0; i < count; i++) {
		const core::FunnelBreakdownRow &b = rows[i];
		const core::FunnelReportRow &r = b.row;
		Datum values[12];
		bool nulls[12] = {!b.has_value, false, false, std::isnan(r.from_first), std::isnan(r.from_previous)};
		values[0] = b.has_value
		                ? PointerGetDatum(cstring_to_text_with_len(b.value.data(), static_cast<int>(b.value.size())))
		                : Datum(0);
		values[1] = Int32GetDatum(static_cast<int32>(r.step));
		values[2] = Int64GetDatum(r.users);
		values[3] = Float8GetDatum(nulls[3] ? 0.0 : r.from_first);
		values[4] = Float8GetDatum(nulls[4] ? 0.0 : r.from_previous);
		report_times(r, interval_times, values + 5, nulls + 5);
		const double compared[5] = {b.vs_control.difference, b.vs_control.ci_low, b.vs_control.ci_high,
		                            b.vs_control.p_value, b.vs_control.probability_b_better};
		for (int k = 0; k < 5; k++) {
			nulls[7 + k] = !b.compared || std::isnan(compared[k]);
			values[7 + k] = Float8GetDatum(nulls[7 + k] ? 0.0 : compared[k]);
		}
		elements[i] = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elements, static_cast<int>(count), element, -1, false, TYPALIGN_DOUBLE));
}

/*
 * funnel_trend_finalfn(state internal) -> funnel_trend_period[] | funnel_trend_period_local[]:
 * per calendar period (in the state's time zone) of the counted chains' first steps, the users
 * who entered, those who reached the last step, and the ratio; periods in order, only those with
 * entries. ERROR 22008 for a chain that starts at ±infinity.
 */
extern "C" Datum
funnel_trend_finalfn(PG_FUNCTION_ARGS)
{
	Oid element = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	if (!OidIsValid(element))
		elog(ERROR, "funnel_trend_finalfn called with a non-array result type");
	TupleDesc desc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(element, -1));
	if (desc->natts != 4)
		elog(ERROR, "funnel_trend_finalfn called with an unexpected result type");
	if (PG_ARGISNULL(0))
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(element));
	FunnelSpecReportState *state = final_state(fcinfo);
	pg_tz *zone = state->trend().zone != 0 ? pg::zone_of_state(state->zone_name()) : nullptr;
	const core::PeriodUnit unit = state->trend().unit;
	core::FunnelTrendBuilder *builder = nullptr;
	pg::guard([&] {
		builder = pg::make_in_context_with<core::FunnelTrendBuilder>(
		    CurrentMemoryContext, [&](std::pmr::memory_resource *r) { return core::FunnelTrendBuilder(*state, r); });
	});
	pg::build_in_slices(builder);
	const auto &entries = builder->entries();
	const std::size_t n = entries.size();
	// Each entry's period start (PostgreSQL's zone rules: outside the barrier), then the entries
	// sorted by period in slices with interrupt checks (an EventLog: period, converted flag).
	auto *starts =
	    static_cast<Timestamp *>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Timestamp) * (n > 0 ? n : 1)));
	for (std::size_t i = 0; i < n; i++) {
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		starts[i] = pg::period_start(unit, entries[i].entered, zone);
	}
	core::EventLog *periods = nullptr;
	pg::guard([&] {
		periods = pg::make_in_context_with<core::EventLog>(
		    CurrentMemoryContext, [&](std::pmr::memory_resource *r) { return core::EventLog(r); });
		for (std::size_t i = 0; i < n; i++)
			periods->push(core::LogEntry{starts[i], entries[i].converted ? 1u : 0u});
	});
	pg::sort_in_slices(*periods);
	const core::LogEntry *sorted = periods->entries().data();
	Datum *elements =
	    static_cast<Datum *>(MemoryContextAllocHuge(CurrentMemoryContext, sizeof(Datum) * (n > 0 ? n : 1)));
	int count = 0;
	for (std::size_t i = 0; i < n;) {
		std::size_t j = i;
		std::int64_t converted = 0;
		for (; j < n && sorted[j].ts == sorted[i].ts; j++)
			converted += static_cast<std::int64_t>(sorted[j].payload);
		const auto entered = static_cast<std::int64_t>(j - i);
		Datum values[4] = {TimestampGetDatum(sorted[i].ts), Int64GetDatum(entered), Int64GetDatum(converted),
		                   Float8GetDatum(static_cast<double>(converted) / static_cast<double>(entered))};
		bool nulls[4] = {false, false, false, false};
		elements[count++] = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
		i = j;
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elements, count, element, -1, false, TYPALIGN_DOUBLE));
}

extern "C" Datum
funnel_report_options_combinefn(PG_FUNCTION_ARGS)
{
	return pg::combine<FunnelSpecReportState>(fcinfo);
}

extern "C" Datum
funnel_report_options_serialfn(PG_FUNCTION_ARGS)
{
	return pg::serialize<FunnelSpecReportState>(fcinfo, "funnel report");
}

/*
 * funnel_report_options_deserialfn(bytes bytea, internal) -> internal: strict; in the current memory
 * context, sharing the options the call site keeps (as window_funnel_options_deserialfn).
 */
extern "C" Datum
funnel_report_options_deserialfn(PG_FUNCTION_ARGS)
{
	return deserialize_sharing_options<FunnelSpecReportState>(fcinfo);
}
