#include "funnel.hpp"

#include "error.hpp"
#include "serial.hpp"

#include <algorithm>
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
			throw Error(ErrorKind::InvalidArgument,
			            "unknown funnel mode \"" + std::string(name) +
			                "\" (valid modes: strict_order, strict_deduplication, strict_increase, strict_once, "
			                "allow_reentry)");
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
	throw Error(ErrorKind::InvalidArgument, std::string(what) + " changed within a group");
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

FunnelEvaluator::FunnelEvaluator(const FunnelOptions &options, bool track_steps, std::pmr::memory_resource *memory)
    : options_(options), track_(track_steps), memory_(memory), once_(memory), paths_(memory)
{
	check_funnel_options(options);
	for (std::size_t k = 0; k <= options.steps; k++) {
		reached_[k] = settled_[k] = pending_[k] = false;
		settled_first_[k] = 0;
		pending_chain_[k] = Chain{0, 0};
	}
	if ((options.modes & kStrictOnce) != 0)
		once_.resize(options.steps + 1);
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

void
FunnelEvaluator::offer(std::size_t level, const Chain &c)
{
	if (!pending_[level] || better(level, c, pending_chain_[level])) {
		pending_[level] = true;
		pending_chain_[level] = c;
	}
	reached_[level] = true;
	top_ = std::max(top_, level);
}

void
FunnelEvaluator::offer_once(std::size_t level, OnceChain &&c)
{
	// Keep the chains no other dominates (at least as good, using a subset of the rows).
	auto &list = once_[level];
	auto subset = [](const OnceChain &x, const OnceChain &y) {
		return std::includes(y.rows.begin(), y.rows.end(), x.rows.begin(), x.rows.end());
	};
	reached_[level] = true;
	top_ = std::max(top_, level);
	for (const auto &e : list)
		if (subset(e, c) && !better(level, c.chain, e.chain))
			return;
	list.erase(std::remove_if(list.begin(), list.end(),
	                          [&](const OnceChain &e) { return subset(c, e) && !better(level, e.chain, c.chain); }),
	           list.end());
	list.push_back(std::move(c));
}

bool
FunnelEvaluator::process_entry(std::size_t step, std::uint32_t row)
{
	const std::uint32_t modes = options_.modes;
	if (step >= 2) {
		if ((modes & kStrictDedup) != 0 && reached_[step])
			return false;
		if ((modes & kStrictOrder) != 0 && any_start_ && !reached_[step - 1])
			return (modes & kAllowReentry) != 0;
	}
	const bool once = (modes & kStrictOnce) != 0;
	if (step == 1) {
		any_start_ = true;
		if (once)
			offer_once(1, OnceChain{Chain{group_ts_, 0}, std::pmr::vector<std::uint32_t>({row}, memory_)});
		else
			offer(1, Chain{group_ts_, 0});
		return true;
	}
	const std::size_t prev = step - 1;
	if (settled_[prev] && in_window(settled_first_[prev])) {
		Chain c{settled_first_[prev], prev};
		if (once)
			offer_once(step, OnceChain{c, std::pmr::vector<std::uint32_t>({row}, memory_)});
		else
			offer(step, c);
	}
	if ((modes & kStrictIncrease) != 0)
		return true; // a chain ending at this timestamp cannot go on at the same timestamp
	// Chains that reached the previous step in this same group (equal timestamps may chain).
	if (!once) {
		if (pending_[prev] && in_window(pending_chain_[prev].first))
			offer(step, pending_chain_[prev]);
		return true;
	}
	// Index loop: offer_once(step, ...) never touches once_[prev].
	for (std::size_t i = 0; i < once_[prev].size(); i++) {
		const OnceChain &p = once_[prev][i];
		if (!in_window(p.chain.first) || std::binary_search(p.rows.begin(), p.rows.end(), row))
			continue;
		OnceChain c{p.chain, std::pmr::vector<std::uint32_t>(p.rows, memory_)};
		c.rows.insert(std::upper_bound(c.rows.begin(), c.rows.end(), row), row);
		offer_once(step, std::move(c));
	}
	return true;
}

void
FunnelEvaluator::process_group(const FunnelEvent *events, std::size_t begin, std::size_t end)
{
	group_ts_ = events[begin].ts;
	in_group_ = true;
	// Rows matching no step sort first in their group (strict_order only keeps them).
	if (events[begin].payload == 0) {
		if (any_start_) {
			done_ = true;
			return;
		}
		while (begin < end && events[begin].payload == 0)
			begin++;
	}
	std::uint64_t all = 0;
	for (std::size_t i = begin; i < end; i++)
		all |= events[i].payload;
	// Entries in (step, row) order: ties on the timestamp favour conversion, as in ClickHouse.
	while (all != 0) {
		auto bit = static_cast<std::size_t>(__builtin_ctzll(all));
		all &= all - 1;
		for (std::size_t i = begin; i < end; i++) {
			if ((events[i].payload >> bit & 1u) == 0)
				continue;
			if (!process_entry(bit + 1, static_cast<std::uint32_t>(i - begin))) {
				done_ = true;
				return;
			}
		}
		if (!track_ && reached_[options_.steps]) {
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
	const bool once = (options_.modes & kStrictOnce) != 0;
	// From the top: a level's new path is built from the settled path of a lower level, which
	// must still be the one from before this group.
	for (std::size_t k = top_; k >= 1; k--) {
		Chain best{};
		bool have = false;
		if (once) {
			for (const auto &c : once_[k])
				if (!have || better(k, c.chain, best)) {
					best = c.chain;
					have = true;
				}
			once_[k].clear();
		} else if (pending_[k]) {
			best = pending_chain_[k];
			have = true;
			pending_[k] = false;
		}
		if (!have || (settled_[k] && !better(k, best, Chain{settled_first_[k], k})))
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
FunnelEvaluator::process(const FunnelEvent *events, std::size_t count, std::size_t pos, std::size_t budget)
{
	std::size_t stop_at = count - pos > budget ? pos + budget : count;
	while (pos < count && !done_) {
		finish_group();
		std::size_t end = pos + 1;
		while (end < count && events[end].ts == events[pos].ts)
			end++;
		process_group(events, pos, end);
		pos = end;
		if (pos >= stop_at)
			break;
	}
	if (pos >= count)
		done_ = true;
	if (done_)
		finish_group();
	return pos;
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

} // namespace pg_product_analytics::core
