// lifecycle: PostHog's lifecycle chart per user. For each period of a reporting range the user is
// new (first activity ever in that period), returning (active in it and in the previous one),
// resurrecting (active in it, not in the previous one, active at some earlier time) or dormant
// (not active in it, active in the previous one); otherwise not counted (docs/retention.md).
#pragma once

#include "period.hpp"

#include <cstddef>
#include <cstdint>

namespace pg_product_analytics::core {

inline constexpr std::size_t kMaxLifecyclePeriods = 255;

enum class LifecycleStatus : std::uint8_t { None = 0, New, Returning, Resurrecting, Dormant };

/// The reporting range: periods [first, first + count) of the calendar (unit and zone) the glue
/// computes periods in.
struct LifecycleRange {
	std::int64_t first = 0;
	std::size_t count = 0;
	CalendarKey calendar;

	bool
	operator==(const LifecycleRange &o) const noexcept
	{
		return first == o.first && count == o.count && calendar == o.calendar;
	}
};

/// Plain data (trivially copyable): the user's first active period ever, and which periods of
/// [range.first - 1, range.first + count) they were active in. Merging is exact (min and OR).
class LifecycleState {
public:
	/// Throws InvalidArgument for 0 periods, LimitExceeded above kMaxLifecyclePeriods.
	explicit LifecycleState(const LifecycleRange &range);

	/// One active row in `period`. Throws InvalidArgument if the range differs from the group's.
	void add(const LifecycleRange &range, std::int64_t period);
	void merge(const LifecycleState &other);

	const LifecycleRange &
	range() const noexcept
	{
		return range_;
	}
	/// The status in period range.first + k, k < range.count.
	LifecycleStatus status(std::size_t k) const noexcept;

	static constexpr std::size_t kSerializedSize = kHeaderSize + 8 + 2 + kCalendarKeySize + 1 + 8 + 8 * 4;
	std::size_t
	serialized_size() const noexcept
	{
		return kSerializedSize;
	}
	void serialize(std::uint8_t *out, std::size_t size) const;
	static LifecycleState deserialize(const std::uint8_t *in, std::size_t size);

private:
	bool
	active(std::size_t bit) const noexcept
	{
		return (active_[bit / 64] >> (bit % 64)) & 1u;
	}

	LifecycleRange range_;
	bool have_ = false;
	std::int64_t first_active_ = 0;
	std::uint64_t active_[4] = {}; ///< bit b: active in period range.first - 1 + b
};

} // namespace pg_product_analytics::core
