// core::LifecycleState against the definition on random activity, any order and split, and
// serialization with corrupt bytes.
#include "core/retention.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
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

TEST(LifecycleReport, MatchesThePerUserLifecycleInAnyOrderAndSplit)
{
	std::mt19937_64 rng(52);
	for (int trial = 0; trial < 500; trial++) {
		LifecycleRange range{static_cast<std::int64_t>(rng() % 10), 1 + rng() % 12,
		                     core::CalendarKey{core::PeriodUnit::Week, 3}};
		std::vector<std::pair<std::int64_t, std::int64_t>> rows(rng() % 150); // (user, period)
		for (auto &r : rows)
			r = {static_cast<std::int64_t>(rng() % 20), static_cast<std::int64_t>(rng() % 30) - 5};
		std::map<std::int64_t, LifecycleState> per_user;
		for (auto &r : rows)
			per_user.try_emplace(r.first, range).first->second.add(range, r.second);
		std::size_t cut = rows.empty() ? 0 : rng() % (rows.size() + 1);
		core::LifecycleReportState a(range, core::UserKeyKind::Integer, "UTC", std::pmr::new_delete_resource()),
		    b(range, core::UserKeyKind::Integer, "UTC", std::pmr::new_delete_resource());
		for (std::size_t i = 0; i < rows.size(); i++)
			(i < cut ? a : b).add(range, rows[i].first, rows[i].second);
		auto bytes = pg_product_analytics::testing::serialize(b);
		auto b2 = core::LifecycleReportState::deserialize(bytes.data(), bytes.size());
		EXPECT_EQ(pg_product_analytics::testing::serialize(b2), bytes);
		a.merge(b2);
		core::LifecycleReportBuilder builder(a, std::pmr::new_delete_resource());
		while (!builder.step(1 + rng() % 7)) {
		}
		auto got = builder.result();
		ASSERT_EQ(got.size(), range.count);
		for (std::size_t k = 0; k < range.count; k++) {
			std::int64_t count[5] = {0, 0, 0, 0, 0}, before = 0;
			for (auto &[user, s] : per_user) {
				count[static_cast<int>(s.status(k))]++;
				// Active in the previous period: new, returning or resurrecting there, or (k = 0)
				// active in the period before the range.
				bool was = false;
				for (auto &r : rows)
					was = was || (r.first == user && r.second == range.first + static_cast<std::int64_t>(k) - 1);
				before += was;
			}
			for (int st = 1; st <= 4; st++)
				EXPECT_EQ(got[k].count[st], count[st]) << "trial " << trial << " period " << k;
			EXPECT_EQ(got[k].active_before, before) << trial;
			if (before == 0)
				EXPECT_TRUE(std::isnan(got[k].churn));
			else
				EXPECT_DOUBLE_EQ(got[k].churn, double(count[4]) / double(before));
		}
	}
}

TEST(LifecycleReport, CorruptBytesAreRejected)
{
	LifecycleRange range{5, 8, core::CalendarKey{core::PeriodUnit::Day, 11}};
	core::LifecycleReportState s(range, core::UserKeyKind::Bytes, "Asia/Tokyo", std::pmr::new_delete_resource());
	using namespace std::string_view_literals;
	s.add(range, "a"sv, 4);
	s.add(range, "b"sv, 6);
	s.add(range, "a"sv, 9);
	check_corruption_rejected<core::LifecycleReportState>(
	    pg_product_analytics::testing::serialize(s), [](const core::LifecycleReportState &x) {
		    core::LifecycleReportBuilder b(x, std::pmr::new_delete_resource());
		    while (!b.step(3)) {
		    }
		    return b.result().size() == x.range().count;
	    });
}
