// core::ActivePeriodsState: distinct periods in any order and split, serialization, corrupt bytes.
#include "core/active_periods.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace core = pg_product_analytics::core;
using core::ActivePeriodsState;
using pg_product_analytics::testing::check_corruption_rejected;
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
		ActivePeriodsState a(std::pmr::new_delete_resource()), b(std::pmr::new_delete_resource());
		for (std::size_t i = 0; i < periods.size(); i++)
			(i < cut ? a : b).add(periods[i]);
		auto bytes = serialize(b);
		a.merge(ActivePeriodsState::deserialize(bytes.data(), bytes.size()));
		while (!a.sort_step(4)) {
		}
		ASSERT_EQ(a.count(), static_cast<std::int64_t>(distinct.size())) << "trial " << trial;
	}
}

TEST(ActivePeriods, CorruptBytesAreRejected)
{
	ActivePeriodsState s(std::pmr::new_delete_resource());
	for (std::int64_t p : {3, 1, 4, 1, 5})
		s.add(p);
	check_corruption_rejected<ActivePeriodsState>(serialize(s), [](const ActivePeriodsState &) { return true; });
}
