#include "call_site.hpp"

extern "C" {
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

} // namespace pg_product_analytics::pg
