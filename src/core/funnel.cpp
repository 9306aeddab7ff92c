#include "funnel.hpp"

#include "error.hpp"
#include "serial.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace pg_product_analytics::core {

namespace {

struct ModeName {
	const char *name;
	std::uint32_t flag;
};
constexpr ModeName kModeNames[] = {
    {"strict_order", kStrictOrder}, {"strict_deduplication", kStrictDedup}, {"strict_increase", kStrictIncrease},
    {"strict_once", kStrictOnce},   {"allow_reentry", kAllowReentry},
};
constexpr std::uint32_t kAllModes = kStrictOrder | kStrictDedup | kStrictIncrease | kStrictOnce | kAllowReentry;

std::string_view
trim(std::string_view s)
{
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
		s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
		s.remove_suffix(1);
	return s;
}

void
check_modes(std::uint32_t modes)
{
	if ((modes & kAllowReentry) != 0 && (modes & kStrictOrder) == 0)
		throw Error(ErrorKind::InvalidArgument, "funnel mode allow_reentry requires strict_order");
}

} // namespace

std::uint32_t
parse_funnel_modes(std::string_view text)
{
	std::uint32_t modes = 0;
	const std::string_view whole = text;
	if (trim(text).empty())
		return modes;
	while (true) {
		auto comma = text.find(',');
		std::string_view name = trim(text.substr(0, comma));
		std::uint32_t flag = 0;
		if (name.empty())
			throw Error(ErrorKind::InvalidArgument, "empty funnel mode name in \"" + std::string(whole) + "\"");
		for (const auto &m : kModeNames)
			if (name == m.name)
				flag = m.flag;
		if (flag == 0)
			throw Error(ErrorKind::InvalidArgument, "unknown funnel mode \"" + std::string(name) + "\"", "",
			            "Valid modes, comma-separated: strict_order, strict_deduplication, strict_increase, "
			            "strict_once, allow_reentry.");
		modes |= flag;
		if (comma == std::string_view::npos)
			break;
		text.remove_prefix(comma + 1);
	}
	check_modes(modes);
	return modes;
}

void
check_funnel_options(const FunnelOptions &options)
{
	if (options.window < 0)
		throw Error(ErrorKind::InvalidArgument, "funnel window must not be negative");
	if ((options.modes & ~kAllModes) != 0)
		throw Error(ErrorKind::InvalidArgument, "unknown funnel mode flags");
	check_modes(options.modes);
	check_condition_count(options.steps, "step");
}

// ---------------------------------------------------------------------------------------------
// FunnelState

FunnelState::FunnelState(const FunnelOptions &options, std::pmr::memory_resource *memory)
    : options_(options), log_(memory)
{
	check_funnel_options(options);
}

FunnelState::FunnelState(const FunnelState &other, std::pmr::memory_resource *memory)
    : options_(other.options_), log_(other.log_, memory)
{
}

void
FunnelState::throw_options_changed(const FunnelOptions &got) const
{
	const char *what = got.window != options_.window ? "funnel window"
	                   : got.modes != options_.modes ? "funnel mode"
	                                                 : "number of funnel steps";
	throw_changed_within_group(what);
}

void
FunnelState::merge(const FunnelState &other)
{
	if (!(other.options_ == options_))
		throw_options_changed(other.options_);
	log_.merge(other.log_);
}

namespace {
constexpr std::size_t kFunnelHeaderSize = kHeaderSize + 1 + 1 + 8;
}

std::size_t
FunnelState::serialized_size() const noexcept
{
	return kFunnelHeaderSize + log_.serialized_size();
}

void
FunnelState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::Funnel);
	w.u8(static_cast<std::uint8_t>(options_.steps));
	w.u8(static_cast<std::uint8_t>(options_.modes));
	w.u64(static_cast<std::uint64_t>(options_.window));
	log_.serialize(w);
	w.finish();
}

FunnelState
FunnelState::deserialize(const std::uint8_t *in, std::size_t size, std::pmr::memory_resource *memory)
{
	ByteReader r(in, size);
	r.header(StateTag::Funnel);
	FunnelOptions options;
	options.steps = r.u8();
	options.modes = r.u8();
	options.window = static_cast<std::int64_t>(r.u64());
	try {
		check_funnel_options(options);
	} catch (const Error &) {
		throw_corrupt("invalid funnel options");
	}
	FunnelState state(options, memory);
	const std::uint64_t valid = options.steps == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << options.steps) - 1;
	const bool strict_order = (options.modes & kStrictOrder) != 0;
	state.log_.deserialize(
	    r, [&](const FunnelEvent &e) { return (e.payload & ~valid) == 0 && (e.payload != 0 || strict_order); });
	r.finish();
	return state;
}

// ---------------------------------------------------------------------------------------------
// FunnelEvaluator
//
// Rows are read group by group (equal timestamps). Inside a group the entries are taken in (step,
// row) order, as ClickHouse does on ties: all rows of step 1, then of step 2, ... So a strict mode
// that ends the scan does so at a step, or (strict_deduplication) at the second row of a step
// that was reached; and a chain ending in the group with base b reaching level L uses steps
// b+1..L of the group, each on one of its rows (strict_once: on distinct rows, which is a
// bipartite matching of steps to rows; strict_increase: only b = L - 1). The feasible bases of
// level L form an interval [low(L), L - 1] whose ends only grow with L, so the best chain per
// level comes from a sliding window over the bases.

FunnelEvaluator::FunnelEvaluator(const FunnelOptions &options, bool track_steps, std::pmr::memory_resource *memory)
    : options_(options), track_(track_steps),
      once_((options.modes & kStrictOnce) != 0 && (options.modes & kStrictIncrease) == 0), paths_(memory),
      candidates_(memory), row_step_(memory), row_visit_(memory)
{
	check_funnel_options(options);
	for (std::size_t k = 0; k <= options.steps; k++) {
		reached_[k] = settled_[k] = pending_[k] = false;
		settled_first_[k] = 0;
		pending_chain_[k] = Chain{0, 0};
		rows_of_step_[k] = 0;
		step_row_[k] = 0;
	}
	if (once_) {
		const std::size_t n = options.steps * options.steps;
		candidates_.resize(n);
		row_step_.assign(n, 0);
		row_visit_.assign(n, 0);
	}
	if (track_)
		paths_.resize((options.steps + 1) * kMaxConditions);
}

bool
FunnelEvaluator::in_window(std::int64_t first) const noexcept
{
	// group_ts_ >= first always; unsigned arithmetic cannot overflow.
	return static_cast<std::uint64_t>(group_ts_) - static_cast<std::uint64_t>(first) <=
	       static_cast<std::uint64_t>(options_.window);
}

bool
FunnelEvaluator::better(std::size_t level, const Chain &a, const Chain &b) const
{
	if (a.first != b.first)
		return a.first > b.first;
	if (!track_)
		return false;
	// Same start: the earlier timestamps win, compared from step 2 on. Step i of a chain with
	// base b is the settled timestamp for i < b, else the group's.
	for (std::size_t i = 1; i < level; i++) {
		std::int64_t ta = i < a.base ? paths_[a.base * kMaxConditions + i] : group_ts_;
		std::int64_t tb = i < b.base ? paths_[b.base * kMaxConditions + i] : group_ts_;
		if (ta != tb)
			return ta < tb;
	}
	return false;
}

bool
FunnelEvaluator::usable(std::size_t base) const noexcept
{
	return base == 0 || (settled_[base] && in_window(settled_first_[base]));
}

FunnelEvaluator::Chain
FunnelEvaluator::chain_of(std::size_t base) const noexcept
{
	return base == 0 ? Chain{group_ts_, 0} : Chain{settled_first_[base], base};
}

void
FunnelEvaluator::begin_group(std::int64_t ts)
{
	for (std::uint64_t p = present_; p != 0; p &= p - 1)
		rows_of_step_[__builtin_ctzll(p) + 1] = 0;
	present_ = 0;
	group_rows_ = 0;
	group_ts_ = ts;
	in_group_ = true;
}

void
FunnelEvaluator::collect(std::uint64_t mask)
{
	const std::size_t steps = options_.steps;
	present_ |= mask;
	bool numbered = false;
	std::uint32_t row = 0;
	for (; mask != 0; mask &= mask - 1) {
		const std::size_t s = static_cast<std::size_t>(__builtin_ctzll(mask)) + 1;
		std::uint8_t &n = rows_of_step_[s];
		if (n > steps)
			continue; // counted enough: more rows of this step change nothing
		if (once_ && n < steps) {
			// Any matching of at most `steps` steps can use a step's first `steps` rows only.
			if (!numbered) {
				row = group_rows_++;
				numbered = true;
			}
			candidates_[(s - 1) * steps + n] = row;
		}
		n++;
	}
}

void
FunnelEvaluator::unmatch(std::size_t step)
{
	if (step_row_[step] == 0)
		return;
	row_step_[step_row_[step] - 1] = 0;
	step_row_[step] = 0;
}

void
FunnelEvaluator::clear_matching() noexcept
{
	for (std::size_t s = 1; s <= options_.steps; s++)
		if (step_row_[s] != 0) {
			row_step_[step_row_[s] - 1] = 0;
			step_row_[s] = 0;
		}
}

bool
FunnelEvaluator::assign(std::size_t step, std::uint32_t row)
{
	row_step_[row] = static_cast<std::uint32_t>(step);
	step_row_[step] = row + 1;
	return true;
}

bool
FunnelEvaluator::augment(std::size_t step, std::size_t only_position)
{
	if (++search_ == 0) { // wrapped: forget every visit
		std::fill(row_visit_.begin(), row_visit_.end(), 0);
		search_ = 1;
	}
	// Kuhn's augmenting path from `step`, over its candidate positions [from, to): a free row
	// first, else a row whose step can move elsewhere. Depth at most the number of steps.
	struct Search {
		FunnelEvaluator &ev;
		bool
		run(std::size_t s, std::size_t from, std::size_t to)
		{
			to = std::min<std::size_t>(to, std::min<std::size_t>(ev.rows_of_step_[s], ev.options_.steps));
			for (std::size_t p = from; p < to; p++) {
				ev.work_++;
				std::uint32_t r = ev.candidate(s, p);
				if (ev.row_step_[r] == 0)
					return ev.assign(s, r);
			}
			for (std::size_t p = from; p < to; p++) {
				std::uint32_t r = ev.candidate(s, p);
				if (ev.row_visit_[r] == ev.search_)
					continue;
				ev.row_visit_[r] = ev.search_;
				ev.work_++;
				std::size_t holder = ev.row_step_[r];
				if (run(holder, 0, ev.options_.steps)) // holder moved to another row
					return ev.assign(s, r);
			}
			return false;
		}
	};
	Search search{*this};
	const std::size_t from = only_position == kAllPositions ? 0 : only_position;
	const std::size_t to = only_position == kAllPositions ? options_.steps : only_position + 1;
	return search.run(step, from, to);
}

bool
FunnelEvaluator::matchable(std::size_t low, std::size_t high, std::size_t high_positions)
{
	clear_matching();
	for (std::size_t s = low; s < high; s++)
		if (!augment(s, kAllPositions))
			return false;
	for (std::size_t p = 0; p < high_positions; p++)
		if (augment(high, p))
			return true;
	return false;
}

void
FunnelEvaluator::evaluate_group()
{
	const std::uint32_t modes = options_.modes;
	const std::size_t steps = options_.steps;
	const bool dedup = (modes & kStrictDedup) != 0;
	// The bases of the current run of consecutive steps, best first (a monotonic deque: a base
	// is dropped from the back when a newer, higher one is at least as good).
	std::size_t window[kLevels];
	std::size_t head = 0, tail = 0;
	std::size_t last = kLevels; // the previous step taken in this group (kLevels: none)
	std::size_t run_low = 0;    // lowest step of the current run (once: of the current matching)
	for (std::uint64_t left = present_; left != 0; left &= left - 1) {
		const std::size_t s = static_cast<std::size_t>(__builtin_ctzll(left)) + 1;
		if (s >= 2) {
			if (dedup && reached_[s]) {
				done_ = true; // the step's first row repeats a reached step
				return;
			}
			if ((modes & kStrictOrder) != 0 && any_start_ && !reached_[s - 1]) {
				if ((modes & kAllowReentry) != 0)
					continue; // the step's rows are ignored
				done_ = true;
				return;
			}
		} else {
			any_start_ = true;
		}
		if (last != s - 1) {
			head = tail = 0;
			run_low = s;
			if (once_)
				clear_matching();
		}
		last = s;
		if (usable(s - 1)) {
			const Chain c = chain_of(s - 1);
			while (tail > head && !better(steps, chain_of(window[tail - 1]), c))
				tail--;
			window[tail++] = s - 1;
		}
		if ((modes & kStrictIncrease) != 0) {
			run_low = s; // no chaining inside a group
		} else if (once_) {
			while (!augment(s, kAllPositions))
				unmatch(run_low++);
		}
		while (head < tail && window[head] < run_low - 1)
			head++;
		if (head == tail)
			continue;
		reached_[s] = pending_[s] = true;
		pending_chain_[s] = chain_of(window[head]);
		top_ = s;
		if (dedup && s >= 2 && rows_of_step_[s] >= 2) {
			// The first row of this step that completes a chain; a later row ends the scan.
			std::size_t first_row = 0;
			const std::size_t highest = window[tail - 1]; // the highest usable base in the window
			if (once_) {
				while (!matchable(highest + 1, s, first_row + 1))
					first_row++;
			}
			if (rows_of_step_[s] <= first_row + 1) {
				if (once_)
					matchable(run_low, s, steps); // restore the window's matching
			} else {
				if (once_) {
					// Only the rows up to that one count: the bases that still reach s.
					std::size_t low = run_low - 1;
					while (!matchable(low + 1, s, first_row + 1))
						low++;
					while (window[head] < low)
						head++;
					pending_chain_[s] = chain_of(window[head]);
				}
				done_ = true;
				return;
			}
		}
		if (!track_ && reached_[steps]) {
			done_ = true; // the level cannot go higher
			return;
		}
	}
}

void
FunnelEvaluator::finish_group()
{
	if (!in_group_)
		return;
	in_group_ = false;
	// From the top: a level's new path is built from the settled path of a lower level, which
	// must still be the one from before this group.
	for (std::size_t k = top_; k >= 1; k--) {
		if (!pending_[k])
			continue;
		pending_[k] = false;
		const Chain best = pending_chain_[k];
		if (settled_[k] && !better(k, best, Chain{settled_first_[k], k}))
			continue;
		settled_[k] = true;
		settled_first_[k] = best.first;
		if (track_) {
			std::int64_t *path = &paths_[k * kMaxConditions];
			for (std::size_t i = 0; i < k; i++)
				path[i] = i < best.base ? paths_[best.base * kMaxConditions + i] : group_ts_;
		}
	}
	top_ = 0;
}

std::size_t
FunnelEvaluator::process(const FunnelEvent *events, std::size_t count, std::size_t pos, std::size_t budget,
                         bool more_follows)
{
	std::size_t work = 0;
	while (!done_ && work < budget) {
		if (!collecting_) {
			if (pos >= count) {
				done_ = !more_follows;
				break;
			}
			finish_group();
			begin_group(events[pos].ts);
			collecting_ = true;
			// Rows matching no step sort first in their group (only strict_order keeps them).
			if (events[pos].payload == 0 && any_start_) {
				done_ = true;
				break;
			}
		}
		while (pos < count && events[pos].ts == group_ts_ && work < budget) {
			collect(events[pos].payload);
			pos++;
			work++;
		}
		if (pos < count ? events[pos].ts == group_ts_ : more_follows)
			break; // the group goes on: next call (or next piece)
		collecting_ = false;
		work_ = 0;
		evaluate_group();
		work += work_;
	}
	if (done_)
		finish_group();
	return pos;
}

void
FunnelEvaluator::reset() noexcept
{
	for (std::size_t k = 0; k <= options_.steps; k++) {
		reached_[k] = settled_[k] = pending_[k] = false;
		settled_first_[k] = 0;
		pending_chain_[k] = Chain{0, 0};
		rows_of_step_[k] = 0;
	}
	if (once_)
		clear_matching();
	present_ = 0;
	group_rows_ = 0;
	collecting_ = in_group_ = any_start_ = done_ = false;
	group_ts_ = 0;
	top_ = 0;
}

std::size_t
FunnelEvaluator::level() const noexcept
{
	for (std::size_t k = options_.steps; k >= 1; k--)
		if (reached_[k])
			return k;
	return 0;
}

std::size_t
FunnelEvaluator::chain(std::int64_t *out) const
{
	std::size_t k = level();
	if (!track_ || k == 0)
		return 0;
	std::copy(&paths_[k * kMaxConditions], &paths_[k * kMaxConditions] + k, out);
	return k;
}

// ---------------------------------------------------------------------------------------------
// funnel_report

FunnelReportState::FunnelReportState(const FunnelOptions &options, UserKeyKind kind, std::pmr::memory_resource *memory)
    : options_(options), rows_(kind, memory)
{
	check_funnel_options(options);
}

FunnelReportState::FunnelReportState(const FunnelReportState &other, std::pmr::memory_resource *memory)
    : FunnelReportState(other.options_, other.rows_.kind(), memory)
{
	merge(other);
}

void
FunnelReportState::merge(const FunnelReportState &other)
{
	if (!(other.options_ == options_))
		throw_changed_within_group("funnel parameters");
	rows_.merge(other.rows_);
}

namespace {
constexpr std::size_t kReportHeaderSize = kHeaderSize + 1 + 1 + 8;
}

std::size_t
FunnelReportState::serialized_size() const noexcept
{
	return kReportHeaderSize + rows_.serialized_size();
}

void
FunnelReportState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::FunnelReport);
	w.u8(static_cast<std::uint8_t>(options_.steps));
	w.u8(static_cast<std::uint8_t>(options_.modes));
	w.u64(static_cast<std::uint64_t>(options_.window));
	rows_.serialize(w);
	w.finish();
}

FunnelReportState
FunnelReportState::deserialize(const std::uint8_t *in, std::size_t size, std::pmr::memory_resource *memory)
{
	ByteReader r(in, size);
	r.header(StateTag::FunnelReport);
	FunnelOptions options;
	options.steps = r.u8();
	options.modes = r.u8();
	options.window = static_cast<std::int64_t>(r.u64());
	try {
		check_funnel_options(options);
	} catch (const Error &) {
		throw_corrupt("invalid funnel options");
	}
	FunnelReportState state(options, UserRows::peek_kind(r), memory);
	const std::uint64_t valid = options.steps == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << options.steps) - 1;
	const bool strict_order = (options.modes & kStrictOrder) != 0;
	state.rows_.deserialize(
	    r, [&](const FunnelEvent &e) { return (e.payload & ~valid) == 0 && (e.payload != 0 || strict_order); });
	r.finish();
	return state;
}

FunnelReportBuilder::FunnelReportBuilder(const FunnelReportState &state, std::pmr::memory_resource *memory)
    : state_(state), memory_(memory), evaluator_(state.options(), true, memory),
      groups_(state.log(), state.users(), memory), scratch_(memory), levels_(memory), times_(memory)
{
	const std::size_t steps = state.options().steps;
	levels_.assign(steps + 1, 0);
	times_.resize(steps + 1);
}

void
FunnelReportBuilder::finish_user()
{
	std::int64_t chain[kMaxConditions];
	std::size_t level = evaluator_.chain(chain);
	levels_[level]++;
	for (std::size_t k = 2; k <= level; k++)
		times_[k].push_back(chain[k - 1] - chain[k - 2]);
	evaluator_.reset();
	user_++;
	phase_ = Phase::Start;
}

bool
FunnelReportBuilder::step(std::size_t budget)
{
	std::size_t work = 0;
	if (phase_ == Phase::Group) {
		if (!groups_.step(budget))
			return false;
		phase_ = Phase::Start;
	}
	while (user_ < state_.users() && work < budget) {
		switch (phase_) {
		case Phase::Group:
		case Phase::Start:
			pos_ = 0;
			count_ = groups_.count(user_);
			if (count_ == 0) {
				finish_user(); // no rows (not after a valid merge or deserialization)
				break;
			}
			if (groups_.sorted(user_)) {
				rows_ = groups_.rows(user_);
				phase_ = Phase::Evaluate;
			} else {
				scratch_.clear();
				const FunnelEvent *rows = groups_.rows(user_);
				for (std::size_t i = 0; i < count_; i++)
					scratch_.push(rows[i]);
				work += count_;
				phase_ = Phase::Sort;
			}
			break;
		case Phase::Sort:
			if (scratch_.sort_step(budget)) {
				rows_ = scratch_.entries().data();
				count_ = scratch_.entries().size();
				phase_ = Phase::Evaluate;
			}
			work += std::min<std::size_t>(scratch_.entries().size() + 1, budget);
			break;
		case Phase::Evaluate: {
			std::size_t before = pos_;
			pos_ = evaluator_.process(rows_, count_, pos_, budget - work);
			work += pos_ - before + 1;
			if (evaluator_.done())
				finish_user();
			break;
		}
		}
	}
	return user_ >= state_.users();
}

std::pmr::vector<FunnelReportRow>
FunnelReportBuilder::result() const
{
	const std::size_t steps = state_.options().steps;
	std::pmr::vector<FunnelReportRow> out(memory_);
	std::int64_t at_least = 0;
	std::pmr::vector<std::int64_t> reached(steps + 2, 0, memory_);
	for (std::size_t k = steps; k >= 1; k--) {
		at_least += levels_[k];
		reached[k] = at_least;
	}
	auto ratio = [](std::int64_t a, std::int64_t b) {
		return b == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(a) / static_cast<double>(b);
	};
	for (std::size_t k = 1; k <= steps; k++) {
		FunnelReportRow row;
		row.step = k;
		row.users = reached[k];
		row.from_first = ratio(reached[k], reached[1]);
		row.from_previous = k == 1 ? std::numeric_limits<double>::quiet_NaN() : ratio(reached[k], reached[k - 1]);
		if (k >= 2 && !times_[k].empty()) {
			// percentile_disc: the smallest observed value with at least that fraction at or below it.
			std::pmr::vector<std::int64_t> t(times_[k], memory_);
			auto at = [&](double p) {
				auto n = static_cast<double>(t.size());
				auto i = static_cast<std::size_t>(std::max(0.0, std::ceil(p * n) - 1));
				std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(i), t.end());
				return t[i];
			};
			row.have_times = true;
			row.median = at(0.5);
			row.p90 = at(0.9);
		}
		out.push_back(row);
	}
	return out;
}

} // namespace pg_product_analytics::core
