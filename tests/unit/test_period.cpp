// core::calendar_period against day-by-day counting, and core::rolling_period against exact
// 128-bit arithmetic.
#include "core/error.hpp"
#include "core/period.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>

namespace core = pg_product_analytics::core;
using core::LocalDate;
using core::PeriodUnit;
using pg_product_analytics::testing::expect_error;

namespace {

bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
days_in(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

// Every date from 1990-01-01 (a Monday, Julian day 2447893) on, one day at a time.
struct Walker {
	int y = 1990, m = 1, d = 1;
	std::int64_t j = 2447893;
	int weekday = 0; // 0 = Monday
	void
	next()
	{
		j++;
		weekday = (weekday + 1) % 7;
		if (++d > days_in(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
};

} // namespace

TEST(Period, CalendarPeriodsStepByOneAtEachBoundary)
{
	Walker w;
	LocalDate prev{w.y, w.m, w.j};
	for (int i = 0; i < 20000; i++) { // about 55 years, leap years included
		w.next();
		LocalDate cur{w.y, w.m, w.j};
		auto step = [&](PeriodUnit u) { return core::calendar_period(u, cur) - core::calendar_period(u, prev); };
		EXPECT_EQ(step(PeriodUnit::Day), 1);
		EXPECT_EQ(step(PeriodUnit::Week), w.weekday == 0 ? 1 : 0) << w.y << "-" << w.m << "-" << w.d;
		EXPECT_EQ(step(PeriodUnit::Month), w.d == 1 ? 1 : 0);
		EXPECT_EQ(step(PeriodUnit::Quarter), (w.d == 1 && (w.m - 1) % 3 == 0) ? 1 : 0);
		EXPECT_EQ(step(PeriodUnit::Year), (w.d == 1 && w.m == 1) ? 1 : 0);
		prev = cur;
	}
}

TEST(Period, FirstDayOfEachPeriod)
{
	// Walking day by day: a day starts a period exactly when period_first_day of its period is it.
	Walker w;
	for (int i = 0; i < 20000; i++, w.next()) {
		LocalDate cur{w.y, w.m, w.j};
		const bool starts[] = {true, w.weekday == 0, w.d == 1, w.d == 1 && (w.m - 1) % 3 == 0, w.d == 1 && w.m == 1};
		int u = 0;
		for (PeriodUnit unit :
		     {PeriodUnit::Day, PeriodUnit::Week, PeriodUnit::Month, PeriodUnit::Quarter, PeriodUnit::Year}) {
			EXPECT_EQ(core::period_first_day(unit, core::calendar_period(unit, cur)) == w.j, starts[u++])
			    << w.y << "-" << w.m << "-" << w.d;
		}
	}
}

TEST(Period, RollingMatchesExactArithmetic)
{
	std::mt19937_64 rng(31);
	const std::int64_t lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
	auto exact = [](std::int64_t ts, std::int64_t anchor, std::int64_t len) {
		__int128 diff = static_cast<__int128>(ts) - anchor;
		__int128 q = diff / len;
		if (diff % len != 0 && diff < 0)
			q -= 1;
		const __int128 lo128 = std::numeric_limits<std::int64_t>::min(),
		               hi128 = std::numeric_limits<std::int64_t>::max();
		return static_cast<std::int64_t>(q < lo128 ? lo128 : (q > hi128 ? hi128 : q)); // saturated
	};
	for (int i = 0; i < 200000; i++) {
		std::int64_t ts, anchor, len;
		switch (i % 3) {
		case 0:
			ts = static_cast<std::int64_t>(rng() % 1000) - 500;
			anchor = static_cast<std::int64_t>(rng() % 1000) - 500;
			len = 1 + static_cast<std::int64_t>(rng() % 50);
			break;
		case 1:
			ts = static_cast<std::int64_t>(rng());
			anchor = static_cast<std::int64_t>(rng());
			len = 1 + static_cast<std::int64_t>(rng() >> 1);
			break;
		default:
			ts = rng() % 2 ? lo + static_cast<std::int64_t>(rng() % 10) : hi - static_cast<std::int64_t>(rng() % 10);
			anchor =
			    rng() % 2 ? lo + static_cast<std::int64_t>(rng() % 10) : hi - static_cast<std::int64_t>(rng() % 10);
			len = rng() % 2 ? 1 + static_cast<std::int64_t>(rng() % 3) : hi - static_cast<std::int64_t>(rng() % 3);
		}
		ASSERT_EQ(core::rolling_period(ts, anchor, len), exact(ts, anchor, len)) << ts << " " << anchor << " " << len;
	}
}

TEST(Period, Units)
{
	EXPECT_EQ(core::parse_period_unit("week"), PeriodUnit::Week);
	EXPECT_EQ(core::parse_period_unit("Months"), PeriodUnit::Month);
	EXPECT_EQ(core::parse_period_unit("DAY"), PeriodUnit::Day);
	expect_error(core::ErrorKind::InvalidArgument, [] { core::parse_period_unit("fortnight"); });
	expect_error(core::ErrorKind::InvalidArgument, [] { core::parse_period_unit(""); });
}
