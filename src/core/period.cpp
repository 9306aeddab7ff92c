#include "period.hpp"

#include "error.hpp"

#include <cctype>
#include <limits>
#include <string>

namespace pg_product_analytics::core {

namespace {

std::int64_t
floor_div(std::int64_t a, std::int64_t b) noexcept
{
	std::int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Julian day number of Monday 2000-01-03: weeks are counted from it.
constexpr std::int64_t kMondayJulianDay = 2451547;

} // namespace

PeriodUnit
parse_period_unit(std::string_view text)
{
	// Case-insensitive, singular or plural, without allocating: it runs once per row.
	static constexpr struct {
		std::string_view name;
		PeriodUnit unit;
	} kUnits[] = {{"day", PeriodUnit::Day},
	              {"week", PeriodUnit::Week},
	              {"month", PeriodUnit::Month},
	              {"quarter", PeriodUnit::Quarter},
	              {"year", PeriodUnit::Year}};
	std::string_view t = text;
	if (!t.empty() && (t.back() == 's' || t.back() == 'S'))
		t.remove_suffix(1);
	for (const auto &u : kUnits)
		if (u.name == t)
			return u.unit; // the usual spelling: no case folding
	for (const auto &u : kUnits) {
		if (u.name.size() != t.size())
			continue;
		bool equal = true;
		for (std::size_t i = 0; i < t.size() && equal; i++)
			equal = std::tolower(static_cast<unsigned char>(t[i])) == u.name[i];
		if (equal)
			return u.unit;
	}
	std::string hint = "Valid periods: day, week, month, quarter, year.";
	if (looks_like_interval(text))
		hint = "\"" + std::string(text) +
		       "\" is an interval: calendar periods are named by a unit; for rolling periods pass an interval, "
		       "e.g. $1::interval.";
	throw Error(ErrorKind::InvalidArgument, "unknown period \"" + std::string(text) + "\"", "", hint);
}

bool
looks_like_interval(std::string_view text) noexcept
{
	while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
		text.remove_prefix(1);
	if (text.empty())
		return false;
	char c = text.front();
	return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == '@';
}

void
write_calendar_key(ByteWriter &w, const CalendarKey &key)
{
	w.u8(static_cast<std::uint8_t>(key.unit));
	w.u64(key.zone);
}

CalendarKey
read_calendar_key(ByteReader &r)
{
	CalendarKey key;
	std::uint8_t unit = r.u8();
	if (unit < static_cast<std::uint8_t>(PeriodUnit::Day) || unit > static_cast<std::uint8_t>(PeriodUnit::Year))
		throw_corrupt("bad period unit");
	key.unit = static_cast<PeriodUnit>(unit);
	key.zone = r.u64();
	return key;
}

std::int64_t
calendar_period(PeriodUnit unit, const LocalDate &date) noexcept
{
	switch (unit) {
	case PeriodUnit::Day:
		return date.julian_day;
	case PeriodUnit::Week:
		return floor_div(date.julian_day - kMondayJulianDay, 7);
	case PeriodUnit::Month:
		return static_cast<std::int64_t>(date.year) * 12 + (date.month - 1);
	case PeriodUnit::Quarter:
		return static_cast<std::int64_t>(date.year) * 4 + (date.month - 1) / 3;
	case PeriodUnit::Year:
		break;
	}
	return date.year;
}

namespace {

// Julian day number of a proleptic Gregorian date (the algorithm of PostgreSQL's date2j).
std::int64_t
julian_day(std::int64_t year, std::int64_t month, std::int64_t day) noexcept
{
	if (month > 2) {
		month += 1;
		year += 4800;
	} else {
		month += 13;
		year += 4799;
	}
	std::int64_t century = floor_div(year, 100);
	std::int64_t julian = year * 365 - 32167;
	julian += floor_div(year, 4) - century + floor_div(century, 4);
	julian += 7834 * month / 256 + day;
	return julian;
}

} // namespace

std::int64_t
period_first_day(PeriodUnit unit, std::int64_t number) noexcept
{
	switch (unit) {
	case PeriodUnit::Day:
		return number;
	case PeriodUnit::Week:
		return kMondayJulianDay + 7 * number;
	case PeriodUnit::Month:
		return julian_day(floor_div(number, 12), number - 12 * floor_div(number, 12) + 1, 1);
	case PeriodUnit::Quarter:
		return julian_day(floor_div(number, 4), (number - 4 * floor_div(number, 4)) * 3 + 1, 1);
	case PeriodUnit::Year:
		break;
	}
	return julian_day(number, 1, 1);
}

std::int64_t
rolling_period(std::int64_t ts, std::int64_t anchor, std::int64_t length) noexcept
{
	// The difference may not fit in 64 bits: work on its magnitude, unsigned, and saturate.
	const auto len = static_cast<std::uint64_t>(length);
	const std::uint64_t max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
	if (ts >= anchor) {
		std::uint64_t whole = (static_cast<std::uint64_t>(ts) - static_cast<std::uint64_t>(anchor)) / len;
		return static_cast<std::int64_t>(whole > max ? max : whole);
	}
	std::uint64_t back = static_cast<std::uint64_t>(anchor) - static_cast<std::uint64_t>(ts);
	std::uint64_t whole = back / len + (back % len != 0 ? 1 : 0); // periods started before the anchor
	if (whole > max)
		return std::numeric_limits<std::int64_t>::min();
	return -static_cast<std::int64_t>(whole);
}

} // namespace pg_product_analytics::core
