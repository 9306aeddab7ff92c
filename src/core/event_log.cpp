#include "event_log.hpp"

#include <algorithm>

namespace pg_product_analytics::core {

void
EventLog::merge(const EventLog &other)
{
	if (other.entries_.empty())
		return;
	std::size_t middle = entries_.size();
	entries_.insert(entries_.end(), other.entries_.begin(), other.entries_.end());
	if (sorted_ && other.sorted_)
		std::inplace_merge(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(middle), entries_.end());
	else
		sorted_ = false;
	sorted_run_ = 0;
}

bool
EventLog::sort_step(std::size_t budget)
{
	if (sorted_)
		return true;
	std::size_t n = entries_.size();
	budget = std::max<std::size_t>(budget, 1024);
	auto at = [&](std::size_t i) { return entries_.begin() + static_cast<std::ptrdiff_t>(std::min(i, n)); };
	if (n <= budget) {
		std::sort(entries_.begin(), entries_.end());
	} else if (sorted_run_ == 0) {
		// First pass: sort blocks of `budget` entries; then merge runs pairwise, a pass per call.
		for (std::size_t b = 0; b < n; b += budget)
			std::sort(at(b), at(b + budget));
		sorted_run_ = budget;
		return false;
	} else {
		std::size_t run = sorted_run_;
		for (std::size_t b = 0; b + run < n; b += 2 * run)
			std::inplace_merge(at(b), at(b + run), at(b + 2 * run));
		sorted_run_ = 2 * run;
		if (sorted_run_ < n)
			return false;
	}
	sorted_ = true;
	sorted_run_ = 0;
	return true;
}

void
EventLog::serialize(ByteWriter &w) const
{
	w.u8(sorted_ ? 1 : 0);
	w.u64(entries_.size());
	for (const auto &e : entries_) {
		w.u64(static_cast<std::uint64_t>(e.ts));
		w.u64(e.payload);
	}
}

} // namespace pg_product_analytics::core
