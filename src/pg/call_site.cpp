#include "call_site.hpp"

extern "C" {
#include "funcapi.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "utils/memutils.h"
}

namespace pg_product_analytics::pg {

CallSite &
call_site(FunctionCallInfo fcinfo)
{
	auto *site = static_cast<CallSite *>(fcinfo->flinfo->fn_extra);
	if (site == nullptr) {
		site = static_cast<CallSite *>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CallSite)));
		site->zones.init();
		site->modes.init();
		site->intervals.init();
		fcinfo->flinfo->fn_extra = site;
	}
	return *site;
}

TupleDesc
result_desc(FunctionCallInfo fcinfo, int natts)
{
	CallSite &site = call_site(fcinfo);
	if (site.result_desc == nullptr) {
		TupleDesc desc;
		if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE || desc->natts != natts)
			elog(ERROR, "function returning a composite of %d attributes called in a different context", natts);
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		TupleDesc copy = CreateTupleDescCopy(desc);
		// Variable-length fields (arrays) keep their 4-byte header in the result: heap_form_tuple
		// would shorten a small one to a 1-byte header, which every later read of the field (an
		// array subscripted once per row of a join) copies back to the full form. Either form is
		// valid in a composite; this only changes how the final function forms it.
		for (int i = 0; i < copy->natts; i++)
			if (TupleDescAttr(copy, i)->attlen == -1)
				TupleDescAttr(copy, i)->attstorage = TYPSTORAGE_PLAIN;
		site.result_desc = BlessTupleDesc(copy);
		MemoryContextSwitchTo(old);
	}
	return site.result_desc;
}

bool
argument_is_constant(FunctionCallInfo fcinfo, int argno)
{
	Aggref *aggref = AggGetAggref(fcinfo);
	if (aggref == nullptr || argno < 1 || argno > list_length(aggref->args))
		return false;
	auto *entry = static_cast<TargetEntry *>(list_nth(aggref->args, argno - 1));
	const Node *expr = reinterpret_cast<const Node *>(entry->expr);
	// A constant folded by the planner, or a parameter bound for this execution (PREPARE, a driver).
	if (IsA(expr, Const))
		return true;
	return IsA(expr, Param) && reinterpret_cast<const Param *>(expr)->paramkind == PARAM_EXTERN;
}

} // namespace pg_product_analytics::pg
