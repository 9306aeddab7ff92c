// core::session_advance against a reference written another way (split by gap, boundary and day
// first, then cut each piece by the maximum length), on random inputs for every rule.
#include "core/error.hpp"
#include "core/session.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <limits>
#include <random>
#include <vector>

namespace core = pg_product_analytics::core;
using pg_product_analytics::testing::expect_error;

namespace {

struct Row {
	std::int64_t ts;
	bool boundary;
	std::int64_t day;
};

std::vector<std::int64_t>
numbers_of(const std::vector<Row> &rows, const core::SessionOptions &o, std::vector<std::int64_t> *starts = nullptr)
{
	core::SessionCursor cursor{};
	std::vector<std::int64_t> out;
	for (const auto &r : rows) {
		core::session_advance(cursor, o, r.ts, r.boundary, r.day);
		out.push_back(cursor.number);
		if (starts != nullptr)
			starts->push_back(cursor.start_ts);
	}
	return out;
}

std::vector<std::int64_t>
reference(const std::vector<Row> &rows, const core::SessionOptions &o, std::vector<std::int64_t> &starts)
{
	// Pieces: cut before a row with a boundary, a gap over o.gap, or another day.
	std::vector<std::size_t> piece_begin;
	for (std::size_t i = 0; i < rows.size(); i++)
		if (i == 0 || rows[i].boundary || rows[i].ts - rows[i - 1].ts > o.gap ||
		    (o.split_days && rows[i].day != rows[i - 1].day))
			piece_begin.push_back(i);
	piece_begin.push_back(rows.size());
	std::vector<std::int64_t> out(rows.size());
	starts.assign(rows.size(), 0);
	std::int64_t number = 0;
	for (std::size_t p = 0; p + 1 < piece_begin.size(); p++) {
		std::int64_t start = 0;
		for (std::size_t i = piece_begin[p]; i < piece_begin[p + 1]; i++) {
			if (i == piece_begin[p] || (o.max_length > 0 && rows[i].ts - start > o.max_length)) {
				number++;
				start = rows[i].ts;
			}
			out[i] = number;
			starts[i] = start;
		}
	}
	return out;
}

} // namespace

TEST(Session, MatchesReferenceForEveryRule)
{
	std::mt19937_64 rng(21);
	int multi = 0;
	for (int trial = 0; trial < 20000; trial++) {
		core::SessionOptions o;
		o.gap = static_cast<std::int64_t>(rng() % 20);
		o.max_length = rng() % 2 ? -1 : 1 + static_cast<std::int64_t>(rng() % 40);
		o.split_days = rng() % 2;
		std::vector<Row> rows(rng() % 30);
		std::int64_t ts = static_cast<std::int64_t>(rng() % 100) - 50;
		for (auto &r : rows) {
			ts += static_cast<std::int64_t>(rng() % 3 == 0 ? 0 : rng() % 25); // equal timestamps too
			r = Row{ts, rng() % 10 == 0, ts / 37};
		}
		std::vector<std::int64_t> starts, ref_starts;
		auto got = numbers_of(rows, o, &starts);
		ASSERT_EQ(got, reference(rows, o, ref_starts)) << "trial " << trial;
		ASSERT_EQ(starts, ref_starts) << "trial " << trial;
		multi += !got.empty() && got.back() > 3;
	}
	EXPECT_GT(multi, 1000);
}

TEST(Session, GapIsInclusive)
{
	core::SessionOptions o;
	o.gap = 30;
	EXPECT_EQ(numbers_of({{0, false, 0}, {30, false, 0}, {61, false, 0}, {61, false, 0}}, o),
	          (std::vector<std::int64_t>{1, 1, 2, 2}));
}

TEST(Session, MaximumLengthAndBoundaryAndDays)
{
	core::SessionOptions o;
	o.gap = 100;
	o.max_length = 50;
	EXPECT_EQ(numbers_of({{0, false, 0}, {50, false, 0}, {51, false, 0}, {60, true, 0}}, o),
	          (std::vector<std::int64_t>{1, 1, 2, 3}));
	o.max_length = -1;
	o.split_days = true;
	EXPECT_EQ(numbers_of({{0, false, 0}, {10, false, 0}, {11, false, 1}}, o), (std::vector<std::int64_t>{1, 1, 2}));
}

TEST(Session, DecreasingTimeIsAnError)
{
	core::SessionOptions o;
	core::SessionCursor c{};
	core::session_advance(c, o, 10, false, 0);
	expect_error(core::ErrorKind::InvalidArgument, [&] { core::session_advance(c, o, 9, false, 0); });
}

TEST(Session, ExtremeTimestampsDoNotOverflow)
{
	core::SessionOptions o;
	o.gap = std::numeric_limits<std::int64_t>::max();
	o.max_length = std::numeric_limits<std::int64_t>::max();
	const auto lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
	EXPECT_EQ(numbers_of({{lo, false, 0}, {hi, false, 0}}, o), (std::vector<std::int64_t>{1, 2}));
	EXPECT_EQ(numbers_of({{lo, false, 0}, {lo + hi, false, 0}}, o), (std::vector<std::int64_t>{1, 1}));
}

TEST(Session, OptionsAreChecked)
{
	core::SessionOptions o;
	o.gap = -1;
	expect_error(core::ErrorKind::InvalidArgument, [&] { core::check_session_options(o); });
	o.gap = 0;
	o.max_length = 0;
	expect_error(core::ErrorKind::InvalidArgument, [&] { core::check_session_options(o); });
	o.max_length = -1;
	EXPECT_NO_THROW(core::check_session_options(o));
}

namespace {

using core::SessionStats;
using core::SessionStatsState;
using pg_product_analytics::testing::check_corruption_rejected;
using pg_product_analytics::testing::serialize;

// The definition: rows in (ts, boundary first) order, sessions as the reference numbers them,
// then per session last - first and the number of rows.
SessionStats
reference_stats(std::vector<Row> rows, const core::SessionOptions &o)
{
	std::sort(rows.begin(), rows.end(),
	          [](const Row &a, const Row &b) { return a.ts < b.ts || (a.ts == b.ts && a.boundary && !b.boundary); });
	std::vector<std::int64_t> starts;
	auto numbers = reference(rows, o, starts);
	SessionStats s;
	s.events = static_cast<std::int64_t>(rows.size());
	for (std::size_t i = 0; i < rows.size();) {
		std::size_t j = i;
		while (j < rows.size() && numbers[j] == numbers[i])
			j++;
		std::int64_t d = rows[j - 1].ts - rows[i].ts;
		s.sessions++;
		s.bounces += j - i == 1;
		s.total_duration += d;
		s.longest_duration = std::max(s.longest_duration, d);
		i = j;
	}
	return s;
}

SessionStats
stats_of(SessionStatsState &state)
{
	while (!state.sort_step(3)) {
	}
	core::SessionStatsReader reader(state);
	while (!reader.step(7)) {
	}
	return reader.result();
}

bool
same(const SessionStats &a, const SessionStats &b)
{
	return a.sessions == b.sessions && a.events == b.events && a.bounces == b.bounces &&
	       a.total_duration == b.total_duration && a.longest_duration == b.longest_duration;
}

std::vector<Row>
random_session_rows(std::mt19937_64 &rng)
{
	std::vector<Row> rows(rng() % 40);
	for (auto &r : rows) {
		std::int64_t ts = static_cast<std::int64_t>(rng() % 300);
		r = Row{ts, rng() % 8 == 0, ts / 50};
	}
	return rows;
}

core::SessionOptions
random_options(std::mt19937_64 &rng)
{
	core::SessionOptions o;
	o.gap = static_cast<std::int64_t>(rng() % 30);
	o.max_length = rng() % 2 ? -1 : 1 + static_cast<std::int64_t>(rng() % 60);
	o.split_days = rng() % 2;
	return o;
}

} // namespace

// Half the trials without boundary rows and, half of those, with a gap only: the states that keep
// sessions instead of rows.
TEST(SessionStats, MatchesReferenceOnRandomInputInAnyOrderAndSplit)
{
	std::mt19937_64 rng(22);
	int spans = 0;
	for (int trial = 0; trial < 8000; trial++) {
		auto o = random_options(rng);
		const bool boundaries = rng() % 2;
		if (!boundaries && rng() % 2) {
			o.max_length = -1;
			o.split_days = false;
		}
		auto rows = random_session_rows(rng);
		for (auto &r : rows)
			r.boundary = r.boundary && boundaries;
		SessionStats expected = reference_stats(rows, o);
		switch (rng() % 3) {
		case 0:
			std::shuffle(rows.begin(), rows.end(), rng);
			break;
		case 1: // time order (an append-only table), with ties in any order
			std::stable_sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) { return a.ts < b.ts; });
			break;
		default: // mostly in time order, a few rows late
			std::stable_sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) { return a.ts < b.ts; });
			for (std::size_t i = 0; i + 1 < rows.size(); i++)
				if (rng() % 6 == 0)
					std::swap(rows[i], rows[i + 1 + rng() % (rows.size() - i - 1)]);
		}
		// Split into parts, merge them through serialization in random order.
		std::size_t cut = rows.empty() ? 0 : rng() % (rows.size() + 1);
		SessionStatsState a(o, boundaries, std::pmr::new_delete_resource()),
		    b(o, boundaries, std::pmr::new_delete_resource());
		for (std::size_t i = 0; i < rows.size(); i++)
			(i < cut ? a : b).add(o, rows[i].ts, rows[i].boundary, static_cast<std::int32_t>(rows[i].day));
		spans += a.spans();
		ASSERT_EQ(a.spans(), !boundaries && o.max_length == -1 && !o.split_days);
		auto bytes = serialize(b);
		EXPECT_EQ(serialize(SessionStatsState::deserialize(bytes.data(), bytes.size())), bytes);
		ASSERT_TRUE(same(stats_of(b), reference_stats(std::vector<Row>(rows.begin() + cut, rows.end()), o)));
		SessionStatsState merged(o, boundaries, std::pmr::new_delete_resource());
		if (rng() % 2) {
			merged.merge(SessionStatsState::deserialize(bytes.data(), bytes.size()));
			merged.merge(a);
		} else {
			merged.merge(a);
			merged.merge(SessionStatsState::deserialize(bytes.data(), bytes.size()));
		}
		ASSERT_TRUE(same(stats_of(merged), expected)) << "trial " << trial;
		SessionStatsState copy(merged, std::pmr::new_delete_resource());
		ASSERT_TRUE(same(stats_of(copy), expected)) << "trial " << trial;
	}
	EXPECT_GT(spans, 1000);
}

// Sessions, not rows: rows in time order keep nothing but the sessions; rows in reverse order at
// most half as many late rows besides; rows in random order the fragments of sessions seen so far.
TEST(SessionStats, SpansAreBoundedBySessionsNotRows)
{
	core::SessionOptions o;
	o.gap = 10;
	std::mt19937_64 rng(5);
	for (int order = 0; order < 3; order++) {
		SessionStatsState s(o, false, std::pmr::new_delete_resource());
		std::vector<std::int64_t> ts;
		for (std::int64_t session = 0; session < 50; session++)
			for (std::int64_t k = 0; k < 2000; k++)
				ts.push_back(session * 1000 + k % 500);
		if (order == 1)
			std::reverse(ts.begin(), ts.end());
		if (order == 2)
			std::shuffle(ts.begin(), ts.end(), rng);
		std::size_t most = 0, most_bytes = 0;
		for (auto t : ts) {
			s.add(o, t, false, 0);
			most = std::max(most, s.rows().size() + s.span_count());
			most_bytes = std::max(most_bytes, 16 * s.rows().size() + sizeof(core::SessionSpan) * s.span_count());
		}
		if (order == 0) {
			EXPECT_EQ(most, 50u);
		} else if (order == 1) {
			EXPECT_LE(most, 50u + 25u + 66u);
		}
		EXPECT_LE(most_bytes, 16u * ts.size() / 20) << "order " << order; // a twentieth of the rows
		auto r = stats_of(s);
		EXPECT_EQ(r.sessions, 50);
		EXPECT_EQ(r.events, 100000);
		EXPECT_EQ(r.total_duration, 50 * 499);
	}
}

// Past kFoldLimit sessions a transition no longer folds late rows in (that would be a long step
// it cannot interrupt): they wait for the final step, which gives the same answer.
TEST(SessionStats, LateRowsInAHugeGroupWaitForTheFinalStep)
{
	core::SessionOptions o;
	o.gap = 10;
	SessionStatsState s(o, false, std::pmr::new_delete_resource());
	const std::int64_t sessions = SessionStatsState::kFoldLimit + 1000;
	for (std::int64_t i = 0; i < sessions; i++)
		s.add(o, i * 100, false, 0);
	// More late rows than half the sessions: below the limit they would have been folded in.
	const std::int64_t late = SessionStatsState::kFoldLimit / 2 + 10000;
	for (std::int64_t i = 0; i < late; i++)
		s.add(o, i * 100 + 5, false, 0); // one late row in each of the first sessions
	EXPECT_EQ(s.rows().size(), static_cast<std::size_t>(late));
	EXPECT_EQ(s.span_count(), static_cast<std::size_t>(sessions));
	auto r = stats_of(s);
	EXPECT_EQ(r.sessions, sessions);
	EXPECT_EQ(r.events, sessions + late);
	EXPECT_EQ(r.bounces, sessions - late);
	EXPECT_EQ(r.total_duration, late * 5);
}

TEST(SessionStats, BoundaryRowsStartTheSessionOfTheirTimestamp)
{
	core::SessionOptions o;
	o.gap = 10;
	SessionStatsState s(o, true, std::pmr::new_delete_resource());
	s.add(o, 5, false, 0);
	s.add(o, 5, true, 0); // arrives second, sorts first: one session of two rows, not two sessions
	auto r = stats_of(s);
	EXPECT_EQ(r.sessions, 1);
	EXPECT_EQ(r.bounces, 0);
}

TEST(SessionStats, OptionsAndCorruptBytes)
{
	core::SessionOptions o;
	o.gap = 10;
	o.split_days = true;
	SessionStatsState s(o, true, std::pmr::new_delete_resource());
	core::SessionOptions other = o;
	other.gap = 11;
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(other, 1, false, 0); });
	other = o;
	other.day_zone = 99; // the midnight split's zone is a parameter too
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(other, 1, false, 0); });
	s.add(o, 1, false, 3);
	s.add(o, 20, true, 4);
	check_corruption_rejected<SessionStatsState>(serialize(s), [](const SessionStatsState &x) {
		try {
			core::check_session_options(x.options());
		} catch (const core::Error &) {
			return false;
		}
		return true;
	});
	// Sessions and late rows (spans).
	core::SessionOptions gap_only;
	gap_only.gap = 10;
	SessionStatsState spans(gap_only, false, std::pmr::new_delete_resource());
	for (std::int64_t t : {100, 105, 200, 230, 50, 3})
		spans.add(gap_only, t, false, 0);
	ASSERT_TRUE(spans.spans());
	ASSERT_EQ(spans.span_count(), 3u);
	ASSERT_EQ(spans.rows().size(), 2u);
	check_corruption_rejected<SessionStatsState>(serialize(spans), [](const SessionStatsState &x) {
		for (std::size_t i = 0; i < x.span_count(); i++)
			if (x.span(i).events < 1 || x.span(i).last < x.span(i).first ||
			    (i > 0 && x.span(i).first - x.span(i - 1).last <= x.options().gap))
				return false;
		return true;
	});
	expect_error(core::ErrorKind::Internal, [&] { spans.add(gap_only, 1, true, 0); });
}

TEST(SessionStats, DurationsBeyond64BitsAreAnErrorNotAWrap)
{
	const std::int64_t lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
	core::SessionOptions o;
	o.gap = hi; // every row joins the session
	// One session from the smallest to the largest time (gaps of at most 2^63 - 1): 2^64 - 1 units.
	SessionStatsState one(o, false, std::pmr::new_delete_resource());
	for (std::int64_t t : {lo, std::int64_t{-1}, hi - 1, hi})
		one.add(o, t, false, 0);
	expect_error(core::ErrorKind::OutOfRange, [&] { stats_of(one); });
	// Three sessions of 2^62 units each sum to 3 * 2^62: the total does not fit.
	const std::int64_t m = std::int64_t{1} << 62;
	core::SessionOptions split = o;
	split.max_length = m;
	SessionStatsState three(split, false, std::pmr::new_delete_resource());
	for (std::int64_t t : {lo, lo + m, lo + m + 1, lo + m + (m + 1), lo + m + (m + 2), lo + m + m + (m + 2)})
		three.add(split, t, false, 0);
	expect_error(core::ErrorKind::OutOfRange, [&] { stats_of(three); });
	// Right at the limit: one session of exactly 2^63 - 1 units is fine.
	SessionStatsState edge(o, false, std::pmr::new_delete_resource());
	edge.add(o, 0, false, 0);
	edge.add(o, hi, false, 0);
	EXPECT_EQ(stats_of(edge).total_duration, hi);
}

TEST(SessionReport, MatchesThePerUserStatisticsInAnyOrderAndSplit)
{
	std::mt19937_64 rng(23);
	for (int trial = 0; trial < 400; trial++) {
		auto o = random_options(rng);
		// Users with the rows of random_session_rows.
		std::vector<std::pair<std::int64_t, Row>> rows;
		const int users = 1 + static_cast<int>(rng() % 12);
		for (int u = 0; u < users; u++)
			for (const auto &r : random_session_rows(rng))
				rows.push_back({u, r});
		std::shuffle(rows.begin(), rows.end(), rng);
		std::map<std::int64_t, std::vector<Row>> by_user;
		for (auto &[u, r] : rows)
			by_user[u].push_back(r);
		core::SessionReport want;
		std::vector<std::int64_t> lengths;
		for (auto &[u, rs] : by_user) {
			SessionStats s = reference_stats(rs, o);
			want.users++;
			want.sessions += s.sessions;
			want.bounces += s.bounces;
			want.total_length += s.total_duration;
			want.users_by_sessions[s.sessions <= 2 ? s.sessions - 1 : s.sessions <= 5 ? 2 : s.sessions <= 10 ? 3 : 4]++;
			SessionStatsState one(o, true, std::pmr::new_delete_resource());
			for (auto &r : rs)
				one.add(o, r.ts, r.boundary, static_cast<std::int32_t>(r.day));
			while (!one.sort_step(1 << 16)) {
			}
			std::pmr::vector<std::int64_t> l(std::pmr::new_delete_resource());
			core::SessionStatsScan scan(o);
			scan.record_lengths(&l);
			scan.process(one.rows().data(), one.rows().size(), 0, one.rows().size());
			scan.result();
			lengths.insert(lengths.end(), l.begin(), l.end());
		}
		std::size_t cut = rng() % (rows.size() + 1);
		core::SessionReportState a(o, core::UserKeyKind::Integer, std::pmr::new_delete_resource()),
		    b(o, core::UserKeyKind::Integer, std::pmr::new_delete_resource());
		for (std::size_t i = 0; i < rows.size(); i++)
			(i < cut ? a : b)
			    .add(o, rows[i].first, rows[i].second.ts, rows[i].second.boundary,
			         static_cast<std::int32_t>(rows[i].second.day));
		auto bytes = serialize(b);
		auto b2 = core::SessionReportState::deserialize(bytes.data(), bytes.size());
		EXPECT_EQ(serialize(b2), bytes);
		a.flush();
		a.merge(b2);
		core::SessionReportBuilder builder(a, std::pmr::new_delete_resource());
		while (!builder.step(1 + rng() % 9)) {
		}
		auto got = builder.result();
		EXPECT_EQ(got.users, want.users) << trial;
		EXPECT_EQ(got.sessions, want.sessions) << trial;
		EXPECT_EQ(got.bounces, want.bounces) << trial;
		EXPECT_EQ(got.total_length, want.total_length) << trial;
		for (int k = 0; k < 5; k++)
			EXPECT_EQ(got.users_by_sessions[k], want.users_by_sessions[k]) << trial;
		if (!lengths.empty()) {
			std::sort(lengths.begin(), lengths.end());
			auto disc = [&](double p) {
				return lengths[static_cast<std::size_t>(std::max(0.0, std::ceil(p * lengths.size()) - 1))];
			};
			EXPECT_EQ(got.median_length, disc(0.5)) << trial;
			EXPECT_EQ(got.p90_length, disc(0.9)) << trial;
		}
	}
}

TEST(SessionReport, CorruptBytesAreRejected)
{
	core::SessionOptions o;
	o.gap = 10;
	o.split_days = true;
	o.day_zone = 4;
	core::SessionReportState s(o, core::UserKeyKind::Bytes, std::pmr::new_delete_resource());
	using namespace std::string_view_literals;
	s.add(o, "a"sv, 1, false, 3);
	s.add(o, "b"sv, 20, true, 4);
	s.add(o, "a"sv, 5, false, 3);
	check_corruption_rejected<core::SessionReportState>(serialize(s), [](const core::SessionReportState &x) {
		core::SessionReportBuilder b(x, std::pmr::new_delete_resource());
		while (!b.step(3)) {
		}
		try {
			b.result();
		} catch (const core::Error &e) {
			return e.kind() == core::ErrorKind::OutOfRange;
		}
		return true;
	});
}
