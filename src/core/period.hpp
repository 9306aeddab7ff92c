// Calendar and rolling periods for retention and cohorts: which period a time falls in, given
// its local calendar date (the glue converts timestamps in the chosen time zone).
#pragma once

#include <cstdint>
#include <string_view>

namespace pg_product_analytics::core {

enum class PeriodUnit : std::uint8_t { Day = 1, Week = 2, Month = 3, Quarter = 4, Year = 5 };

/// "day", "week", "month", "quarter", "year" (case-insensitive, singular or plural). Throws
/// InvalidArgument naming the valid units otherwise.
PeriodUnit parse_period_unit(std::string_view text);

/// A local calendar date: year, month 1-12, and its Julian day number (consecutive days).
struct LocalDate {
	std::int32_t year;
	std::int32_t month;
	std::int64_t julian_day;
};

/// The number of the period containing `date`, counted from a fixed origin: consecutive periods
/// have consecutive numbers. Weeks start on Monday (ISO).
std::int64_t calendar_period(PeriodUnit unit, const LocalDate &date) noexcept;

/// floor((ts - anchor) / length): the number of whole periods of `length` (> 0) from anchor to ts,
/// negative before the anchor. Saturates at the int64 limits instead of overflowing.
std::int64_t rolling_period(std::int64_t ts, std::int64_t anchor, std::int64_t length) noexcept;

} // namespace pg_product_analytics::core
