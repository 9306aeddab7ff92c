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
      start_period_(other.start_period_), beyond_(other.beyond_), returns_(other.returns_, memory),
      compacted_(other.compacted_)
{
}

void
PeriodRetentionState::add(const PeriodRetentionOptions &options, std::int64_t ts, std::int64_t period, bool is_start,
                          bool is_return)
{
	require_same(options_, options, "retention parameters");
	if (is_start && (!have_start_ || ts < start_ts_)) {
		have_start_ = true;
		start_ts_ = ts;
		start_period_ = period;
	}
	if (!is_return)
		return;
	Return r{options_.rolling ? ts : period, ts};
	if (!returns_.empty()) {
		Return &last = returns_.back();
		// In time order, returns fold into the last entry: its period, or its cluster.
		if (!options_.rolling && last.key == r.key) {
			last.latest = std::max(last.latest, ts);
			return;
		}
		if (options_.rolling && ts >= last.key &&
		    (ts <= last.latest || static_cast<std::uint64_t>(ts) - static_cast<std::uint64_t>(last.latest) <=
		                              static_cast<std::uint64_t>(options_.length))) {
			last.latest = std::max(last.latest, ts);
			return;
		}
	} else {
		returns_.reserve(8);
	}
	returns_.push_back(r);
	compact_if_grown();
}

void
PeriodRetentionState::merge(const PeriodRetentionState &other)
{
	require_same(options_, other.options_, "retention parameters");
	if (other.have_start_ && (!have_start_ || other.start_ts_ < start_ts_)) {
		have_start_ = true;
		start_ts_ = other.start_ts_;
		start_period_ = other.start_period_;
	}
	beyond_ = beyond_ || other.beyond_;
	returns_.insert(returns_.end(), other.returns_.begin(), other.returns_.end());
	compact_if_grown();
}

void
PeriodRetentionState::compact_if_grown()
{
	if (returns_.size() > 2 * compacted_ + 16)
		compact();
}

void
PeriodRetentionState::compact()
{
	std::sort(returns_.begin(), returns_.end(), [](const Return &a, const Return &b) { return a.key < b.key; });
	std::size_t out = 0;
	for (std::size_t i = 0; i < returns_.size(); i++) {
		const Return &r = returns_[i];
		if (out > 0) {
			Return &last = returns_[out - 1];
			const bool joins = options_.rolling
			                       ? (r.key <= last.latest || static_cast<std::uint64_t>(r.key) -
			                                                          static_cast<std::uint64_t>(last.latest) <=
			                                                      static_cast<std::uint64_t>(options_.length))
			                       : r.key == last.key;
			if (joins) {
				last.latest = std::max(last.latest, r.latest);
				continue;
			}
		}
		returns_[out++] = r;
	}
	returns_.resize(out);
	if (have_start_) {
		// Past period N of the current start: one flag. Rolling: from start + (N + 1) * length.
		const auto next = static_cast<std::int64_t>(options_.periods) + 1;
		std::int64_t limit, span;
		const bool fits = options_.rolling ? !__builtin_mul_overflow(next, options_.length, &span) &&
		                                         !__builtin_add_overflow(start_ts_, span, &limit)
		                                   : !__builtin_add_overflow(start_period_, next, &limit);
		while (fits && !returns_.empty() && returns_.back().key >= limit) {
			returns_.pop_back();
			beyond_ = true;
		}
		if (fits && options_.rolling && !returns_.empty() && returns_.back().latest >= limit) {
			returns_.back().latest = limit - 1; // the cluster still reaches period N
			beyond_ = true;
		}
	}
	compacted_ = returns_.size();
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
	bool beyond = beyond_; // a return after period N (for on_or_after)
	auto mark = [&](std::int64_t low, std::int64_t high) {
		if (high > static_cast<std::int64_t>(n))
			beyond = true;
		for (std::int64_t k = std::max<std::int64_t>(low, 0); k <= high && k <= static_cast<std::int64_t>(n); k++)
			hit[static_cast<std::size_t>(k)] = true;
	};
	for (const auto &ret : returns_) {
		if (ret.latest < start_ts_)
			continue; // every return of this entry is before the first start
		if (options_.rolling) {
			// A cluster cut at the start still has a return within one length after it.
			std::int64_t from = std::max(ret.key, start_ts_);
			mark(rolling_period(from, start_ts_, options_.length),
			     rolling_period(ret.latest, start_ts_, options_.length));
		} else if (ret.key >= start_period_) {
			mark(ret.key - start_period_, ret.key - start_period_);
		}
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
constexpr std::size_t kFixedSize = kHeaderSize + 1 + 8 + 2 + 1 + 1 + 8 + kCalendarKeySize + 1 + 8 + 8 + 1 + 8;
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
	write_calendar_key(w, options_.calendar);
	w.u8(have_start_ ? 1 : 0);
	w.u64(static_cast<std::uint64_t>(start_ts_));
	w.u64(static_cast<std::uint64_t>(start_period_));
	w.u8(beyond_ ? 1 : 0);
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
	o.calendar = read_calendar_key(r);
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
	std::uint8_t beyond = r.u8();
	if (beyond > 1 || (beyond == 1 && flags[3] == 0))
		throw_corrupt("bad beyond flag");
	state.beyond_ = beyond == 1;
	std::uint64_t count = r.u64();
	if (count > r.remaining() / 16)
		throw_corrupt("return count does not match the size");
	state.returns_.reserve(count);
	for (std::uint64_t i = 0; i < count; i++) {
		Return ret{static_cast<std::int64_t>(r.u64()), static_cast<std::int64_t>(r.u64())};
		if (o.rolling && ret.key > ret.latest)
			throw_corrupt("rolling cluster ending before it starts");
		state.returns_.push_back(ret);
	}
	r.finish();
	state.compacted_ = state.returns_.size();
	return state;
}

} // namespace pg_product_analytics::core
