// Reading a VARIADIC boolean[] of conditions (retention) or steps (funnels) into a bit mask.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/array.h"
}

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

} // namespace pg_product_analytics::pg
