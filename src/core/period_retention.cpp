#include "period_retention.hpp"

#include "error.hpp"
#include "period.hpp"
#include "serial.hpp"

#include <algorithm>
#include <string>

namespace pg_product_analytics::core {

void
check_period_retention_options(const PeriodRetentionOptions &o)
{
	if (o.periods > kMaxRetentionPeriods)
		throw Error(ErrorKind::LimitExceeded, "too many retention periods: " + std::to_string(o.periods) +
		                                          " given, the limit is " + std::to_string(kMaxRetentionPeriods));
	if (o.rolling && o.length <= 0)
		throw Error(ErrorKind::InvalidArgument, "retention period must be positive");
}

PeriodRetentionState::PeriodRetentionState(const PeriodRetentionOptions &options, std::pmr::memory_resource *memory)
    : options_(options), returns_(memory)
{
	check_period_retention_options(options);
}

PeriodRetentionState::PeriodRetentionState(const PeriodRetentionState &other, std::pmr::memory_resource *memory)
    : options_(other.options_), have_start_(other.have_start_), start_ts_(other.start_ts_),
      start_period_(other.start_period_), returns_(other.returns_, memory)
{
}

void
PeriodRetentionState::add(const PeriodRetentionOptions &options, std::int64_t ts, std::int64_t period, bool is_start,
                          bool is_return)
{
	if (!(options == options_))
		throw Error(ErrorKind::InvalidArgument, "retention parameters changed within a group");
	if (is_start && (!have_start_ || ts < start_ts_)) {
		have_start_ = true;
		start_ts_ = ts;
		start_period_ = period;
	}
	if (!is_return)
		return;
	const std::int64_t key = options_.rolling ? ts : period;
	if (!returns_.empty() && returns_.back().key == key) {
		returns_.back().latest = std::max(returns_.back().latest, ts);
		return;
	}
	if (returns_.empty())
		returns_.reserve(8);
	returns_.push_back(Return{key, ts});
}

void
PeriodRetentionState::merge(const PeriodRetentionState &other)
{
	if (!(other.options_ == options_))
		throw Error(ErrorKind::InvalidArgument, "retention parameters changed within a group");
	if (other.have_start_ && (!have_start_ || other.start_ts_ < start_ts_)) {
		have_start_ = true;
		start_ts_ = other.start_ts_;
		start_period_ = other.start_period_;
	}
	returns_.insert(returns_.end(), other.returns_.begin(), other.returns_.end());
}

PeriodRetentionResult
PeriodRetentionState::result() const
{
	PeriodRetentionResult r;
	if (!have_start_)
		return r;
	r.in_cohort = true;
	const std::size_t n = options_.periods;
	std::vector<bool> hit(n + 1, false);
	bool beyond = false; // a return after period N (for on_or_after)
	for (const auto &ret : returns_) {
		if (ret.latest < start_ts_)
			continue; // every return with this key is before the first start
		std::int64_t k =
		    options_.rolling ? rolling_period(ret.key, start_ts_, options_.length) : ret.key - start_period_;
		if (k < 0)
			continue;
		if (static_cast<std::uint64_t>(k) > n)
			beyond = true;
		else
			hit[static_cast<std::size_t>(k)] = true;
	}
	r.values.assign(n + 1, 0);
	bool later = beyond;
	for (std::size_t k = n + 1; k-- > 0;) {
		later = later || hit[k];
		r.values[k] = (options_.on_or_after ? later : hit[k]) ? 1 : 0;
	}
	if (options_.has_as_of) {
		// Period k is complete when the as-of time is in period k + 1 or later.
		std::int64_t now = options_.rolling ? rolling_period(options_.as_of, start_ts_, options_.length)
		                                    : options_.as_of - start_period_;
		for (std::size_t k = 0; k <= n; k++)
			if (now <= static_cast<std::int64_t>(k))
				r.values[k] = -1;
	}
	return r;
}

namespace {
constexpr std::size_t kFixedSize = kHeaderSize + 1 + 8 + 2 + 1 + 1 + 8 + 1 + 8 + 8 + 8;
}

std::size_t
PeriodRetentionState::serialized_size() const noexcept
{
	return kFixedSize + 16 * returns_.size();
}

void
PeriodRetentionState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::PeriodRetention);
	w.u8(options_.rolling ? 1 : 0);
	w.u64(static_cast<std::uint64_t>(options_.length));
	w.u8(static_cast<std::uint8_t>(options_.periods & 0xff));
	w.u8(static_cast<std::uint8_t>(options_.periods >> 8));
	w.u8(options_.on_or_after ? 1 : 0);
	w.u8(options_.has_as_of ? 1 : 0);
	w.u64(static_cast<std::uint64_t>(options_.as_of));
	w.u8(have_start_ ? 1 : 0);
	w.u64(static_cast<std::uint64_t>(start_ts_));
	w.u64(static_cast<std::uint64_t>(start_period_));
	w.u64(returns_.size());
	for (const auto &r : returns_) {
		w.u64(static_cast<std::uint64_t>(r.key));
		w.u64(static_cast<std::uint64_t>(r.latest));
	}
	w.finish();
}

PeriodRetentionState
PeriodRetentionState::deserialize(const std::uint8_t *in, std::size_t size, std::pmr::memory_resource *memory)
{
	ByteReader r(in, size);
	r.header(StateTag::PeriodRetention);
	PeriodRetentionOptions o;
	std::uint8_t flags[4];
	flags[0] = r.u8();
	o.rolling = flags[0] == 1;
	o.length = static_cast<std::int64_t>(r.u64());
	o.periods = r.u8();
	o.periods |= static_cast<std::size_t>(r.u8()) << 8;
	flags[1] = r.u8();
	o.on_or_after = flags[1] == 1;
	flags[2] = r.u8();
	o.has_as_of = flags[2] == 1;
	o.as_of = static_cast<std::int64_t>(r.u64());
	flags[3] = r.u8();
	for (auto f : flags)
		if (f > 1)
			throw_corrupt("bad flag");
	try {
		check_period_retention_options(o);
	} catch (const Error &) {
		throw_corrupt("invalid retention options");
	}
	PeriodRetentionState state(o, memory);
	state.have_start_ = flags[3] == 1;
	state.start_ts_ = static_cast<std::int64_t>(r.u64());
	state.start_period_ = static_cast<std::int64_t>(r.u64());
	std::uint64_t count = r.u64();
	if (count > r.remaining() / 16)
		throw_corrupt("return count does not match the size");
	state.returns_.reserve(count);
	for (std::uint64_t i = 0; i < count; i++) {
		Return ret{static_cast<std::int64_t>(r.u64()), static_cast<std::int64_t>(r.u64())};
		if (o.rolling && ret.key != ret.latest)
			throw_corrupt("rolling return with two times");
		state.returns_.push_back(ret);
	}
	r.finish();
	return state;
}

} // namespace pg_product_analytics::core
