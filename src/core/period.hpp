// Calendar and rolling periods for retention and cohorts: which period a time falls in, given
// its local calendar date (the glue converts timestamps in the chosen time zone).
#pragma once

#include "serial.hpp"

#include <cstdint>
#include <string_view>

namespace pg_product_analytics::core {

enum class PeriodUnit : std::uint8_t { Day = 1, Week = 2, Month = 3, Quarter = 4, Year = 5 };

/// "day", "week", "month", "quarter", "year" (case-insensitive, singular or plural). Throws
/// InvalidArgument naming the valid units otherwise (with a hint when the text is an interval).
PeriodUnit parse_period_unit(std::string_view text);

/// True when a period text is an interval literal ('7 days', '1 week', '@ 2 hours'): it starts
/// with a digit, a sign, a point or '@'. Unit names never do.
bool looks_like_interval(std::string_view text) noexcept;

/// How rows are put into calendar periods: the unit and the time zone's identity (0: local times,
/// no zone). Part of the parameters every calendar state compares within a group.
struct CalendarKey {
	PeriodUnit unit = PeriodUnit::Day;
	std::uint64_t zone = 0;

	bool
	operator==(const CalendarKey &o) const noexcept
	{
		return unit == o.unit && zone == o.zone;
	}
};

/// Serialized as 9 bytes: the unit, then the zone identity. read_calendar_key validates the unit.
void write_calendar_key(ByteWriter &w, const CalendarKey &key);
CalendarKey read_calendar_key(ByteReader &r);
inline constexpr std::size_t kCalendarKeySize = 9;

/// A local calendar date: year, month 1-12, and its Julian day number (consecutive days).
struct LocalDate {
	std::int32_t year;
	std::int32_t month;
	std::int64_t julian_day;
};

/// The number of the period containing `date`, counted from a fixed origin: consecutive periods
/// have consecutive numbers. Weeks start on Monday (ISO).
std::int64_t calendar_period(PeriodUnit unit, const LocalDate &date) noexcept;

/// The Julian day number of the first day of calendar period `number` (the inverse of
/// calendar_period on a period's first day).
std::int64_t period_first_day(PeriodUnit unit, std::int64_t number) noexcept;

/// floor((ts - anchor) / length): the number of whole periods of `length` (> 0) from anchor to ts,
/// negative before the anchor. Saturates at the int64 limits instead of overflowing.
std::int64_t rolling_period(std::int64_t ts, std::int64_t anchor, std::int64_t length) noexcept;

} // namespace pg_product_analytics::core
