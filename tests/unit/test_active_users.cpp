// core::ActiveUsersState / ActiveUsersBuilder against the definition by brute force: users active
// in the window of w periods ending at each period; any order and split; limits; corrupt bytes.
#include "core/retention.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

namespace core = pg_product_analytics::core;
using core::ActiveUsersBuilder;
using core::ActiveUsersOptions;
using core::ActiveUsersState;
using core::UserKeyKind;
using pg_product_analytics::testing::check_corruption_rejected;
using pg_product_analytics::testing::expect_error;
using pg_product_analytics::testing::serialize;

namespace {

std::pmr::memory_resource *
heap()
{
	return std::pmr::new_delete_resource();
}

std::vector<core::ActiveUsersRow>
report_of(const ActiveUsersState &s, std::size_t budget)
{
	ActiveUsersBuilder b(s, heap());
	while (!b.step(budget)) {
	}
	auto r = b.result();
	return std::vector<core::ActiveUsersRow>(r.begin(), r.end());
}

ActiveUsersOptions
options_of(std::initializer_list<std::int64_t> windows)
{
	ActiveUsersOptions o;
	o.calendar = core::CalendarKey{core::PeriodUnit::Day, 9};
	for (auto w : windows)
		o.window[o.windows++] = w;
	return o;
}

} // namespace

TEST(ActiveUsers, MatchesTheDefinitionInAnyOrderAndSplit)
{
	std::mt19937_64 rng(91);
	for (int trial = 0; trial < 400; trial++) {
		auto o = options_of({1 + static_cast<std::int64_t>(rng() % 3), 1 + static_cast<std::int64_t>(rng() % 9), 7});
		std::vector<std::pair<std::int64_t, std::int64_t>> rows(1 + rng() % 200); // (user, period)
		for (auto &r : rows)
			r = {static_cast<std::int64_t>(rng() % 25), static_cast<std::int64_t>(rng() % 40) - 20};
		if (rng() % 2)
			std::sort(rows.begin(), rows.end(), [](auto &a, auto &b) { return a.second < b.second; });
		std::size_t cut = rng() % (rows.size() + 1);
		ActiveUsersState a(o, UserKeyKind::Integer, "UTC", heap()), b(o, UserKeyKind::Integer, "UTC", heap());
		for (std::size_t i = 0; i < rows.size(); i++)
			(i < cut ? a : b).add(o, rows[i].first, rows[i].second);
		auto bytes = serialize(b);
		auto b2 = ActiveUsersState::deserialize(bytes.data(), bytes.size(), heap());
		EXPECT_EQ(serialize(b2), bytes);
		a.merge(b2);
		auto got = report_of(a, 1 + rng() % 20);
		std::int64_t first = rows[0].second, last = rows[0].second;
		for (auto &r : rows) {
			first = std::min(first, r.second);
			last = std::max(last, r.second);
		}
		ASSERT_EQ(got.size(), static_cast<std::size_t>(last - first + 1) * o.windows);
		std::size_t i = 0;
		for (std::int64_t p = first; p <= last; p++) {
			std::set<std::int64_t> today;
			for (auto &r : rows)
				if (r.second == p)
					today.insert(r.first);
			for (std::size_t k = 0; k < o.windows; k++, i++) {
				std::set<std::int64_t> in_window;
				for (auto &r : rows)
					if (r.second <= p && r.second > p - o.window[k])
						in_window.insert(r.first);
				ASSERT_EQ(got[i].period, p);
				ASSERT_EQ(got[i].window, o.window[k]);
				ASSERT_EQ(got[i].users, static_cast<std::int64_t>(in_window.size())) << "trial " << trial;
				if (in_window.empty())
					EXPECT_TRUE(std::isnan(got[i].stickiness));
				else
					EXPECT_DOUBLE_EQ(got[i].stickiness, double(today.size()) / double(in_window.size()));
			}
		}
	}
}

TEST(ActiveUsers, LimitsParametersAndCorruptBytes)
{
	expect_error(core::ErrorKind::InvalidArgument,
	             [] { ActiveUsersState s(options_of({}), UserKeyKind::Integer, "UTC", heap()); });
	expect_error(core::ErrorKind::InvalidArgument,
	             [] { ActiveUsersState s(options_of({0}), UserKeyKind::Integer, "UTC", heap()); });
	expect_error(core::ErrorKind::LimitExceeded, [] {
		ActiveUsersState s(options_of({core::kMaxActiveWindow + 1}), UserKeyKind::Integer, "UTC", heap());
	});
	auto o = options_of({1, 7});
	ActiveUsersState s(o, UserKeyKind::Bytes, "Europe/Berlin", heap());
	using namespace std::string_view_literals;
	s.add(o, "u1"sv, 3);
	s.add(o, "u2"sv, 5);
	s.add(o, "u1"sv, 4);
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(options_of({1, 30}), "u1"sv, 4); });
	check_corruption_rejected<ActiveUsersState>(serialize(s), [](const ActiveUsersState &x) {
		try {
			report_of(x, 5);
		} catch (const core::Error &e) {
			return e.kind() == core::ErrorKind::LimitExceeded; // a forged span
		}
		return true;
	});
	// A span beyond the limit is an error, not an allocation of that size.
	ActiveUsersState wide(o, UserKeyKind::Integer, "UTC", heap());
	wide.add(o, std::int64_t{1}, 0);
	wide.add(o, std::int64_t{1}, core::kMaxActiveSpan);
	expect_error(core::ErrorKind::LimitExceeded, [&] { report_of(wide, 10); });
}
