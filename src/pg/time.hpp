// Time parameters shared by every family: an interval window or gap as a fixed number of
// microseconds. Plain C-style code, call outside guard().
#pragma once

#include <cstdint>

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

} // namespace pg_product_analytics::pg

#include "../core/period.hpp"

extern "C" {
#include "fmgr.h"
#include "pgtime.h"
}

namespace pg_product_analytics::pg {

/// The time zone named `name` (a full name such as 'Europe/Berlin'), or the session's TimeZone
/// when `name` is NULL. ERROR 22023 for an unknown name. The last lookup is cached in the call
/// site's fn_extra, so per-row calls with a constant name cost a comparison.
pg_tz *zone_by_name(FunctionCallInfo fcinfo, text *name);

/// The zone named by optional text argument `argno`: the session's TimeZone when it is absent
/// or NULL.
pg_tz *zone_arg(FunctionCallInfo fcinfo, int argno);

/// The same lookup, also giving the name as a NUL-terminated string that lives as long as the
/// call site (the query): equal names on later rows give the same pointer.
struct ZoneRef {
	pg_tz *zone;
	const char *name;
};
ZoneRef zone_ref(FunctionCallInfo fcinfo, text *name);

/// The calendar unit named by a period text ('week', 'Months', ...): ERROR 22023 otherwise.
core::PeriodUnit period_unit_of(text *name);

/// The local calendar date of ts in `zone`, or of a timestamp without time zone when zone is
/// NULL. ERROR 22008 when out of range. DST-aware: PostgreSQL's zone rules.
core::LocalDate local_date(Timestamp ts, pg_tz *zone);

/// The number of the calendar period of ts in `zone` (see local_date); skips the year and
/// month when the unit does not need them.
std::int64_t calendar_period_of(core::PeriodUnit unit, Timestamp ts, pg_tz *zone);

} // namespace pg_product_analytics::pg
