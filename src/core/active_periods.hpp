// active_periods: the number of distinct calendar periods (e.g. days) with activity in a group:
// stickiness, "active days per user and week".
#pragma once

#include "event_log.hpp"
#include "period.hpp"

#include <cstddef>
#include <cstdint>
#include <memory_resource>

namespace pg_product_analytics::core {

/// The periods seen, in the shared row store (period in the time field, payload 0): repeats of
/// the last period fold on arrival, and the store is compacted to distinct periods whenever it
/// doubles, so it holds at most about twice the answer, whatever the row count or order.
class ActivePeriodsState {
public:
	ActivePeriodsState(const CalendarKey &calendar, std::pmr::memory_resource *memory)
	    : calendar_(calendar), log_(memory)
	{
	}
	ActivePeriodsState(const ActivePeriodsState &other, std::pmr::memory_resource *memory)
	    : calendar_(other.calendar_), log_(other.log_, memory), compacted_(other.compacted_)
	{
	}

	/// One active row in `period`. Throws InvalidArgument when the calendar differs from the group's.
	void
	add(const CalendarKey &calendar, std::int64_t period)
	{
		require_same(calendar_, calendar, "period or time zone");
		if (!log_.entries().empty() && log_.entries().back().ts == period)
			return;
		log_.push(LogEntry{period, 0});
		compact_if_grown();
	}
	void
	merge(const ActivePeriodsState &other)
	{
		require_same(calendar_, other.calendar_, "period or time zone");
		log_.merge(other.log_);
		compact_if_grown();
	}
	/// Entries kept (for tests of the bound).
	std::size_t
	entries() const noexcept
	{
		return log_.entries().size();
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
		return kHeaderSize + kCalendarKeySize + log_.serialized_size();
	}
	void serialize(std::uint8_t *out, std::size_t size) const;
	static ActivePeriodsState deserialize(const std::uint8_t *in, std::size_t size,
	                                      std::pmr::memory_resource *memory = std::pmr::new_delete_resource());

private:
	void
	compact_if_grown()
	{
		if (log_.entries().size() > 2 * compacted_ + 64) {
			log_.sort_unique();
			compacted_ = log_.entries().size();
		}
	}

	CalendarKey calendar_;
	EventLog log_;
	std::size_t compacted_ = 0; ///< distinct periods at the last compaction
};

} // namespace pg_product_analytics::core
