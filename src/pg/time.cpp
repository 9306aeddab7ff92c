#include "time.hpp"

#include "boundary.hpp"

#include <climits>
#include <cstring>
#include <limits>

extern "C" {
#include "utils/builtins.h"
#include "utils/datetime.h"
}

namespace pg_product_analytics::pg {

namespace {

// FNV-1a: the same in every process, never 0 (0 means "no zone").
std::uint64_t
zone_identity(const char *name)
{
	std::uint64_t h = 14695981039346656037ull;
	for (const char *p = name; *p != '\0'; p++) {
		h ^= static_cast<unsigned char>(*p);
		h *= 1099511628211ull;
	}
	return h == 0 ? 1 : h;
}

Zone
zone_of(pg_tz *tz)
{
	return Zone{tz, zone_identity(pg_get_timezone_name(tz))};
}

} // namespace

Zone
zone_by_name(FunctionCallInfo fcinfo, text *name)
{
	if (name == nullptr)
		return zone_of(session_timezone);
	CallSite &site = call_site(fcinfo);
	const char *data = VARDATA_ANY(name);
	int length = VARSIZE_ANY_EXHDR(name);
	if (const Zone *z = site.zones.find(data, length))
		return *z;
	char *cname = text_to_cstring(name);
	pg_tz *tz = pg_tzset(cname);
	if (tz == nullptr)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("time zone \"%s\" not recognized", cname),
		                errhint("Use a full time zone name such as 'Europe/Berlin' or 'UTC'.")));
	pfree(cname);
	Zone zone = zone_of(tz);
	site.zones.put(data, length, zone);
	return zone;
}

Zone
zone_arg(FunctionCallInfo fcinfo, int argno)
{
	NullableDatum name = optional_arg(fcinfo, argno);
	return zone_by_name(fcinfo, name.isnull ? nullptr : DatumGetTextPP(name.value));
}

void
require_finite(Timestamp ts, const char *what)
{
	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range"),
		                errdetail("An infinite timestamp has no %s.", what)));
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

CalendarArgs
calendar_args(FunctionCallInfo fcinfo, int unit_argno, int zone_argno)
{
	return constant_options<CalendarArgs>(fcinfo, {unit_argno, zone_argno < 0 ? unit_argno : zone_argno}, [&] {
		if (PG_ARGISNULL(unit_argno))
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("period must not be null")));
		const core::PeriodUnit unit = period_unit_of(PG_GETARG_TEXT_PP(unit_argno));
		const Zone zone = zone_argno < 0 ? Zone{nullptr, 0} : zone_arg(fcinfo, zone_argno);
		return CalendarArgs{core::CalendarKey{unit, zone.id}, zone.tz};
	});
}

PeriodArg
period_arg(FunctionCallInfo fcinfo, text *period)
{
	const char *data = VARDATA_ANY(period);
	int length = VARSIZE_ANY_EXHDR(period);
	if (!core::looks_like_interval(std::string_view(data, static_cast<std::size_t>(length))))
		return PeriodArg{false, period_unit_of(period), 0};
	CallSite &site = call_site(fcinfo);
	if (const std::int64_t *micros = site.intervals.find(data, length))
		return PeriodArg{true, core::PeriodUnit::Day, *micros};
	char *literal = text_to_cstring(period);
	Datum parsed =
	    DirectFunctionCall3(interval_in, CStringGetDatum(literal), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	pfree(literal);
	std::int64_t micros = interval_micros(DatumGetIntervalP(parsed), "period");
	if (micros <= 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("period must be positive")));
	site.intervals.put(data, length, micros);
	return PeriodArg{true, core::PeriodUnit::Day, micros};
}

namespace {

// The UTC offset of a zone over a span of time in which it does not change: [from, until) in
// Unix seconds. A fixed-offset zone's span is all time.
struct OffsetSpan {
	pg_tz *zone = nullptr;
	pg_time_t from = 0;
	pg_time_t until = 0;
	long offset = 0; // seconds east of UTC
};

// The UTC offset of `zone` at ts, from the spans of the last few zones asked about (zones live for
// the life of the backend, so the pointer identifies one). A miss asks PostgreSQL's zone rules
// once for the offset at ts and the next transition; rows in time order then hit until the
// transition, whatever the zone's daylight-saving rules. False for times the rules do not cover.
bool
zone_offset(Timestamp ts, pg_tz *zone, long *offset)
{
	static OffsetSpan spans[4];
	static unsigned next_victim = 0;
	// Unix seconds of ts, rounded down (transitions fall on whole seconds).
	const std::int64_t micros = ts;
	std::int64_t seconds = micros / USECS_PER_SEC - (micros % USECS_PER_SEC < 0 ? 1 : 0);
	seconds += static_cast<std::int64_t>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	const auto t = static_cast<pg_time_t>(seconds);
	for (const OffsetSpan &s : spans)
		if (s.zone == zone && s.from <= t && t < s.until) {
			*offset = s.offset;
			return true;
		}
	OffsetSpan span;
	span.zone = zone;
	if (pg_get_timezone_offset(zone, &span.offset)) {
		span.from = std::numeric_limits<pg_time_t>::min();
		span.until = std::numeric_limits<pg_time_t>::max();
	} else {
		long after_offset;
		int before_dst, after_dst;
		pg_time_t boundary;
		const int found =
		    pg_next_dst_boundary(&t, &span.offset, &before_dst, &boundary, &after_offset, &after_dst, zone);
		if (found < 0)
			return false;
		span.from = t;
		span.until = found == 1 ? boundary : std::numeric_limits<pg_time_t>::max();
	}
	spans[next_victim++ % 4] = span;
	*offset = span.offset;
	return true;
}

// Julian day of ts in `zone` (or of a timestamp when zone is NULL), by arithmetic on the zone's
// offset at ts (zone_offset); false when the day is out of range or the rules do not say.
bool
zone_day(Timestamp ts, pg_tz *zone, std::int64_t *julian)
{
	long offset_seconds = 0;
	if (zone != nullptr && !zone_offset(ts, zone, &offset_seconds))
		return false;
	std::int64_t local;
	if (__builtin_add_overflow(ts, static_cast<std::int64_t>(offset_seconds) * USECS_PER_SEC, &local))
		return false; // out of range: the general path reports it
	std::int64_t days = local / USECS_PER_DAY - (local % USECS_PER_DAY < 0 ? 1 : 0);
	*julian = days + POSTGRES_EPOCH_JDATE;
	return *julian >= 0 && *julian <= INT_MAX;
}

} // namespace

core::LocalDate
local_date(Timestamp ts, pg_tz *zone)
{
	require_finite(ts, "calendar period");
	std::int64_t julian;
	if (zone_day(ts, zone, &julian)) {
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
	require_finite(ts, "calendar period");
	if ((unit == core::PeriodUnit::Day || unit == core::PeriodUnit::Week) && zone_day(ts, zone, &julian))
		return core::calendar_period(unit, core::LocalDate{0, 1, julian});
	return core::calendar_period(unit, local_date(ts, zone));
}

Timestamp
period_start(core::PeriodUnit unit, Timestamp ts, pg_tz *zone)
{
	require_finite(ts, "calendar period");
	struct pg_tm tm;
	fsec_t fsec;
	int offset;
	if ((zone != nullptr ? timestamp2tm(ts, &offset, &tm, &fsec, nullptr, zone)
	                     : timestamp2tm(ts, nullptr, &tm, &fsec, nullptr, nullptr)) != 0)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
	int julian = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday);
	switch (unit) {
	case core::PeriodUnit::Day:
		break;
	case core::PeriodUnit::Week:
		julian -= (j2day(julian) + 6) % 7; // back to Monday (j2day: 0 = Sunday)
		j2date(julian, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
		break;
	case core::PeriodUnit::Month:
		tm.tm_mday = 1;
		break;
	case core::PeriodUnit::Quarter:
		tm.tm_mon = (tm.tm_mon - 1) / 3 * 3 + 1;
		tm.tm_mday = 1;
		break;
	case core::PeriodUnit::Year:
		tm.tm_mon = 1;
		tm.tm_mday = 1;
		break;
	}
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	Timestamp result;
	int failed;
	if (zone != nullptr) {
		offset = DetermineTimeZoneOffset(&tm, zone);
		failed = tm2timestamp(&tm, 0, &offset, &result);
	} else {
		failed = tm2timestamp(&tm, 0, nullptr, &result);
	}
	if (failed != 0)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
	return result;
}

Timestamp
period_number_start(core::PeriodUnit unit, std::int64_t number, pg_tz *zone)
{
	std::int64_t julian = core::period_first_day(unit, number);
	if (julian < 0 || julian > INT_MAX)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
	struct pg_tm tm = {};
	j2date(static_cast<int>(julian), &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	Timestamp result;
	int offset = zone != nullptr ? DetermineTimeZoneOffset(&tm, zone) : 0;
	if (tm2timestamp(&tm, 0, zone != nullptr ? &offset : nullptr, &result) != 0)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
	return result;
}

pg_tz *
zone_of_state(std::string_view name)
{
	char zone_name[TZ_STRLEN_MAX + 1];
	if (name.size() > TZ_STRLEN_MAX)
		ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("invalid aggregate state: time zone name too long")));
	std::memcpy(zone_name, name.data(), name.size());
	zone_name[name.size()] = '\0';
	pg_tz *zone = pg_tzset(zone_name);
	if (zone == nullptr)
		ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("invalid aggregate state: unknown time zone")));
	return zone;
}

} // namespace pg_product_analytics::pg
