// Reading a VARIADIC boolean[] of conditions (retention) or steps (funnels) into a bit mask, or
// matching an event name against a text array of step names (the event-name forms).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/array.h"
}

#include "call_site.hpp"

namespace pg_product_analytics::pg {

/// A row's conditions: how many were passed, and bit i set when condition i + 1 is true.
/// A NULL element counts as false. Only the first 64 are read; the core rejects larger counts.
struct ConditionMask {
	std::size_t count;
	std::uint64_t mask;
};

/// Plain C-style code, call outside guard(): ERROR 22023 for an array of more than one dimension.
/// Inlined because it runs once per input row.
inline ConditionMask
read_conditions(ArrayType *array)
{
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("conditions must be a one-dimensional array")));
	ConditionMask out{ARR_NDIM(array) == 0 ? 0 : static_cast<std::size_t>(ARR_DIMS(array)[0]), 0};
	std::size_t n = out.count < 64 ? out.count : 64;
	const char *data = ARR_DATA_PTR(array); // bool: one byte each, no padding; NULLs take no space
	const bits8 *nulls = ARR_NULLBITMAP(array);
	if (nulls == nullptr) {
		for (std::size_t i = 0; i < n; i++)
			out.mask |= static_cast<std::uint64_t>(data[i] != 0) << i;
	} else {
		for (std::size_t i = 0; i < n; i++) {
			if ((nulls[i / 8] & (1 << (i % 8))) == 0)
				continue;
			out.mask |= static_cast<std::uint64_t>(*data++ != 0) << i;
		}
	}
	return out;
}

/// The same from boolean arguments first .. PG_NARGS() - 1 of a fixed-arity overload (at most
/// FUNC_MAX_ARGS, so the count is always within what the core checks). Never errors.
inline ConditionMask
read_condition_args(FunctionCallInfo fcinfo, int first)
{
	ConditionMask out{static_cast<std::size_t>(PG_NARGS() - first), 0};
	int last = PG_NARGS() < first + 64 ? PG_NARGS() : first + 64;
	for (int i = first; i < last; i++)
		if (!PG_ARGISNULL(i) && PG_GETARG_BOOL(i))
			out.mask |= std::uint64_t{1} << (i - first);
	return out;
}

/// Parses a text[] of step names into `out` (allocated in `memory`): ERROR 22004 for a NULL
/// element, 22023 for an empty or multi-dimensional array, 54000 above 64 names; the messages
/// call the array `what` ("step names", "start events", ...).
void parse_step_names(ArrayType *array, MemoryContext memory, StepNames *out, const char *what = "step names");

/// The mask of the entries of `names` equal to `event` (by bytes): 0 when none is.
inline std::uint64_t
name_mask(const StepNames &names, const text *event)
{
	const char *data = VARDATA_ANY(event);
	const int length = VARSIZE_ANY_EXHDR(event);
	for (int i = 0; i < names.distinct; i++)
		if (names.lengths[i] == length && std::memcmp(names.names[i], data, static_cast<std::size_t>(length)) == 0)
			return names.masks[i];
	return 0;
}

/// The steps named by argument `names_arg` (a text[]) that the event name of argument `event_arg`
/// matches, compared by bytes (a NULL event matches none). ERROR 22004 for a NULL array, naming
/// it as `what`. A function with two names arguments (start and return events) gives each its
/// own `slot` (0 or 1) of the call site's cache.
inline ConditionMask
match_step_names(FunctionCallInfo fcinfo, int event_arg, int names_arg, int slot = 0, const char *what = "step names")
{
	if (PG_ARGISNULL(names_arg))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s array must not be null", what)));
	CallSite &site = call_site(fcinfo);
	StepNames *names = site.step_names[slot];
	StepNames row_names;
	if (names != nullptr && site.step_names_constant[slot]) {
		// The same constant array on every row: nothing to compare.
	} else if (ArrayType *array = PG_GETARG_ARRAYTYPE_P(names_arg);
	           names == nullptr || names->raw_length != static_cast<int>(VARSIZE(array)) ||
	           std::memcmp(names->raw, array, VARSIZE(array)) != 0) {
		const int raw_length = static_cast<int>(VARSIZE(array));
		if (names == nullptr) {
			// The first array of the call site: kept, parsed, for the rows that repeat it.
			MemoryContext memory = fcinfo->flinfo->fn_mcxt;
			names = static_cast<StepNames *>(MemoryContextAlloc(memory, sizeof(StepNames)));
			parse_step_names(array, memory, names, what);
			char *raw = static_cast<char *>(MemoryContextAlloc(memory, static_cast<Size>(raw_length)));
			std::memcpy(raw, array, static_cast<std::size_t>(raw_length));
			names->raw = raw;
			names->raw_length = raw_length;
			site.step_names[slot] = names;
			site.step_names_constant[slot] = argument_is_constant(fcinfo, names_arg);
		} else {
			names = &row_names; // another array on this row: parsed in the per-row context
			parse_step_names(array, CurrentMemoryContext, names, what);
		}
	}
	ConditionMask out{static_cast<std::size_t>(names->count), 0};
	if (!PG_ARGISNULL(event_arg))
		out.mask = name_mask(*names, PG_GETARG_TEXT_PP(event_arg));
	return out;
}

} // namespace pg_product_analytics::pg
