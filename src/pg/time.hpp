// Time parameters shared by every family: an interval window or gap as a fixed number of
// microseconds. Plain C-style code, call outside guard().
#pragma once

#include <cstdint>
#include <string_view>

extern "C" {
#include "postgres.h"
#include "datatype/timestamp.h"
#include "utils/timestamp.h"
}

namespace pg_product_analytics::pg {

/// Microseconds of a window or gap interval. ERROR 22023 when it has a month/year part (variable
/// length) or does not fit in 64 bits; `what` names the parameter ("funnel window"). The sign is
/// left to the core to check.
inline std::int64_t
interval_micros(const Interval *interval, const char *what)
{
	if (interval->month != 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not have a month or year part", what),
		                errdetail("Months and years have no fixed length; use days, e.g. '30 days'.")));
	std::int64_t days_us;
	std::int64_t total;
	if (__builtin_mul_overflow(static_cast<std::int64_t>(interval->day), USECS_PER_DAY, &days_us) ||
	    __builtin_add_overflow(days_us, interval->time, &total))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s is out of range", what)));
	return total;
}

/// An interval of `us` microseconds (no days or months part), palloc'd in the current context.
inline Interval *
micros_interval(std::int64_t us)
{
	auto *i = static_cast<Interval *>(palloc(sizeof(Interval)));
	i->time = us;
	i->day = 0;
	i->month = 0;
	return i;
}

} // namespace pg_product_analytics::pg

#include "../core/period.hpp"
#include "call_site.hpp"

extern "C" {
#include "fmgr.h"
#include "pgtime.h"
}

namespace pg_product_analytics::pg {

/// The time zone named `name` (a full name such as 'Europe/Berlin'), or the session's TimeZone
/// when `name` is NULL. ERROR 22023 for an unknown name. The call site caches a few zones, so
/// per-row names (users in different zones) cost a comparison, in constant memory.
Zone zone_by_name(FunctionCallInfo fcinfo, text *name);

/// The zone named by optional text argument `argno`: the session's TimeZone when it is absent
/// or NULL.
Zone zone_arg(FunctionCallInfo fcinfo, int argno);

/// The calendar unit named by a period text ('week', 'Months', ...): ERROR 22023 otherwise; an
/// interval literal ('7 days') gets a hint naming the rolling form.
core::PeriodUnit period_unit_of(text *name);

/// A calendar (unit and zone) from a period text argument `unit_argno` (NULL: ERROR 22004) and an
/// optional zone argument `zone_argno` (-1: none, local times; absent or NULL: the session's).
/// Parsed on the first row only when both are constants or bound parameters.
struct CalendarArgs {
	core::CalendarKey key;
	pg_tz *tz;
};
CalendarArgs calendar_args(FunctionCallInfo fcinfo, int unit_argno, int zone_argno);

/// A period argument passed as text: a calendar unit ('week'), or an interval literal ('7 days',
/// what a BI tool sends when it binds an interval parameter as text): a rolling period of that
/// many microseconds (ERROR 22023 unless positive and without a month part).
struct PeriodArg {
	bool rolling;
	core::PeriodUnit unit;
	std::int64_t length;
};
PeriodArg period_arg(FunctionCallInfo fcinfo, text *period);

/// The local calendar date of ts in `zone`, or of a timestamp without time zone when zone is
/// NULL. ERROR 22008 for ±infinity and out-of-range results. DST-aware: PostgreSQL's zone rules.
core::LocalDate local_date(Timestamp ts, pg_tz *zone);

/// The number of the calendar period of ts in `zone` (see local_date); skips the year and
/// month when the unit does not need them.
std::int64_t calendar_period_of(core::PeriodUnit unit, Timestamp ts, pg_tz *zone);

/// The start of the calendar period containing ts: local midnight of its first day in `zone`
/// (DST-aware, as date_trunc(unit, ts, zone)), or of a timestamp without time zone when zone is
/// NULL. ERROR 22008 for ±infinity and out-of-range results.
Timestamp period_start(core::PeriodUnit unit, Timestamp ts, pg_tz *zone);

/// The start (local midnight of its first day, in `zone`; NULL zone: a timestamp without time
/// zone) of calendar period `number` of `unit`. ERROR 22008 when out of range.
Timestamp period_number_start(core::PeriodUnit unit, std::int64_t number, pg_tz *zone);

/// The zone a report state was built in, by the canonical name it keeps (final functions get no
/// argument values): ERROR XX001 when no such zone exists.
pg_tz *zone_of_state(std::string_view name);

/// ERROR 22008 when ts is ±infinity: `what` has no calendar or rolling period.
void require_finite(Timestamp ts, const char *what);

} // namespace pg_product_analytics::pg
