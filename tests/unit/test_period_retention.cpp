// core::PeriodRetentionState against a reference written from the definition, for calendar and
// rolling periods, both modes and as-of times; any input order and split; serialization.
#include "core/retention.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <random>

namespace core = pg_product_analytics::core;
using core::PeriodRetentionOptions;
using core::PeriodRetentionState;
using pg_product_analytics::testing::check_corruption_rejected;
using pg_product_analytics::testing::expect_error;
using pg_product_analytics::testing::serialize;

namespace {

struct Row {
	std::int64_t ts;
	bool start, ret;
};

// Calendar periods in the tests: ts / 7, floored (a "week" of 7 time units).
std::int64_t
week(std::int64_t ts)
{
	return ts >= 0 ? ts / 7 : -((-ts + 6) / 7);
}

core::PeriodRetentionResult
reference(const std::vector<Row> &rows, const PeriodRetentionOptions &o)
{
	core::PeriodRetentionResult r;
	bool have = false;
	std::int64_t first = 0;
	for (const auto &row : rows)
		if (row.start && (!have || row.ts < first)) {
			have = true;
			first = row.ts;
		}
	if (!have)
		return r;
	r.in_cohort = true;
	auto period_of = [&](std::int64_t ts) -> std::int64_t {
		if (o.rolling) {
			std::int64_t d = ts - first;
			return d >= 0 ? d / o.length : -((-d + o.length - 1) / o.length);
		}
		return week(ts) - week(first);
	};
	for (std::size_t k = 0; k <= o.periods; k++) {
		bool hit = false;
		for (const auto &row : rows) {
			if (!row.ret || row.ts < first)
				continue;
			std::int64_t p = period_of(row.ts);
			if (o.on_or_after ? p >= static_cast<std::int64_t>(k) : p == static_cast<std::int64_t>(k))
				hit = true;
		}
		std::int8_t v = hit ? 1 : 0;
		if (o.has_as_of) {
			std::int64_t now = o.rolling ? period_of(o.as_of) : (o.as_of - week(first));
			if (now <= static_cast<std::int64_t>(k))
				v = -1;
		}
		r.values.push_back(v);
	}
	return r;
}

PeriodRetentionState
state_of(const std::vector<Row> &rows, const PeriodRetentionOptions &o)
{
	PeriodRetentionState s(o, std::pmr::new_delete_resource());
	for (const auto &r : rows)
		s.add(o, r.ts, week(r.ts), r.start, r.ret);
	return s;
}

PeriodRetentionOptions
random_options(std::mt19937_64 &rng)
{
	PeriodRetentionOptions o;
	o.rolling = rng() % 2;
	o.length = o.rolling ? 1 + static_cast<std::int64_t>(rng() % 10) : 0;
	o.periods = rng() % 8;
	o.on_or_after = rng() % 2;
	o.has_as_of = rng() % 2;
	// as_of: a time for rolling periods, a period index for calendar ones (as the glue passes it).
	std::int64_t as_of_time = static_cast<std::int64_t>(rng() % 120) - 20;
	o.as_of = o.has_as_of ? (o.rolling ? as_of_time : week(as_of_time)) : 0;
	return o;
}

bool
same(const core::PeriodRetentionResult &a, const core::PeriodRetentionResult &b)
{
	return a.in_cohort == b.in_cohort && a.values == b.values;
}

} // namespace

TEST(PeriodRetention, MatchesReferenceInAnyOrderAndSplit)
{
	std::mt19937_64 rng(41);
	int retained = 0;
	for (int trial = 0; trial < 20000; trial++) {
		auto o = random_options(rng);
		std::vector<Row> rows(rng() % 60); // past 16 entries: compaction
		for (auto &r : rows)
			r = Row{static_cast<std::int64_t>(rng() % 100) - 10, rng() % 4 == 0, rng() % 2 == 0};
		auto expected = reference(rows, o);
		std::shuffle(rows.begin(), rows.end(), rng);
		std::size_t cut = rows.empty() ? 0 : rng() % (rows.size() + 1);
		auto a = state_of(std::vector<Row>(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(cut)), o);
		auto b = state_of(std::vector<Row>(rows.begin() + static_cast<std::ptrdiff_t>(cut), rows.end()), o);
		auto bytes = serialize(b);
		a.merge(PeriodRetentionState::deserialize(bytes.data(), bytes.size()));
		auto got = a.result();
		ASSERT_TRUE(same(got, expected)) << "trial " << trial;
		retained += std::count(got.values.begin() + (got.values.empty() ? 0 : 1), got.values.end(), 1);
	}
	EXPECT_GT(retained, 5000);
}

TEST(PeriodRetention, ReturnBeforeTheStartDoesNotCount)
{
	PeriodRetentionOptions o;
	o.periods = 1;
	// Start at 10 (week 1); a return at 8 in the same week, before the start: week 0 after the
	// start has no return; a return at 15 (week 2) is period 1.
	auto s = state_of({{8, false, true}, {10, true, false}, {15, false, true}}, o);
	EXPECT_EQ(s.result().values, (std::vector<std::int8_t>{0, 1}));
}

TEST(PeriodRetention, LimitsAndOptions)
{
	PeriodRetentionOptions o;
	o.periods = core::kMaxRetentionPeriods + 1;
	expect_error(core::ErrorKind::LimitExceeded, [&] { PeriodRetentionState s(o, std::pmr::new_delete_resource()); });
	o.periods = 3;
	o.rolling = true;
	o.length = 0;
	expect_error(core::ErrorKind::InvalidArgument, [&] { PeriodRetentionState s(o, std::pmr::new_delete_resource()); });
	o.length = 5;
	PeriodRetentionState s(o, std::pmr::new_delete_resource());
	auto other = o;
	other.on_or_after = true;
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(other, 1, 0, true, true); });
	EXPECT_FALSE(s.result().in_cohort);
}

TEST(PeriodRetention, CorruptBytesAreRejected)
{
	PeriodRetentionOptions o;
	o.periods = 4;
	o.has_as_of = true;
	o.as_of = 3;
	auto s = state_of({{1, true, true}, {9, false, true}, {20, false, true}}, o);
	check_corruption_rejected<PeriodRetentionState>(serialize(s), [](const PeriodRetentionState &x) {
		x.result(); // must not misbehave on whatever was accepted
		return true;
	});
}

TEST(PeriodRetention, StateIsBoundedByPeriodsNotRows)
{
	std::mt19937_64 rng(42);
	for (bool rolling : {false, true}) {
		for (bool on_or_after : {false, true}) {
			PeriodRetentionOptions o;
			o.rolling = rolling;
			o.length = rolling ? 10 : 0;
			o.periods = 5;
			o.on_or_after = on_or_after;
			// In time order after the start: at most N + 2 entries (periods 0..N, one cluster each
			// at worst twice), whatever the row count; returns after period N are one flag.
			std::vector<Row> rows{{0, true, false}};
			for (int i = 1; i < 100000; i++)
				rows.push_back({i % 3 == 0 ? i * 3 : i / 10, false, true});
			auto s = state_of(rows, o);
			EXPECT_LE(s.entries(), 2 * (o.periods + 2) + 16) << rolling;
			EXPECT_TRUE(same(s.result(), reference(rows, o)));
			// Any order, split and merged: bounded by the periods spanned (200 time units: 20 rolling
			// lengths, 29 calendar weeks), not by the 5000 rows, and still exact.
			std::vector<Row> random(5000);
			for (auto &r : random)
				r = Row{static_cast<std::int64_t>(rng() % 200), rng() % 50 == 0, rng() % 2 == 0};
			auto expected = reference(random, o);
			auto a = state_of(std::vector<Row>(random.begin(), random.begin() + 2500), o);
			auto b = state_of(std::vector<Row>(random.begin() + 2500, random.end()), o);
			a.merge(b);
			EXPECT_LE(a.entries(), 2 * 2 * 30 + 16) << rolling;
			EXPECT_TRUE(same(a.result(), expected)) << rolling;
		}
	}
}

TEST(RetentionReport, MatchesThePerUserRetentionInAnyOrderAndSplit)
{
	// Calendar and rolling periods (cohorts: the "day" of the first start, here the row's
	// week() label), both modes, as-of times, with and without a value column.
	std::mt19937_64 rng(43);
	for (int trial = 0; trial < 1200; trial++) {
		auto o = random_options(rng);
		o.calendar = core::CalendarKey{o.rolling ? core::PeriodUnit::Day : core::PeriodUnit::Week, 8};
		const bool with_value = rng() % 2;
		const core::RetentionReportOptions report(o, with_value);
		struct UserRow {
			std::int64_t user;
			Row row;
			double value;
		};
		std::vector<UserRow> rows(rng() % 200);
		for (auto &r : rows)
			r = UserRow{static_cast<std::int64_t>(rng() % 15),
			            Row{static_cast<std::int64_t>(rng() % 100) - 10, rng() % 4 == 0, rng() % 2 == 0},
			            rng() % 3 == 0 ? static_cast<double>(rng() % 50) : 0.0};
		// The reference: the naive per-user result, grouped by cohort; values by their period.
		std::map<std::int64_t, std::vector<UserRow>> by_user;
		for (auto &r : rows)
			by_user[r.user].push_back(r);
		struct Cell {
			std::int64_t users = 0, retained = 0;
			bool complete = true;
			double value = 0;
		};
		std::map<std::pair<std::int64_t, std::size_t>, Cell> want;
		for (auto &[u, rs] : by_user) {
			std::vector<Row> plain;
			for (auto &r : rs)
				plain.push_back(r.row);
			auto res = reference(plain, o);
			if (!res.in_cohort)
				continue;
			std::int64_t first = std::numeric_limits<std::int64_t>::max();
			for (auto &r : plain)
				if (r.start)
					first = std::min(first, r.ts);
			const std::int64_t cohort = week(first);
			for (std::size_t k = 0; k <= o.periods; k++) {
				auto &cell = want[{cohort, k}];
				cell.users++;
				cell.retained += res.values[k] == 1;
				cell.complete = cell.complete && res.values[k] >= 0;
			}
			for (auto &r : rs) {
				if (!with_value || r.row.ts < first)
					continue;
				std::int64_t d = r.row.ts - first;
				std::int64_t k = o.rolling ? (d / o.length) : week(r.row.ts) - cohort;
				if (k <= static_cast<std::int64_t>(o.periods))
					want[{cohort, static_cast<std::size_t>(k)}].value += r.value;
			}
		}
		std::size_t cut = rng() % (rows.size() + 1);
		core::RetentionReportState a(report, core::UserKeyKind::Integer, "UTC", std::pmr::new_delete_resource()),
		    b(report, core::UserKeyKind::Integer, "UTC", std::pmr::new_delete_resource());
		for (std::size_t i = 0; i < rows.size(); i++) {
			const Row &r = rows[i].row;
			(i < cut ? a : b).add(report, rows[i].user, r.ts, week(r.ts), r.start, r.ret, rows[i].value);
		}
		auto bytes = serialize(b);
		auto b2 = core::RetentionReportState::deserialize(bytes.data(), bytes.size());
		EXPECT_EQ(serialize(b2), bytes);
		a.merge(b2);
		core::RetentionReportBuilder builder(a, std::pmr::new_delete_resource());
		while (!builder.step(1 + rng() % 9)) {
		}
		auto got = builder.result();
		ASSERT_EQ(got.size(), want.size()) << trial;
		double to_date = 0;
		for (const auto &c : got) {
			const Cell &w = want.at({c.cohort, c.k});
			EXPECT_EQ(c.users, w.users) << trial;
			EXPECT_EQ(c.retained, w.retained) << trial;
			EXPECT_EQ(c.complete, w.complete) << trial;
			EXPECT_EQ(c.value, w.value) << trial; // whole numbers: exact in any order
			to_date = c.k == 0 ? c.value : to_date + c.value;
			EXPECT_EQ(c.value_to_date, to_date) << trial;
		}
	}
}

TEST(RetentionReport, RollingNeedsDayCohortsAndRowsNeedTheirUsers)
{
	PeriodRetentionOptions o;
	o.rolling = true;
	o.length = 7;
	o.periods = 2;
	o.calendar = core::CalendarKey{core::PeriodUnit::Week, 8};
	expect_error(core::ErrorKind::InvalidArgument, [&] {
		core::RetentionReportState s(o, core::UserKeyKind::Integer, "UTC", std::pmr::new_delete_resource());
	});
	// A row of a user the state does not have is corrupt: the last row is (slot, ts, payload,
	// value), 28 bytes, before the count of folded rows (8 bytes, 0: rolling periods do not fold).
	o.calendar.unit = core::PeriodUnit::Day;
	core::RetentionReportOptions report(o, true);
	core::RetentionReportState s(report, core::UserKeyKind::Integer, "UTC", std::pmr::new_delete_resource());
	s.add(report, std::int64_t{1}, 5, 0, true, true, 2.5);
	s.add(report, std::int64_t{1}, 9, 1, false, false, 4.0);
	auto bytes = serialize(s);
	bytes[bytes.size() - 8 - 28] = 7;
	expect_error(core::ErrorKind::CorruptState,
	             [&] { core::RetentionReportState::deserialize(bytes.data(), bytes.size()); });
}

TEST(RetentionReport, RowsOfOnePeriodFoldWithCalendarPeriods)
{
	// Rows in time order: a user's rows of one period keep the earliest start and the latest
	// return only, so the state grows with periods, not rows; the cells equal the per-user core's.
	PeriodRetentionOptions o;
	o.periods = 5;
	o.calendar = core::CalendarKey{core::PeriodUnit::Week, 8};
	core::RetentionReportState s(o, core::UserKeyKind::Integer, "UTC", std::pmr::new_delete_resource());
	PeriodRetentionState alone(o, std::pmr::new_delete_resource());
	for (std::int64_t ts = 0; ts < 30000; ts++) {
		const std::int64_t t = ts / 1000; // 30 time units over 10000 rows: about 5 weeks
		const bool start = ts % 7 == 3, ret = ts % 3 == 0;
		s.add(o, std::int64_t{42}, t, week(t), start, ret);
		alone.add(o, t, week(t), start, ret);
	}
	EXPECT_LE(s.log().size(), 2u * 5u);
	auto bytes = serialize(s);
	auto back = core::RetentionReportState::deserialize(bytes.data(), bytes.size());
	EXPECT_EQ(serialize(back), bytes);
	core::RetentionReportBuilder b(back, std::pmr::new_delete_resource());
	while (!b.step(7)) {
	}
	auto cells = b.result();
	auto want = alone.result();
	ASSERT_EQ(cells.size(), o.periods + 1);
	for (const auto &c : cells) {
		EXPECT_EQ(c.cohort, alone.start_period());
		EXPECT_EQ(c.users, 1);
		EXPECT_EQ(c.retained, want.values[c.k] == 1 ? 1 : 0) << c.k;
	}
}

TEST(RetentionReport, CorruptBytesAreRejected)
{
	PeriodRetentionOptions o;
	o.periods = 3;
	o.calendar = core::CalendarKey{core::PeriodUnit::Week, 8};
	core::RetentionReportState s(o, core::UserKeyKind::Integer, "Europe/Berlin", std::pmr::new_delete_resource());
	s.add(o, std::int64_t{1}, 1, 0, true, true);
	s.add(o, std::int64_t{2}, 9, 1, false, true);
	s.add(o, std::int64_t{1}, 20, 2, false, true);
	auto valid = [](const core::RetentionReportState &x) {
		core::RetentionReportBuilder b(x, std::pmr::new_delete_resource());
		while (!b.step(3)) {
		}
		b.result();
		return true;
	};
	check_corruption_rejected<core::RetentionReportState>(serialize(s), valid);
	// Rolling periods with a value column: a changed unit byte is corrupt, not a bad argument.
	o.rolling = true;
	o.length = 7;
	o.calendar.unit = core::PeriodUnit::Day;
	const core::RetentionReportOptions report(o, true);
	core::RetentionReportState v(report, core::UserKeyKind::Integer, "UTC", std::pmr::new_delete_resource());
	v.add(report, std::int64_t{1}, 1, 0, true, true, 1.5);
	v.add(report, std::int64_t{2}, 9, 1, true, false, 0);
	v.add(report, std::int64_t{1}, 20, 2, false, false, 2.5);
	check_corruption_rejected<core::RetentionReportState>(serialize(v), valid);
	auto bytes = serialize(v);
	const std::size_t unit_at = 4 + 2 + 2 + 8 + 1 + 1 + 8; // header, periods, flags, as_of, rolling, value, length
	ASSERT_EQ(bytes[unit_at], static_cast<std::uint8_t>(core::PeriodUnit::Day));
	bytes[unit_at] = static_cast<std::uint8_t>(core::PeriodUnit::Week);
	expect_error(core::ErrorKind::CorruptState,
	             [&] { core::RetentionReportState::deserialize(bytes.data(), bytes.size()); });
}
