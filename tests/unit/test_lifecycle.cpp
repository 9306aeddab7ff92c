// core::LifecycleState against the definition on random activity, any order and split, and
// serialization with corrupt bytes.
#include "core/retention.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace core = pg_product_analytics::core;
using core::LifecycleRange;
using core::LifecycleState;
using core::LifecycleStatus;
using pg_product_analytics::testing::check_corruption_rejected;
using pg_product_analytics::testing::expect_error;
using pg_product_analytics::testing::serialize;

namespace {

LifecycleStatus
reference(const std::set<std::int64_t> &active, std::int64_t p)
{
	if (active.empty())
		return LifecycleStatus::None;
	bool now = active.count(p) > 0, before = active.count(p - 1) > 0;
	if (now && *active.begin() == p)
		return LifecycleStatus::New;
	if (now)
		return before ? LifecycleStatus::Returning : LifecycleStatus::Resurrecting;
	return before ? LifecycleStatus::Dormant : LifecycleStatus::None;
}

} // namespace

TEST(Lifecycle, MatchesDefinitionInAnyOrderAndSplit)
{
	std::mt19937_64 rng(51);
	int counted[5] = {};
	for (int trial = 0; trial < 20000; trial++) {
		LifecycleRange range{static_cast<std::int64_t>(rng() % 20) - 10, 1 + rng() % 12, {}};
		std::vector<std::int64_t> periods(rng() % 15);
		for (auto &p : periods)
			p = static_cast<std::int64_t>(rng() % 40) - 20;
		std::set<std::int64_t> active(periods.begin(), periods.end());
		std::shuffle(periods.begin(), periods.end(), rng);
		std::size_t cut = periods.empty() ? 0 : rng() % (periods.size() + 1);
		LifecycleState a(range), b(range);
		for (std::size_t i = 0; i < periods.size(); i++)
			(i < cut ? a : b).add(range, periods[i]);
		auto bytes = serialize(b);
		a.merge(LifecycleState::deserialize(bytes.data(), bytes.size()));
		for (std::size_t k = 0; k < range.count; k++) {
			auto expected = reference(active, range.first + static_cast<std::int64_t>(k));
			ASSERT_EQ(a.status(k), expected) << "trial " << trial << " k " << k;
			counted[static_cast<int>(expected)]++;
		}
	}
	for (int s = 1; s < 5; s++)
		EXPECT_GT(counted[s], 500) << "status " << s << " rarely exercised";
}

TEST(Lifecycle, LimitsAndCorruptBytes)
{
	expect_error(core::ErrorKind::InvalidArgument, [] { LifecycleState s(LifecycleRange{0, 0, {}}); });
	expect_error(core::ErrorKind::LimitExceeded, [] { LifecycleState s(LifecycleRange{0, 256, {}}); });
	LifecycleState s(LifecycleRange{5, 255, {}});
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(LifecycleRange{6, 255, {}}, 7); });
	// The calendar (unit, zone) is part of the parameters: a change is the same error.
	expect_error(core::ErrorKind::InvalidArgument, [&] {
		s.add(LifecycleRange{5, 255, core::CalendarKey{core::PeriodUnit::Week, 3}}, 7);
	});
	s.add(LifecycleRange{5, 255, {}}, 4);
	s.add(LifecycleRange{5, 255, {}}, 259);
	s.add(LifecycleRange{5, 255, {}}, 100);
	EXPECT_EQ(s.status(0), LifecycleStatus::Dormant);
	EXPECT_EQ(s.status(254), LifecycleStatus::Resurrecting);
	check_corruption_rejected<LifecycleState>(serialize(s), [](const LifecycleState &x) {
		return x.range().count >= 1 && x.range().count <= core::kMaxLifecyclePeriods;
	});
}
