// The options form of window_funnel (core::FunnelSpec, FunnelSpecState, FunnelPathEvaluator):
// against a brute-force reference that enumerates every chain of distinct rows, for random options
// (step order, strict_increase, windows, per-step windows, exclusions and both exclusion rules) on
// random rows with ties; input order and split independence, serialization and corrupt bytes,
// option checks, and the cost of adversarial inputs.
#include "core/funnel.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <random>
#include <vector>

namespace core = pg_product_analytics::core;
using core::ExclusionRule;
using core::FunnelPathEvaluator;
using core::FunnelSpec;
using core::FunnelSpecReportState;
using core::FunnelSpecState;
using core::LogEntry;
using core::StepOrder;
using pg_product_analytics::testing::check_corruption_rejected;
using pg_product_analytics::testing::expect_error;
using pg_product_analytics::testing::serialize;

namespace {

constexpr std::int64_t kNoLimit = FunnelSpec::kNoLimit;

std::pmr::memory_resource *
heap()
{
	return std::pmr::new_delete_resource();
}

struct Result {
	int level;
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

std::string
describe(const FunnelSpec &s, const std::vector<LogEntry> &rows)
{
	std::string out = "steps " + std::to_string(s.steps) + " order " + std::to_string(int(s.order)) + " rule " +
	                  std::to_string(int(s.rule)) + " increase " + std::to_string(s.strict_increase) + " window " +
	                  (s.window == kNoLimit ? "-" : std::to_string(s.window)) + " step windows";
	for (std::size_t k = 0; k + 1 < s.steps; k++)
		out += " " + (s.step_window[k] == kNoLimit ? std::string("-") : std::to_string(s.step_window[k]));
	out += " exclusions";
	for (std::size_t x = 0; x < s.exclusions; x++)
		out += " " + std::to_string(s.exclude_from[x]) + ".." + std::to_string(s.exclude_to[x]);
	out += " rows";
	for (const auto &r : rows)
		out += " (" + std::to_string(r.ts) + "," + std::to_string(r.payload) + ")";
	return out;
}

// ---- the reference ----

bool
has_step(const LogEntry &r, std::size_t step) // 1-based
{
	return ((r.payload >> (step - 1)) & 1) != 0;
}

bool
has_exclusion(const FunnelSpec &s, const LogEntry &r, std::size_t x)
{
	return ((r.payload >> (s.steps + x)) & 1) != 0;
}

// The largest number of steps filled by distinct rows among `rows` (each step at most once).
std::size_t
max_matching(const std::vector<LogEntry> &rows, std::size_t steps)
{
	std::vector<bool> used(rows.size(), false);
	std::function<std::size_t(std::size_t)> go = [&](std::size_t s) -> std::size_t {
		if (s > steps)
			return 0;
		std::size_t best = go(s + 1);
		for (std::size_t i = 0; i < rows.size(); i++)
			if (!used[i] && has_step(rows[i], s)) {
				used[i] = true;
				best = std::max(best, 1 + go(s + 1));
				used[i] = false;
			}
		return best;
	};
	return go(1);
}

// Every chain of distinct rows, then the documented rules (docs/funnel.md, "Funnel options").
Result
reference(std::vector<LogEntry> rows, const FunnelSpec &s)
{
	std::sort(rows.begin(), rows.end());
	const std::size_t n = rows.size();
	if (s.order == StepOrder::Any) {
		std::size_t best = 0;
		for (std::size_t a = 0; a < n; a++) {
			std::vector<LogEntry> in;
			for (const auto &r : rows)
				if (r.ts >= rows[a].ts && (s.window == kNoLimit || r.ts - rows[a].ts <= s.window))
					in.push_back(r);
			best = std::max(best, max_matching(in, s.steps));
		}
		return Result{static_cast<int>(best), {}};
	}
	const bool strict = s.order == StepOrder::Strict;
	auto next_ts_after = [&](std::int64_t t) {
		for (const auto &r : rows)
			if (r.ts > t)
				return r.ts;
		return kNoLimit;
	};
	struct Chain {
		std::vector<std::int64_t> ts;
		bool interrupted; // ExcludeUser
		bool valid;       // EndChain
	};
	std::vector<Chain> chains;
	std::vector<std::size_t> path;
	std::vector<bool> used(n, false);
	auto judge = [&](const std::vector<std::int64_t> &t) {
		Chain c{t, false, true};
		const std::size_t k = t.size();
		for (std::size_t x = 0; x < s.exclusions; x++) {
			const std::size_t i = s.exclude_from[x], j = s.exclude_to[x];
			if (k < i)
				continue;
			const std::int64_t ti = t[i - 1];
			std::int64_t deadline;
			if (k >= j) {
				deadline = t[j - 1] - 1; // strictly before step j
			} else if (strict) {
				deadline = next_ts_after(t[k - 1]);
			} else {
				std::int64_t d = s.step_window[k - 1] != kNoLimit ? s.step_window[k - 1] : s.window;
				deadline = d == kNoLimit ? kNoLimit : t[k - 1] + d;
			}
			for (const auto &r : rows)
				if (has_exclusion(s, r, x) && r.ts > ti && r.ts <= deadline)
					c.interrupted = true;
			if (k > i) {
				const std::int64_t end = t[std::min(j, k) - 1];
				for (const auto &r : rows)
					if (has_exclusion(s, r, x) && r.ts > ti && r.ts < end)
						c.valid = false;
			}
		}
		return c;
	};
	std::function<void()> dfs = [&]() {
		const std::size_t k = path.size();
		if (k > 0) {
			std::vector<std::int64_t> t;
			for (auto i : path)
				t.push_back(rows[i].ts);
			chains.push_back(judge(t));
		}
		if (k == s.steps)
			return;
		for (std::size_t r = 0; r < n; r++) {
			if (used[r] || !has_step(rows[r], k + 1))
				continue;
			if (k > 0) {
				const std::int64_t prev = rows[path.back()].ts, first = rows[path.front()].ts;
				if (rows[r].ts < prev || (s.strict_increase && rows[r].ts == prev))
					continue;
				if (s.window != kNoLimit && rows[r].ts - first > s.window)
					continue;
				if (s.step_window[k - 1] != kNoLimit && rows[r].ts - prev > s.step_window[k - 1])
					continue;
				if (strict && rows[r].ts > prev && next_ts_after(prev) != rows[r].ts)
					continue;
			}
			used[r] = true;
			path.push_back(r);
			dfs();
			path.pop_back();
			used[r] = false;
		}
	};
	dfs();
	const bool exclude_user = s.exclusions > 0 && s.rule == ExclusionRule::ExcludeUser;
	const bool end_chain = s.exclusions > 0 && s.rule == ExclusionRule::EndChain;
	std::size_t level = 0;
	for (const auto &c : chains)
		if (!end_chain || c.valid)
			level = std::max(level, c.ts.size());
	if (level == 0)
		return Result{0, {}};
	const Chain *best = nullptr;
	auto better = [&](const Chain &a, const Chain &b) {
		const std::size_t L = a.ts.size();
		if (a.ts[L - 1] != b.ts[L - 1])
			return a.ts[L - 1] < b.ts[L - 1];
		if (a.ts[0] != b.ts[0])
			return a.ts[0] > b.ts[0];
		for (std::size_t i = L - 1; i-- > 1;)
			if (a.ts[i] != b.ts[i])
				return a.ts[i] > b.ts[i];
		return false;
	};
	for (const auto &c : chains) {
		if (c.ts.size() != level || (exclude_user && c.interrupted) || (end_chain && !c.valid))
			continue;
		if (best == nullptr || better(c, *best))
			best = &c;
	}
	if (best == nullptr)
		return Result{-1, {}};
	return Result{static_cast<int>(level), best->ts};
}

// ---- the implementation, as the glue runs it ----

FunnelSpecState
state_of(const FunnelSpec &s, const std::vector<LogEntry> &rows)
{
	FunnelSpecState state(s, false, heap());
	for (const auto &r : rows)
		state.add(s, r.ts, r.payload);
	return state;
}

Result
evaluate(FunnelSpecState &state, std::size_t budget = 3)
{
	while (!state.sort_step(budget)) {
	}
	const FunnelSpec &s = state.options();
	const bool track = s.order != StepOrder::Any;
	FunnelPathEvaluator ev(s, track, heap());
	const auto &events = state.events();
	std::size_t pos = 0;
	while (!ev.done())
		pos = ev.process(events.data(), events.size(), pos, budget);
	std::vector<std::int64_t> chain(s.steps);
	chain.resize(ev.chain(chain.data()));
	return Result{ev.level(), chain};
}

// The rows a state keeps, as the reference must see them (strict: rows matching nothing, one per
// timestamp; otherwise none of them).
std::vector<LogEntry>
kept(const FunnelSpec &s, std::vector<LogEntry> rows)
{
	std::sort(rows.begin(), rows.end());
	std::vector<LogEntry> out;
	for (const auto &r : rows) {
		if (r.payload == 0 && (s.order != StepOrder::Strict || (!out.empty() && out.back() == r)))
			continue;
		out.push_back(r);
	}
	return out;
}

FunnelSpec
random_spec(std::mt19937_64 &rng)
{
	FunnelSpec s;
	s.steps = 1 + rng() % 4;
	s.order = static_cast<StepOrder>(rng() % 3);
	s.rule = static_cast<ExclusionRule>(rng() % 2);
	if (rng() % 2)
		s.window = static_cast<std::int64_t>(rng() % 12);
	if (s.order != StepOrder::Any) {
		s.strict_increase = rng() % 4 == 0;
		if (rng() % 2)
			for (std::size_t k = 0; k + 1 < s.steps; k++)
				if (rng() % 3)
					s.step_window[k] = static_cast<std::int64_t>(rng() % 6);
		if (s.steps >= 2) {
			s.exclusions = rng() % 3;
			for (std::size_t x = 0; x < s.exclusions; x++) {
				std::size_t a = 1 + rng() % s.steps, b = 1 + rng() % s.steps;
				if (a == b)
					b = a == s.steps ? a - 1 : a + 1;
				s.exclude_from[x] = static_cast<std::uint8_t>(std::min(a, b));
				s.exclude_to[x] = static_cast<std::uint8_t>(std::max(a, b));
			}
		}
	}
	return s;
}

std::vector<LogEntry>
random_rows(std::mt19937_64 &rng, const FunnelSpec &s, std::size_t count, std::int64_t span)
{
	std::vector<LogEntry> rows;
	for (std::size_t i = 0; i < count; i++) {
		std::uint64_t mask = 0;
		const auto kind = rng() % 10;
		if (kind < 6) {
			mask = std::uint64_t{1} << (rng() % s.steps); // one step: most rows
		} else if (kind < 7) {
			mask = rng() & s.step_bits(); // several steps (a name given twice, overlapping conditions)
		} else if (kind < 9 && s.exclusions > 0) {
			mask = std::uint64_t{1} << (s.steps + rng() % s.exclusions);
			if (rng() % 4 == 0)
				mask |= std::uint64_t{1} << (rng() % s.steps);
		}
		rows.push_back(LogEntry{static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(span)), mask});
	}
	return rows;
}

void
check_case(const FunnelSpec &s, const std::vector<LogEntry> &rows, std::mt19937_64 &rng)
{
	const Result want = reference(kept(s, rows), s);
	FunnelSpecState state = state_of(s, rows);
	const Result got = evaluate(state, 1 + rng() % 5);
	ASSERT_EQ(got, want) << describe(s, kept(s, rows));
	// The same rows in another order and split in two states give the same.
	auto shuffled = rows;
	std::shuffle(shuffled.begin(), shuffled.end(), rng);
	const std::size_t cut = shuffled.empty() ? 0 : rng() % shuffled.size();
	FunnelSpecState a = state_of(s, {shuffled.begin(), shuffled.begin() + static_cast<std::ptrdiff_t>(cut)});
	FunnelSpecState b = state_of(s, {shuffled.begin() + static_cast<std::ptrdiff_t>(cut), shuffled.end()});
	a.merge(b);
	const auto bytes = serialize(a);
	FunnelSpecState c = FunnelSpecState::deserialize(bytes.data(), bytes.size());
	ASSERT_EQ(evaluate(c, 64), want) << describe(s, kept(s, rows));
}

TEST(FunnelOptions, MatchesReferenceOnRandomOptionsAndRows)
{
	std::mt19937_64 rng(20261203);
	for (int i = 0; i < 30000; i++) {
		const FunnelSpec s = random_spec(rng);
		const auto rows = random_rows(rng, s, rng() % 9, 1 + static_cast<std::int64_t>(rng() % 14));
		check_case(s, rows, rng);
		if (HasFatalFailure())
			return;
	}
}

TEST(FunnelOptions, MatchesReferenceOnHeavyTies)
{
	std::mt19937_64 rng(99);
	for (int i = 0; i < 5000; i++) {
		const FunnelSpec s = random_spec(rng);
		const auto rows = random_rows(rng, s, 4 + rng() % 6, 3);
		check_case(s, rows, rng);
		if (HasFatalFailure())
			return;
	}
}

// ---- known cases, as the docs state them ----

FunnelSpec
spec(std::size_t steps, std::int64_t window = kNoLimit)
{
	FunnelSpec s;
	s.steps = steps;
	s.window = window;
	return s;
}

Result
run(const FunnelSpec &s, const std::vector<LogEntry> &rows)
{
	FunnelSpecState state = state_of(s, rows);
	return evaluate(state);
}

constexpr std::uint64_t kStep1 = 1, kStep2 = 2, kStep3 = 4;

TEST(FunnelOptions, ExclusionExcludesTheUserOrEndsTheChain)
{
	FunnelSpec s = spec(3, 100);
	s.exclusions = 1;
	s.exclude_from[0] = 1;
	s.exclude_to[0] = 3;
	const std::uint64_t x = 8; // the exclusion's bit: after the 3 steps
	// 1, 2, exclusion, 3: interrupted between steps 1 and 3.
	const std::vector<LogEntry> rows{{0, kStep1}, {10, kStep2}, {20, x}, {30, kStep3}};
	EXPECT_EQ(run(s, rows), (Result{-1, {}}));
	s.rule = ExclusionRule::EndChain;
	EXPECT_EQ(run(s, rows), (Result{2, {0, 10}}));
	// A clean chain later counts (the user is not excluded).
	s.rule = ExclusionRule::ExcludeUser;
	auto again = rows;
	again.insert(again.end(), {{200, kStep1}, {210, kStep2}, {220, kStep3}});
	EXPECT_EQ(run(s, again), (Result{3, {200, 210, 220}}));
	// An exclusion on the timestamp of step 3 is not between the steps.
	EXPECT_EQ(run(s, {{0, kStep1}, {10, kStep2}, {30, x}, {30, kStep3}}), (Result{3, {0, 10, 30}}));
	// After the last step reached, within the window: interrupted; after the window: not.
	EXPECT_EQ(run(s, {{0, kStep1}, {10, kStep2}, {50, x}}), (Result{-1, {}}));
	EXPECT_EQ(run(s, {{0, kStep1}, {10, kStep2}, {111, x}}), (Result{2, {0, 10}}));
}

TEST(FunnelOptions, PerStepWindowsNeedTheLaterOfTwoCandidates)
{
	FunnelSpec s = spec(3);
	s.step_window[0] = 10;
	s.step_window[1] = 10;
	// Step 2 at 1 cannot reach step 3 at 18; step 2 at 9 can.
	EXPECT_EQ(run(s, {{0, kStep1}, {1, kStep2}, {9, kStep2}, {18, kStep3}}), (Result{3, {0, 9, 18}}));
	EXPECT_EQ(run(s, {{0, kStep1}, {1, kStep2}, {12, kStep3}}), (Result{2, {0, 1}}));
}

TEST(FunnelOptions, StrictOrderCountsEveryEvent)
{
	FunnelSpec s = spec(2);
	s.order = StepOrder::Strict;
	EXPECT_EQ(run(s, {{0, kStep1}, {5, 0}, {10, kStep2}}), (Result{1, {0}}));
	EXPECT_EQ(run(s, {{0, kStep1}, {10, kStep2}}), (Result{2, {0, 10}}));
	// Events on one timestamp are simultaneous: none lies between the others.
	EXPECT_EQ(run(s, {{0, kStep1}, {10, 0}, {10, kStep2}}), (Result{2, {0, 10}}));
}

TEST(FunnelOptions, AnyOrderAndDuplicateSteps)
{
	FunnelSpec s = spec(3, 10);
	s.order = StepOrder::Any;
	EXPECT_EQ(run(s, {{0, kStep3}, {3, kStep1}, {9, kStep2}}).level, 3);
	EXPECT_EQ(run(s, {{0, kStep3}, {3, kStep1}, {11, kStep2}}).level, 2);
	// The same event as two steps needs two rows.
	FunnelSpec d = spec(2);
	EXPECT_EQ(run(d, {{0, kStep1 | kStep2}}), (Result{1, {0}}));
	EXPECT_EQ(run(d, {{0, kStep1 | kStep2}, {0, kStep1 | kStep2}}), (Result{2, {0, 0}}));
}

TEST(FunnelOptions, OptionsAreChecked)
{
	auto bad = [](std::function<void(FunnelSpec &)> change, core::ErrorKind kind = core::ErrorKind::InvalidArgument) {
		FunnelSpec s = spec(3, 10);
		change(s);
		expect_error(kind, [&] { core::check_funnel_spec(s); });
	};
	bad([](FunnelSpec &s) { s.window = -1; });
	bad([](FunnelSpec &s) { s.step_window[1] = -1; });
	bad([](FunnelSpec &s) { s.step_window[2] = 5; }); // past the last step
	bad([](FunnelSpec &s) {
		s.exclusions = 1;
		s.exclude_from[0] = 2;
		s.exclude_to[0] = 4;
	});
	bad([](FunnelSpec &s) {
		s.exclusions = 1;
		s.exclude_from[0] = 2;
		s.exclude_to[0] = 2;
	});
	bad([](FunnelSpec &s) {
		s.order = StepOrder::Any;
		s.step_window[0] = 5;
	});
	bad([](FunnelSpec &s) {
		s.order = StepOrder::Any;
		s.exclusions = 1;
		s.exclude_from[0] = 1;
		s.exclude_to[0] = 2;
	});
	bad([](FunnelSpec &s) {
		s.order = StepOrder::Any;
		s.strict_increase = true;
	});
	bad([](FunnelSpec &s) { s.steps = 0; });
	bad(
	    [](FunnelSpec &s) {
		    s.steps = 60;
		    s.exclusions = 5;
		    for (std::size_t x = 0; x < 5; x++) {
			    s.exclude_from[x] = 1;
			    s.exclude_to[x] = 2;
		    }
	    },
	    core::ErrorKind::LimitExceeded);
	FunnelSpec any = spec(3);
	any.order = StepOrder::Any;
	expect_error(core::ErrorKind::InvalidArgument, [&] { FunnelPathEvaluator(any, true, heap()); });
	// A row with other options in the group.
	FunnelSpecState state(spec(3, 10), false, heap());
	expect_error(core::ErrorKind::InvalidArgument, [&] { state.add(spec(3, 11), 0, 1); });
}

TEST(FunnelOptions, SharedOptionsArePointedToAndCopiesAreOwned)
{
	const FunnelSpec kept_spec = spec(3, 10);
	FunnelSpecState shared(kept_spec, true, heap());
	EXPECT_EQ(&shared.options(), &kept_spec);
	FunnelSpecState owned(kept_spec, false, heap());
	EXPECT_NE(&owned.options(), &kept_spec);
	FunnelSpecState copy(shared, heap());
	EXPECT_EQ(&copy.options(), &kept_spec);
	const auto bytes = serialize(shared);
	const FunnelSpec *list[] = {&kept_spec};
	FunnelSpecState back = FunnelSpecState::deserialize(bytes.data(), bytes.size(), heap(), list, 1);
	EXPECT_EQ(&back.options(), &kept_spec);
	FunnelSpecState alone = FunnelSpecState::deserialize(bytes.data(), bytes.size(), heap());
	EXPECT_NE(&alone.options(), &kept_spec);
	EXPECT_TRUE(alone.options() == kept_spec);
}

TEST(FunnelOptions, CorruptBytesAreRejected)
{
	FunnelSpec s = spec(3, 10);
	s.step_window[0] = 4;
	s.exclusions = 1;
	s.exclude_from[0] = 1;
	s.exclude_to[0] = 3;
	s.order = StepOrder::Strict;
	FunnelSpecState state = state_of(s, {{5, 1}, {1, 8}, {3, 0}, {9, 4}});
	check_corruption_rejected<FunnelSpecState>(serialize(state), [](const FunnelSpecState &st) {
		const std::uint64_t valid = st.options().valid_bits();
		for (const auto &e : st.events())
			if ((e.payload & ~valid) != 0)
				return false;
		return true;
	});
}

// ---- cost ----

TEST(FunnelOptions, AdversarialInputsAreLinearOrPolynomial)
{
	std::mt19937_64 rng(5);
	// 64 steps, every row matching every step, all on a few timestamps: the matching per timestamp
	// is bounded by each step keeping 64 candidate rows.
	FunnelSpec s = spec(64);
	std::vector<LogEntry> rows;
	for (int i = 0; i < 200000; i++)
		rows.push_back(LogEntry{i / 50000, ~std::uint64_t{0}});
	auto start = std::chrono::steady_clock::now();
	EXPECT_EQ(run(s, rows).level, 64);
	// Alternating steps with per-step windows and an exclusion: a long run of chains per level.
	FunnelSpec w = spec(8, 1000000);
	for (std::size_t k = 0; k < 7; k++)
		w.step_window[k] = 50;
	w.exclusions = 1;
	w.exclude_from[0] = 2;
	w.exclude_to[0] = 8;
	std::vector<LogEntry> many;
	for (int i = 0; i < 500000; i++)
		many.push_back(LogEntry{i, std::uint64_t{1} << (rng() % 7)});
	many.push_back(LogEntry{400000, std::uint64_t{1} << 8});
	const Result r = run(w, many);
	EXPECT_GE(r.level, 1);
	// Any order over a wide window with rows matching several steps.
	FunnelSpec any = spec(64, 1000);
	any.order = StepOrder::Any;
	std::vector<LogEntry> mixed;
	for (int i = 0; i < 20000; i++)
		mixed.push_back(LogEntry{i, (rng() & rng()) | 1});
	EXPECT_GE(run(any, mixed).level, 1);
	const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
	EXPECT_LT(seconds, 20.0);
}

// ---- the report forms ----

struct UserRow {
	std::int64_t user;
	std::int64_t ts;
	std::uint64_t mask;
	int value; // -1: NULL
};

std::string
value_name(int v)
{
	return "v" + std::to_string(v);
}

// Adds rows to a report state, in the given order, as the glue does.
void
add_rows(FunnelSpecReportState &state, const FunnelSpec &s, const std::vector<UserRow> &rows)
{
	for (const auto &r : rows) {
		const std::string name = value_name(r.value);
		const std::string_view view(name);
		state.add(s, r.user, r.ts, r.mask, r.value < 0 ? nullptr : &view);
	}
	state.flush();
}

TEST(FunnelOptionsReport, EveryUserAsThePerUserFunnelAndBreakdownsByAttribution)
{
	std::mt19937_64 rng(404);
	for (int trial = 0; trial < 3000; trial++) {
		FunnelSpec s = random_spec(rng);
		const int attribution = static_cast<int>(rng() % 3);
		if (attribution == 2 && s.order != StepOrder::Any) {
			s.attribution = core::Attribution::Step;
			s.attribution_step = static_cast<std::uint8_t>(1 + rng() % s.steps);
		} else if (attribution == 1) {
			s.attribution = core::Attribution::LastTouch;
		}
		const bool with_control = rng() % 2 == 0;
		const std::string control = value_name(static_cast<int>(rng() % 3));
		if (with_control)
			s.control = core::control_hash(control);
		const std::string_view control_view(control);
		std::vector<UserRow> rows;
		const std::size_t users = 1 + rng() % 12;
		for (std::size_t u = 0; u < users; u++)
			for (const auto &e : random_rows(rng, s, rng() % 8, 12))
				rows.push_back(UserRow{static_cast<std::int64_t>(u), e.ts, e.payload,
				                       rng() % 4 == 0 ? -1 : static_cast<int>(rng() % 3)});
		std::shuffle(rows.begin(), rows.end(), rng);
		// The state, split in two and merged, through serialization.
		const std::size_t cut = rows.empty() ? 0 : rng() % rows.size();
		FunnelSpecReportState a(s, false, true, with_control ? &control_view : nullptr, nullptr, {},
		                        core::UserKeyKind::Integer, heap());
		FunnelSpecReportState b(s, false, true, with_control ? &control_view : nullptr, nullptr, {},
		                        core::UserKeyKind::Integer, heap());
		add_rows(a, s, {rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(cut)});
		add_rows(b, s, {rows.begin() + static_cast<std::ptrdiff_t>(cut), rows.end()});
		const auto bytes_b = serialize(b);
		a.merge(FunnelSpecReportState::deserialize(bytes_b.data(), bytes_b.size()));
		const auto bytes = serialize(a);
		FunnelSpecReportState state = FunnelSpecReportState::deserialize(bytes.data(), bytes.size());

		// Reference: each user's level and chain (the brute force), the attributed value, the counts.
		std::map<int, std::vector<std::int64_t>> reached; // value (-1 NULL) -> users reaching step k
		std::vector<std::int64_t> all(s.steps + 1, 0);
		std::int64_t excluded = 0;
		for (std::size_t u = 0; u < users; u++) {
			std::vector<LogEntry> mine;
			std::vector<std::pair<LogEntry, int>> valued;
			for (const auto &r : rows)
				if (r.user == static_cast<std::int64_t>(u)) {
					mine.push_back(LogEntry{r.ts, r.mask});
					valued.push_back({LogEntry{r.ts, r.mask}, r.value});
				}
			const Result want = reference(kept(s, mine), s);
			if (want.level < 0) {
				excluded++;
				continue;
			}
			for (int k = 1; k <= want.level; k++)
				all[static_cast<std::size_t>(k)]++;
			if (want.level == 0)
				continue; // not in any breakdown value
			// Attribution among rows matching a step (and, for a step, that step on its timestamp).
			std::optional<int> value; // nullopt: left out
			std::vector<std::pair<std::int64_t, int>> candidates;
			for (const auto &[e, v] : valued) {
				if (v < 0)
					continue;
				if (s.attribution == core::Attribution::Step) {
					const std::size_t k = s.attribution_step;
					if (want.level >= static_cast<int>(k) && e.ts == want.chain[k - 1] && has_step(e, k))
						candidates.push_back({e.ts, v});
				} else if ((e.payload & s.step_bits()) != 0) {
					candidates.push_back({e.ts, v});
				}
			}
			if (s.attribution == core::Attribution::Step) {
				if (!candidates.empty())
					value = std::min_element(candidates.begin(), candidates.end(), [](auto x, auto y) {
						        return value_name(x.second) < value_name(y.second);
					        })->second;
			} else if (candidates.empty()) {
				value = -1;
			} else {
				const bool first = s.attribution == core::Attribution::FirstTouch;
				std::int64_t t = candidates[0].first;
				for (auto c : candidates)
					t = first ? std::min(t, c.first) : std::max(t, c.first);
				std::string best;
				for (auto c : candidates)
					if (c.first == t && (best.empty() || value_name(c.second) < best)) {
						best = value_name(c.second);
						value = c.second;
					}
			}
			if (!value)
				continue;
			auto &counts = reached[*value];
			counts.resize(s.steps + 1, 0);
			counts[0]++;
			for (int k = 1; k <= want.level; k++)
				counts[static_cast<std::size_t>(k)]++;
		}
		// The plain report.
		core::FunnelSpecReportBuilder report(state, heap());
		while (!report.step(1 + rng() % 7)) {
		}
		const auto report_rows = report.tally().rows();
		ASSERT_EQ(report.tally().excluded(), excluded) << trial;
		for (std::size_t k = 1; k <= s.steps; k++)
			ASSERT_EQ(report_rows[k - 1].users, all[k]) << trial << " step " << k << " " << describe(s, {});
		// The breakdown: values in byte order, NULL last; counts and the comparison with the control.
		core::FunnelBreakdownBuilder breakdown(state, heap());
		while (!breakdown.step(1 + rng() % 7)) {
		}
		const auto got = breakdown.result();
		std::vector<int> order;
		for (const auto &[v, c] : reached)
			if (v >= 0)
				order.push_back(v);
		std::sort(order.begin(), order.end(), [](int x, int y) { return value_name(x) < value_name(y); });
		if (reached.count(-1))
			order.push_back(-1);
		ASSERT_EQ(got.size(), order.size() * s.steps) << trial;
		const bool control_present = with_control && reached.count(std::stoi(control.substr(1))) > 0;
		for (std::size_t i = 0; i < order.size(); i++)
			for (std::size_t k = 1; k <= s.steps; k++) {
				const auto &row = got[i * s.steps + k - 1];
				const int v = order[i];
				ASSERT_EQ(row.has_value, v >= 0);
				if (v >= 0) {
					ASSERT_EQ(std::string(row.value), value_name(v));
				}
				ASSERT_EQ(row.row.step, k);
				ASSERT_EQ(row.row.users, reached[v][k]) << trial << " value " << v << " step " << k;
				const bool is_control = v >= 0 && value_name(v) == control;
				ASSERT_EQ(row.compared, control_present && !is_control);
				if (row.compared) {
					const auto &c = reached[std::stoi(control.substr(1))];
					const auto want = core::compare_conversions(c[1], c[k], reached[v][1], reached[v][k]);
					ASSERT_TRUE(std::isnan(want.p_value) ? std::isnan(row.vs_control.p_value)
					                                     : want.p_value == row.vs_control.p_value);
				}
			}
	}
}

TEST(FunnelOptionsReport, CorruptBytesAreRejectedAndLimitsChecked)
{
	FunnelSpec s = spec(3, 10);
	s.exclusions = 1;
	s.exclude_from[0] = 1;
	s.exclude_to[0] = 3;
	s.control = core::control_hash("b");
	const std::string_view control("b");
	const core::CalendarKey trend{core::PeriodUnit::Week, 42};
	FunnelSpecReportState state(s, false, true, &control, &trend, "Europe/Berlin", core::UserKeyKind::Integer, heap());
	add_rows(state, s, {{1, 5, 1, 0}, {2, 1, 8, -1}, {1, 3, 2, 1}, {2, 9, 4, 0}});
	check_corruption_rejected<FunnelSpecReportState>(
	    serialize(state), [](const FunnelSpecReportState &st) { return st.values().size() <= 2; });
	// A breakdown keeps the value beside the mask: 32 steps and exclusions at most.
	FunnelSpec wide = spec(33);
	expect_error(core::ErrorKind::LimitExceeded, [&] {
		FunnelSpecReportState(wide, false, true, nullptr, nullptr, {}, core::UserKeyKind::Integer, heap());
	});
	FunnelSpecReportState plain(wide, false, false, nullptr, nullptr, {}, core::UserKeyKind::Integer, heap());
	// Attribution at a step past the last, or with any order.
	FunnelSpec at = spec(2);
	at.attribution = core::Attribution::Step;
	at.attribution_step = 3;
	expect_error(core::ErrorKind::InvalidArgument, [&] { core::check_funnel_spec(at); });
	at.attribution_step = 1;
	at.order = StepOrder::Any;
	expect_error(core::ErrorKind::InvalidArgument, [&] { core::check_funnel_spec(at); });
}

// ---- conversion_significance ----

TEST(ConversionSignificance, MatchesIndependentFigures)
{
	// R: prop.test(c(100, 130), c(1000, 1000), correct = FALSE)$p.value = 0.03549; the interval is
	// the Wald interval; P(B > A) from 400 000 Beta draws (Python's random.betavariate).
	const auto c = core::compare_conversions(1000, 100, 1000, 130);
	EXPECT_DOUBLE_EQ(c.rate_a, 0.1);
	EXPECT_DOUBLE_EQ(c.rate_b, 0.13);
	EXPECT_NEAR(c.difference, 0.03, 1e-12);
	EXPECT_NEAR(c.ci_low, 0.0020679344393763656, 1e-12);
	EXPECT_NEAR(c.ci_high, 0.057932065560623636, 1e-12);
	EXPECT_NEAR(c.p_value, 0.03548845046647473, 1e-12);
	EXPECT_NEAR(c.probability_b_better, 0.9819, 0.002);
	const auto d = core::compare_conversions(50, 5, 60, 12);
	EXPECT_NEAR(d.p_value, 0.1485296793244412, 1e-12);
	EXPECT_NEAR(d.ci_low, -0.03099051899189914, 1e-12);
	EXPECT_NEAR(d.probability_b_better, 0.9200, 0.003);
	EXPECT_NEAR(core::compare_conversions(10, 0, 10, 1).probability_b_better, 0.7626, 0.003);
}

TEST(ConversionSignificance, SymmetricAndExactWhereItMustBe)
{
	std::mt19937_64 rng(3);
	for (int i = 0; i < 2000; i++) {
		const std::int64_t na = 1 + static_cast<std::int64_t>(rng() % 300),
		                   nb = 1 + static_cast<std::int64_t>(rng() % 300);
		const std::int64_t xa = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(na + 1));
		const std::int64_t xb = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(nb + 1));
		const auto ab = core::compare_conversions(na, xa, nb, xb);
		const auto ba = core::compare_conversions(nb, xb, na, xa);
		ASSERT_NEAR(ab.probability_b_better + ba.probability_b_better, 1.0, 1e-9)
		    << na << " " << xa << " " << nb << " " << xb;
		if (!std::isnan(ab.p_value)) {
			ASSERT_NEAR(ab.p_value, ba.p_value, 1e-12);
		}
		ASSERT_GE(ab.probability_b_better, 0.0);
		ASSERT_LE(ab.probability_b_better, 1.0);
	}
	// Equal groups: probability one half, p-value 1.
	const auto same = core::compare_conversions(400, 37, 400, 37);
	EXPECT_NEAR(same.probability_b_better, 0.5, 1e-9);
	EXPECT_NEAR(same.p_value, 1.0, 1e-12);
	// Large counts take the normal approximation: continuous with the exact sum at the switch.
	const auto exact = core::compare_conversions(2000000, 99000, 2000000, 99800);
	const auto normal = core::compare_conversions(2000000, 100001, 2000000, 100801);
	EXPECT_NEAR(exact.probability_b_better, normal.probability_b_better, 0.01);
}

TEST(ConversionSignificance, UndefinedIsNaNAndBadCountsAreErrors)
{
	const auto none = core::compare_conversions(0, 0, 10, 3);
	EXPECT_TRUE(std::isnan(none.rate_a));
	EXPECT_DOUBLE_EQ(none.rate_b, 0.3);
	EXPECT_TRUE(std::isnan(none.difference) && std::isnan(none.p_value) && std::isnan(none.probability_b_better));
	const auto all = core::compare_conversions(10, 10, 20, 20); // everyone converted: no variance
	EXPECT_DOUBLE_EQ(all.difference, 0.0);
	EXPECT_TRUE(std::isnan(all.p_value) && std::isnan(all.ci_low) && std::isnan(all.ci_high));
	EXPECT_FALSE(std::isnan(all.probability_b_better));
	const auto one_sided = core::compare_conversions(10, 0, 10, 5); // pooled rate 1/4: defined
	EXPECT_FALSE(std::isnan(one_sided.p_value));
	expect_error(core::ErrorKind::InvalidArgument, [] { core::compare_conversions(-1, 0, 1, 0); });
	expect_error(core::ErrorKind::InvalidArgument, [] { core::compare_conversions(5, 6, 1, 0); });
}

} // namespace
