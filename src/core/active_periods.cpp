#include "active_periods.hpp"

namespace pg_product_analytics::core {

std::int64_t
ActivePeriodsState::count() const noexcept
{
	const auto &e = log_.entries();
	std::int64_t n = 0;
	for (std::size_t i = 0; i < e.size(); i++)
		n += i == 0 || e[i].ts != e[i - 1].ts;
	return n;
}

void
ActivePeriodsState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::ActivePeriods);
	write_calendar_key(w, calendar_);
	log_.serialize(w);
	w.finish();
}

ActivePeriodsState
ActivePeriodsState::deserialize(const std::uint8_t *in, std::size_t size, std::pmr::memory_resource *memory)
{
	ByteReader r(in, size);
	r.header(StateTag::ActivePeriods);
	ActivePeriodsState state(read_calendar_key(r), memory);
	state.log_.deserialize(r, [](const LogEntry &e) { return e.payload == 0; });
	r.finish();
	state.compacted_ = state.log_.entries().size() / 2;
	return state;
}

} // namespace pg_product_analytics::core
