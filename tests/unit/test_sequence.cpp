// core::SequenceState / SequenceEvaluator against a brute-force reference that enumerates every
// assignment of events to the pattern's elements (random patterns, random rows with ties), the
// ClickHouse test suite's cases, the parser's errors, adversarial patterns at scale; and
// NextNodeState / NextNodeFinder against a literal port of ClickHouse's sequenceNextNode over fully
// sorted rows. Merge-split equivalence, serialization round trip and corrupt bytes for both.
#include "core/sequence.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace core = pg_product_analytics::core;
using core::LogEntry;
using core::NextNodeFinder;
using core::NextNodeOptions;
using core::NextNodeState;
using core::SequenceEvaluator;
using core::SequencePattern;
using core::SequenceQuestion;
using core::SequenceState;
using pg_product_analytics::testing::check_corruption_rejected;
using pg_product_analytics::testing::expect_error;
using pg_product_analytics::testing::serialize;

namespace {

std::pmr::memory_resource *
heap()
{
	return std::pmr::new_delete_resource();
}

struct Answer {
	bool matched = false;
	std::uint64_t count = 0;
	std::vector<std::int64_t> events;
	bool
	operator==(const Answer &o) const
	{
		return matched == o.matched && count == o.count && events == o.events;
	}
};

std::ostream &
operator<<(std::ostream &os, const Answer &a)
{
	os << "matched " << a.matched << " count " << a.count << " events [";
	for (auto t : a.events)
		os << t << " ";
	return os << "]";
}

std::uint64_t
run(SequenceState &state, SequenceQuestion q, std::size_t budget)
{
	while (!state.sort_step(budget)) {
	}
	SequenceEvaluator ev(state.pattern(), q, state.events().data(), state.events().size(), heap());
	while (!ev.step(budget)) {
	}
	return q == SequenceQuestion::Count ? ev.matches() : ev.matched();
}

// The three answers, each with the work cut into small slices, as the glue does.
Answer
evaluate(SequenceState &state, std::size_t budget = 3)
{
	Answer a;
	a.matched = run(state, SequenceQuestion::Match, budget) != 0;
	a.count = run(state, SequenceQuestion::Count, budget);
	SequenceEvaluator ev(state.pattern(), SequenceQuestion::Events, state.events().data(), state.events().size(),
	                     heap());
	while (!ev.step(budget)) {
	}
	a.events.assign(ev.chain().begin(), ev.chain().end());
	return a;
}

SequenceState
state_of(const SequencePattern &p, std::size_t conditions, const std::vector<LogEntry> &rows)
{
	SequenceState s(p, false, conditions, heap()); // p may be a temporary: the state keeps a copy
	for (const auto &r : rows)
		s.add(p, conditions, r.ts, r.payload);
	return s;
}

// ---- The reference: docs/sequence.md, by enumeration -----------------------------------------

struct Reference {
	const SequencePattern &p;
	std::vector<LogEntry> seen; // sorted by (ts, mask), rows matching no condition dropped

	bool
	fits(std::size_t j, std::size_t pos) const
	{
		return (p.any >> j & 1) || (seen[pos].payload >> p.condition[j] & 1);
	}
	bool
	follows(std::size_t j, std::size_t prev, std::size_t pos) const
	{
		if (pos <= prev)
			return false;
		if (!(p.gap >> j & 1) && pos != prev + 1)
			return false;
		if (p.gated >> j & 1) {
			const auto d = static_cast<std::uint64_t>(seen[pos].ts - seen[prev].ts);
			return d >= p.low[j] && d <= p.high[j];
		}
		return true;
	}
	// Every chain of elements 0..k-1 with positions >= start, in lexicographic order.
	void
	chains(std::size_t k, std::size_t start, std::vector<std::size_t> &chain,
	       std::vector<std::vector<std::size_t>> &out) const
	{
		const std::size_t j = chain.size();
		if (j == k) {
			out.push_back(chain);
			return;
		}
		for (std::size_t pos = j == 0 ? start : chain.back() + 1; pos < seen.size(); pos++) {
			if (!fits(j, pos) || (j > 0 && !follows(j, chain.back(), pos)))
				continue;
			chain.push_back(pos);
			chains(k, start, chain, out);
			chain.pop_back();
		}
	}
	std::vector<std::vector<std::size_t>>
	all(std::size_t k, std::size_t start) const
	{
		std::vector<std::vector<std::size_t>> out;
		std::vector<std::size_t> chain;
		chains(k, start, chain, out);
		return out;
	}

	Answer
	answer() const
	{
		Answer a;
		const std::size_t m = p.elements;
		if (m == 0) {
			a.matched = true;
			a.count = seen.size();
			return a;
		}
		a.matched = !all(m, 0).empty();
		// Count: the match that ends first, then on after it.
		for (std::size_t start = 0;;) {
			auto found = all(m, start);
			if (found.empty())
				break;
			std::size_t end = seen.size();
			for (const auto &c : found)
				end = std::min(end, c.back());
			a.count++;
			start = end + 1;
		}
		// Events: the longest prefix that matches, its lexicographically first chain.
		for (std::size_t k = m; k > 0; k--) {
			auto found = all(k, 0);
			if (found.empty())
				continue;
			for (std::size_t j = 0; j < k; j++)
				if (!(p.any >> j & 1))
					a.events.push_back(seen[found.front()[j]].ts);
			break;
		}
		return a;
	}
};

Answer
reference(const SequencePattern &p, std::vector<LogEntry> rows)
{
	rows.erase(std::remove_if(rows.begin(), rows.end(), [](const LogEntry &e) { return e.payload == 0; }), rows.end());
	std::sort(rows.begin(), rows.end());
	return Reference{p, rows}.answer();
}

// A random pattern over `conditions` conditions with up to `max_elements` event elements.
std::string
random_pattern(std::mt19937_64 &rng, std::size_t conditions, std::size_t max_elements)
{
	static const char *ops[] = {"<", "<=", ">", ">=", "=="};
	std::string s;
	if (rng() % 3 == 0)
		s += ".*";
	const std::size_t m = rng() % (max_elements + 1);
	for (std::size_t j = 0; j < m; j++) {
		if (j > 0) {
			switch (rng() % 6) {
			case 0:
			case 1:
				break;
			case 2:
				s += ".*";
				break;
			default:
				for (int g = 1 + static_cast<int>(rng() % 2); g > 0; g--) {
					s += "(?t";
					s += ops[rng() % 5];
					s += std::to_string(rng() % 6) + ")";
					if (rng() % 4 == 0)
						s += ".*";
				}
			}
		}
		if (rng() % 5 == 0)
			s += ".";
		else
			s += "(?" + std::to_string(1 + rng() % conditions) + ")";
	}
	if (rng() % 4 == 0)
		s += ".*";
	return s;
}

std::vector<LogEntry>
random_rows(std::mt19937_64 &rng, std::size_t conditions, std::size_t n, std::int64_t span)
{
	std::vector<LogEntry> rows;
	for (std::size_t i = 0; i < n; i++)
		rows.push_back({static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(span)),
		                rng() % (std::uint64_t{1} << conditions)});
	return rows;
}

SequencePattern
parse(const std::string &s, bool integer_time = true)
{
	return core::parse_sequence_pattern(s, integer_time);
}

} // namespace

TEST(Sequence, MatchesReferenceOnRandomPatternsAndRows)
{
	std::mt19937_64 rng(21);
	for (int trial = 0; trial < 4000; trial++) {
		const std::size_t conditions = 1 + rng() % 3;
		const std::string text = random_pattern(rng, conditions, 4);
		const SequencePattern p = parse(text);
		if (p.max_condition > conditions)
			continue;
		auto rows = random_rows(rng, conditions, rng() % 11, 1 + static_cast<std::int64_t>(rng() % 10));
		auto state = state_of(p, conditions, rows);
		ASSERT_EQ(evaluate(state, 1 + rng() % 4), reference(p, rows)) << "pattern " << text << " trial " << trial;
	}
}

TEST(Sequence, ClickHouseTestSuiteCases)
{
	// ClickHouse's 00222_sequence_aggregate_function_family: (time, data) rows, conditions data = 0..3.
	const std::vector<std::pair<int, int>> data = {{0, 0}, {1, 0}, {2, 0}, {3, 0}, {4, 1},  {5, 2},
	                                               {6, 0}, {7, 0}, {8, 0}, {9, 0}, {10, 1}, {11, 1}};
	auto rows_for = [&](std::vector<int> values) {
		std::vector<LogEntry> rows;
		for (auto [t, d] : data) {
			std::uint64_t mask = 0;
			for (std::size_t i = 0; i < values.size(); i++)
				if (d == values[i])
					mask |= std::uint64_t{1} << i;
			rows.push_back({t, mask});
		}
		return rows;
	};
	struct Case {
		const char *pattern;
		bool match;
		std::uint64_t count;
		std::vector<std::int64_t> events;
	};
	const std::vector<Case> four = {
	    {"", true, 12, {}},
	    {".", true, 12, {}},
	    {".*", true, 12, {}},
	    {"(?1)", true, 8, {0}},
	    {"(?2)", true, 3, {4}},
	    {"(?3)", true, 1, {5}},
	    {"(?4)", false, 0, {}},
	    {"(?1)(?1)", true, 4, {0, 1}},
	    {"(?1)(?1)(?1)", true, 2, {0, 1, 2}},
	    {"(?1)(?1)(?1)(?1)", true, 2, {0, 1, 2, 3}},
	    {"(?1)(?1)(?1)(?1)(?1)", false, 0, {0, 1, 2, 3}},
	    {"(?1)(?1)(?1)(?1)(?2)", true, 2, {0, 1, 2, 3, 4}},
	    {"(?1)(?t>10)(?2)", true, 1, {0, 11}},
	    {"(?1)(?t>11)(?2)", false, 0, {0}},
	    {"(?1)(?t<11)(?2)", true, 2, {0, 4}},
	    {"(?1)(?t<3)(?3)", true, 1, {3, 5}},
	    {"(?1)(?t<=2)(?3)", true, 1, {3, 5}},
	    {"(?1)(?t<2)(?3)", false, 0, {0}},
	    {"(?2)(?t>=7)(?2)", true, 1, {4, 11}},
	    {"(?2)(?t>7)(?2)", false, 0, {4}},
	    {"(?2)(?3)(?1)", true, 1, {4, 5, 6}},
	};
	for (const Case &c : four) {
		auto s = state_of(parse(c.pattern), 4, rows_for({0, 1, 2, 3}));
		Answer got = evaluate(s);
		EXPECT_EQ(got, (Answer{c.match, c.count, c.events})) << c.pattern;
	}
	const std::vector<Case> two = {
	    {"(?1)(?t==2)(?2)", false, 0, {4}},
	    {"(?1)(?t==1)(?2)", true, 1, {4, 5}},
	};
	for (const Case &c : two) {
		auto s = state_of(parse(c.pattern), 2, rows_for({1, 2}));
		EXPECT_EQ(evaluate(s), (Answer{c.match, c.count, c.events})) << c.pattern;
	}
}

TEST(Sequence, EventsTheConditionsDoNotSeeAreInvisible)
{
	// ClickHouse's documented example: (?1)(?2) matches 1 then 2 with a 3 between them only while
	// no condition sees the 3.
	std::vector<LogEntry> with_three_unseen = {{1, 1}, {2, 0}, {3, 2}};
	std::vector<LogEntry> with_three_seen = {{1, 1}, {2, 4}, {3, 2}};
	auto unseen = state_of(parse("(?1)(?2)"), 3, with_three_unseen);
	auto seen = state_of(parse("(?1)(?2)"), 3, with_three_seen);
	EXPECT_TRUE(evaluate(unseen).matched);
	EXPECT_FALSE(evaluate(seen).matched);
}

TEST(Sequence, TimeConditionsBoundTheElementsOnEitherSide)
{
	// (?1) at 0 and 100, (?2) at 130 and 700.
	std::vector<LogEntry> rows = {{0, 1}, {100, 1}, {130, 2}, {700, 2}};
	auto check = [&](const char *pattern, bool expected) {
		auto s = state_of(parse(pattern), 2, rows);
		EXPECT_EQ(evaluate(s).matched, expected) << pattern;
	};
	check("(?1)(?t<=30)(?2)", true); // 100 -> 130
	check("(?1)(?t<30)(?2)", false);
	check("(?1).*(?t<=30)(?2)", true); // .* beside a time condition changes nothing
	check("(?1)(?t<=30).*(?2)", true);
	check("(?1)(?t>=700)(?2)", true); // 0 -> 700, with events between
	check("(?1)(?t>700)(?2)", false);
	check("(?1)(?t>=130)(?t<=600)(?2)", true); // 100 -> 700: 600
	check("(?1)(?t>=131)(?t<=599)(?2)", false);
	check("(?1)(?2)(?t<=1)", true); // a trailing time condition constrains nothing
}

TEST(Sequence, FractionalSecondsAreMicroseconds)
{
	auto p = parse("(?1)(?t<=1.5)(?2)", false);
	std::vector<LogEntry> rows = {{0, 1}, {1500000, 2}};
	auto s = state_of(p, 2, rows);
	EXPECT_TRUE(evaluate(s).matched);
	std::vector<LogEntry> late = {{0, 1}, {1500001, 2}};
	auto t = state_of(p, 2, late);
	EXPECT_FALSE(evaluate(t).matched);
	EXPECT_EQ(parse("(?1)(?t==0.000001)(?2)", false).low[1], 1u);
}

TEST(Sequence, ParserRejectsWithPosition)
{
	auto message = [](const std::string &text, bool integer_time = false) {
		try {
			core::parse_sequence_pattern(text, integer_time);
		} catch (const core::Error &e) {
			return std::string(e.what()) + "|" + std::to_string(static_cast<int>(e.kind()));
		}
		return std::string("accepted");
	};
	const std::string invalid = "|" + std::to_string(static_cast<int>(core::ErrorKind::InvalidArgument));
	const std::string limit = "|" + std::to_string(static_cast<int>(core::ErrorKind::LimitExceeded));
	EXPECT_EQ(message("(?1)(?x)"),
	          "invalid sequence pattern at position 7: expected a condition number or t after \"(?\"" + invalid);
	EXPECT_EQ(message("(?1"), "invalid sequence pattern at position 4: expected \")\", found the end" + invalid);
	EXPECT_EQ(message("(?0)"), "invalid sequence pattern at position 1: condition numbers start at 1" + invalid);
	EXPECT_EQ(message("(?t<5)(?1)"),
	          "invalid sequence pattern at position 1: a time condition must follow an event ((?N) or .)" + invalid);
	EXPECT_EQ(message(".*(?t<5)(?1)"),
	          "invalid sequence pattern at position 3: a time condition must follow an event ((?N) or .)" + invalid);
	EXPECT_EQ(message("(?1)(?t=5)(?2)"),
	          "invalid sequence pattern at position 8: expected one of < <= > >= == after \"(?t\"" + invalid);
	EXPECT_EQ(message("(?1)(?t<x)"),
	          "invalid sequence pattern at position 9: expected a non-negative number of seconds" + invalid);
	EXPECT_EQ(message("(?1)(?t<1.5)", true),
	          "invalid sequence pattern at position 10: integer time takes a whole number" + invalid);
	EXPECT_EQ(message("(?1)(?t<1.0000001)"),
	          "invalid sequence pattern at position 17: more than six decimals: the unit is the microsecond" + invalid);
	EXPECT_EQ(message("(?1)(?t<99999999999999999999)"),
	          "invalid sequence pattern at position 9: time out of range" + invalid);
	EXPECT_EQ(message("(?1) x"), "invalid sequence pattern at position 6: unexpected character \"x\"" + invalid);
	EXPECT_EQ(message("(?65)"), "sequence pattern at position 1 names condition 65, the limit is 64" + limit);
	std::string long_pattern;
	for (int i = 0; i < 65; i++)
		long_pattern += ".";
	EXPECT_EQ(message(long_pattern), "sequence pattern at position 65 has more than 64 events ((?N) or .)" + limit);
	EXPECT_EQ(message(" (?1) .* (? t <= 600 ) (?2) "), "accepted");
	expect_error(core::ErrorKind::InvalidArgument, [] { core::check_pattern_conditions(parse("(?3)"), 2); });
	expect_error(core::ErrorKind::LimitExceeded, [] { core::check_pattern_conditions(parse("(?3)"), 65); });
}

TEST(Sequence, GroupParametersMustNotChange)
{
	const SequencePattern p = parse("(?1)(?2)");
	const SequencePattern other = parse("(?1).*(?2)");
	SequenceState s(p, false, 2, heap());
	s.add(p, 2, 1, 1);
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(other, 2, 2, 1); });
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(p, 3, 2, 1); });
	const SequencePattern copy = p;
	s.add(copy, 2, 3, 2); // another object, the same pattern
	SequenceState t(other, true, 2, heap());
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.merge(t); });
}

TEST(Sequence, IndependentOfInputOrderAndOfSplits)
{
	std::mt19937_64 rng(23);
	for (int trial = 0; trial < 400; trial++) {
		const std::size_t conditions = 1 + rng() % 4;
		const SequencePattern p = parse(random_pattern(rng, 1, 5));
		auto rows = random_rows(rng, conditions, rng() % 80, 1 + static_cast<std::int64_t>(rng() % 40));
		auto whole = state_of(p, conditions, rows);
		const Answer expected = evaluate(whole);
		std::shuffle(rows.begin(), rows.end(), rng);
		std::vector<std::size_t> cuts{0, rows.size()};
		for (int c = static_cast<int>(rng() % 5); c > 0; c--)
			cuts.push_back(rows.empty() ? 0 : rng() % (rows.size() + 1));
		std::sort(cuts.begin(), cuts.end());
		SequenceState merged(p, false, conditions, heap());
		for (std::size_t i = 0; i + 1 < cuts.size(); i++) {
			auto part = state_of(p, conditions,
			                     std::vector<LogEntry>(rows.begin() + static_cast<std::ptrdiff_t>(cuts[i]),
			                                           rows.begin() + static_cast<std::ptrdiff_t>(cuts[i + 1])));
			auto bytes = serialize(part);
			merged.merge(SequenceState::deserialize(bytes.data(), bytes.size(), heap()));
		}
		ASSERT_EQ(evaluate(merged, 1 << 10), expected) << "trial " << trial;
	}
}

TEST(Sequence, SerializationRoundTripAndCorruptBytes)
{
	std::mt19937_64 rng(25);
	for (int trial = 0; trial < 50; trial++) {
		const SequencePattern p = parse(random_pattern(rng, 3, 8));
		auto s = state_of(p, 3, random_rows(rng, 3, rng() % 40, 100));
		auto bytes = serialize(s);
		auto back = SequenceState::deserialize(bytes.data(), bytes.size(), heap());
		EXPECT_TRUE(back.pattern() == p);
		EXPECT_EQ(serialize(back), bytes);
	}
	// A shared pattern equal to the one read is pointed to, another is not.
	const SequencePattern shared = parse("(?1).*(?t<=600)(?2).");
	auto one = state_of(parse("(?1).*(?t<=600)(?2)."), 2, {{5, 1}});
	auto bytes = serialize(one);
	const SequencePattern other = parse("(?1)(?2)");
	const SequencePattern *kept[] = {&other, &shared};
	EXPECT_EQ(&SequenceState::deserialize(bytes.data(), bytes.size(), heap(), kept, 2).pattern(), &shared);
	auto own = SequenceState::deserialize(bytes.data(), bytes.size(), heap(), kept, 1);
	EXPECT_NE(&own.pattern(), &other);
	EXPECT_TRUE(own.pattern() == shared);

	auto s = state_of(parse("(?1).*(?t<=600)(?2)."), 2, {{5, 1}, {1, 2}, {9, 3}});
	check_corruption_rejected<SequenceState>(serialize(s), [](const SequenceState &st) {
		const SequencePattern &p = st.pattern();
		for (const auto &e : st.events())
			if (e.payload == 0)
				return false;
		return p.elements <= 64 && (p.gated & ~p.gap) == 0 &&
		       (!st.sorted() || std::is_sorted(st.events().begin(), st.events().end()));
	});
}

TEST(Sequence, AdversarialPatternsOnAMillionRowsArePolynomial)
{
	// (?1).*(?2).*(?1).*(?2)... over a million alternating rows of one user: backtracking would
	// explode on the near misses; the automaton reads each row once per answer.
	std::string pattern;
	const int pairs = 16;
	for (int i = 0; i < pairs; i++)
		pattern += "(?1).*(?2).*";
	pattern += "(?3)"; // never present: no full match, every prefix is tried to the end
	const SequencePattern p = parse(pattern);
	SequenceState s(p, true, 3, heap());
	const std::int64_t n = 1000000;
	for (std::int64_t i = 0; i < n; i++)
		s.add(p, 3, i / 3, i % 2 == 0 ? 1 : 2); // ties: three rows per timestamp
	const auto start = std::chrono::steady_clock::now();
	const Answer a = evaluate(s, 1 << 16);
	const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	EXPECT_FALSE(a.matched);
	EXPECT_EQ(a.count, 0u);
	// The longest matching start is the 32 pair elements, taken as early as possible: on equal
	// timestamps (?1) rows come before (?2) rows, so (?1) is at timestamps 0, 1, 2, ...
	std::vector<LogEntry> sorted(s.events().begin(), s.events().end());
	std::vector<std::int64_t> expected;
	for (std::size_t i = 0, want = 1; expected.size() < 2 * pairs; i++)
		if (sorted[i].payload == want) {
			expected.push_back(sorted[i].ts);
			want = 3 - want;
		}
	EXPECT_EQ(a.events, expected);
	EXPECT_LT(seconds, 5.0) << "not linear";

	// With time conditions (a window per element) and a count that restarts after every match.
	const SequencePattern gated = parse("(?1)(?t<=2)(?2)(?t>=1)(?t<=3)(?1)(?t<5)(?2)");
	SequenceState g(gated, true, 2, heap());
	for (std::int64_t i = 0; i < n; i++)
		g.add(gated, 2, i, i % 2 == 0 ? 1 : 2);
	const Answer b = evaluate(g, 1 << 16);
	EXPECT_TRUE(b.matched);
	// Adjacent rows 1,2,1,2 one unit apart: each match takes four rows, then the next starts.
	EXPECT_EQ(b.count, static_cast<std::uint64_t>(n / 4));
}

// ---- sequence_next_node -------------------------------------------------------------------------

namespace {

struct NodeRow {
	std::int64_t ts;
	std::string value;
	bool base;
	std::uint64_t mask;
};

// ClickHouse's sequenceNextNode over rows sorted by (ts, value, mask, base).
std::optional<std::string>
next_node_reference(const NextNodeOptions &o, std::vector<NodeRow> rows)
{
	std::sort(rows.begin(), rows.end(), [](const NodeRow &a, const NodeRow &b) {
		if (a.ts != b.ts)
			return a.ts < b.ts;
		if (a.value != b.value)
			return a.value < b.value;
		if (a.mask != b.mask)
			return a.mask < b.mask;
		return a.base < b.base;
	});
	const std::size_t n = rows.size(), k = o.events;
	if (n <= k)
		return std::nullopt;
	std::optional<std::size_t> base;
	switch (o.base) {
	case core::NextBase::Head:
		if (rows[0].base)
			base = 0;
		break;
	case core::NextBase::Tail:
		if (rows[n - 1].base)
			base = n - 1;
		break;
	case core::NextBase::FirstMatch:
		for (std::size_t i = 0; i < n && !base; i++)
			if ((rows[i].mask & 1) && rows[i].base)
				base = i;
		break;
	case core::NextBase::LastMatch:
		for (std::size_t i = n; i-- > 0 && !base;)
			if ((rows[i].mask & 1) && rows[i].base)
				base = i;
		break;
	}
	if (!base)
		return std::nullopt;
	const std::size_t b = *base;
	std::size_t i = 0;
	if (o.direction == core::NextDirection::Forward) {
		for (; i < k && b + i < n; i++)
			if (!(rows[b + i].mask >> i & 1))
				break;
		if (i == k && b + k < n)
			return rows[b + k].value;
	} else {
		for (; i < k && i < b; i++)
			if (!(rows[b - i].mask >> i & 1))
				break;
		if (i == k)
			return rows[b - k].value;
	}
	return std::nullopt;
}

std::optional<std::string>
find(const NextNodeState &s, std::size_t budget)
{
	NextNodeFinder f(s, heap());
	while (!f.step(budget)) {
	}
	if (!f.found())
		return std::nullopt;
	return std::string(f.value());
}

NextNodeState
next_state_of(const NextNodeOptions &o, const std::vector<NodeRow> &rows)
{
	NextNodeState s(o, heap());
	for (const auto &r : rows)
		s.add(o, r.ts, r.value, r.base, r.mask);
	return s;
}

std::vector<NodeRow>
random_node_rows(std::mt19937_64 &rng, std::size_t events, std::size_t n)
{
	static const char *values[] = {"a", "b", "ab", "", "c", "signup"};
	std::vector<NodeRow> rows;
	for (std::size_t i = 0; i < n; i++)
		rows.push_back({static_cast<std::int64_t>(rng() % 6), values[rng() % 6], rng() % 3 != 0,
		                rng() % (std::uint64_t{1} << events)});
	return rows;
}

} // namespace

TEST(SequenceNextNode, MatchesClickHouseOnRandomRowsSplitsAndOrders)
{
	std::mt19937_64 rng(27);
	for (int trial = 0; trial < 3000; trial++) {
		NextNodeOptions o;
		o.direction = static_cast<core::NextDirection>(rng() % 2);
		o.base = static_cast<core::NextBase>(rng() % 4);
		o.events = 1 + rng() % 3;
		auto rows = random_node_rows(rng, o.events, rng() % 12);
		const auto expected = next_node_reference(o, rows);
		std::shuffle(rows.begin(), rows.end(), rng);
		const std::size_t cut = rows.empty() ? 0 : rng() % (rows.size() + 1);
		auto left =
		    next_state_of(o, std::vector<NodeRow>(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(cut)));
		auto right =
		    next_state_of(o, std::vector<NodeRow>(rows.begin() + static_cast<std::ptrdiff_t>(cut), rows.end()));
		auto bytes = serialize(right);
		left.merge(NextNodeState::deserialize(bytes.data(), bytes.size(), heap()));
		ASSERT_EQ(find(left, 1 + rng() % 3), expected) << "trial " << trial;
		if (o.base == core::NextBase::Head || o.base == core::NextBase::Tail) {
			ASSERT_LE(left.rows(), o.events + 1) << "head and tail keep what the answer needs";
		}
	}
}

TEST(SequenceNextNode, PruningKeepsAnswersOnLongerInput)
{
	// Enough rows for first_match / last_match to prune (the state drops rows as they double).
	std::mt19937_64 rng(31);
	for (int trial = 0; trial < 1500; trial++) {
		NextNodeOptions o;
		o.direction = static_cast<core::NextDirection>(rng() % 2);
		o.base = static_cast<core::NextBase>(2 + rng() % 2);
		o.events = 1 + rng() % 3;
		auto rows = random_node_rows(rng, o.events, rng() % 300);
		for (auto &r : rows)
			r.ts = static_cast<std::int64_t>(rng() % 100);
		const auto expected = next_node_reference(o, rows);
		if (rng() % 2)
			std::sort(rows.begin(), rows.end(), [](const NodeRow &a, const NodeRow &b) { return a.ts < b.ts; });
		else
			std::shuffle(rows.begin(), rows.end(), rng);
		std::vector<NextNodeState> parts;
		for (int p = 0; p < 3; p++)
			parts.push_back(NextNodeState(o, heap()));
		for (const auto &r : rows)
			parts[rng() % 3].add(o, r.ts, r.value, r.base, r.mask);
		for (int p = 1; p < 3; p++) {
			auto bytes = serialize(parts[p]);
			parts[0].merge(NextNodeState::deserialize(bytes.data(), bytes.size(), heap()));
		}
		ASSERT_EQ(find(parts[0], 1 + rng() % 7), expected) << "trial " << trial;
	}
}

TEST(SequenceNextNode, TimeOrderedRowsKeepLittleForFirstMatchForward)
{
	NextNodeOptions o{core::NextDirection::Forward, core::NextBase::FirstMatch, 1};
	NextNodeState s(o, heap());
	// Page views, a signup at time 10, then a million more rows: the state keeps the rows before
	// the signup, the signup and the row after it.
	for (std::int64_t t = 0; t < 1000000; t++)
		s.add(o, t, t == 10 ? "signup" : "view" + std::to_string(t), t == 10, t == 10 ? 1 : 0);
	EXPECT_LE(s.rows(), 32u);
	EXPECT_EQ(find(s, 1 << 16), std::optional<std::string>("view11"));
	NextNodeOptions last{core::NextDirection::Forward, core::NextBase::LastMatch, 1};
	NextNodeState l(last, heap());
	for (std::int64_t t = 0; t < 1000000; t++)
		l.add(last, t, t % 1000 == 0 ? "signup" : "view" + std::to_string(t), true, t % 1000 == 0 ? 1 : 0);
	EXPECT_LE(l.rows(), 3000u) << "rows before the last base so far are dropped";
	EXPECT_EQ(find(l, 1 << 16), std::optional<std::string>("view999001"));
}

TEST(SequenceNextNode, HeadKeepsOnlyWhatItNeedsOnLongInput)
{
	NextNodeOptions o{core::NextDirection::Forward, core::NextBase::Head, 1};
	NextNodeState s(o, heap());
	// A million rows in reverse time order: each new row displaces a kept one (long values, so
	// the replaced bytes must be reclaimed); "signup" at time 0 is the head.
	s.add(o, 0, "signup", true, 1);
	auto value = [](std::int64_t i) { return "view" + std::to_string(i % 7) + std::string(100, 'x'); };
	const std::int64_t n = 1000000;
	for (std::int64_t i = 0; i < n; i++)
		s.add(o, n - i, value(i), false, 0);
	EXPECT_EQ(s.rows(), 2u);
	EXPECT_LT(s.serialized_size(), 512u);
	EXPECT_EQ(find(s, 1 << 16), std::optional<std::string>(value(n - 1))) << "the row at time 1 follows";
}

TEST(SequenceNextNode, OptionsParseAndMustNotChange)
{
	EXPECT_EQ(core::parse_next_direction("backward"), core::NextDirection::Backward);
	EXPECT_EQ(core::parse_next_base("last_match"), core::NextBase::LastMatch);
	expect_error(core::ErrorKind::InvalidArgument, [] { core::parse_next_direction("Forward"); });
	expect_error(core::ErrorKind::InvalidArgument, [] { core::parse_next_base("first"); });
	NextNodeOptions o{core::NextDirection::Forward, core::NextBase::FirstMatch, 2};
	NextNodeState s(o, heap());
	NextNodeOptions other = o;
	other.events = 3;
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(other, 1, "a", true, 1); });
	expect_error(core::ErrorKind::LimitExceeded, [&] {
		NextNodeOptions many = o;
		many.events = 65;
		NextNodeState t(many, heap());
	});
}

TEST(SequenceNextNode, SerializationRoundTripAndCorruptBytes)
{
	std::mt19937_64 rng(29);
	for (int trial = 0; trial < 40; trial++) {
		NextNodeOptions o{static_cast<core::NextDirection>(rng() % 2), static_cast<core::NextBase>(rng() % 4),
		                  1 + rng() % 4};
		auto s = next_state_of(o, random_node_rows(rng, o.events, rng() % 20));
		auto bytes = serialize(s);
		auto back = NextNodeState::deserialize(bytes.data(), bytes.size(), heap());
		EXPECT_EQ(serialize(back), bytes);
		EXPECT_EQ(find(back, 5), find(s, 5));
	}
	NextNodeOptions o{core::NextDirection::Forward, core::NextBase::Head, 2};
	auto s = next_state_of(o, {{3, "b", true, 1}, {1, "a", true, 3}, {2, "cc", false, 2}});
	check_corruption_rejected<NextNodeState>(
	    serialize(s), [](const NextNodeState &st) { return st.rows() <= st.options().events + 1; });
}
