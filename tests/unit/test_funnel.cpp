// core::FunnelState / FunnelEvaluator against a brute-force reference that enumerates chains, for
// every mode combination; against a port of ClickHouse's greedy scan where ClickHouse is exact;
// merge-split equivalence, input-order independence, serialization round trip and corrupt bytes.
#include "core/funnel.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <random>
#include <vector>

namespace core = pg_product_analytics::core;
using core::FunnelEvaluator;
using core::FunnelEvent;
using core::FunnelOptions;
using core::FunnelState;
using pg_product_analytics::testing::check_corruption_rejected;
using pg_product_analytics::testing::expect_error;
using pg_product_analytics::testing::serialize;

namespace {

std::pmr::memory_resource *
heap()
{
	return std::pmr::new_delete_resource();
}

struct Result {
	std::size_t level;
	std::vector<std::int64_t> chain;
	bool
	operator==(const Result &o) const
	{
		return level == o.level && chain == o.chain;
	}
};

std::ostream &
operator<<(std::ostream &os, const Result &r)
{
	os << "level " << r.level << " chain [";
	for (auto t : r.chain)
		os << t << " ";
	return os << "]";
}

// Sorts (in small pieces) and evaluates (in small pieces), as the glue does.
Result
evaluate(FunnelState &state, std::size_t budget = 3)
{
	while (!state.sort_step(budget)) {
	}
	FunnelEvaluator ev(state.options(), true, heap());
	const auto &events = state.events();
	std::size_t pos = 0;
	while (!ev.done())
		pos = ev.process(events.data(), events.size(), pos, budget);
	FunnelEvaluator level_only(state.options(), false, heap());
	for (std::size_t at = 0; !level_only.done();)
		at = level_only.process(events.data(), events.size(), at, 1 << 16);
	EXPECT_EQ(level_only.level(), ev.level()) << "level differs with and without tracking";
	std::vector<std::int64_t> chain(state.options().steps);
	chain.resize(ev.chain(chain.data()));
	return {ev.level(), chain};
}

FunnelState
state_of(const FunnelOptions &o, const std::vector<FunnelEvent> &rows)
{
	FunnelState s(o, heap());
	for (const auto &r : rows)
		s.add(o, r.ts, r.payload);
	return s;
}

// ---- The reference: the definition in docs/funnel.md, by enumeration ----------------------------

struct Entry {
	std::int64_t ts;
	std::size_t step; // 0: a row matching no step (strict_order)
	std::size_t row;
};

// Rows in (ts, mask) order; in each timestamp group, rows matching nothing first, then the
// entries by step, then by row.
std::vector<Entry>
entries_of(std::vector<FunnelEvent> rows, const FunnelOptions &o)
{
	std::sort(rows.begin(), rows.end());
	std::vector<Entry> out;
	for (std::size_t b = 0; b < rows.size();) {
		std::size_t e = b;
		while (e < rows.size() && rows[e].ts == rows[b].ts)
			e++;
		for (std::size_t i = b; i < e; i++)
			if (rows[i].payload == 0 && (o.modes & core::kStrictOrder))
				out.push_back({rows[i].ts, 0, i});
		for (std::size_t s = 1; s <= o.steps; s++)
			for (std::size_t i = b; i < e; i++)
				if (rows[i].payload >> (s - 1) & 1)
					out.push_back({rows[i].ts, s, i});
		b = e;
	}
	return out;
}

struct Best {
	std::size_t level = 0;
	std::vector<std::int64_t> chain;
	void
	offer(const std::vector<std::int64_t> &c)
	{
		if (c.size() > level ||
		    (c.size() == level && level > 0 && (c[0] > chain[0] || (c[0] == chain[0] && c < chain)))) {
			level = c.size();
			chain = c;
		}
	}
};

void
extend(const std::vector<Entry> &E, std::size_t limit, const FunnelOptions &o, std::size_t pos,
       std::vector<std::int64_t> &chain, std::vector<std::size_t> &rows, Best &best)
{
	best.offer(chain);
	std::size_t next = chain.size() + 1;
	if (next > o.steps)
		return;
	for (std::size_t p = pos + 1; p < limit; p++) {
		const Entry &e = E[p];
		if (e.step != next || e.ts - chain[0] > o.window)
			continue;
		if ((o.modes & core::kStrictIncrease) && e.ts <= chain.back())
			continue;
		if ((o.modes & core::kStrictOnce) && std::find(rows.begin(), rows.end(), e.row) != rows.end())
			continue;
		chain.push_back(e.ts);
		rows.push_back(e.row);
		extend(E, limit, o, p, chain, rows, best);
		chain.pop_back();
		rows.pop_back();
	}
}

// The best chain using entries E[0..limit).
Best
best_chain(const std::vector<Entry> &E, std::size_t limit, const FunnelOptions &o)
{
	Best best;
	for (std::size_t p = 0; p < limit; p++)
		if (E[p].step == 1) {
			std::vector<std::int64_t> chain{E[p].ts};
			std::vector<std::size_t> rows{E[p].row};
			extend(E, limit, o, p, chain, rows, best);
		}
	return best;
}

Result
reference(const std::vector<FunnelEvent> &rows, const FunnelOptions &o)
{
	auto E = entries_of(rows, o);
	std::size_t limit = E.size();
	bool start_seen = false;
	for (std::size_t p = 0; p < E.size(); p++) {
		const Entry &e = E[p];
		if (e.step == 0 && start_seen) {
			limit = p;
			break;
		}
		if (e.step >= 2) {
			std::size_t level = best_chain(E, p, o).level;
			if ((o.modes & core::kStrictDedup) && level >= e.step) {
				limit = p;
				break;
			}
			if ((o.modes & core::kStrictOrder) && start_seen && level < e.step - 1 &&
			    !(o.modes & core::kAllowReentry)) {
				limit = p;
				break;
			}
		}
		if (e.step == 1)
			start_seen = true;
	}
	Best b = best_chain(E, limit, o);
	return {b.level, b.chain};
}

// ---- ClickHouse's scan (getEventLevelNonStrictOnce), exact for modes without strict_increase ----

std::size_t
clickhouse_level(const std::vector<FunnelEvent> &rows, const FunnelOptions &o)
{
	std::vector<std::pair<std::int64_t, int>> list;
	for (const auto &r : rows) {
		if (r.payload == 0 && (o.modes & core::kStrictOrder))
			list.push_back({r.ts, 0});
		for (std::size_t s = 1; s <= o.steps; s++)
			if (r.payload >> (s - 1) & 1)
				list.push_back({r.ts, static_cast<int>(s)});
	}
	std::stable_sort(list.begin(), list.end());
	std::vector<std::optional<std::pair<std::int64_t, std::int64_t>>> level(o.steps);
	bool first_event = false;
	auto max_level = [&]() -> std::size_t {
		for (std::size_t k = level.size(); k > 0; k--)
			if (level[k - 1])
				return k;
		return 0;
	};
	for (const auto &[ts, step] : list) {
		int idx = step - 1;
		if ((o.modes & core::kStrictOrder) && idx == -1) {
			if (first_event)
				break;
			continue;
		}
		if (idx == 0) {
			level[0] = std::make_pair(ts, ts);
			first_event = true;
		} else if ((o.modes & core::kStrictDedup) && level[idx]) {
			return max_level();
		} else if ((o.modes & core::kStrictOrder) && first_event && !level[idx - 1]) {
			if (o.modes & core::kAllowReentry)
				continue;
			for (std::size_t k = 0; k < level.size(); k++)
				if (!level[k])
					return k;
		} else if (level[idx - 1]) {
			auto first = level[idx - 1]->first;
			if (ts <= first + o.window) {
				level[idx] = std::make_pair(first, ts);
				if (static_cast<std::size_t>(idx) + 1 == o.steps)
					return o.steps;
			}
		}
	}
	return max_level();
}

std::vector<std::uint32_t>
all_valid_modes()
{
	std::vector<std::uint32_t> out;
	for (std::uint32_t m = 0; m < 32; m++)
		if (!(m & core::kAllowReentry) || (m & core::kStrictOrder))
			out.push_back(m);
	return out;
}

std::vector<FunnelEvent>
random_rows(std::mt19937_64 &rng, const FunnelOptions &o, std::size_t count, std::int64_t span)
{
	std::vector<FunnelEvent> rows;
	if (rng() % 2 == 0) {
		// A walk through the steps in order with small time steps and some noise, so that strict
		// modes also reach deep steps often.
		std::int64_t ts = static_cast<std::int64_t>(rng() % 3);
		for (std::size_t i = 0; i < count; i++) {
			std::uint64_t mask = std::uint64_t{1} << (i % o.steps);
			std::size_t noise = rng() % 8;
			if (noise == 0)
				mask = 0;
			else if (noise == 1)
				mask = std::uint64_t{1} << (rng() % o.steps);
			else if (noise == 2)
				mask |= std::uint64_t{1} << (rng() % o.steps);
			rows.push_back({ts, mask});
			ts += static_cast<std::int64_t>(rng() % 3);
		}
		return rows;
	}
	for (std::size_t i = 0; i < count; i++) {
		std::uint64_t mask = 0;
		// Mostly one step per row, sometimes several, sometimes none.
		std::size_t kind = rng() % 10;
		if (kind < 6)
			mask = std::uint64_t{1} << (rng() % o.steps);
		else if (kind < 8)
			mask = rng() & ((std::uint64_t{1} << o.steps) - 1);
		rows.push_back({static_cast<std::int64_t>(rng() % span), mask});
	}
	return rows;
}

FunnelOptions
options(std::int64_t window, std::uint32_t modes, std::size_t steps)
{
	FunnelOptions o;
	o.window = window;
	o.modes = modes;
	o.steps = steps;
	return o;
}

} // namespace

TEST(Funnel, MatchesReferenceForEveryMode)
{
	std::mt19937_64 rng(11);
	for (std::uint32_t modes : all_valid_modes()) {
		int deep = 0; // trials reaching step 3 or more: the test must not be vacuous
		for (int trial = 0; trial < 3000; trial++) {
			auto o = options(static_cast<std::int64_t>(rng() % 6), modes, 1 + rng() % 5);
			auto rows = random_rows(rng, o, rng() % 11, 1 + rng() % 8);
			auto state = state_of(o, rows);
			Result expected = reference(rows, o);
			ASSERT_EQ(evaluate(state), expected) << "modes " << modes << " trial " << trial;
			deep += expected.level >= 3;
		}
		EXPECT_GT(deep, 5) << "modes " << modes;
	}
}

TEST(Funnel, LevelMatchesClickHouseWhereClickHouseIsExact)
{
	std::mt19937_64 rng(12);
	for (std::uint32_t modes : all_valid_modes()) {
		if (modes & (core::kStrictIncrease | core::kStrictOnce))
			continue;
		for (int trial = 0; trial < 1500; trial++) {
			auto o = options(static_cast<std::int64_t>(rng() % 10), modes, 1 + rng() % 5);
			auto rows = random_rows(rng, o, rng() % 14, 1 + rng() % 12);
			auto state = state_of(o, rows);
			ASSERT_EQ(evaluate(state).level, clickhouse_level(rows, o)) << "modes " << modes << " trial " << trial;
		}
	}
}

TEST(Funnel, KnownCases)
{
	const std::uint64_t A = 1, B = 2, C = 4, D = 0; // D: a row matching no step
	auto level = [](std::uint32_t modes, std::int64_t window, std::vector<FunnelEvent> rows) {
		auto o = options(window, modes, 3);
		auto s = state_of(o, rows);
		return evaluate(s).level;
	};
	// Doris #68093: single-slot strict_increase misses A@0 -> B@1 -> C@2 because B@2 overwrites B@1.
	EXPECT_EQ(level(core::kStrictIncrease, 10, {{0, A}, {1, B}, {2, B}, {2, C}}), 3u);
	// ClickHouse PR #9773 strict_order table: ADBC -> 1, AABBCC -> 3, AABBDCC -> 2.
	EXPECT_EQ(level(core::kStrictOrder, 100, {{1, A}, {2, D}, {3, B}, {4, C}}), 1u);
	EXPECT_EQ(level(core::kStrictOrder, 100, {{1, A}, {2, A}, {3, B}, {4, B}, {5, C}, {6, C}}), 3u);
	EXPECT_EQ(level(core::kStrictOrder, 100, {{1, A}, {2, A}, {3, B}, {4, B}, {5, D}, {6, C}, {7, C}}), 2u);
	// A -> B -> C out of order: C before B ends strict_order at 1; allow_reentry skips it.
	EXPECT_EQ(level(core::kStrictOrder, 100, {{1, A}, {2, C}, {3, B}, {4, C}}), 1u);
	EXPECT_EQ(level(core::kStrictOrder | core::kAllowReentry, 100, {{1, A}, {2, C}, {3, B}, {4, C}}), 3u);
	// login -> visit -> login -> order: ClickHouse's strict_deduplication restarts on step 1 (3).
	EXPECT_EQ(level(core::kStrictDedup, 100, {{1, A}, {2, B}, {3, A}, {4, C}}), 3u);
	// A repeated reached step ends strict_deduplication.
	EXPECT_EQ(level(core::kStrictDedup, 100, {{1, A}, {2, B}, {3, B}, {4, C}}), 2u);
	// Window inclusive and anchored at step 1.
	EXPECT_EQ(level(0, 10, {{0, A}, {5, B}, {10, C}}), 3u);
	EXPECT_EQ(level(0, 10, {{0, A}, {5, B}, {11, C}}), 2u);
	// The latest start wins: A@0 B@20 is out of the window, A@15 B@20 C@24 is not.
	EXPECT_EQ(level(0, 10, {{0, A}, {15, A}, {20, B}, {24, C}}), 3u);
	// Equal timestamps favour conversion; strict_increase forbids it.
	EXPECT_EQ(level(0, 10, {{5, C}, {5, B}, {5, A}}), 3u);
	EXPECT_EQ(level(core::kStrictIncrease, 10, {{5, C}, {5, B}, {5, A}}), 1u);
	// One row matching every step fills them all by default, one with strict_once.
	EXPECT_EQ(level(0, 10, {{5, A | B | C}}), 3u);
	EXPECT_EQ(level(core::kStrictOnce, 10, {{5, A | B | C}}), 1u);
	// strict_once needs a matching of rows to steps: {B,C} and {B} at one timestamp give A->B->C.
	EXPECT_EQ(level(core::kStrictOnce, 10, {{1, A}, {2, B | C}, {2, B}}), 3u);
	// A row matching nothing is ignored outside strict_order.
	EXPECT_EQ(level(0, 100, {{1, A}, {2, D}, {3, B}}), 2u);
	// No step 1: level 0.
	EXPECT_EQ(level(0, 100, {{1, B}, {2, C}}), 0u);
	EXPECT_EQ(level(0, 100, {}), 0u);
}

TEST(Funnel, ReportedChainIsLatestStartThenEarliestSteps)
{
	auto o = options(10, 0, 3);
	// Starts at 0 and 3 both reach step 3; the latest start (3) is reported, with its earliest B (4)
	// and earliest C after it (6).
	auto s = state_of(o, {{0, 1}, {3, 1}, {4, 2}, {5, 2}, {6, 4}, {7, 4}});
	auto r = evaluate(s);
	EXPECT_EQ(r.level, 3u);
	EXPECT_EQ(r.chain, (std::vector<std::int64_t>{3, 4, 6}));
}

TEST(Funnel, IndependentOfInputOrderAndOfSplits)
{
	std::mt19937_64 rng(13);
	for (std::uint32_t modes : all_valid_modes()) {
		for (int trial = 0; trial < 100; trial++) {
			auto o = options(static_cast<std::int64_t>(rng() % 50), modes, 1 + rng() % 6);
			auto rows = random_rows(rng, o, rng() % 60, 1 + rng() % 80);
			auto whole = state_of(o, rows);
			Result expected = evaluate(whole);
			std::shuffle(rows.begin(), rows.end(), rng);
			std::vector<std::size_t> cuts{0, rows.size()};
			for (int c = rng() % 5; c > 0; c--)
				cuts.push_back(rows.empty() ? 0 : rng() % (rows.size() + 1));
			std::sort(cuts.begin(), cuts.end());
			std::vector<FunnelState> parts;
			for (std::size_t i = 0; i + 1 < cuts.size(); i++)
				parts.push_back(
				    state_of(o, std::vector<FunnelEvent>(rows.begin() + static_cast<std::ptrdiff_t>(cuts[i]),
				                                         rows.begin() + static_cast<std::ptrdiff_t>(cuts[i + 1]))));
			std::shuffle(parts.begin(), parts.end(), rng);
			FunnelState merged(o, heap());
			for (auto &p : parts) {
				if (rng() % 2)
					while (!p.sort_step(4)) {
					}
				auto bytes = serialize(p);
				merged.merge(FunnelState::deserialize(bytes.data(), bytes.size(), heap()));
			}
			ASSERT_EQ(evaluate(merged), expected) << "modes " << modes << " trial " << trial;
		}
	}
}

TEST(Funnel, PresortedInputIsNotSorted)
{
	auto o = options(10, 0, 2);
	FunnelState s(o, heap());
	for (int i = 0; i < 100; i++)
		s.add(o, i, 1u << (i % 2));
	EXPECT_TRUE(s.sorted());
	s.add(o, 5, 1);
	EXPECT_FALSE(s.sorted());
	while (!s.sort_step(8)) {
	}
	EXPECT_TRUE(std::is_sorted(s.events().begin(), s.events().end()));
}

TEST(Funnel, ChunkedSortEqualsStdSort)
{
	std::mt19937_64 rng(14);
	for (std::size_t n : {0u, 1u, 1000u, 1025u, 5000u, 40000u}) {
		auto o = options(10, 0, 8);
		auto rows = random_rows(rng, o, n, 100000);
		auto s = state_of(o, rows);
		int calls = 0;
		while (!s.sort_step(1024))
			calls++;
		std::vector<FunnelEvent> expected;
		for (const auto &r : rows)
			if (r.payload != 0)
				expected.push_back(r);
		std::sort(expected.begin(), expected.end());
		EXPECT_TRUE(std::equal(expected.begin(), expected.end(), s.events().begin(), s.events().end())) << n;
		if (n >= 5000) {
			EXPECT_GT(calls, 1) << "sorting was not split";
		}
	}
}

TEST(Funnel, TimeOrderedRowsWithTiesSortInPlaceInSlices)
{
	// Rows in time order whose ties arrive out of payload order (an append-only table): sorted
	// run by run in place, in slices, with nothing allocated beyond the log itself.
	std::mt19937_64 rng(15);
	auto o = options(10, 0, 8);
	pg_product_analytics::testing::CountingResource memory;
	FunnelState s(o, &memory);
	std::vector<FunnelEvent> rows;
	std::int64_t ts = 0;
	for (int i = 0; i < 20000; i++) {
		ts += static_cast<std::int64_t>(rng() % 3 == 0); // runs of equal times
		const FunnelEvent e{ts, std::uint64_t{1} << (rng() % 8)};
		rows.push_back(e);
		s.add(o, e.ts, e.payload);
	}
	EXPECT_FALSE(s.sorted());
	const std::size_t before = memory.peak;
	int calls = 0;
	while (!s.sort_step(1024))
		calls++;
	EXPECT_GT(calls, 1) << "sorting was not split";
	EXPECT_EQ(memory.peak, before) << "no buffer for time-ordered rows";
	std::sort(rows.begin(), rows.end());
	EXPECT_TRUE(std::equal(rows.begin(), rows.end(), s.events().begin(), s.events().end()));
	EXPECT_TRUE(s.sorted());
	// A row earlier than the last one: the general sort, equal to std::sort.
	s.add(o, 3, 1);
	rows.push_back(FunnelEvent{3, 1});
	while (!s.sort_step(1024)) {
	}
	std::sort(rows.begin(), rows.end());
	EXPECT_TRUE(std::equal(rows.begin(), rows.end(), s.events().begin(), s.events().end()));
}

TEST(Funnel, OneTimestampWithManyRowsSortsInSlices)
{
	// 20000 rows on one timestamp, out of payload order: no single call sorts them all (a
	// cancel must land between slices), and the result is std::sort's.
	auto o = options(10, 0, 8);
	FunnelState s(o, heap());
	std::vector<FunnelEvent> rows;
	for (int i = 0; i < 20000; i++) {
		const FunnelEvent e{7, std::uint64_t{1} << (7 - i % 8)};
		rows.push_back(e);
		s.add(o, e.ts, e.payload);
	}
	int calls = 0;
	while (!s.sort_step(1024))
		calls++;
	EXPECT_GT(calls, 1) << "sorting was not split";
	std::sort(rows.begin(), rows.end());
	EXPECT_TRUE(std::equal(rows.begin(), rows.end(), s.events().begin(), s.events().end()));
}

TEST(Funnel, LogGrowsByResizingWhereTheResourceCan)
{
	// A resource that can resize (PostgreSQL's, through realloc) grows the row store without an
	// allocate-copy-free cycle, so the old and the new array are never both live; others copy.
	struct Resizable : core::ResizableResource {
		std::size_t live = 0, peak = 0, resizes = 0;
		void *
		resize(void *p, std::size_t old_bytes, std::size_t new_bytes) override
		{
			void *q = std::realloc(p, new_bytes);
			if (q == nullptr)
				throw std::bad_alloc();
			live += new_bytes - old_bytes;
			peak = std::max(peak, live);
			resizes++;
			return q;
		}
		void *
		do_allocate(std::size_t bytes, std::size_t) override
		{
			void *p = std::malloc(bytes);
			if (p == nullptr)
				throw std::bad_alloc();
			live += bytes;
			peak = std::max(peak, live);
			return p;
		}
		void
		do_deallocate(void *p, std::size_t bytes, std::size_t) override
		{
			live -= bytes;
			std::free(p);
		}
		bool
		do_is_equal(const std::pmr::memory_resource &o) const noexcept override
		{
			return this == &o;
		}
	};
	auto o = options(10, 0, 4);
	Resizable memory;
	std::vector<FunnelEvent> rows;
	{
		FunnelState s(o, &memory);
		for (int i = 0; i < 100000; i++) {
			rows.push_back(FunnelEvent{i, std::uint64_t{1} << (i % 4)});
			s.add(o, i, rows.back().payload);
		}
		EXPECT_GT(memory.resizes, 10u);
		// Peak: the final capacity (131072 rows here), never that plus the previous array (which
		// copying would give: 196608 rows' worth).
		EXPECT_LT(memory.peak, rows.size() * sizeof(FunnelEvent) * 3 / 2);
		EXPECT_TRUE(std::equal(rows.begin(), rows.end(), s.events().begin(), s.events().end()));
		// Moved into a state of another resource: copied.
		FunnelState t(o, heap());
		t = std::move(s);
		EXPECT_TRUE(std::equal(rows.begin(), rows.end(), t.events().begin(), t.events().end()));
	}
	EXPECT_EQ(memory.live, 0u);
}

TEST(Funnel, RowsMatchingNothingAreKeptOnlyForStrictOrder)
{
	auto plain = options(10, 0, 2);
	auto s = state_of(plain, {{1, 0}, {2, 1}, {3, 0}});
	EXPECT_EQ(s.events().size(), 1u);
	auto strict = options(10, core::kStrictOrder, 2);
	auto t = state_of(strict, {{1, 0}, {1, 0}, {1, 0}, {2, 1}, {3, 0}});
	EXPECT_EQ(t.events().size(), 3u) << "repeated rows matching nothing at one timestamp are kept once";
}

TEST(Funnel, OptionsAreChecked)
{
	EXPECT_EQ(core::parse_funnel_modes(""), 0u);
	EXPECT_EQ(core::parse_funnel_modes(" strict_order , strict_increase"), core::kStrictOrder | core::kStrictIncrease);
	EXPECT_EQ(core::parse_funnel_modes("strict_order,allow_reentry"), core::kStrictOrder | core::kAllowReentry);
	expect_error(core::ErrorKind::InvalidArgument, [] { core::parse_funnel_modes("strict"); });
	expect_error(core::ErrorKind::InvalidArgument, [] { core::parse_funnel_modes("strict_order,"); });
	expect_error(core::ErrorKind::InvalidArgument, [] { core::parse_funnel_modes("allow_reentry"); });
	expect_error(core::ErrorKind::InvalidArgument, [] { FunnelState s(options(-1, 0, 2), heap()); });
	expect_error(core::ErrorKind::InvalidArgument, [] { FunnelState s(options(1, 0, 0), heap()); });
	expect_error(core::ErrorKind::LimitExceeded, [] { FunnelState s(options(1, 0, 65), heap()); });
	FunnelState s(options(10, 0, 2), heap());
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(options(11, 0, 2), 1, 1); });
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(options(10, core::kStrictOnce, 2), 1, 1); });
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(options(10, 0, 3), 1, 1); });
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.merge(FunnelState(options(10, 0, 3), heap())); });
	try {
		core::parse_funnel_modes("strict_order, bogus");
	} catch (const core::Error &e) {
		EXPECT_NE(std::string(e.what()).find("\"bogus\""), std::string::npos);
		EXPECT_NE(e.hint().find("strict_deduplication"), std::string::npos) << "the valid modes are in the hint";
	}
}

TEST(Funnel, ExtremeTimestampsDoNotOverflow)
{
	const std::int64_t lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
	auto o = options(hi, 0, 2);
	auto s = state_of(o, {{lo, 1}, {lo + hi, 2}}); // exactly the window apart
	EXPECT_EQ(evaluate(s).level, 2u);
	auto far = state_of(o, {{lo, 1}, {hi, 2}}); // 2^64 - 1 apart: beyond any window
	EXPECT_EQ(evaluate(far).level, 1u);
	auto narrow = options(5, 0, 2);
	auto t = state_of(narrow, {{lo, 1}, {hi, 2}});
	EXPECT_EQ(evaluate(t).level, 1u);
}

TEST(Funnel, SerializationRoundTrip)
{
	std::mt19937_64 rng(15);
	for (std::uint32_t modes : all_valid_modes()) {
		auto o = options(static_cast<std::int64_t>(rng() % 1000), modes, 1 + rng() % 64);
		auto s = state_of(o, random_rows(rng, o, rng() % 50, 1000));
		auto bytes = serialize(s);
		auto back = FunnelState::deserialize(bytes.data(), bytes.size(), heap());
		EXPECT_TRUE(back.options() == s.options());
		EXPECT_EQ(back.sorted(), s.sorted());
		EXPECT_TRUE(std::equal(back.events().begin(), back.events().end(), s.events().begin(), s.events().end()));
		EXPECT_EQ(serialize(back), bytes);
	}
}

TEST(Funnel, CorruptBytesAreRejected)
{
	auto o = options(100, core::kStrictOrder | core::kStrictIncrease, 3);
	auto s = state_of(o, {{1, 1}, {2, 0}, {3, 2}, {4, 4}, {5, 6}});
	check_corruption_rejected<FunnelState>(serialize(s), [](const FunnelState &f) {
		try {
			core::check_funnel_options(f.options());
		} catch (const core::Error &) {
			return false;
		}
		for (const auto &e : f.events())
			if (f.options().steps < 64 && (e.payload >> f.options().steps) != 0)
				return false;
		return !f.sorted() || std::is_sorted(f.events().begin(), f.events().end());
	});
	// A count that claims more events than there are bytes.
	auto bytes = serialize(s);
	bytes[4 + 1 + 1 + 8 + 1 + 7] = 0x7f;
	expect_error(core::ErrorKind::CorruptState, [&] { FunnelState::deserialize(bytes.data(), bytes.size(), heap()); });
}

TEST(Funnel, MatchesReferenceOnHeavyTies)
{
	// Few timestamps, rows matching several steps: the strict_once matching and the strict modes'
	// stops inside a group of equal timestamps.
	std::mt19937_64 rng(16);
	for (std::uint32_t modes : all_valid_modes()) {
		for (int trial = 0; trial < 1500; trial++) {
			auto o = options(static_cast<std::int64_t>(rng() % 3), modes, 1 + rng() % 5);
			std::vector<FunnelEvent> rows;
			const std::size_t n = rng() % 9;
			const std::uint64_t all = (std::uint64_t{1} << o.steps) - 1;
			for (std::size_t i = 0; i < n; i++)
				rows.push_back({static_cast<std::int64_t>(rng() % 3), rng() % 6 == 0 ? 0 : (rng() & all)});
			auto state = state_of(o, rows);
			ASSERT_EQ(evaluate(state, 1 + rng() % 4), reference(rows, o)) << "modes " << modes << " trial " << trial;
		}
	}
}

TEST(Funnel, HugeGroupOfEqualTimestampsIsPolynomial)
{
	// 100k rows on one timestamp, each matching every step (or every other step): the answer is
	// the one of the same group cut to steps + 1 rows of each kind (more identical rows change
	// nothing), which the brute-force reference computes. Exponential work would not finish.
	for (std::uint32_t modes : all_valid_modes()) {
		for (std::uint64_t pattern : {std::uint64_t{0x3f}, std::uint64_t{0x15}}) {
			auto o = options(10, modes, 6);
			std::vector<FunnelEvent> small(7, FunnelEvent{5, pattern});
			small.insert(small.end(), 7, FunnelEvent{5, 0x2a});
			FunnelState big(o, heap());
			for (int i = 0; i < 100000; i++)
				big.add(o, 5, i % 2 == 0 ? pattern : 0x2a);
			auto state = state_of(o, small);
			EXPECT_EQ(evaluate(big, 1 << 12).level, reference(small, o).level) << "modes " << modes;
		}
	}
}
