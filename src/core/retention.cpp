#include "retention.hpp"

#include "error.hpp"
#include "serial.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

namespace pg_product_analytics::core {

RetentionState::RetentionState(std::size_t conditions) : conditions_(conditions)
{
	check_condition_count(conditions, "condition");
}

void
RetentionState::throw_count_changed(std::size_t got) const
{
	throw_changed_within_group("number of conditions (" + std::to_string(conditions_) + " then " + std::to_string(got) +
	                           ")");
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
	retention_result(seen_, conditions_, out);
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

// ---------------------------------------------------------------------------------------------
// period_retention

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
      start_period_(other.start_period_), cohort_start_(other.cohort_start_), beyond_(other.beyond_),
      base_(other.base_), mask_(other.mask_), returns_(other.returns_, memory), compacted_(other.compacted_)
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
	if (!options_.rolling && have_start_ && ts >= start_ts_) {
		if (mask_ == 0)
			base_ = period;
		if (masks(period)) {
			mask_ |= std::uint64_t{1} << (static_cast<std::uint64_t>(period) - static_cast<std::uint64_t>(base_));
			return;
		}
	}
	add_listed(Return{options_.rolling ? ts : period, ts});
}

void
PeriodRetentionState::add_listed(const Return &r)
{
	if (!returns_.empty() && joins(returns_.back(), r.key)) {
		// In time order, returns fold into the last entry: its period, or its cluster.
		returns_.back().latest = std::max(returns_.back().latest, r.latest);
		return;
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
		cohort_start_ = other.cohort_start_;
	}
	beyond_ = beyond_ || other.beyond_;
	returns_.append(other.returns_.begin(), other.returns_.end());
	// The other's masked periods had a return at or after a start no earlier than the first now.
	if (mask_ == 0) {
		base_ = other.base_;
		mask_ = other.mask_;
	} else {
		for (std::uint64_t bits = other.mask_; bits != 0; bits &= bits - 1) {
			const std::int64_t period = other.base_ + __builtin_ctzll(bits);
			if (masks(period))
				mask_ |= std::uint64_t{1} << (static_cast<std::uint64_t>(period) - static_cast<std::uint64_t>(base_));
			else
				returns_.push_back(Return{period, std::numeric_limits<std::int64_t>::max()});
		}
	}
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
		if (out > 0 && joins(returns_[out - 1], r.key)) {
			returns_[out - 1].latest = std::max(returns_[out - 1].latest, r.latest);
			continue;
		}
		returns_[out++] = r;
	}
	returns_.truncate(out);
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
	std::int8_t values[kMaxRetentionPeriods + 1];
	r.in_cohort = result_into(values);
	if (r.in_cohort)
		r.values.assign(values, values + options_.periods + 1);
	return r;
}

bool
PeriodRetentionState::result_into(std::int8_t *values) const
{
	if (!have_start_)
		return false;
	const std::size_t n = options_.periods;
	bool hit[kMaxRetentionPeriods + 1] = {};
	bool beyond = beyond_; // a return after period N (for on_or_after)
	auto mark = [&](std::int64_t low, std::int64_t high) {
		if (high > static_cast<std::int64_t>(n))
			beyond = true;
		for (std::int64_t k = std::max<std::int64_t>(low, 0); k <= high && k <= static_cast<std::int64_t>(n); k++)
			hit[static_cast<std::size_t>(k)] = true;
	};
	// Calendar period k after the start, for a period at or after it (no overflow whatever the
	// periods of a deserialized state: beyond every k when the distance does not fit).
	auto since_start = [&](std::int64_t period) {
		const std::uint64_t d = static_cast<std::uint64_t>(period) - static_cast<std::uint64_t>(start_period_);
		return d > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(d);
	};
	for (std::uint64_t bits = mask_; bits != 0; bits &= bits - 1) {
		const std::int64_t period = base_ + __builtin_ctzll(bits);
		if (period >= start_period_)
			mark(since_start(period), since_start(period));
	}
	for (const auto &ret : returns_) {
		if (ret.latest < start_ts_)
			continue; // every return of this entry is before the first start
		if (options_.rolling) {
			// A cluster cut at the start still has a return within one length after it.
			std::int64_t from = std::max(ret.key, start_ts_);
			mark(rolling_period(from, start_ts_, options_.length),
			     rolling_period(ret.latest, start_ts_, options_.length));
		} else if (ret.key >= start_period_) {
			mark(since_start(ret.key), since_start(ret.key));
		}
	}
	bool later = beyond;
	for (std::size_t k = n + 1; k-- > 0;) {
		later = later || hit[k];
		values[k] = (options_.on_or_after ? later : hit[k]) ? 1 : 0;
	}
	if (options_.has_as_of) {
		// Period k is complete when the as-of time is in period k + 1 or later.
		std::int64_t now;
		if (options_.rolling)
			now = rolling_period(options_.as_of, start_ts_, options_.length);
		else if (__builtin_sub_overflow(options_.as_of, start_period_, &now))
			now = options_.as_of > start_period_ ? INT64_MAX : INT64_MIN;
		for (std::size_t k = 0; k <= n; k++)
			if (now <= static_cast<std::int64_t>(k))
				values[k] = -1;
	}
	return true;
}

namespace {
constexpr std::size_t kFixedSize = kHeaderSize + 1 + 8 + 2 + 1 + 1 + 8 + kCalendarKeySize + 1 + 8 + 8 + 8 + 1 + 8;
}

std::size_t
PeriodRetentionState::serialized_size() const noexcept
{
	return kFixedSize + 16 * (returns_.size() + static_cast<std::size_t>(__builtin_popcountll(mask_)));
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
	w.u64(static_cast<std::uint64_t>(cohort_start_));
	w.u8(beyond_ ? 1 : 0);
	// Masked periods as listed returns whose latest time is after any start.
	w.u64(returns_.size() + static_cast<std::size_t>(__builtin_popcountll(mask_)));
	for (const auto &r : returns_) {
		w.u64(static_cast<std::uint64_t>(r.key));
		w.u64(static_cast<std::uint64_t>(r.latest));
	}
	for (std::uint64_t bits = mask_; bits != 0; bits &= bits - 1) {
		w.u64(static_cast<std::uint64_t>(base_ + __builtin_ctzll(bits)));
		w.u64(static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
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
	state.cohort_start_ = static_cast<std::int64_t>(r.u64());
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

// ---------------------------------------------------------------------------------------------
// lifecycle

void
check_lifecycle_range(const LifecycleRange &range)
{
	if (range.count == 0)
		throw Error(ErrorKind::InvalidArgument, "lifecycle needs at least one period");
	if (range.count > kMaxLifecyclePeriods)
		throw Error(ErrorKind::LimitExceeded, "too many lifecycle periods: " + std::to_string(range.count) +
		                                          " given, the limit is " + std::to_string(kMaxLifecyclePeriods));
}

void
LifecycleActivity::add(const LifecycleRange &range, std::int64_t period) noexcept
{
	if (!have || period < first_active) {
		first_active = period;
		have = true;
	}
	// Bit 0 is the period before the range; periods outside [first - 1, first + count) only
	// matter through first_active. The subtraction is done unsigned so it cannot overflow.
	std::uint64_t bit = static_cast<std::uint64_t>(period) - static_cast<std::uint64_t>(range.first - 1);
	if (period >= range.first - 1 && bit <= range.count)
		active[bit / 64] |= std::uint64_t{1} << (bit % 64);
}

void
LifecycleActivity::merge(const LifecycleActivity &other) noexcept
{
	if (other.have && (!have || other.first_active < first_active)) {
		first_active = other.first_active;
		have = true;
	}
	for (int i = 0; i < 4; i++)
		active[i] |= other.active[i];
}

LifecycleStatus
LifecycleActivity::status(const LifecycleRange &range, std::size_t k) const noexcept
{
	if (!have)
		return LifecycleStatus::None;
	const std::int64_t period = range.first + static_cast<std::int64_t>(k);
	const bool now = active_in(k + 1), before = active_in(k);
	if (now) {
		if (first_active == period)
			return LifecycleStatus::New;
		return before ? LifecycleStatus::Returning : LifecycleStatus::Resurrecting;
	}
	return before ? LifecycleStatus::Dormant : LifecycleStatus::None;
}

void
LifecycleActivity::validate(const LifecycleRange &range) const
{
	// No bit beyond the range (bits 0 .. count are used).
	for (std::size_t b = range.count + 1; b < 256; b++)
		if (active_in(b))
			throw_corrupt("activity bit beyond the range");
	if (!have && (active[0] | active[1] | active[2] | active[3]) != 0)
		throw_corrupt("activity without a first period");
	if (!have && first_active != 0)
		throw_corrupt("a first period without the flag");
}

LifecycleState::LifecycleState(const LifecycleRange &range) : range_(range)
{
	check_lifecycle_range(range);
}

void
LifecycleState::add(const LifecycleRange &range, std::int64_t period)
{
	require_same(range_, range, "lifecycle parameters");
	activity_.add(range_, period);
}

void
LifecycleState::merge(const LifecycleState &other)
{
	require_same(range_, other.range_, "lifecycle parameters");
	activity_.merge(other.activity_);
}

namespace {

void
write_activity(ByteWriter &w, const LifecycleActivity &a)
{
	w.u8(a.have ? 1 : 0);
	w.u64(static_cast<std::uint64_t>(a.first_active));
	for (auto word : a.active)
		w.u64(word);
}

LifecycleActivity
read_activity(ByteReader &r, const LifecycleRange &range)
{
	LifecycleActivity a;
	std::uint8_t have = r.u8();
	if (have > 1)
		throw_corrupt("bad lifecycle flag");
	a.have = have == 1;
	a.first_active = static_cast<std::int64_t>(r.u64());
	for (auto &word : a.active)
		word = r.u64();
	a.validate(range);
	return a;
}

void
write_range(ByteWriter &w, const LifecycleRange &range)
{
	w.u64(static_cast<std::uint64_t>(range.first));
	w.u8(static_cast<std::uint8_t>(range.count & 0xff));
	w.u8(static_cast<std::uint8_t>(range.count >> 8));
	write_calendar_key(w, range.calendar);
}

LifecycleRange
read_range(ByteReader &r)
{
	LifecycleRange range;
	range.first = static_cast<std::int64_t>(r.u64());
	range.count = r.u8();
	range.count |= static_cast<std::size_t>(r.u8()) << 8;
	range.calendar = read_calendar_key(r);
	if (range.count == 0 || range.count > kMaxLifecyclePeriods)
		throw_corrupt("bad lifecycle range");
	return range;
}

} // namespace

void
LifecycleState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::Lifecycle);
	write_range(w, range_);
	write_activity(w, activity_);
	w.finish();
}

LifecycleState
LifecycleState::deserialize(const std::uint8_t *in, std::size_t size)
{
	ByteReader r(in, size);
	r.header(StateTag::Lifecycle);
	LifecycleState state(read_range(r));
	state.activity_ = read_activity(r, state.range_);
	r.finish();
	return state;
}

// ---------------------------------------------------------------------------------------------
// lifecycle_report

LifecycleReportState::LifecycleReportState(const LifecycleRange &range, UserKeyKind kind, std::string_view zone_name,
                                           std::pmr::memory_resource *memory)
    : range_(range), users_(kind, memory), users_of_(memory), zone_name_(zone_name, memory)
{
	check_lifecycle_range(range);
	if (zone_name.size() > 255)
		throw Error(ErrorKind::InvalidArgument, "time zone name too long");
}

LifecycleReportState::LifecycleReportState(const LifecycleReportState &other, std::pmr::memory_resource *memory)
    : LifecycleReportState(other.range_, other.users_.kind(), other.zone_name_, memory)
{
	merge(other);
}

void
LifecycleReportState::merge(const LifecycleReportState &other)
{
	require_same(range_, other.range_, "lifecycle parameters");
	users_.check_kind(other.users_);
	for (std::uint32_t u = 0; u < other.users_of_.size(); u++) {
		std::uint32_t mine = users_.slot_of(other.users_, u);
		if (mine == users_of_.size())
			users_of_.emplace_back();
		users_of_[mine].merge(other.users_of_[u]);
	}
}

std::size_t
LifecycleReportState::serialized_size() const noexcept
{
	return kHeaderSize + 8 + 2 + kCalendarKeySize + 1 + zone_name_.size() + users_.serialized_size() +
	       users_of_.size() * (1 + 8 + 8 * 4);
}

void
LifecycleReportState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::LifecycleReport);
	write_range(w, range_);
	write_zone_name(w, zone_name_);
	users_.serialize(w);
	for (const auto &a : users_of_)
		write_activity(w, a);
	w.finish();
}

LifecycleReportState
LifecycleReportState::deserialize(const std::uint8_t *in, std::size_t size, std::pmr::memory_resource *memory)
{
	ByteReader r(in, size);
	r.header(StateTag::LifecycleReport);
	LifecycleRange range = read_range(r);
	const std::string_view name = read_zone_name(r, range.calendar.zone);
	const UserKeyKind kind = UserIndex::peek_kind(r);
	LifecycleReportState state(range, kind, name, memory);
	state.users_.deserialize(r);
	state.users_of_.reserve(state.users_.size());
	for (std::size_t u = 0; u < state.users_.size(); u++) {
		state.users_of_.push_back(read_activity(r, range));
		if (!state.users_of_.back().have)
			throw_corrupt("a user without activity");
	}
	r.finish();
	return state;
}

LifecycleReportBuilder::LifecycleReportBuilder(const LifecycleReportState &state, std::pmr::memory_resource *memory)
    : state_(state), memory_(memory), rows_(memory)
{
	rows_.resize(state.range().count, LifecycleReportRow{0, {0, 0, 0, 0, 0}, 0, 0.0});
}

bool
LifecycleReportBuilder::step(std::size_t budget)
{
	const LifecycleRange &range = state_.range();
	for (std::size_t done = 0; user_ < state_.users() && done < budget; user_++, done += range.count) {
		const LifecycleActivity &a = state_.activity(user_);
		for (std::size_t k = 0; k < range.count; k++) {
			rows_[k].count[static_cast<int>(a.status(range, k))]++;
			rows_[k].active_before += a.active_in(k);
		}
	}
	return user_ >= state_.users();
}

std::pmr::vector<LifecycleReportRow>
LifecycleReportBuilder::result() const
{
	std::pmr::vector<LifecycleReportRow> out(rows_, memory_);
	for (std::size_t k = 0; k < out.size(); k++) {
		out[k].period = state_.range().first + static_cast<std::int64_t>(k);
		out[k].churn = out[k].active_before == 0
		                   ? std::numeric_limits<double>::quiet_NaN()
		                   : static_cast<double>(out[k].count[static_cast<int>(LifecycleStatus::Dormant)]) /
		                         static_cast<double>(out[k].active_before);
	}
	return out;
}

// ---------------------------------------------------------------------------------------------
// active_periods

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

// ---------------------------------------------------------------------------------------------
// active_users_report

void
check_active_users_options(const ActiveUsersOptions &o)
{
	if (o.windows == 0)
		throw Error(ErrorKind::InvalidArgument, "at least one window is required");
	if (o.windows > kMaxActiveWindows)
		throw Error(ErrorKind::LimitExceeded, "too many windows: " + std::to_string(o.windows) +
		                                          " given, the limit is " + std::to_string(kMaxActiveWindows));
	for (std::size_t i = 0; i < o.windows; i++) {
		if (o.window[i] < 1)
			throw Error(ErrorKind::InvalidArgument, "a window must be at least one period");
		if (o.window[i] > kMaxActiveWindow)
			throw Error(ErrorKind::LimitExceeded, "window of " + std::to_string(o.window[i]) +
			                                          " periods is too long, the limit is " +
			                                          std::to_string(kMaxActiveWindow));
	}
}

ActiveUsersState::ActiveUsersState(const ActiveUsersOptions &options, UserKeyKind kind, std::string_view zone_name,
                                   std::pmr::memory_resource *memory)
    : options_(options), users_(kind, memory), log_(memory, false), last_(memory), zone_name_(zone_name, memory)
{
	check_active_users_options(options);
	if (zone_name.size() > 255)
		throw Error(ErrorKind::InvalidArgument, "time zone name too long");
}

ActiveUsersState::ActiveUsersState(const ActiveUsersState &other, std::pmr::memory_resource *memory)
    : ActiveUsersState(other.options_, other.users_.kind(), other.zone_name_, memory)
{
	merge(other);
}

void
ActiveUsersState::add_period(std::uint32_t user, std::int64_t period)
{
	if (user == last_.size()) {
		last_.push_back(period);
	} else if (last_[user] == period) {
		return; // the same period again: rows in time order keep one entry per period
	} else {
		last_[user] = period;
	}
	if (log_.size() == 0) {
		first_ = latest_ = period;
	} else {
		first_ = std::min(first_, period);
		latest_ = std::max(latest_, period);
	}
	log_.push(user, LogEntry{period, 0});
}

void
ActiveUsersState::merge(const ActiveUsersState &other)
{
	require_same(options_, other.options_, "active users parameters");
	const std::vector<std::uint32_t> slot_map = users_.merge(other.users_);
	other.log_.for_each(
	    [&](std::uint32_t slot, const LogEntry &e, std::uint64_t) { add_period(slot_map[slot], e.ts); });
}

std::size_t
ActiveUsersState::serialized_size() const noexcept
{
	return kHeaderSize + kCalendarKeySize + 1 + 8 * options_.windows + 1 + zone_name_.size() +
	       users_.serialized_size() + log_.serialized_size();
}

void
ActiveUsersState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::ActiveUsers);
	write_calendar_key(w, options_.calendar);
	w.u8(static_cast<std::uint8_t>(options_.windows));
	for (std::size_t i = 0; i < options_.windows; i++)
		w.u64(static_cast<std::uint64_t>(options_.window[i]));
	write_zone_name(w, zone_name_);
	users_.serialize(w);
	log_.serialize(w);
	w.finish();
}

ActiveUsersState
ActiveUsersState::deserialize(const std::uint8_t *in, std::size_t size, std::pmr::memory_resource *memory)
{
	ByteReader r(in, size);
	r.header(StateTag::ActiveUsers);
	ActiveUsersOptions o;
	o.calendar = read_calendar_key(r);
	o.windows = r.u8();
	if (o.windows > kMaxActiveWindows)
		throw_corrupt("too many windows");
	for (std::size_t i = 0; i < o.windows; i++)
		o.window[i] = static_cast<std::int64_t>(r.u64());
	try {
		check_active_users_options(o);
	} catch (const Error &) {
		throw_corrupt("invalid active users options");
	}
	const std::string_view name = read_zone_name(r, o.calendar.zone);
	const UserKeyKind kind = UserIndex::peek_kind(r);
	ActiveUsersState state(o, kind, name, memory);
	state.users_.deserialize(r);
	// Read into a scratch log, then replayed: every entry must be a change of its user's period.
	UserLog read(memory, false);
	read.deserialize(r, state.users_.size(), [](const LogEntry &e) { return e.payload == 0; });
	read.for_each([&](std::uint32_t slot, const LogEntry &e, std::uint64_t) {
		// A user's first entry comes in slot order (slots are given at first sight).
		if (slot > state.last_.size())
			throw_corrupt("users out of order");
		const std::size_t before = state.log_.size();
		state.add_period(slot, e.ts);
		if (state.log_.size() != before + 1)
			throw_corrupt("a period repeated");
	});
	r.finish();
	return state;
}

ActiveUsersBuilder::ActiveUsersBuilder(const ActiveUsersState &state, std::pmr::memory_resource *memory)
    : state_(state), memory_(memory), groups_(state.log(), state.users(), memory), periods_(memory), changes_(memory)
{
	if (state.empty())
		return;
	// last - first, unsigned: the periods may be anywhere in 64 bits.
	std::uint64_t span =
	    static_cast<std::uint64_t>(state.last_period()) - static_cast<std::uint64_t>(state.first_period());
	if (span >= static_cast<std::uint64_t>(kMaxActiveSpan))
		throw Error(ErrorKind::LimitExceeded,
		            "active users report spans " + std::to_string(span + 1) + " periods, the limit is " +
		                std::to_string(kMaxActiveSpan),
		            "", "Filter the events to the range to report, or use a longer period.");
	span_ = static_cast<std::int64_t>(span) + 1;
	changes_.assign((state.options().windows + 1) * static_cast<std::size_t>(span_ + 1), 0);
}

bool
ActiveUsersBuilder::step(std::size_t budget)
{
	const ActiveUsersOptions &o = state_.options();
	const std::int64_t first = state_.first_period();
	if (!grouped_) {
		if (!groups_.step(budget))
			return false;
		grouped_ = true;
	}
	std::size_t work = 0;
	while (user_ < state_.users() && work < budget) {
		const LogEntry *rows = groups_.rows(user_);
		periods_.clear();
		for (std::size_t i = 0; i < groups_.count(user_); i++)
			periods_.push_back(rows[i].ts - first);
		if (!groups_.sorted(user_)) {
			std::sort(periods_.begin(), periods_.end());
			periods_.erase(std::unique(periods_.begin(), periods_.end()), periods_.end());
		}
		// Window k (k = 0: the period itself): the union of [p, p + w - 1], cut at the span.
		for (std::size_t k = 0; k <= o.windows; k++) {
			const std::int64_t w = k == 0 ? 1 : o.window[k - 1];
			std::int64_t *change = &changes_[k * static_cast<std::size_t>(span_ + 1)];
			std::int64_t start = periods_[0], end = periods_[0] + w; // [start, end)
			for (std::size_t i = 1; i <= periods_.size(); i++) {
				if (i < periods_.size() && periods_[i] <= end) {
					end = periods_[i] + w;
					continue;
				}
				change[start]++;
				change[std::min(end, span_)]--;
				if (i < periods_.size()) {
					start = periods_[i];
					end = periods_[i] + w;
				}
			}
		}
		work += periods_.size() * (o.windows + 1) + 1;
		user_++;
	}
	return user_ >= state_.users();
}

std::pmr::vector<ActiveUsersRow>
ActiveUsersBuilder::result() const
{
	const ActiveUsersOptions &o = state_.options();
	std::pmr::vector<ActiveUsersRow> out(memory_);
	if (span_ == 0)
		return out;
	out.reserve(static_cast<std::size_t>(span_) * o.windows);
	std::pmr::vector<std::int64_t> running(o.windows + 1, 0, memory_);
	for (std::int64_t p = 0; p < span_; p++) {
		for (std::size_t k = 0; k <= o.windows; k++)
			running[k] += changes_[k * static_cast<std::size_t>(span_ + 1) + static_cast<std::size_t>(p)];
		for (std::size_t k = 1; k <= o.windows; k++) {
			double stickiness = running[k] == 0 ? std::numeric_limits<double>::quiet_NaN()
			                                    : static_cast<double>(running[0]) / static_cast<double>(running[k]);
			out.push_back(ActiveUsersRow{state_.first_period() + p, o.window[k - 1], running[k], stickiness});
		}
	}
	return out;
}

// ---------------------------------------------------------------------------------------------
// retention_report

namespace {
// A row's payload: its calendar period, then the start and return flags in the two low bits.
constexpr std::int64_t kMaxReportPeriod = std::int64_t{1} << 60;
} // namespace

RetentionReportState::RetentionReportState(const RetentionReportOptions &options, UserKeyKind kind,
                                           std::string_view zone_name, std::pmr::memory_resource *memory)
    : options_(options), users_(kind, memory), log_(memory, options.with_value), pending_(memory),
      zone_name_(zone_name, memory)
{
	check_period_retention_options(options.retention);
	if (options.retention.rolling && options.retention.calendar.unit != PeriodUnit::Day)
		throw Error(ErrorKind::InvalidArgument, "rolling retention reports group cohorts by day");
	if (zone_name.size() > 255)
		throw Error(ErrorKind::InvalidArgument, "time zone name too long");
}

RetentionReportState::RetentionReportState(const RetentionReportState &other, std::pmr::memory_resource *memory)
    : RetentionReportState(other.options_, other.users_.kind(), other.zone_name_, memory)
{
	merge(other);
}

double
RetentionReportState::value_of(std::uint64_t bits) noexcept
{
	double v;
	std::memcpy(&v, &bits, sizeof v);
	return v;
}

void
RetentionReportState::push(std::uint32_t user, std::int64_t ts, std::int64_t period, bool is_start, bool is_return,
                           double value)
{
	const std::uint64_t payload =
	    (static_cast<std::uint64_t>(period) << 2) | (is_start ? 2u : 0u) | (is_return ? 1u : 0u);
	std::uint64_t bits = 0;
	if (options_.with_value)
		std::memcpy(&bits, &value, sizeof bits);
	log_.push(user, LogEntry{ts, payload}, bits);
}

void
RetentionReportState::add_row(std::uint32_t user, std::int64_t ts, std::int64_t period, bool is_start, bool is_return,
                              double value)
{
	if (period >= kMaxReportPeriod || period <= -kMaxReportPeriod)
		throw Error(ErrorKind::OutOfRange, "period number out of range");
	if (options_.with_value || options_.retention.rolling) {
		push(user, ts, period, is_start, is_return, value); // every row counts
		return;
	}
	if (user >= pending_.size())
		pending_.resize(user + 1);
	PendingPeriod &p = pending_[user];
	if (p.valid && p.period != period) {
		if (p.has_start)
			push(user, p.start_ts, p.period, true, false, 0);
		if (p.has_return)
			push(user, p.return_ts, p.period, false, true, 0);
		p.valid = false;
	}
	if (!p.valid)
		p = PendingPeriod{period, 0, 0, true, false, false};
	if (is_start && (!p.has_start || ts < p.start_ts)) {
		p.start_ts = ts;
		p.has_start = true;
	}
	if (is_return && (!p.has_return || ts > p.return_ts)) {
		p.return_ts = ts;
		p.has_return = true;
	}
}

void
RetentionReportState::merge(const RetentionReportState &other)
{
	require_same(options_, other.options_, "retention parameters");
	merge_user_log(users_, log_, other.users_, other.log_);
	for (std::uint32_t u = 0; u < other.pending_.size(); u++) {
		if (!other.pending_[u].valid)
			continue;
		const std::uint32_t mine = users_.slot_of(other.users_, u);
		other.for_each_pending(u, [&](std::int64_t ts, std::int64_t period, bool is_start, bool is_return) {
			add_row(mine, ts, period, is_start, is_return, 0);
		});
	}
}

std::size_t
RetentionReportState::serialized_size() const noexcept
{
	std::size_t pending = 8;
	for (const auto &p : pending_)
		pending += 1 + (p.valid ? 8 : 0) + (p.has_start ? 8 : 0) + (p.has_return ? 8 : 0);
	return kHeaderSize + 2 + 1 + 1 + 8 + 1 + 1 + 8 + kCalendarKeySize + 1 + zone_name_.size() +
	       users_.serialized_size() + log_.serialized_size() + pending;
}

void
RetentionReportState::serialize(std::uint8_t *out, std::size_t size) const
{
	const PeriodRetentionOptions &o = options_.retention;
	ByteWriter w(out, size);
	w.header(StateTag::RetentionReport);
	w.u8(static_cast<std::uint8_t>(o.periods & 0xff));
	w.u8(static_cast<std::uint8_t>(o.periods >> 8));
	w.u8(o.on_or_after ? 1 : 0);
	w.u8(o.has_as_of ? 1 : 0);
	w.u64(static_cast<std::uint64_t>(o.as_of));
	w.u8(o.rolling ? 1 : 0);
	w.u8(options_.with_value ? 1 : 0);
	w.u64(static_cast<std::uint64_t>(o.length));
	write_calendar_key(w, o.calendar);
	write_zone_name(w, zone_name_);
	users_.serialize(w);
	log_.serialize(w);
	// The folded rows not in the log yet: per user a flags byte (valid, start, return), then the
	// period and the times present.
	w.u64(pending_.size());
	for (const auto &p : pending_) {
		w.u8(static_cast<std::uint8_t>((p.valid ? 4 : 0) | (p.has_start ? 2 : 0) | (p.has_return ? 1 : 0)));
		if (!p.valid)
			continue;
		w.u64(static_cast<std::uint64_t>(p.period));
		if (p.has_start)
			w.u64(static_cast<std::uint64_t>(p.start_ts));
		if (p.has_return)
			w.u64(static_cast<std::uint64_t>(p.return_ts));
	}
	w.finish();
}

RetentionReportState
RetentionReportState::deserialize(const std::uint8_t *in, std::size_t size, std::pmr::memory_resource *memory)
{
	ByteReader r(in, size);
	r.header(StateTag::RetentionReport);
	PeriodRetentionOptions o;
	o.periods = r.u8();
	o.periods |= static_cast<std::size_t>(r.u8()) << 8;
	std::uint8_t on_or_after = r.u8(), has_as_of = r.u8();
	o.as_of = static_cast<std::int64_t>(r.u64());
	std::uint8_t rolling = r.u8(), with_value = r.u8();
	o.length = static_cast<std::int64_t>(r.u64());
	if (on_or_after > 1 || has_as_of > 1 || rolling > 1 || with_value > 1)
		throw_corrupt("bad flag");
	o.on_or_after = on_or_after == 1;
	o.has_as_of = has_as_of == 1;
	o.rolling = rolling == 1;
	o.calendar = read_calendar_key(r);
	if (o.periods > kMaxRetentionPeriods || (!o.has_as_of && o.as_of != 0) ||
	    (o.rolling ? o.length <= 0 || o.calendar.unit != PeriodUnit::Day : o.length != 0))
		throw_corrupt("invalid retention options");
	const std::string_view name = read_zone_name(r, o.calendar.zone);
	RetentionReportState state(RetentionReportOptions(o, with_value == 1), UserIndex::peek_kind(r), name, memory);
	state.users_.deserialize(r);
	const bool value_rows = with_value == 1;
	std::vector<bool> has_row;
	state.log_.deserialize(
	    r, state.users_.size(),
	    [&](const LogEntry &e) {
		    const std::int64_t period = period_of(e);
		    return ((e.payload & 3u) != 0 || value_rows) && period < kMaxReportPeriod && period > -kMaxReportPeriod;
	    },
	    &has_row);
	const std::uint64_t pending = r.u64();
	const bool folds = !value_rows && !o.rolling;
	if (pending > state.users_.size() || (!folds && pending != 0))
		throw_corrupt("bad count of folded rows");
	state.pending_.resize(pending);
	for (std::size_t u = 0; u < pending; u++) {
		const std::uint8_t flags = r.u8();
		if (flags == 0)
			continue;
		PendingPeriod &p = state.pending_[u];
		p.valid = (flags & 4) != 0;
		p.has_start = (flags & 2) != 0;
		p.has_return = (flags & 1) != 0;
		if (flags > 7 || !p.valid || !(p.has_start || p.has_return))
			throw_corrupt("bad folded rows");
		p.period = static_cast<std::int64_t>(r.u64());
		if (p.period >= kMaxReportPeriod || p.period <= -kMaxReportPeriod)
			throw_corrupt("period out of range");
		if (p.has_start)
			p.start_ts = static_cast<std::int64_t>(r.u64());
		if (p.has_return)
			p.return_ts = static_cast<std::int64_t>(r.u64());
		has_row[u] = true;
	}
	for (std::size_t u = 0; u < has_row.size(); u++)
		if (!has_row[u])
			throw_corrupt("a user without rows");
	r.finish();
	return state;
}

RetentionReportBuilder::RetentionReportBuilder(const RetentionReportState &state, std::pmr::memory_resource *memory)
    : state_(state), memory_(memory), groups_(state.log(), state.users(), memory), cohorts_(memory)
{
}

bool
RetentionReportBuilder::step(std::size_t budget)
{
	const PeriodRetentionOptions &o = state_.options().retention;
	const bool with_value = state_.options().with_value;
	if (!grouped_) {
		if (!groups_.step(budget))
			return false;
		grouped_ = true;
	}
	std::size_t work = 0;
	while (user_ < state_.users() && work < budget) {
		// The per-user core itself, on scratch memory released after each user.
		alignas(std::max_align_t) std::byte buffer[4096];
		std::pmr::monotonic_buffer_resource scratch(buffer, sizeof buffer, memory_);
		PeriodRetentionState user(o, &scratch);
		const LogEntry *rows = groups_.rows(user_);
		const std::size_t count = groups_.count(user_);
		for (std::size_t i = 0; i < count; i++) {
			const LogEntry &e = rows[i];
			if (RetentionReportState::is_start(e) || RetentionReportState::is_return(e))
				user.add(o, e.ts, RetentionReportState::period_of(e), RetentionReportState::is_start(e),
				         RetentionReportState::is_return(e));
		}
		state_.for_each_pending(user_, [&](std::int64_t ts, std::int64_t period, bool is_start, bool is_return) {
			user.add(o, ts, period, is_start, is_return);
		});
		work += count;
		std::int8_t values[kMaxRetentionPeriods + 1];
		if (!user.result_into(values)) {
			user_++;
			work++;
			continue;
		}
		const std::int64_t period = user.start_period();
		auto it = std::lower_bound(cohorts_.begin(), cohorts_.end(), period,
		                           [](const Cohort &c, std::int64_t p) { return c.period < p; });
		if (it == cohorts_.end() || it->period != period) {
			Cohort c{period,
			         0,
			         std::pmr::vector<std::int64_t>(o.periods + 1, 0, memory_),
			         std::pmr::vector<double>(with_value ? o.periods + 1 : 0, 0.0, memory_),
			         {}};
			std::fill(std::begin(c.complete), std::end(c.complete), true);
			it = cohorts_.insert(it, std::move(c));
		}
		it->users++;
		for (std::size_t k = 0; k <= o.periods; k++) {
			it->retained[k] += values[k] == 1;
			it->complete[k] = it->complete[k] && values[k] >= 0; // rolling: users' clocks differ
		}
		if (with_value) {
			// Values from the first start on, by the period they fall in after it.
			const std::int64_t start = user.start_time();
			const std::uint64_t *values = groups_.extras(user_);
			for (std::size_t i = 0; i < count; i++) {
				const double value = RetentionReportState::value_of(values[i]);
				if (rows[i].ts < start || value == 0)
					continue;
				const std::int64_t k = o.rolling ? rolling_period(rows[i].ts, start, o.length)
				                                 : RetentionReportState::period_of(rows[i]) - period;
				if (k >= 0 && k <= static_cast<std::int64_t>(o.periods))
					it->value[static_cast<std::size_t>(k)] += value;
			}
		}
		user_++;
		work++;
	}
	return user_ >= state_.users();
}

std::pmr::vector<RetentionReportCell>
RetentionReportBuilder::result() const
{
	std::pmr::vector<RetentionReportCell> out(memory_);
	for (const auto &c : cohorts_) {
		double to_date = 0;
		for (std::size_t k = 0; k < c.retained.size(); k++) {
			const double value = c.value.empty() ? 0.0 : c.value[k];
			to_date += value;
			out.push_back(RetentionReportCell{c.period, k, c.users, c.retained[k], c.complete[k], value, to_date});
		}
	}
	return out;
}

} // namespace pg_product_analytics::core
