#include "funnel.hpp"

#include "error.hpp"
#include "serial.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <optional>
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

FunnelTally::FunnelTally(std::size_t steps, std::pmr::memory_resource *memory)
    : memory_(memory), levels_(steps + 1, 0, memory), times_(memory)
{
	times_.resize(steps + 1);
}

void
FunnelTally::add(int level, const std::int64_t *chain, std::size_t length)
{
	if (level < 0) {
		excluded_++;
		return;
	}
	levels_[static_cast<std::size_t>(level)]++;
	for (std::size_t k = 2; k <= length; k++)
		times_[k].push_back(chain[k - 1] - chain[k - 2]);
}

std::int64_t
FunnelTally::reached(std::size_t step) const noexcept
{
	std::int64_t n = 0;
	for (std::size_t k = step; k < levels_.size(); k++)
		n += levels_[k];
	return n;
}

std::pmr::vector<FunnelReportRow>
FunnelTally::rows() const
{
	const std::size_t steps = levels_.size() - 1;
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

// ---------------------------------------------------------------------------------------------
// The options form

namespace pg_product_analytics::core {

FunnelSpec::FunnelSpec() noexcept
{
	std::fill(std::begin(step_window), std::end(step_window), kNoLimit);
}

bool
FunnelSpec::operator==(const FunnelSpec &o) const noexcept
{
	return steps == o.steps && exclusions == o.exclusions && order == o.order && rule == o.rule &&
	       strict_increase == o.strict_increase && window == o.window &&
	       std::equal(std::begin(step_window), std::end(step_window), std::begin(o.step_window)) &&
	       std::equal(exclude_from, exclude_from + exclusions, o.exclude_from) &&
	       std::equal(exclude_to, exclude_to + exclusions, o.exclude_to) && attribution == o.attribution &&
	       attribution_step == o.attribution_step && control == o.control;
}

void
check_funnel_spec(const FunnelSpec &spec)
{
	check_condition_count(spec.steps, "step");
	if (spec.steps + spec.exclusions > kMaxConditions)
		throw Error(ErrorKind::LimitExceeded,
		            "too many funnel steps and exclusions: " + std::to_string(spec.steps + spec.exclusions) +
		                " given, the limit is " + std::to_string(kMaxConditions) + " together");
	if (spec.order > StepOrder::Any || spec.rule > ExclusionRule::EndChain)
		throw Error(ErrorKind::InvalidArgument, "unknown funnel step order or exclusion rule");
	if (spec.window < 0)
		throw Error(ErrorKind::InvalidArgument, "funnel window must not be negative");
	for (std::size_t k = 0; k < kMaxConditions; k++) {
		if (k + 1 >= spec.steps) {
			if (spec.step_window[k] != FunnelSpec::kNoLimit)
				throw Error(ErrorKind::InvalidArgument, "funnel step window given past the last step");
		} else if (spec.step_window[k] < 0) {
			throw Error(ErrorKind::InvalidArgument, "funnel step window " + std::to_string(k + 1) + " (from step " +
			                                            std::to_string(k + 1) + " to step " + std::to_string(k + 2) +
			                                            ") must not be negative");
		}
	}
	for (std::size_t x = 0; x < spec.exclusions; x++) {
		const unsigned from = spec.exclude_from[x], to = spec.exclude_to[x];
		if (from < 1 || to > spec.steps || from >= to)
			throw Error(ErrorKind::InvalidArgument,
			            "funnel exclusion " + std::to_string(x + 1) + " applies between steps " + std::to_string(from) +
			                " and " + std::to_string(to) + ", which is not a range of the funnel's " +
			                std::to_string(spec.steps) + " steps",
			            "An exclusion applies between step from and step to, with 1 <= from < to <= steps.");
	}
	if (spec.attribution > Attribution::Step ||
	    (spec.attribution == Attribution::Step) != (spec.attribution_step != 0) || spec.attribution_step > spec.steps)
		throw Error(ErrorKind::InvalidArgument, "breakdown attribution step_" + std::to_string(spec.attribution_step) +
		                                            " is not a step of the funnel's " + std::to_string(spec.steps) +
		                                            " steps");
	if (spec.order == StepOrder::Any) {
		const char *other = spec.exclusions > 0                     ? "exclusions"
		                    : spec.strict_increase                  ? "mode strict_increase"
		                    : spec.attribution == Attribution::Step ? "breakdown attribution at a step"
		                                                            : nullptr;
		for (std::size_t k = 0; other == nullptr && k + 1 < spec.steps; k++)
			if (spec.step_window[k] != FunnelSpec::kNoLimit)
				other = "step_windows";
		if (other != nullptr)
			throw Error(ErrorKind::InvalidArgument, std::string("step_order any cannot be combined with ") + other,
			            "With steps in any order there is no step before or after another.");
	}
}

// ---- FunnelSpecState ------------------------------------------------------------------------

FunnelSpecState::FunnelSpecState(const FunnelSpec &spec, bool shared, std::pmr::memory_resource *memory)
    : spec_((check_funnel_spec(spec), spec), shared, memory), log_(memory)
{
}

FunnelSpecState::FunnelSpecState(const FunnelSpecState &other, std::pmr::memory_resource *memory)
    : spec_(other.spec_, memory), log_(other.log_, memory)
{
}

void
FunnelSpecState::merge(const FunnelSpecState &other)
{
	if (other.spec_.get() != spec_.get() && !(*other.spec_ == *spec_))
		throw_changed_within_group("funnel options");
	log_.merge(other.log_);
}

namespace {

std::size_t
spec_size(const FunnelSpec &s) noexcept
{
	return 5 + 8 + 8 * (s.steps - 1) + 2 * s.exclusions + 2 + 8;
}

void
write_spec(ByteWriter &w, const FunnelSpec &s)
{
	w.u8(static_cast<std::uint8_t>(s.steps));
	w.u8(static_cast<std::uint8_t>(s.exclusions));
	w.u8(static_cast<std::uint8_t>(s.order));
	w.u8(static_cast<std::uint8_t>(s.rule));
	w.u8(s.strict_increase ? 1 : 0);
	w.u64(static_cast<std::uint64_t>(s.window));
	for (std::size_t k = 0; k + 1 < s.steps; k++)
		w.u64(static_cast<std::uint64_t>(s.step_window[k]));
	for (std::size_t x = 0; x < s.exclusions; x++) {
		w.u8(s.exclude_from[x]);
		w.u8(s.exclude_to[x]);
	}
	w.u8(static_cast<std::uint8_t>(s.attribution));
	w.u8(s.attribution_step);
	w.u64(s.control);
}

/// Reads what write_spec wrote and checks it (CorruptState).
FunnelSpec
read_spec(ByteReader &r)
{
	FunnelSpec spec;
	spec.steps = r.u8();
	spec.exclusions = r.u8();
	const std::uint8_t order = r.u8(), rule = r.u8(), increase = r.u8();
	if (order > static_cast<std::uint8_t>(StepOrder::Any) ||
	    rule > static_cast<std::uint8_t>(ExclusionRule::EndChain) || increase > 1 || spec.steps == 0 ||
	    spec.steps > kMaxConditions || spec.exclusions > kMaxConditions)
		throw_corrupt("invalid funnel options");
	spec.order = static_cast<StepOrder>(order);
	spec.rule = static_cast<ExclusionRule>(rule);
	spec.strict_increase = increase != 0;
	spec.window = static_cast<std::int64_t>(r.u64());
	for (std::size_t k = 0; k + 1 < spec.steps; k++)
		spec.step_window[k] = static_cast<std::int64_t>(r.u64());
	for (std::size_t x = 0; x < spec.exclusions; x++) {
		spec.exclude_from[x] = r.u8();
		spec.exclude_to[x] = r.u8();
	}
	const std::uint8_t attribution = r.u8();
	if (attribution > static_cast<std::uint8_t>(Attribution::Step))
		throw_corrupt("invalid funnel options");
	spec.attribution = static_cast<Attribution>(attribution);
	spec.attribution_step = r.u8();
	spec.control = r.u64();
	try {
		check_funnel_spec(spec);
	} catch (const Error &) {
		throw_corrupt("invalid funnel options");
	}
	return spec;
}

/// The first of `shared` equal to `spec`, or nullptr.
const FunnelSpec *
shared_equal(const FunnelSpec &spec, const FunnelSpec *const *shared, std::size_t shared_count)
{
	for (std::size_t i = 0; i < shared_count; i++)
		if (*shared[i] == spec)
			return shared[i];
	return nullptr;
}

} // namespace

std::size_t
FunnelSpecState::serialized_size() const noexcept
{
	return kHeaderSize + spec_size(*spec_) + log_.serialized_size();
}

void
FunnelSpecState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::FunnelSpec);
	write_spec(w, *spec_);
	log_.serialize(w);
	w.finish();
}

FunnelSpecState
FunnelSpecState::deserialize(const std::uint8_t *in, std::size_t size, std::pmr::memory_resource *memory,
                             const FunnelSpec *const *shared, std::size_t shared_count)
{
	ByteReader r(in, size);
	r.header(StateTag::FunnelSpec);
	const FunnelSpec spec = read_spec(r);
	const FunnelSpec *same = shared_equal(spec, shared, shared_count);
	FunnelSpecState state(same != nullptr ? *same : spec, same != nullptr, memory);
	const std::uint64_t valid = spec.valid_bits();
	const bool strict = spec.order == StepOrder::Strict;
	state.log_.deserialize(r,
	                       [&](const LogEntry &e) { return (e.payload & ~valid) == 0 && (e.payload != 0 || strict); });
	r.finish();
	return state;
}

// ---- FunnelPathEvaluator --------------------------------------------------------------------
//
// Ordered and strict. A chain is a list of distinct rows filling steps 1..k with non-decreasing
// timestamps, each step within the step window of the one before and within the window of the
// first. Reading the rows a timestamp at a time, a Ladder keeps per level the chains that can still
// grow: a chain that ends no later and starts no later than another at the same level can do
// nothing the other cannot, so the queue of a level holds chains ordered by last step ascending
// and first step descending; its front is the best base to extend, the chains that left a step
// window leave from the front and those that left the overall window from the back.
//
// On one timestamp t a chain of level b grows to level m by filling steps b+1..m with distinct rows
// of t: possible for b in [low(m) - 1, m - 1] (low only grows with m: a sliding window over the
// bases, kept as a monotonic queue of their starts). Base 0 is a chain starting at t.
//
// Exclusion x between steps i and j interrupts a chain that passed step i before an x row at t and
// had not reached step j before t: chains of levels i..j-1 from before t, and chains made on t
// from a base at level >= i that stop below j ("dead at birth": they count as reached for
// EndChain, but grow no further and are not clean). For ExcludeUser, a chain that stopped below j
// is interrupted only by an x row within its deadline: its last step plus the step window to the
// next step, else the overall window (strict: until the user's next timestamp). Chains made on
// one timestamp share their deadline, and the chains of a level are made in deadline order, so a
// kill only needs the first clean chain made since the level's last kill: if its deadline passed,
// that chain escaped and counts for good.

FunnelPathEvaluator::Ladder::Ladder(bool kills_, std::size_t steps, std::pmr::memory_resource *memory)
    : kills(kills_), queues(memory)
{
	queues.reserve(steps + 1);
	for (std::size_t k = 0; k <= steps; k++)
		queues.emplace_back(memory);
	reset();
}

void
FunnelPathEvaluator::Ladder::reset() noexcept
{
	// Only the levels in use (queues has steps + 1): a report resets once per user.
	for (std::size_t k = 0; k < queues.size(); k++) {
		queues[k].items.clear();
		queues[k].head = 0;
		reached[k] = open[k] = deadline_pending[k] = escaped[k] = false;
		first_reached[k] = open_node[k] = escaped_node[k] = kNoNode;
		open_deadline[k] = 0;
	}
	top = 0;
}

FunnelPathEvaluator::FunnelPathEvaluator(const FunnelSpec &spec, bool track_steps, std::pmr::memory_resource *memory)
    : spec_(spec), track_(track_steps), two_passes_(spec.rule == ExclusionRule::ExcludeUser && spec.exclusions > 0),
      clean_(spec.exclusions > 0, spec.order == StepOrder::Any ? 0 : spec.steps, memory),
      all_(false, two_passes_ ? spec.steps : 0, memory), candidates_(memory), row_step_(memory), row_visit_(memory),
      nodes_(memory), in_window_(memory), recent_(memory), any_row_step_(memory), any_row_visit_(memory)
{
	check_funnel_spec(spec);
	if (track_steps && spec.order == StepOrder::Any)
		throw Error(ErrorKind::InvalidArgument, "step_order any has no chain of steps to report",
		            "window_funnel_events needs step_order ordered or strict.");
	const std::size_t s = spec.steps;
	if (spec.order == StepOrder::Any) {
		in_window_.assign(s + 1, 0);
		recent_.reserve(s + 1);
		for (std::size_t k = 0; k <= s; k++)
			recent_.emplace_back(); // uses the outer allocator
	} else {
		candidates_.resize(s * s);
		row_step_.assign(s * s, 0);
		row_visit_.assign(s * s, 0);
	}
	for (std::size_t k = 0; k < kLevels; k++) {
		rows_of_step_[k] = 0;
		step_row_[k] = 0;
		low_[k] = 0;
	}
}

void
FunnelPathEvaluator::reset()
{
	clean_.reset();
	if (two_passes_)
		all_.reset();
	nodes_.clear();
	clear_matching();
	for (std::size_t k = 0; k < kLevels; k++)
		rows_of_step_[k] = 0;
	present_ = excluded_ = 0;
	multi_ = false;
	group_rows_ = 0;
	done_ = collecting_ = false;
	group_ts_ = 0;
	left_ = best_ = covered_ = multi_rows_ = 0;
	if (spec_.order == StepOrder::Any) {
		std::fill(in_window_.begin(), in_window_.end(), 0);
		for (auto &r : recent_)
			r.clear();
	}
}

void
FunnelPathEvaluator::begin_group(std::int64_t ts)
{
	for (std::uint64_t p = present_; p != 0; p &= p - 1)
		rows_of_step_[__builtin_ctzll(p) + 1] = 0;
	present_ = excluded_ = 0;
	multi_ = false;
	group_rows_ = 0;
	group_ts_ = ts;
}

void
FunnelPathEvaluator::collect(std::uint64_t mask)
{
	const std::size_t steps = spec_.steps;
	std::uint64_t bits = mask & spec_.step_bits();
	if (spec_.exclusions > 0) // (steps < 64 then; a report keeps a breakdown value in the upper bits)
		excluded_ |= (mask >> steps) & ((std::uint64_t{1} << spec_.exclusions) - 1);
	if (bits == 0)
		return;
	present_ |= bits;
	if ((bits & (bits - 1)) != 0)
		multi_ = true;
	// A row gets a compact number when it becomes some step's candidate: at most steps x steps.
	bool numbered = false;
	std::uint32_t row = 0;
	for (; bits != 0; bits &= bits - 1) {
		const std::size_t s = static_cast<std::size_t>(__builtin_ctzll(bits)) + 1;
		std::uint8_t &n = rows_of_step_[s];
		if (n < steps) {
			if (!numbered) {
				row = group_rows_++;
				numbered = true;
			}
			candidates_[(s - 1) * steps + n] = row; // a matching of <= steps steps needs no more
		}
		if (n <= steps)
			n++;
	}
}

// ---- the group's matching (rows matching several steps) ----

void
FunnelPathEvaluator::unmatch(std::size_t step) noexcept
{
	if (step_row_[step] == 0)
		return;
	row_step_[step_row_[step] - 1] = 0;
	step_row_[step] = 0;
}

void
FunnelPathEvaluator::clear_matching() noexcept
{
	for (std::size_t s = 1; s <= spec_.steps && s < kLevels; s++)
		unmatch(s);
}

bool
FunnelPathEvaluator::augment(std::size_t step)
{
	if (++search_ == 0) {
		std::fill(row_visit_.begin(), row_visit_.end(), 0);
		search_ = 1;
	}
	// Kuhn's augmenting path from `step`: a free candidate row, else one whose step moves elsewhere.
	struct Search {
		FunnelPathEvaluator &ev;
		bool
		run(std::size_t s)
		{
			const std::size_t steps = ev.spec_.steps;
			const std::size_t n = std::min<std::size_t>(ev.rows_of_step_[s], steps);
			const std::uint32_t *cand = &ev.candidates_[(s - 1) * steps];
			for (std::size_t p = 0; p < n; p++) {
				ev.work_++;
				if (ev.row_step_[cand[p]] == 0) {
					ev.row_step_[cand[p]] = static_cast<std::uint32_t>(s);
					ev.step_row_[s] = cand[p] + 1;
					return true;
				}
			}
			for (std::size_t p = 0; p < n; p++) {
				const std::uint32_t r = cand[p];
				if (ev.row_visit_[r] == ev.search_)
					continue;
				ev.row_visit_[r] = ev.search_;
				ev.work_++;
				const std::size_t holder = ev.row_step_[r];
				if (run(holder)) {
					ev.row_step_[r] = static_cast<std::uint32_t>(s);
					ev.step_row_[s] = r + 1;
					return true;
				}
			}
			return false;
		}
	};
	return Search{*this}.run(step);
}

void
FunnelPathEvaluator::feasible_bases()
{
	const std::size_t steps = spec_.steps;
	std::size_t lo = 1;
	if (multi_)
		clear_matching();
	for (std::size_t m = 1; m <= steps; m++) {
		if (((present_ >> (m - 1)) & 1) == 0) {
			low_[m] = 0;
			lo = m + 1;
			if (multi_)
				clear_matching();
			continue;
		}
		if (spec_.strict_increase) {
			lo = m;
		} else if (multi_) {
			while (!augment(m))
				unmatch(lo++);
		}
		low_[m] = lo;
	}
	if (multi_)
		clear_matching();
}

// ---- the ladders ----

bool
FunnelPathEvaluator::prune(Queue &q, std::size_t level) const noexcept
{
	const auto t = static_cast<std::uint64_t>(group_ts_);
	const std::int64_t gap = spec_.step_window[level - 1];
	auto &items = q.items;
	if (gap != FunnelSpec::kNoLimit)
		while (q.head < items.size() &&
		       t - static_cast<std::uint64_t>(items[q.head].last) > static_cast<std::uint64_t>(gap))
			q.head++;
	if (spec_.window != FunnelSpec::kNoLimit)
		while (items.size() > q.head &&
		       t - static_cast<std::uint64_t>(items.back().start) > static_cast<std::uint64_t>(spec_.window))
			items.pop_back();
	if (q.head == items.size()) {
		items.clear();
		q.head = 0;
		return false;
	}
	return true;
}

std::int64_t
FunnelPathEvaluator::deadline(std::size_t level) const noexcept
{
	std::int64_t d = spec_.step_window[level - 1];
	if (d == FunnelSpec::kNoLimit)
		d = spec_.window;
	if (d == FunnelSpec::kNoLimit || group_ts_ > FunnelSpec::kNoLimit - d)
		return FunnelSpec::kNoLimit;
	return group_ts_ + d;
}

std::uint32_t
FunnelPathEvaluator::make_node(std::size_t steps_here, std::uint32_t parent)
{
	nodes_.push_back(Node{group_ts_, parent, static_cast<std::uint32_t>(steps_here)});
	return static_cast<std::uint32_t>(nodes_.size() - 1);
}

namespace {

/// The bases of a run of steps on one timestamp, best (latest start, then lowest level) first: a
/// monotonic queue over a sliding range of levels.
struct BaseWindow {
	struct Base {
		std::size_t level;
		std::int64_t start;
		std::uint32_t node;
	};
	Base items[kMaxConditions + 1];
	std::size_t head = 0, tail = 0;

	void
	clear() noexcept
	{
		head = tail = 0;
	}
	void
	push(const Base &b) noexcept
	{
		while (tail > head && items[tail - 1].start < b.start)
			tail--;
		items[tail++] = b;
	}
	/// The best base at level >= low, or nullptr.
	const Base *
	best(std::size_t low) noexcept
	{
		while (head < tail && items[head].level < low)
			head++;
		return head < tail ? &items[head] : nullptr;
	}
};

} // namespace

void
FunnelPathEvaluator::advance(Ladder &ladder)
{
	const std::size_t steps = spec_.steps;
	const bool strict = spec_.order == StepOrder::Strict;
	const bool tracking = track_ && &ladder == &clean_;
	const bool kills = ladder.kills && excluded_ != 0;
	// dead_from[m]: a chain made here at level m from a base at level >= dead_from[m] is
	// interrupted at birth (an exclusion of this timestamp between a step <= base and one > m).
	std::size_t dead_from[kLevels];
	if (kills) {
		for (std::size_t m = 0; m <= steps; m++)
			dead_from[m] = kLevels;
		for (std::uint64_t x = excluded_; x != 0; x &= x - 1) {
			const std::size_t i = spec_.exclude_from[__builtin_ctzll(x)];
			const std::size_t j = spec_.exclude_to[__builtin_ctzll(x)];
			for (std::size_t m = i + 1; m < j; m++)
				dead_from[m] = std::min(dead_from[m], i);
		}
	}
	// Every base (the best chain per level), and, with kills, the bases that keep a chain clean.
	BaseWindow any, clean;
	BaseWindow::Base bases[kLevels];
	bool usable[kLevels];
	std::size_t next_clean = 0; // the next base to offer the clean window
	for (std::size_t m = 1; m <= steps; m++) {
		Created &c = created_[m];
		c.valid = c.clean = false;
		if (low_[m] == 0) { // step m is not on this timestamp: the run of steps ends
			any.clear();
			clean.clear();
			next_clean = m;
			continue;
		}
		const std::size_t b = m - 1;
		bases[b] = BaseWindow::Base{b, group_ts_, kNoNode};
		usable[b] = b == 0;
		if (b > 0 && prune(ladder.queues[b], b)) {
			const Entry &e = ladder.queues[b].items[ladder.queues[b].head];
			bases[b].start = e.start;
			bases[b].node = e.node;
			usable[b] = true;
		}
		if (usable[b])
			any.push(bases[b]);
		const std::size_t low = low_[m] - 1;
		if (const BaseWindow::Base *best = any.best(low)) {
			c.valid = true;
			c.start = best->start;
			c.base = best->level;
			c.base_node = best->node;
		}
		if (!kills) {
			c.clean = c.valid;
			c.clean_start = c.start;
			c.clean_base = c.base;
			c.clean_base_node = c.base_node;
			continue;
		}
		for (; next_clean <= b && next_clean < dead_from[m]; next_clean++)
			if (usable[next_clean])
				clean.push(bases[next_clean]);
		if (const BaseWindow::Base *best = clean.best(low)) {
			c.clean = true;
			c.clean_start = best->start;
			c.clean_base = best->level;
			c.clean_base_node = best->node;
		}
	}
	// Exclusions on this timestamp interrupt the chains from before it between their steps.
	if (kills) {
		for (std::uint64_t x = excluded_; x != 0; x &= x - 1) {
			const std::size_t i = spec_.exclude_from[__builtin_ctzll(x)];
			const std::size_t j = spec_.exclude_to[__builtin_ctzll(x)];
			for (std::size_t k = i; k < j; k++) {
				if (ladder.open[k]) {
					if (!ladder.deadline_pending[k] && ladder.open_deadline[k] < group_ts_ && !ladder.escaped[k]) {
						ladder.escaped[k] = true;
						ladder.escaped_node[k] = ladder.open_node[k];
					}
					ladder.open[k] = false;
				}
				ladder.queues[k].items.clear();
				ladder.queues[k].head = 0;
			}
		}
	}
	if (strict) // a chain grows on the very next timestamp or never
		for (std::size_t k = 1; k <= steps; k++) {
			ladder.queues[k].items.clear();
			ladder.queues[k].head = 0;
		}
	for (std::size_t m = 1; m <= steps; m++) {
		const Created &c = created_[m];
		if (!c.valid)
			continue;
		std::uint32_t clean_node = kNoNode;
		if (tracking && c.clean)
			clean_node = make_node(m - c.clean_base, c.clean_base_node);
		if (!ladder.reached[m]) {
			ladder.reached[m] = true;
			ladder.top = std::max(ladder.top, m);
			if (tracking)
				ladder.first_reached[m] = c.clean && c.clean_start == c.start && c.clean_base == c.base
				                              ? clean_node
				                              : make_node(m - c.base, c.base_node);
		}
		if (!c.clean)
			continue;
		auto &items = ladder.queues[m].items;
		while (items.size() > ladder.queues[m].head && items.back().start <= c.clean_start)
			items.pop_back();
		items.push_back(Entry{c.clean_start, group_ts_, clean_node});
		if (!ladder.open[m]) {
			ladder.open[m] = true;
			ladder.open_node[m] = clean_node;
			ladder.deadline_pending[m] = strict;
			ladder.open_deadline[m] = strict ? 0 : deadline(m);
		}
	}
	work_ += steps;
}

void
FunnelPathEvaluator::evaluate_group()
{
	if (spec_.order == StepOrder::Strict) {
		// The chains made on the previous timestamp were open until this one.
		for (Ladder *ladder : {&clean_, &all_})
			if (ladder->kills)
				for (std::size_t k = 1; k <= spec_.steps; k++)
					if (ladder->open[k] && ladder->deadline_pending[k]) {
						ladder->deadline_pending[k] = false;
						ladder->open_deadline[k] = group_ts_;
					}
	}
	feasible_bases();
	advance(clean_);
	if (two_passes_)
		advance(all_);
	update_done();
}

void
FunnelPathEvaluator::update_done()
{
	const std::size_t s = spec_.steps;
	if (spec_.order == StepOrder::Any)
		done_ = best_ == s;
	else if (two_passes_)
		done_ = clean_.open[s] || clean_.escaped[s]; // chains of the last step are never interrupted
	else
		done_ = clean_.reached[s];
}

int
FunnelPathEvaluator::level() const noexcept
{
	if (spec_.order == StepOrder::Any)
		return static_cast<int>(best_);
	if (!two_passes_)
		return static_cast<int>(clean_.top);
	const std::size_t top = std::max(all_.top, clean_.top);
	if (top == 0)
		return 0;
	return clean_.open[top] || clean_.escaped[top] ? static_cast<int>(top) : -1;
}

std::size_t
FunnelPathEvaluator::chain(std::int64_t *out) const
{
	const int l = level();
	if (!track_ || l <= 0)
		return 0;
	const auto k = static_cast<std::size_t>(l);
	std::uint32_t node = !two_passes_        ? clean_.first_reached[k]
	                     : clean_.escaped[k] ? clean_.escaped_node[k]
	                                         : clean_.open_node[k];
	std::size_t i = k;
	while (node != kNoNode && i > 0) {
		const Node &n = nodes_[node];
		for (std::uint32_t j = 0; j < n.steps && i > 0; j++)
			out[--i] = n.ts;
		node = n.parent;
	}
	return k;
}

// ---- step_order any ----

std::size_t
FunnelPathEvaluator::any_matching()
{
	// The steps matched to distinct rows of the window: each step's candidates are its last
	// `steps` rows still in the window (more cannot matter), positions into `rows`.
	const std::size_t steps = spec_.steps;
	if (++search_ == 0) {
		std::fill(any_row_visit_.begin(), any_row_visit_.end(), 0);
		search_ = 1;
	}
	for (std::size_t s = 1; s <= steps; s++)
		for (std::uint32_t p : recent_[s])
			if (p >= left_)
				any_row_step_[p] = 0;
	std::uint32_t matched_row[kLevels] = {};
	struct Search {
		FunnelPathEvaluator &ev;
		std::uint32_t *matched_row;
		std::uint32_t stamp;
		bool
		run(std::size_t s)
		{
			for (std::uint32_t p : ev.recent_[s]) {
				ev.work_++;
				if (p >= ev.left_ && ev.any_row_step_[p] == 0) {
					ev.any_row_step_[p] = static_cast<std::uint32_t>(s);
					matched_row[s] = p + 1;
					return true;
				}
			}
			for (std::uint32_t p : ev.recent_[s]) {
				if (p < ev.left_ || ev.any_row_visit_[p] == stamp)
					continue;
				ev.any_row_visit_[p] = stamp;
				ev.work_++;
				if (run(ev.any_row_step_[p])) {
					ev.any_row_step_[p] = static_cast<std::uint32_t>(s);
					matched_row[s] = p + 1;
					return true;
				}
			}
			return false;
		}
	};
	std::size_t size = 0;
	for (std::size_t s = 1; s <= steps; s++) {
		if (in_window_[s] == 0)
			continue;
		if (++search_ == 0) {
			std::fill(any_row_visit_.begin(), any_row_visit_.end(), 0);
			search_ = 1;
		}
		if (Search{*this, matched_row, search_}.run(s))
			size++;
	}
	return size;
}

void
FunnelPathEvaluator::any_group(const LogEntry *rows)
{
	const std::uint64_t steps_mask = spec_.step_bits();
	// Drop the rows that left the window of this timestamp.
	while (left_ < group_begin_ && spec_.window != FunnelSpec::kNoLimit &&
	       static_cast<std::uint64_t>(group_ts_) - static_cast<std::uint64_t>(rows[left_].ts) >
	           static_cast<std::uint64_t>(spec_.window)) {
		std::uint64_t bits = rows[left_].payload & steps_mask;
		if ((bits & (bits - 1)) != 0)
			multi_rows_--;
		for (; bits != 0; bits &= bits - 1)
			if (--in_window_[__builtin_ctzll(bits) + 1] == 0)
				covered_--;
		left_++;
		work_++;
	}
	std::size_t size = covered_;
	if (multi_rows_ > 0)
		size = any_matching();
	best_ = std::max(best_, size);
}

std::size_t
FunnelPathEvaluator::process(const LogEntry *rows, std::size_t count, std::size_t pos, std::size_t budget)
{
	const bool any = spec_.order == StepOrder::Any;
	const std::size_t steps = spec_.steps;
	std::size_t work = 0;
	while (!done_ && work < budget) {
		if (!collecting_) {
			if (pos >= count) {
				done_ = true;
				break;
			}
			begin_group(rows[pos].ts);
			group_begin_ = pos;
			collecting_ = true;
		}
		while (pos < count && rows[pos].ts == group_ts_ && work < budget) {
			if (any) {
				std::uint64_t bits = rows[pos].payload & spec_.step_bits();
				if ((bits & (bits - 1)) != 0) {
					multi_rows_++;
					if (any_row_step_.size() < count) {
						any_row_step_.resize(count, 0);
						any_row_visit_.resize(count, 0);
					}
				}
				for (; bits != 0; bits &= bits - 1) {
					const std::size_t s = static_cast<std::size_t>(__builtin_ctzll(bits)) + 1;
					if (in_window_[s]++ == 0)
						covered_++;
					auto &r = recent_[s];
					if (r.size() == steps)
						r.erase(r.begin());
					r.push_back(static_cast<std::uint32_t>(pos));
				}
			} else {
				collect(rows[pos].payload);
			}
			pos++;
			work++;
		}
		if (pos < count && rows[pos].ts == group_ts_)
			break; // the group goes on: next call
		collecting_ = false;
		work_ = 0;
		if (any) {
			any_group(rows);
			update_done();
		} else {
			evaluate_group();
		}
		work += work_;
	}
	return pos;
}

} // namespace pg_product_analytics::core

// ---------------------------------------------------------------------------------------------
// conversion_significance

namespace pg_product_analytics::core {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kZ975 = 1.959963984540054; // the standard normal's 97.5th percentile

double
log_beta(double a, double b)
{
	return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
}

// P(X > Y) for X ~ Beta(a1, b1), Y ~ Beta(a2, b2) with integer a1 >= 1: the closed form as a sum of
// a1 terms (Evan Miller, "Formulas for Bayesian A/B testing").
double
beta_greater(double a1, double b1, double a2, double b2)
{
	double sum = 0;
	const double base = log_beta(a2, b2);
	for (double i = 0; i < a1; i++)
		sum += std::exp(log_beta(a2 + i, b1 + b2) - std::log(b1 + i) - log_beta(1 + i, b1) - base);
	return std::min(1.0, std::max(0.0, sum));
}

} // namespace

ConversionComparison
compare_conversions(std::int64_t users_a, std::int64_t converted_a, std::int64_t users_b, std::int64_t converted_b)
{
	if (users_a < 0 || users_b < 0 || converted_a < 0 || converted_b < 0)
		throw Error(ErrorKind::InvalidArgument, "conversion counts must not be negative");
	if (converted_a > users_a || converted_b > users_b)
		throw Error(ErrorKind::InvalidArgument, "converted users must not exceed users",
		            "A group has " + std::to_string(converted_a > users_a ? converted_a : converted_b) +
		                " converted of " + std::to_string(converted_a > users_a ? users_a : users_b) + " users.");
	ConversionComparison c{kNaN, kNaN, kNaN, kNaN, kNaN, kNaN, kNaN};
	const auto na = static_cast<double>(users_a), nb = static_cast<double>(users_b);
	const auto xa = static_cast<double>(converted_a), xb = static_cast<double>(converted_b);
	if (users_a > 0)
		c.rate_a = xa / na;
	if (users_b > 0)
		c.rate_b = xb / nb;
	if (users_a == 0 || users_b == 0)
		return c;
	c.difference = c.rate_b - c.rate_a;
	const double unpooled = std::sqrt(c.rate_a * (1 - c.rate_a) / na + c.rate_b * (1 - c.rate_b) / nb);
	if (unpooled > 0) {
		c.ci_low = c.difference - kZ975 * unpooled;
		c.ci_high = c.difference + kZ975 * unpooled;
	}
	const double pooled_rate = (xa + xb) / (na + nb);
	const double pooled = std::sqrt(pooled_rate * (1 - pooled_rate) * (1 / na + 1 / nb));
	if (pooled > 0)
		c.p_value = std::erfc(std::fabs(c.difference / pooled) / std::sqrt(2.0));
	// Posteriors Beta(1 + converted, 1 + not converted). The sum has as many terms as its first
	// parameter; P(B > A) = P(1 - B < 1 - A) swaps the roles, so take the shortest of four forms.
	// Past 100 000 terms (then every count is large) the posteriors are normal to within 1e-3.
	const double a1 = 1 + xa, b1 = 1 + na - xa, a2 = 1 + xb, b2 = 1 + nb - xb;
	const double shortest = std::min(std::min(a1, a2), std::min(b1, b2));
	if (shortest > 100000) {
		const double ma = a1 / (a1 + b1), mb = a2 / (a2 + b2);
		const double va = a1 * b1 / ((a1 + b1) * (a1 + b1) * (a1 + b1 + 1));
		const double vb = a2 * b2 / ((a2 + b2) * (a2 + b2) * (a2 + b2 + 1));
		c.probability_b_better = 0.5 * std::erfc(-(mb - ma) / std::sqrt(2 * (va + vb)));
	} else if (shortest == a2) {
		c.probability_b_better = beta_greater(a2, b2, a1, b1);
	} else if (shortest == a1) {
		c.probability_b_better = 1 - beta_greater(a1, b1, a2, b2);
	} else if (shortest == b1) {
		c.probability_b_better = beta_greater(b1, a1, b2, a2); // 1 - A > 1 - B
	} else {
		c.probability_b_better = 1 - beta_greater(b2, a2, b1, a1);
	}
	return c;
}

} // namespace pg_product_analytics::core

// ---------------------------------------------------------------------------------------------
// funnel_report / funnel_breakdown / funnel_trend with funnel options

namespace pg_product_analytics::core {

std::uint64_t
control_hash(std::string_view value) noexcept
{
	std::uint64_t h = 14695981039346656037ull; // FNV-1a
	for (unsigned char c : value) {
		h ^= c;
		h *= 1099511628211ull;
	}
	return h == 0 ? 1 : h;
}

namespace {

constexpr std::uint64_t kLowHalf = 0xFFFFFFFFull;

void
check_report_layout(const FunnelSpec &spec, bool breakdown, const std::string_view *control, std::string_view zone_name)
{
	check_funnel_spec(spec);
	if (breakdown && spec.steps + spec.exclusions > 32)
		throw Error(ErrorKind::LimitExceeded,
		            "too many funnel steps and exclusions for a breakdown: " +
		                std::to_string(spec.steps + spec.exclusions) + " given, the limit is 32 together",
		            "A breakdown keeps each row's value beside its steps in one 64-bit word.");
	if ((control != nullptr) != (spec.control != 0) || (control != nullptr && control_hash(*control) != spec.control))
		throw Error(ErrorKind::Internal, "funnel breakdown control does not match its options");
	if (zone_name.size() > 255)
		throw Error(ErrorKind::InvalidArgument, "time zone name too long");
}

} // namespace

FunnelSpecReportState::FunnelSpecReportState(const FunnelSpec &spec, bool shared, bool breakdown,
                                             const std::string_view *control, const CalendarKey *trend,
                                             std::string_view zone_name, UserKeyKind kind,
                                             std::pmr::memory_resource *memory)
    : spec_((check_report_layout(spec, breakdown, control, zone_name), spec), shared, memory), breakdown_(breakdown),
      has_control_(control != nullptr), control_(control != nullptr ? *control : std::string_view(), memory),
      trend_(trend != nullptr ? *trend : CalendarKey{}), zone_name_(zone_name, memory),
      values_(UserKeyKind::Bytes, memory), rows_(kind, memory)
{
}

FunnelSpecReportState::FunnelSpecReportState(const FunnelSpecReportState &other, std::pmr::memory_resource *memory)
    : spec_(other.spec_, memory), breakdown_(other.breakdown_), has_control_(other.has_control_),
      control_(other.control_, memory), trend_(other.trend_), zone_name_(other.zone_name_, memory),
      values_(UserKeyKind::Bytes, memory), rows_(other.rows_.kind(), memory)
{
	merge(other);
}

void
FunnelSpecReportState::merge(const FunnelSpecReportState &other)
{
	if (other.spec_.get() != spec_.get() && !(*other.spec_ == *spec_))
		throw_changed_within_group("funnel options");
	if (other.breakdown_ != breakdown_ || !(other.trend_ == trend_))
		throw_changed_within_group("funnel report parameters");
	if (!breakdown_ || other.values_.size() == 0) {
		rows_.merge(other.rows_);
		return;
	}
	const std::vector<std::uint32_t> map = values_.merge(other.values_);
	rows_.merge(other.rows_, [&](std::uint64_t payload) {
		const std::uint64_t value = payload >> kValueShift;
		if (value == 0)
			return payload;
		return (payload & kLowHalf) | (static_cast<std::uint64_t>(map[value - 1] + 1) << kValueShift);
	});
}

std::size_t
FunnelSpecReportState::serialized_size() const noexcept
{
	return kHeaderSize + spec_size(*spec_) + 2 + 4 + control_.size() + kCalendarKeySize + 1 + zone_name_.size() +
	       (breakdown_ ? values_.serialized_size() : 0) + rows_.serialized_size();
}

void
FunnelSpecReportState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::FunnelSpecReport);
	write_spec(w, *spec_);
	w.u8(breakdown_ ? 1 : 0);
	w.u8(has_control_ ? 1 : 0);
	w.u32(static_cast<std::uint32_t>(control_.size()));
	w.bytes(reinterpret_cast<const std::uint8_t *>(control_.data()), control_.size());
	write_calendar_key(w, trend_);
	write_zone_name(w, zone_name_);
	rows_.serialize(w);
	if (breakdown_)
		values_.serialize(w);
	w.finish();
}

FunnelSpecReportState
FunnelSpecReportState::deserialize(const std::uint8_t *in, std::size_t size, std::pmr::memory_resource *memory,
                                   const FunnelSpec *const *shared, std::size_t shared_count)
{
	ByteReader r(in, size);
	r.header(StateTag::FunnelSpecReport);
	const FunnelSpec spec = read_spec(r);
	const std::uint8_t breakdown = r.u8(), has_control = r.u8();
	const std::uint32_t control_size = r.u32();
	if (breakdown > 1 || has_control > 1 || (has_control == 0 && control_size != 0) || control_size > r.remaining())
		throw_corrupt("invalid funnel report layout");
	const std::string_view control(reinterpret_cast<const char *>(r.bytes(control_size)), control_size);
	const CalendarKey trend = read_calendar_key(r);
	const std::string_view zone_name = read_zone_name(r, trend.zone);
	const FunnelSpec *same = shared_equal(spec, shared, shared_count);
	std::optional<FunnelSpecReportState> made;
	try {
		made.emplace(same != nullptr ? *same : spec, same != nullptr, breakdown != 0,
		             has_control != 0 ? &control : nullptr, &trend, zone_name, UserRows::peek_kind(r), memory);
	} catch (const Error &e) {
		if (e.kind() == ErrorKind::CorruptState)
			throw;
		throw_corrupt("invalid funnel report layout");
	}
	FunnelSpecReportState &state = *made;
	const std::uint64_t valid = spec.valid_bits();
	const bool strict = spec.order == StepOrder::Strict;
	std::uint64_t highest = 0; // the highest value number + 1 of a row
	state.rows_.deserialize(r, [&](const LogEntry &e) {
		const std::uint64_t low = breakdown != 0 ? e.payload & kLowHalf : e.payload;
		highest = std::max(highest, breakdown != 0 ? e.payload >> kValueShift : 0);
		return (low & ~valid) == 0 && (low != 0 || strict);
	});
	if (breakdown != 0) {
		if (UserIndex::peek_kind(r) != UserKeyKind::Bytes)
			throw_corrupt("invalid breakdown values");
		state.values_.deserialize(r);
	}
	if (highest > state.values_.size())
		throw_corrupt("a row's breakdown value is not in the state");
	r.finish();
	return std::move(*made);
}

// ---- funnel_breakdown ----

FunnelBreakdownBuilder::FunnelBreakdownBuilder(const FunnelSpecReportState &state, std::pmr::memory_resource *memory)
    : state_(state), memory_(memory), scan_(state, reports_chains(state.options()), memory),
      tally_of_(state.values().size() + 1, -1, memory), tallies_(memory)
{
}

std::uint64_t
FunnelBreakdownBuilder::attributed(const FunnelUserResult &u) const
{
	const FunnelSpec &spec = state_.options();
	const std::uint64_t steps = spec.step_bits();
	const UserIndex &values = state_.values();
	// The smallest value (by bytes) among the rows [from, to) that match `step_mask` and have one.
	auto smallest = [&](std::size_t from, std::size_t to, std::uint64_t step_mask) {
		std::uint64_t best = 0;
		for (std::size_t i = from; i < to; i++) {
			const std::uint64_t v = u.rows[i].payload >> FunnelSpecReportState::kValueShift;
			if (v == 0 || (u.rows[i].payload & step_mask) == 0)
				continue;
			if (best == 0 || values.byte_key(static_cast<std::uint32_t>(v - 1)) <
			                     values.byte_key(static_cast<std::uint32_t>(best - 1)))
				best = v;
		}
		return best;
	};
	auto has_value = [&](const LogEntry &e, std::uint64_t step_mask) {
		return (e.payload >> FunnelSpecReportState::kValueShift) != 0 && (e.payload & step_mask) != 0;
	};
	if (spec.attribution == Attribution::Step) {
		const std::size_t k = spec.attribution_step;
		if (u.level < static_cast<int>(k) || u.chain_length < k)
			return 0;
		const std::int64_t ts = u.chain[k - 1];
		const std::uint64_t bit = std::uint64_t{1} << (k - 1);
		// The rows on the chain's step-k timestamp (sorted: a contiguous run).
		std::size_t from = 0;
		while (from < u.count && u.rows[from].ts < ts)
			from++;
		std::size_t to = from;
		while (to < u.count && u.rows[to].ts == ts)
			to++;
		const std::uint64_t v = smallest(from, to, bit);
		return v == 0 ? 0 : v + 1;
	}
	std::size_t i = 0, to = u.count;
	if (spec.attribution == Attribution::FirstTouch) {
		while (i < u.count && !has_value(u.rows[i], steps))
			i++;
		if (i == u.count)
			return 1;
		to = i;
		while (to < u.count && u.rows[to].ts == u.rows[i].ts)
			to++;
	} else {
		std::size_t j = u.count;
		while (j > 0 && !has_value(u.rows[j - 1], steps))
			j--;
		if (j == 0)
			return 1;
		i = j - 1;
		while (i > 0 && u.rows[i - 1].ts == u.rows[j - 1].ts)
			i--;
		to = j;
	}
	return smallest(i, to, steps) + 1;
}

void
FunnelBreakdownBuilder::add_user(const FunnelUserResult &u)
{
	if (u.level <= 0)
		return; // never entered the funnel, or excluded from it
	const std::uint64_t a = attributed(u);
	if (a == 0)
		return;
	std::int32_t &t = tally_of_[a - 1];
	if (t < 0) {
		t = static_cast<std::int32_t>(tallies_.size());
		tallies_.emplace_back(state_.options().steps, memory_);
	}
	tallies_[static_cast<std::size_t>(t)].add(u.level, u.chain, u.chain_length);
}

bool
FunnelBreakdownBuilder::step(std::size_t budget)
{
	return scan_.step(budget, [&](const FunnelUserResult &u) { add_user(u); });
}

std::pmr::vector<FunnelBreakdownRow>
FunnelBreakdownBuilder::result() const
{
	const UserIndex &values = state_.values();
	// Values with users, in byte order, NULL last.
	std::pmr::vector<std::size_t> order(memory_); // index into tally_of_: 0 NULL, v + 1 value v
	for (std::size_t i = 1; i < tally_of_.size(); i++)
		if (tally_of_[i] >= 0)
			order.push_back(i);
	std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
		return values.byte_key(static_cast<std::uint32_t>(a - 1)) < values.byte_key(static_cast<std::uint32_t>(b - 1));
	});
	if (tally_of_[0] >= 0)
		order.push_back(0);
	const FunnelTally *control = nullptr;
	if (state_.has_control())
		for (std::size_t i : order)
			if (i > 0 && values.byte_key(static_cast<std::uint32_t>(i - 1)) == state_.control())
				control = &tallies_[static_cast<std::size_t>(tally_of_[i])];
	std::pmr::vector<FunnelBreakdownRow> out(memory_);
	for (std::size_t i : order) {
		const FunnelTally &tally = tallies_[static_cast<std::size_t>(tally_of_[i])];
		for (const FunnelReportRow &row : tally.rows()) {
			FunnelBreakdownRow r{i > 0, i > 0 ? values.byte_key(static_cast<std::uint32_t>(i - 1)) : std::string_view(),
			                     row, false, ConversionComparison{}};
			if (control != nullptr && &tally != control) {
				r.compared = true;
				r.vs_control =
				    compare_conversions(control->reached(1), control->reached(row.step), tally.reached(1), row.users);
			}
			out.push_back(r);
		}
	}
	return out;
}

} // namespace pg_product_analytics::core
