// core::ActivePeriodsState: distinct periods in any order and split, serialization, corrupt bytes.
#include "core/retention.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace core = pg_product_analytics::core;
using core::ActivePeriodsState;
using pg_product_analytics::testing::check_corruption_rejected;
using pg_product_analytics::testing::expect_error;
using pg_product_analytics::testing::serialize;

TEST(ActivePeriods, CountsDistinctPeriodsInAnyOrderAndSplit)
{
	std::mt19937_64 rng(61);
	for (int trial = 0; trial < 5000; trial++) {
		std::vector<std::int64_t> periods(rng() % 60);
		for (auto &p : periods)
			p = static_cast<std::int64_t>(rng() % 30) - 10;
		if (rng() % 2)
			std::sort(periods.begin(), periods.end());
		std::set<std::int64_t> distinct(periods.begin(), periods.end());
		std::size_t cut = periods.empty() ? 0 : rng() % (periods.size() + 1);
		const core::CalendarKey key{core::PeriodUnit::Week, 42};
		ActivePeriodsState a(key, std::pmr::new_delete_resource()), b(key, std::pmr::new_delete_resource());
		for (std::size_t i = 0; i < periods.size(); i++)
			(i < cut ? a : b).add(key, periods[i]);
		auto bytes = serialize(b);
		a.merge(ActivePeriodsState::deserialize(bytes.data(), bytes.size()));
		while (!a.sort_step(4)) {
		}
		ASSERT_EQ(a.count(), static_cast<std::int64_t>(distinct.size())) << "trial " << trial;
	}
}

TEST(ActivePeriods, CorruptBytesAreRejected)
{
	const core::CalendarKey key{core::PeriodUnit::Day, 7};
	ActivePeriodsState s(key, std::pmr::new_delete_resource());
	for (std::int64_t p : {3, 1, 4, 1, 5})
		s.add(key, p);
	check_corruption_rejected<ActivePeriodsState>(serialize(s), [](const ActivePeriodsState &) { return true; });
}

TEST(ActivePeriods, StateIsBoundedByDistinctPeriodsNotRows)
{
	// 200k rows in random order over 50 distinct days: the store never holds much more than
	// twice the answer (it folded only consecutive repeats before: about 200k entries).
	std::mt19937_64 rng(62);
	const core::CalendarKey key{core::PeriodUnit::Day, 0};
	ActivePeriodsState s(key, std::pmr::new_delete_resource());
	std::size_t most = 0;
	for (int i = 0; i < 200000; i++) {
		s.add(key, static_cast<std::int64_t>(rng() % 50));
		most = std::max(most, s.entries());
	}
	EXPECT_LE(most, 2 * 50 + 64 + 1);
	while (!s.sort_step(1024)) {
	}
	EXPECT_EQ(s.count(), 50);
}

TEST(ActivePeriods, PeriodOrZoneChangingWithinAGroupIsAnError)
{
	ActivePeriodsState s(core::CalendarKey{core::PeriodUnit::Week, 1}, std::pmr::new_delete_resource());
	s.add(core::CalendarKey{core::PeriodUnit::Week, 1}, 5);
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(core::CalendarKey{core::PeriodUnit::Day, 1}, 5); });
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(core::CalendarKey{core::PeriodUnit::Week, 2}, 5); });
	ActivePeriodsState other(core::CalendarKey{core::PeriodUnit::Week, 2}, std::pmr::new_delete_resource());
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.merge(other); });
}
