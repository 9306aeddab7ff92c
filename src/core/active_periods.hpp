// active_periods: the number of distinct calendar periods (e.g. days) with activity in a group:
// stickiness, "active days per user and week".
#pragma once

#include "event_log.hpp"

#include <cstddef>
#include <cstdint>
#include <memory_resource>

namespace pg_product_analytics::core {

/// The periods seen, in the shared row store (period in the time field, payload 0), with
/// consecutive repeats folded on arrival: one entry per period for rows in time order.
class ActivePeriodsState {
public:
	explicit ActivePeriodsState(std::pmr::memory_resource *memory) : log_(memory) {}
	ActivePeriodsState(const ActivePeriodsState &other, std::pmr::memory_resource *memory) : log_(other.log_, memory) {}

	void
	add(std::int64_t period)
	{
		if (!log_.entries().empty() && log_.entries().back().ts == period)
			return;
		log_.push(LogEntry{period, 0});
	}
	void
	merge(const ActivePeriodsState &other)
	{
		log_.merge(other.log_);
	}
	/// See EventLog::sort_step; count() needs the entries sorted.
	bool
	sort_step(std::size_t budget)
	{
		return log_.sort_step(budget);
	}
	/// Distinct periods; call when sort_step() has returned true.
	std::int64_t count() const noexcept;

	std::size_t
	serialized_size() const noexcept
	{
		return kHeaderSize + log_.serialized_size();
	}
	void serialize(std::uint8_t *out, std::size_t size) const;
	static ActivePeriodsState deserialize(const std::uint8_t *in, std::size_t size,
	                                      std::pmr::memory_resource *memory = std::pmr::new_delete_resource());

private:
	EventLog log_;
};

} // namespace pg_product_analytics::core
