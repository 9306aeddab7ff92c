#include "time.hpp"

#include <cstring>

extern "C" {
#include "utils/builtins.h"
#include "utils/datetime.h"
}

namespace pg_product_analytics::pg {

namespace {

struct ZoneCache {
	pg_tz *zone;
	int length;
	char name[FLEXIBLE_ARRAY_MEMBER];
};

} // namespace

pg_tz *
zone_by_name(FunctionCallInfo fcinfo, text *name)
{
	if (name == nullptr)
		return session_timezone;
	auto *cache = static_cast<ZoneCache *>(fcinfo->flinfo->fn_extra);
	const char *data = VARDATA_ANY(name);
	int length = VARSIZE_ANY_EXHDR(name);
	if (cache != nullptr && cache->length == length && std::memcmp(cache->name, data, length) == 0)
		return cache->zone;
	char *cname = text_to_cstring(name);
	pg_tz *zone = pg_tzset(cname);
	if (zone == nullptr)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("time zone \"%s\" not recognized", cname),
		                errhint("Use a full time zone name such as 'Europe/Berlin' or 'UTC'.")));
	cache = static_cast<ZoneCache *>(
	    MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, offsetof(ZoneCache, name) + static_cast<std::size_t>(length)));
	cache->zone = zone;
	cache->length = length;
	std::memcpy(cache->name, data, static_cast<std::size_t>(length));
	fcinfo->flinfo->fn_extra = cache;
	return zone;
}

core::LocalDate
local_date(Timestamp ts, pg_tz *zone)
{
	struct pg_tm tm;
	fsec_t fsec;
	int offset;
	int failed = zone != nullptr ? timestamp2tm(ts, &offset, &tm, &fsec, nullptr, zone)
	                             : timestamp2tm(ts, nullptr, &tm, &fsec, nullptr, nullptr);
	if (failed != 0)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
	return core::LocalDate{tm.tm_year, tm.tm_mon, date2j(tm.tm_year, tm.tm_mon, tm.tm_mday)};
}

} // namespace pg_product_analytics::pg
