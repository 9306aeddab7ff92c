#include "retention.hpp"

#include "error.hpp"
#include "serial.hpp"

#include <string>

namespace pg_product_analytics::core {

RetentionState::RetentionState(std::size_t conditions) : conditions_(conditions)
{
	check_condition_count(conditions, "condition");
}

void
RetentionState::throw_count_changed(std::size_t got) const
{
	throw Error(ErrorKind::InvalidArgument, "number of conditions changed within a group: " +
	                                            std::to_string(conditions_) + " then " + std::to_string(got));
}

void
RetentionState::merge(const RetentionState &other)
{
	if (other.conditions_ != conditions_)
		throw_count_changed(other.conditions_);
	seen_ |= other.seen_;
}

void
RetentionState::result(std::int32_t *out) const noexcept
{
	for (std::size_t k = 0; k < conditions_; k++)
		out[k] = retained(k) ? 1 : 0;
}

void
RetentionState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::Retention);
	w.u8(static_cast<std::uint8_t>(conditions_));
	w.u64(seen_);
	w.finish();
}

RetentionState
RetentionState::deserialize(const std::uint8_t *in, std::size_t size)
{
	ByteReader r(in, size);
	r.header(StateTag::Retention);
	std::size_t conditions = r.u8();
	std::uint64_t seen = r.u64();
	r.finish();
	if (conditions == 0 || conditions > kMaxConditions)
		throw_corrupt("condition count out of range");
	RetentionState state(conditions);
	if ((seen & ~state.valid_bits()) != 0)
		throw_corrupt("condition bit beyond the condition count");
	state.seen_ = seen;
	return state;
}

} // namespace pg_product_analytics::core
