#include "conditions.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/memutils.h"
}

namespace pg_product_analytics::pg {

void
parse_step_names(ArrayType *array, MemoryContext memory, StepNames *out, const char *what)
{
	if (ARR_NDIM(array) > 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must be a one-dimensional array", what)));
	Datum *elements;
	bool *nulls;
	int count;
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &count);
	if (count == 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s array must not be empty", what)));
	if (count > StepNames::kMax)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
		                errmsg("too many %s: %d given, the limit is %d", what, count, StepNames::kMax),
		                errdetail("A name is one bit of a 64-bit mask.")));
	out->count = count;
	out->distinct = 0;
	for (int i = 0; i < count; i++) {
		if (nulls[i])
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be null", what),
			                errdetail("Element %d of the names array is NULL.", i + 1)));
		text *name = DatumGetTextPP(elements[i]);
		const char *data = VARDATA_ANY(name);
		const int length = VARSIZE_ANY_EXHDR(name);
		int d = 0;
		while (d < out->distinct &&
		       !(out->lengths[d] == length && std::memcmp(out->names[d], data, static_cast<std::size_t>(length)) == 0))
			d++;
		if (d == out->distinct) {
			char *copy = static_cast<char *>(MemoryContextAlloc(memory, length > 0 ? length : 1));
			std::memcpy(copy, data, static_cast<std::size_t>(length));
			out->names[d] = copy;
			out->lengths[d] = length;
			out->masks[d] = 0;
			out->distinct++;
		}
		out->masks[d] |= std::uint64_t{1} << i;
	}
}

} // namespace pg_product_analytics::pg
