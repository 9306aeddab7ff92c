#include "lifecycle.hpp"

#include "error.hpp"
#include "serial.hpp"

#include <string>

namespace pg_product_analytics::core {

LifecycleState::LifecycleState(const LifecycleRange &range) : range_(range)
{
	if (range.count == 0)
		throw Error(ErrorKind::InvalidArgument, "lifecycle needs at least one period");
	if (range.count > kMaxLifecyclePeriods)
		throw Error(ErrorKind::LimitExceeded, "too many lifecycle periods: " + std::to_string(range.count) +
		                                          " given, the limit is " + std::to_string(kMaxLifecyclePeriods));
}

void
LifecycleState::add(const LifecycleRange &range, std::int64_t period)
{
	require_same(range_, range, "lifecycle parameters");
	if (!have_ || period < first_active_) {
		first_active_ = period;
		have_ = true;
	}
	// Bit 0 is the period before the range; periods outside [first - 1, first + count) only
	// matter through first_active_. The subtraction is done unsigned so it cannot overflow.
	std::uint64_t bit = static_cast<std::uint64_t>(period) - static_cast<std::uint64_t>(range_.first - 1);
	if (period >= range_.first - 1 && bit <= range_.count)
		active_[bit / 64] |= std::uint64_t{1} << (bit % 64);
}

void
LifecycleState::merge(const LifecycleState &other)
{
	require_same(range_, other.range_, "lifecycle parameters");
	if (other.have_ && (!have_ || other.first_active_ < first_active_)) {
		first_active_ = other.first_active_;
		have_ = true;
	}
	for (int i = 0; i < 4; i++)
		active_[i] |= other.active_[i];
}

LifecycleStatus
LifecycleState::status(std::size_t k) const noexcept
{
	if (!have_)
		return LifecycleStatus::None;
	const std::int64_t period = range_.first + static_cast<std::int64_t>(k);
	const bool now = active(k + 1), before = active(k);
	if (now) {
		if (first_active_ == period)
			return LifecycleStatus::New;
		return before ? LifecycleStatus::Returning : LifecycleStatus::Resurrecting;
	}
	return before ? LifecycleStatus::Dormant : LifecycleStatus::None;
}

void
LifecycleState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::Lifecycle);
	w.u64(static_cast<std::uint64_t>(range_.first));
	w.u8(static_cast<std::uint8_t>(range_.count & 0xff));
	w.u8(static_cast<std::uint8_t>(range_.count >> 8));
	write_calendar_key(w, range_.calendar);
	w.u8(have_ ? 1 : 0);
	w.u64(static_cast<std::uint64_t>(first_active_));
	for (auto word : active_)
		w.u64(word);
	w.finish();
}

LifecycleState
LifecycleState::deserialize(const std::uint8_t *in, std::size_t size)
{
	ByteReader r(in, size);
	r.header(StateTag::Lifecycle);
	LifecycleRange range;
	range.first = static_cast<std::int64_t>(r.u64());
	range.count = r.u8();
	range.count |= static_cast<std::size_t>(r.u8()) << 8;
	range.calendar = read_calendar_key(r);
	std::uint8_t have = r.u8();
	std::int64_t first_active = static_cast<std::int64_t>(r.u64());
	std::uint64_t words[4];
	for (auto &word : words)
		word = r.u64();
	r.finish();
	if (have > 1 || range.count == 0 || range.count > kMaxLifecyclePeriods)
		throw_corrupt("bad lifecycle flag or range");
	LifecycleState state(range);
	state.have_ = have == 1;
	state.first_active_ = first_active;
	// No bit beyond the range (bits 0 .. count are used).
	for (std::size_t b = range.count + 1; b < 256; b++)
		if ((words[b / 64] >> (b % 64)) & 1u)
			throw_corrupt("activity bit beyond the range");
	if (!state.have_ && (words[0] | words[1] | words[2] | words[3]) != 0)
		throw_corrupt("activity without a first period");
	for (int i = 0; i < 4; i++)
		state.active_[i] = words[i];
	return state;
}

} // namespace pg_product_analytics::core
