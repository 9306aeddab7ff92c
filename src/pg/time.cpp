#include "time.hpp"

#include "boundary.hpp"

#include <climits>
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

ZoneRef
zone_ref(FunctionCallInfo fcinfo, text *name)
{
	auto *cache = static_cast<ZoneCache *>(fcinfo->flinfo->fn_extra);
	const char *data = VARDATA_ANY(name);
	int length = VARSIZE_ANY_EXHDR(name);
	if (cache != nullptr && cache->length == length && std::memcmp(cache->name, data, length) == 0)
		return ZoneRef{cache->zone, cache->name};
	char *cname = text_to_cstring(name);
	pg_tz *zone = pg_tzset(cname);
	if (zone == nullptr)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("time zone \"%s\" not recognized", cname),
		                errhint("Use a full time zone name such as 'Europe/Berlin' or 'UTC'.")));
	cache = static_cast<ZoneCache *>(
	    MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, offsetof(ZoneCache, name) + static_cast<std::size_t>(length) + 1));
	cache->zone = zone;
	cache->length = length;
	std::memcpy(cache->name, data, static_cast<std::size_t>(length));
	cache->name[length] = '\0';
	fcinfo->flinfo->fn_extra = cache;
	return ZoneRef{zone, cache->name};
}

pg_tz *
zone_by_name(FunctionCallInfo fcinfo, text *name)
{
	if (name == nullptr)
		return session_timezone;
	return zone_ref(fcinfo, name).zone;
}

pg_tz *
zone_arg(FunctionCallInfo fcinfo, int argno)
{
	NullableDatum name = optional_arg(fcinfo, argno);
	return zone_by_name(fcinfo, name.isnull ? nullptr : DatumGetTextPP(name.value));
}

core::PeriodUnit
period_unit_of(text *name)
{
	core::PeriodUnit unit = core::PeriodUnit::Day;
	const char *data = VARDATA_ANY(name);
	auto length = static_cast<std::size_t>(VARSIZE_ANY_EXHDR(name));
	guard([&] { unit = core::parse_period_unit(std::string_view(data, length)); });
	return unit;
}

namespace {

// Julian day of ts in a zone without daylight saving (or of a timestamp when zone is NULL), by
// arithmetic; false when the zone has transitions or the day is out of range.
bool
fixed_offset_day(Timestamp ts, pg_tz *zone, std::int64_t *julian)
{
	// Whether the zone has a fixed offset, remembered for the last zone asked about: zones are
	// cached by PostgreSQL for the life of the backend, so the pointer identifies one.
	static pg_tz *last_zone = nullptr;
	static bool last_fixed = false;
	static long last_offset = 0;
	long offset_seconds = 0;
	if (zone != nullptr) {
		if (zone != last_zone) {
			last_fixed = pg_get_timezone_offset(zone, &last_offset);
			last_zone = zone;
		}
		if (!last_fixed)
			return false;
		offset_seconds = last_offset;
	}
	std::int64_t local = ts + static_cast<std::int64_t>(offset_seconds) * USECS_PER_SEC;
	std::int64_t days = local / USECS_PER_DAY - (local % USECS_PER_DAY < 0 ? 1 : 0);
	*julian = days + POSTGRES_EPOCH_JDATE;
	return *julian >= 0 && *julian <= INT_MAX;
}

} // namespace

core::LocalDate
local_date(Timestamp ts, pg_tz *zone)
{
	std::int64_t julian;
	if (fixed_offset_day(ts, zone, &julian)) {
		int year, month, day;
		j2date(static_cast<int>(julian), &year, &month, &day);
		return core::LocalDate{year, month, julian};
	}
	struct pg_tm tm;
	fsec_t fsec;
	int offset;
	int failed = zone != nullptr ? timestamp2tm(ts, &offset, &tm, &fsec, nullptr, zone)
	                             : timestamp2tm(ts, nullptr, &tm, &fsec, nullptr, nullptr);
	if (failed != 0)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
	return core::LocalDate{tm.tm_year, tm.tm_mon, date2j(tm.tm_year, tm.tm_mon, tm.tm_mday)};
}

std::int64_t
calendar_period_of(core::PeriodUnit unit, Timestamp ts, pg_tz *zone)
{
	std::int64_t julian;
	if ((unit == core::PeriodUnit::Day || unit == core::PeriodUnit::Week) && fixed_offset_day(ts, zone, &julian))
		return core::calendar_period(unit, core::LocalDate{0, 1, julian});
	return core::calendar_period(unit, local_date(ts, zone));
}

} // namespace pg_product_analytics::pg
