// fmgr glue of sequence_match, sequence_count, sequence_match_events and sequence_next_node
// (timestamptz, timestamp and bigint time; conditions or event names); the algorithms are
// core/sequence.
#include "../core/sequence.hpp"
#include "aggregate.hpp"
#include "boundary.hpp"
#include "call_site.hpp"
#include "conditions.hpp"
#include "report.hpp"

#include <cstring>

extern "C" {
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(sequence_transfn);
PG_FUNCTION_INFO_V1(sequence_int_transfn);
PG_FUNCTION_INFO_V1(sequence_names_transfn);
PG_FUNCTION_INFO_V1(sequence_names_int_transfn);
PG_FUNCTION_INFO_V1(sequence_match_finalfn);
PG_FUNCTION_INFO_V1(sequence_count_finalfn);
PG_FUNCTION_INFO_V1(sequence_match_events_finalfn);
PG_FUNCTION_INFO_V1(sequence_next_node_transfn);
PG_FUNCTION_INFO_V1(sequence_next_node_names_transfn);
PG_FUNCTION_INFO_V1(sequence_next_node_finalfn);
}

namespace core = pg_product_analytics::core;
namespace pg = pg_product_analytics::pg;
using core::NextNodeFinder;
using core::NextNodeOptions;
using core::NextNodeState;
using core::SequenceEvaluator;
using core::SequencePattern;
using core::SequenceQuestion;
using core::SequenceState;

namespace {

// The pattern argument (1) of this row, parsed: kept by the call site for the query when it can
// (pg::kept_value: states point to it), else in the per-row context (states copy it).
pg::Kept<SequencePattern>
pattern_of(FunctionCallInfo fcinfo, bool integer_time)
{
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("sequence pattern must not be null")));
	text *t = PG_GETARG_TEXT_PP(1);
	const char *data = VARDATA_ANY(t);
	const int length = VARSIZE_ANY_EXHDR(t);
	return pg::kept_value<SequencePattern>(fcinfo, data, length, [&](SequencePattern *out, MemoryContext) {
		pg::guard([&] {
			*out = core::parse_sequence_pattern(std::string_view(data, static_cast<std::size_t>(length)), integer_time);
		});
	});
}

// sequence_match / sequence_count / sequence_match_events: (state, pattern, ts, conds boolean[])
// or, in the event-name forms, (state, pattern, ts, event text, names text[]).
Datum
accumulate(FunctionCallInfo fcinfo, bool integer_time, bool names)
{
	const pg::Kept<SequencePattern> pattern = pattern_of(fcinfo, integer_time);
	if (!names && PG_ARGISNULL(3))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("conditions array must not be null")));
	const pg::ConditionMask conditions = names ? pg::match_step_names(fcinfo, 3, 4, 0, "condition names")
	                                           : pg::read_conditions(PG_GETARG_ARRAYTYPE_P(3));
	const bool skip = PG_ARGISNULL(2);
	const std::int64_t ts = skip ? 0 : PG_GETARG_INT64(2);
	PG_RETURN_POINTER(pg::transition<SequenceState>(
	    fcinfo,
	    [&](std::pmr::memory_resource *r) {
		    return SequenceState(*pattern.value, pattern.stable, conditions.count, r);
	    },
	    [&](SequenceState &state) {
		    if (!skip)
			    state.add(*pattern.value, conditions.count, ts, conditions.mask);
	    }));
}

// Sorts the state and runs the evaluator in slices, checking for interrupts between them; the
// evaluator lives in the current memory context (destroyed on reset, also after an error).
SequenceEvaluator *
evaluate(SequenceState *state, SequenceQuestion question)
{
	pg::sort_in_slices(*state);
	SequenceEvaluator *evaluator = nullptr;
	pg::guard([&] {
		evaluator =
		    pg::make_in_context_with<SequenceEvaluator>(CurrentMemoryContext, [&](std::pmr::memory_resource *r) {
			    return SequenceEvaluator(state->pattern(), question, state->events().data(), state->events().size(), r);
		    });
	});
	pg::build_in_slices(evaluator);
	return evaluator;
}

SequenceState *
state_arg(FunctionCallInfo fcinfo)
{
	return PG_ARGISNULL(0) ? nullptr : reinterpret_cast<SequenceState *>(PG_GETARG_POINTER(0));
}

// sequence_next_node: (state, direction, base, ts, event, base_condition, event_conds boolean[]) or,
// in the event-name form, (..., base_condition, event_names text[]): condition N is event = names[N].
Datum
accumulate_next_node(FunctionCallInfo fcinfo, bool names)
{
	struct Params {
		core::NextDirection direction;
		core::NextBase base;
	};
	const Params params = pg::constant_options<Params>(fcinfo, {1, 2}, [&] {
		if (PG_ARGISNULL(1))
			ereport(ERROR,
			        (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("sequence_next_node direction must not be null")));
		if (PG_ARGISNULL(2))
			ereport(ERROR,
			        (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("sequence_next_node base must not be null")));
		text *direction = PG_GETARG_TEXT_PP(1);
		text *base = PG_GETARG_TEXT_PP(2);
		Params p{};
		pg::guard([&] {
			p.direction = core::parse_next_direction(
			    std::string_view(VARDATA_ANY(direction), static_cast<std::size_t>(VARSIZE_ANY_EXHDR(direction))));
			p.base = core::parse_next_base(
			    std::string_view(VARDATA_ANY(base), static_cast<std::size_t>(VARSIZE_ANY_EXHDR(base))));
		});
		return p;
	});
	if (!names && PG_ARGISNULL(6))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("event conditions array must not be null")));
	const pg::ConditionMask events =
	    names ? pg::match_step_names(fcinfo, 4, 6, 0, "event names") : pg::read_conditions(PG_GETARG_ARRAYTYPE_P(6));
	NextNodeOptions options;
	options.direction = params.direction;
	options.base = params.base;
	options.events = events.count;
	const bool skip = PG_ARGISNULL(3) || PG_ARGISNULL(4);
	const std::int64_t ts = skip ? 0 : PG_GETARG_INT64(3);
	std::string_view value;
	if (!skip) {
		text *event = PG_GETARG_TEXT_PP(4);
		value = std::string_view(VARDATA_ANY(event), static_cast<std::size_t>(VARSIZE_ANY_EXHDR(event)));
	}
	const bool base = !PG_ARGISNULL(5) && PG_GETARG_BOOL(5);
	PG_RETURN_POINTER(pg::transition<NextNodeState>(
	    fcinfo, [&](std::pmr::memory_resource *r) { return NextNodeState(options, r); },
	    [&](NextNodeState &state) {
		    if (!skip)
			    state.add(options, ts, value, base, events.mask);
	    }));
}

} // namespace

extern "C" {
PG_FUNCTION_INFO_V1(sequence_combinefn);
PG_FUNCTION_INFO_V1(sequence_serialfn);
PG_FUNCTION_INFO_V1(sequence_deserialfn);
}

// The pattern aggregates' parallel support: combine and serialize as every state's; deserialize
// keeps the first distinct patterns it reads in its call site (fn_mcxt, for the query) and lets the
// states whose pattern equals one point to it, so the leader does not copy 1 kB per partial state.
extern "C" Datum
sequence_combinefn(PG_FUNCTION_ARGS)
{
	return pg::combine<SequenceState>(fcinfo);
}

extern "C" Datum
sequence_serialfn(PG_FUNCTION_ARGS)
{
	return pg::serialize<SequenceState>(fcinfo, "sequence");
}

/*
 * sequence_deserialfn(bytes bytea, internal) -> internal: strict; the state in the current memory
 * context (the combine function copies it, sharing the pattern); corrupt bytes are ERROR XX001.
 */
extern "C" Datum
sequence_deserialfn(PG_FUNCTION_ARGS)
{
	bytea *in = PG_GETARG_BYTEA_PP(0);
	const auto *data = reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(in));
	const std::size_t size = VARSIZE_ANY_EXHDR(in);
	const SequencePattern *kept[pg::CallSite::kKept];
	const int kept_count = pg::kept_values(fcinfo, kept);
	SequenceState *state = nullptr;
	pg::guard([&] {
		state = pg::make_in_context_with<SequenceState>(CurrentMemoryContext, [&](std::pmr::memory_resource *r) {
			return SequenceState::deserialize(data, size, r, kept, static_cast<std::size_t>(kept_count));
		});
	});
	pg::keep_read_value(fcinfo, state->pattern());
	PG_RETURN_POINTER(state);
}

PPA_STATE_SUPPORT_FUNCTIONS(sequence_next_node, NextNodeState, "sequence_next_node")

/*
 * sequence_transfn(state internal, pattern text, ts timestamp[tz], conds boolean[]);
 * sequence_int_transfn: bigint time (the pattern's times in the unit of ts).
 * Not strict: state NULL on a group's first row. NULL pattern or conditions array is ERROR 22004,
 * an invalid pattern 22023 (54000 past a limit); a NULL ts skips the row; NULL conditions are false.
 */
extern "C" Datum
sequence_transfn(PG_FUNCTION_ARGS)
{
	return accumulate(fcinfo, false, false);
}

extern "C" Datum
sequence_int_transfn(PG_FUNCTION_ARGS)
{
	return accumulate(fcinfo, true, false);
}

/*
 * sequence_names_transfn(state internal, pattern text, ts timestamp[tz], event text, names text[]);
 * sequence_names_int_transfn: bigint time. Condition N is "event = names[N]" (by bytes); a NULL
 * event matches none. NULL names array or name is ERROR 22004, an empty array 22023.
 */
extern "C" Datum
sequence_names_transfn(PG_FUNCTION_ARGS)
{
	return accumulate(fcinfo, false, true);
}

extern "C" Datum
sequence_names_int_transfn(PG_FUNCTION_ARGS)
{
	return accumulate(fcinfo, true, true);
}

/*
 * sequence_match_finalfn(state internal) -> boolean. Not strict: no rows is false. Sorts the state
 * in place (same rows: it may run again on it in window use); cancellable between slices.
 */
extern "C" Datum
sequence_match_finalfn(PG_FUNCTION_ARGS)
{
	SequenceState *state = state_arg(fcinfo);
	if (state == nullptr)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(evaluate(state, SequenceQuestion::Match)->matched());
}

/*
 * sequence_count_finalfn(state internal) -> bigint. Not strict: no rows is 0.
 */
extern "C" Datum
sequence_count_finalfn(PG_FUNCTION_ARGS)
{
	SequenceState *state = state_arg(fcinfo);
	if (state == nullptr)
		PG_RETURN_INT64(0);
	PG_RETURN_INT64(static_cast<int64>(evaluate(state, SequenceQuestion::Count)->matches()));
}

/*
 * sequence_match_events_finalfn(state internal) -> timestamptz[] | timestamp[] | bigint[]
 * Not strict: no rows is an empty array. The element type is the aggregate's result element type.
 */
extern "C" Datum
sequence_match_events_finalfn(PG_FUNCTION_ARGS)
{
	Oid element = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	if (element != TIMESTAMPTZOID && element != TIMESTAMPOID && element != INT8OID)
		elog(ERROR, "sequence_match_events_finalfn called with an unexpected result type");
	SequenceState *state = state_arg(fcinfo);
	if (state == nullptr)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(element));
	SequenceEvaluator *evaluator = evaluate(state, SequenceQuestion::Events);
	const auto &chain = evaluator->chain();
	const int count = static_cast<int>(chain.size());
	Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * (count > 0 ? count : 1)));
	for (int i = 0; i < count; i++)
		values[i] = Int64GetDatum(chain[static_cast<std::size_t>(i)]);
	PG_RETURN_ARRAYTYPE_P(construct_array(values, count, element, sizeof(int64), true, TYPALIGN_DOUBLE));
}

/*
 * sequence_next_node_transfn(state internal, direction text, base text, ts timestamp[tz] | bigint,
 *     event text, base_condition boolean, event_conds boolean[])
 * Not strict. NULL direction, base or event_conds array is ERROR 22004, an unknown direction or
 * base 22023; a NULL ts or event skips the row; NULL conditions are false.
 */
extern "C" Datum
sequence_next_node_transfn(PG_FUNCTION_ARGS)
{
	return accumulate_next_node(fcinfo, false);
}

/*
 * sequence_next_node_names_transfn(state internal, direction text, base text, ts, event text,
 *     base_condition boolean, event_names text[]): event condition N is event = event_names[N]
 * (by bytes). NULL names array or name is ERROR 22004, an empty array 22023.
 */
extern "C" Datum
sequence_next_node_names_transfn(PG_FUNCTION_ARGS)
{
	return accumulate_next_node(fcinfo, true);
}

/*
 * sequence_next_node_finalfn(state internal) -> text. Not strict: no rows, no base or no next
 * row is NULL. Reads the state only (a bounded selection in slices, cancellable).
 */
extern "C" Datum
sequence_next_node_finalfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	auto *state = reinterpret_cast<NextNodeState *>(PG_GETARG_POINTER(0));
	NextNodeFinder *finder = nullptr;
	pg::guard([&] {
		finder = pg::make_in_context_with<NextNodeFinder>(
		    CurrentMemoryContext, [&](std::pmr::memory_resource *r) { return NextNodeFinder(*state, r); });
	});
	pg::build_in_slices(finder);
	if (!finder->found())
		PG_RETURN_NULL();
	const std::string_view value = finder->value();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(value.data(), static_cast<int>(value.size())));
}
