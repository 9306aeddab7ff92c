// The retention family (docs/retention.md): retention(c1, ..., cN), ClickHouse's existential
// retention; period_retention, the cohort triangle's building block; lifecycle, PostHog's
// new / returning / resurrecting / dormant statuses; active_periods, stickiness.
#pragma once

#include "event_log.hpp"
#include "limits.hpp"
#include "period.hpp"
#include "small_vector.hpp"
#include "user_map.hpp"

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

namespace pg_product_analytics::core {

// ---------------------------------------------------------------------------------------------
// retention(c1, ..., cN): the state is which conditions were true on at least one row of the
// group; r[1] = any(c1), r[k] = any(c1) AND any(ck) for k > 1.

/// The result from `seen` (bit i: condition i + 1 held on some row): `conditions` elements of 0/1.
inline void
retention_result(std::uint64_t seen, std::size_t conditions, std::int32_t *out) noexcept
{
	for (std::size_t k = 0; k < conditions; k++)
		out[k] = (seen & 1u) != 0 && ((seen >> k) & 1u) != 0 ? 1 : 0;
}

/// retention over calendar periods (ck = a row in the range's period k - 1) keeps one bigint, by
/// value, in PostgreSQL's per-group slot: bits 0..55 the periods seen, bits 56..62 the period
/// count, which the final function has no other way to learn (it never sees the arguments).
struct RangeMask {
	static constexpr std::size_t kMaxPeriods = 56;
	static constexpr unsigned kCountShift = 56;

	/// A group's state before any row is seen in its periods.
	static constexpr std::uint64_t
	empty(std::size_t periods) noexcept
	{
		return static_cast<std::uint64_t>(periods) << kCountShift;
	}
	/// The period count of a state, or 0 when it is not a valid state (a direct call with any bigint).
	static constexpr std::size_t
	periods(std::uint64_t state) noexcept
	{
		const std::size_t n = state >> kCountShift;
		return n >= 1 && n <= kMaxPeriods && (seen(state) >> n) == 0 ? n : 0;
	}
	/// The periods seen (bit k: period k of the range).
	static constexpr std::uint64_t
	seen(std::uint64_t state) noexcept
	{
		return state & ((std::uint64_t{1} << kCountShift) - 1);
	}
};

/// Invariant: 1 <= conditions() <= kMaxConditions and no bit at or above conditions() is set.
/// Merging is a bitwise OR, so the result never depends on row order or on how rows are split.
class RetentionState {
public:
	/// Throws InvalidArgument (0) or LimitExceeded (> kMaxConditions).
	explicit RetentionState(std::size_t conditions);

	/// Adds one row: bit i of `mask` set when condition i + 1 was true. `conditions` is the row's count,
	/// which must equal the group's (InvalidArgument otherwise); bits at or above it are ignored.
	void
	add(std::size_t conditions, std::uint64_t mask)
	{
		if (conditions != conditions_)
			throw_count_changed(conditions);
		seen_ |= mask & valid_bits();
	}

	/// Adds all rows another state has seen. Throws InvalidArgument if the condition counts differ.
	void merge(const RetentionState &other);

	std::size_t
	conditions() const noexcept
	{
		return conditions_;
	}

	/// Writes conditions() elements of 0/1 to `out`.
	void result(std::int32_t *out) const noexcept;

	static constexpr std::size_t kSerializedSize = 4 + 1 + 8;

	std::size_t
	serialized_size() const noexcept
	{
		return kSerializedSize;
	}

	void serialize(std::uint8_t *out, std::size_t size) const;

	/// Validates the count range and that no bit beyond the count is set (CorruptState otherwise).
	static RetentionState deserialize(const std::uint8_t *in, std::size_t size);

private:
	std::uint64_t
	valid_bits() const noexcept
	{
		return conditions_ == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << conditions_) - 1;
	}

	[[noreturn]] void throw_count_changed(std::size_t got) const;

	std::uint64_t seen_ = 0;
	std::size_t conditions_;
};

// ---------------------------------------------------------------------------------------------
// period_retention: for one user, the cohort period (the period of the first start event) and,
// for periods k = 0..N after it, whether a return event happened in period k (or in k or later),
// with periods not yet complete at an "as of" time told apart (docs/retention.md).

inline constexpr std::size_t kMaxRetentionPeriods = 255;

/// Rules of one aggregate call; every row of a group must carry the same (InvalidArgument).
struct PeriodRetentionOptions {
	bool rolling = false;     ///< periods of `length` from the first start (else calendar periods given per row)
	std::int64_t length = 0;  ///< rolling only, > 0
	std::size_t periods = 0;  ///< N: the result has N + 1 elements, k = 0..N
	bool on_or_after = false; ///< r[k] = a return in period k or any later one
	bool has_as_of = false;   ///< periods not complete at as_of give NULL
	std::int64_t as_of = 0;   ///< rolling: the time; calendar: the period index of that time
	CalendarKey calendar;     ///< calendar only: the unit and zone the glue computes periods in

	bool
	operator==(const PeriodRetentionOptions &o) const noexcept
	{
		return rolling == o.rolling && length == o.length && periods == o.periods && on_or_after == o.on_or_after &&
		       has_as_of == o.has_as_of && as_of == o.as_of && calendar == o.calendar;
	}
};

/// Throws LimitExceeded above kMaxRetentionPeriods, InvalidArgument for a rolling length <= 0.
void check_period_retention_options(const PeriodRetentionOptions &options);

/// The result for one user: N + 1 elements, each 1 (returned), 0 (did not) or null (period not
/// complete at as_of).
struct PeriodRetentionResult {
	bool in_cohort = false;          ///< false: the user never did the start event (the SQL result is NULL)
	std::vector<std::int8_t> values; ///< 1, 0, or -1 for NULL
};

/// State: the earliest start (its time and, for calendar periods, its period) and the returns.
/// Calendar: (period, latest return time in it). Rolling: clusters [first, last] of returns whose
/// consecutive gaps are at most one period length: a cluster covers exactly the periods of its
/// returns whatever the start turns out to be, so the returns inside need not be kept. Returns
/// past period N of the current start only matter as "a later return" (on_or_after), and stay past
/// it when an earlier start arrives: they become one flag. Compacted as the state grows, so its
/// size is bounded by the periods the returns span (N + 2 entries for rows in time order), never
/// by the number of rows.
class PeriodRetentionState {
public:
	PeriodRetentionState(const PeriodRetentionOptions &options, std::pmr::memory_resource *memory);
	PeriodRetentionState(const PeriodRetentionState &other, std::pmr::memory_resource *memory);

	/// One row: its time, its calendar period (ignored for rolling periods), and whether it is a
	/// start and/or a return event. Throws InvalidArgument if the options differ.
	void add(const PeriodRetentionOptions &options, std::int64_t ts, std::int64_t period, bool is_start,
	         bool is_return);
	void merge(const PeriodRetentionState &other);

	/// Computes the result; O(returns log returns). Does not change the state.
	PeriodRetentionResult result() const;
	/// The same without allocating: writes periods + 1 values (1, 0, -1 for NULL) to `values` and
	/// returns whether the user is in the cohort (nothing written otherwise).
	bool result_into(std::int8_t *values) const;

	const PeriodRetentionOptions &
	options() const noexcept
	{
		return options_;
	}
	/// The period given with the first start (calendar periods: its period; meaningful when in the
	/// cohort).
	std::int64_t
	start_period() const noexcept
	{
		return start_period_;
	}
	/// The time of the first start (meaningful when in the cohort).
	std::int64_t
	start_time() const noexcept
	{
		return start_ts_;
	}
	/// Whether a start has been seen.
	bool
	has_start() const noexcept
	{
		return have_start_;
	}
	/// cohort_retention: the start of the first start's calendar period, which the caller computes
	/// (it needs the time zone's rules) and sets after a row that made the first start earlier; it
	/// follows the first start through merges. 0 until set.
	void
	set_cohort_start(std::int64_t start) noexcept
	{
		cohort_start_ = start;
	}
	std::int64_t
	cohort_start() const noexcept
	{
		return cohort_start_;
	}

	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	static PeriodRetentionState deserialize(const std::uint8_t *in, std::size_t size,
	                                        std::pmr::memory_resource *memory = std::pmr::new_delete_resource());

	struct Return {
		std::int64_t key;    ///< calendar period, or the first return time of a rolling cluster
		std::int64_t latest; ///< latest return time with this key / in this cluster
	};

	/// Entries kept (for tests of the bound): returns listed, and the period mask as one.
	std::size_t
	entries() const noexcept
	{
		return returns_.size() + (mask_ != 0 ? 1 : 0);
	}

private:
	bool joins(const Return &last, std::int64_t key) const noexcept;
	void compact_if_grown();
	void compact();
	/// Calendar periods of returns at or after the first start: the 64 periods from base_ as bits.
	bool masks(std::int64_t period) const noexcept;
	void add_listed(const Return &r);

	PeriodRetentionOptions options_;
	bool have_start_ = false;
	std::int64_t start_ts_ = 0;
	std::int64_t start_period_ = 0;
	std::int64_t cohort_start_ = 0; ///< see set_cohort_start
	bool beyond_ = false;           ///< a return after period N of the current start
	/// Calendar periods with a return at or after the first start known then (so after the first
	/// start ever: it only moves earlier): bit i is period base_ + i. Time-ordered rows fill
	/// only this; other returns are listed in returns_ (serialized as list entries too).
	std::int64_t base_ = 0;
	std::uint64_t mask_ = 0;
	/// Listed returns: most users have one or two (in the state itself), some many.
	SmallVector<Return, 2, 8> returns_;
	std::size_t compacted_ = 0; ///< entries after the last compaction
};

inline bool
PeriodRetentionState::joins(const Return &last, std::int64_t key) const noexcept
{
	if (!options_.rolling)
		return key == last.key;
	// A return from the cluster's first on, less than a period length after its last.
	return key >= last.key &&
	       (key <= last.latest || static_cast<std::uint64_t>(key) - static_cast<std::uint64_t>(last.latest) <=
	                                  static_cast<std::uint64_t>(options_.length));
}

inline bool
PeriodRetentionState::masks(std::int64_t period) const noexcept
{
	return static_cast<std::uint64_t>(period) - static_cast<std::uint64_t>(base_) < 64;
}

// ---------------------------------------------------------------------------------------------
// lifecycle: PostHog's lifecycle chart per user. For each period of a reporting range the user is
// new (first activity ever in that period), returning (active in it and in the previous one),
// resurrecting (active in it, not in the previous one, active at some earlier time) or dormant
// (not active in it, active in the previous one); otherwise not counted (docs/retention.md).

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
/// One user's activity as lifecycle sees it: the first active period ever, and which periods of
/// [range.first - 1, range.first + count) were active. Plain data; merging is exact (min and OR).
/// LifecycleState holds one for a group; lifecycle_report one per user.
struct LifecycleActivity {
	bool have = false;
	std::int64_t first_active = 0;
	std::uint64_t active[4] = {}; ///< bit b: active in period range.first - 1 + b

	/// One active row in `period` (the range was checked by the caller).
	void add(const LifecycleRange &range, std::int64_t period) noexcept;
	void merge(const LifecycleActivity &other) noexcept;
	/// The status in period range.first + k, k < range.count.
	LifecycleStatus status(const LifecycleRange &range, std::size_t k) const noexcept;
	bool
	active_in(std::size_t bit) const noexcept
	{
		return (active[bit / 64] >> (bit % 64)) & 1u;
	}
	/// Checks what deserialization read: no bit beyond the range, no bit without a first period.
	void validate(const LifecycleRange &range) const;
};

/// Plain data (trivially copyable): the range and the group's activity.
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
	LifecycleStatus
	status(std::size_t k) const noexcept
	{
		return activity_.status(range_, k);
	}

	static constexpr std::size_t kSerializedSize = kHeaderSize + 8 + 2 + kCalendarKeySize + 1 + 8 + 8 * 4;
	std::size_t
	serialized_size() const noexcept
	{
		return kSerializedSize;
	}
	void serialize(std::uint8_t *out, std::size_t size) const;
	static LifecycleState deserialize(const std::uint8_t *in, std::size_t size);

private:
	LifecycleRange range_;
	LifecycleActivity activity_;
};

/// Throws InvalidArgument for 0 periods, LimitExceeded above kMaxLifecyclePeriods.
void check_lifecycle_range(const LifecycleRange &range);

/// lifecycle_report: every user's LifecycleActivity by user id (no rows kept: 48 bytes a user).
class LifecycleReportState {
public:
	/// `zone_name`: the zone whose identity range.calendar.zone is, kept for the final step.
	LifecycleReportState(const LifecycleRange &range, UserKeyKind kind, std::string_view zone_name,
	                     std::pmr::memory_resource *memory);
	LifecycleReportState(const LifecycleReportState &other, std::pmr::memory_resource *memory);

	template <class Key>
	void
	add(const LifecycleRange &range, Key user, std::int64_t period)
	{
		require_same(range_, range, "lifecycle parameters");
		std::uint32_t slot = users_.slot(user);
		if (slot == users_of_.size())
			users_of_.emplace_back();
		users_of_[slot].add(range_, period);
	}
	void merge(const LifecycleReportState &other);

	const LifecycleRange &
	range() const noexcept
	{
		return range_;
	}
	std::size_t
	users() const noexcept
	{
		return users_of_.size();
	}
	const LifecycleActivity &
	activity(std::size_t user) const noexcept
	{
		return users_of_[user];
	}
	std::string_view
	zone_name() const noexcept
	{
		return zone_name_;
	}

	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	static LifecycleReportState deserialize(const std::uint8_t *in, std::size_t size,
	                                        std::pmr::memory_resource *memory = std::pmr::new_delete_resource());

private:
	LifecycleRange range_;
	UserIndex users_;
	std::pmr::vector<LifecycleActivity> users_of_;
	std::pmr::string zone_name_;
};

/// One period of the lifecycle report: users per status, and churn: dormant users divided by the
/// users active in the previous period (NaN when none were).
struct LifecycleReportRow {
	std::int64_t period;
	std::int64_t count[5]; ///< by LifecycleStatus (index 0, None, unused)
	std::int64_t active_before;
	double churn;
};

/// Counts statuses over the users, resumably (budget in users).
class LifecycleReportBuilder {
public:
	LifecycleReportBuilder(const LifecycleReportState &state, std::pmr::memory_resource *memory);
	bool step(std::size_t budget);
	std::pmr::vector<LifecycleReportRow> result() const;

private:
	const LifecycleReportState &state_;
	std::pmr::memory_resource *memory_;
	std::size_t user_ = 0;
	std::pmr::vector<LifecycleReportRow> rows_;
};

// ---------------------------------------------------------------------------------------------
// active_periods: the number of distinct calendar periods (e.g. days) with activity in a group:
// stickiness, "active days per user and week".

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
		if (!log_.empty() && log_.last().ts == period)
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

// ---------------------------------------------------------------------------------------------
// active_users_report: per calendar period, the distinct users active in it and in rolling
// windows of periods ending there (DAU, WAU, MAU), and stickiness.

inline constexpr std::size_t kMaxActiveWindows = 16;
inline constexpr std::int64_t kMaxActiveWindow = 3660; ///< periods in one window
inline constexpr std::int64_t kMaxActiveSpan = 200000; ///< periods from the first to the last activity

/// The report's parameters: the calendar and the window lengths, in periods (1 = the period itself).
struct ActiveUsersOptions {
	CalendarKey calendar;
	std::size_t windows = 0;
	std::int64_t window[kMaxActiveWindows] = {};

	bool
	operator==(const ActiveUsersOptions &o) const noexcept
	{
		if (!(calendar == o.calendar) || windows != o.windows)
			return false;
		for (std::size_t i = 0; i < windows; i++)
			if (window[i] != o.window[i])
				return false;
		return true;
	}
};

/// Throws InvalidArgument for no window or a window below 1, LimitExceeded above the limits.
void check_active_users_options(const ActiveUsersOptions &options);

/// Users by id, each with the periods they were active in (repeats of the last period folded on
/// arrival: one entry per active period for rows in time order), and the span of all periods.
class ActiveUsersState {
public:
	/// `zone_name`: the name of the zone whose identity options.calendar.zone is (empty: local
	/// times), kept so the final step can give period starts in it.
	ActiveUsersState(const ActiveUsersOptions &options, UserKeyKind kind, std::string_view zone_name,
	                 std::pmr::memory_resource *memory);
	ActiveUsersState(const ActiveUsersState &other, std::pmr::memory_resource *memory);

	template <class Key>
	void
	add(const ActiveUsersOptions &options, Key user, std::int64_t period)
	{
		require_same(options_, options, "active users parameters");
		add_period(users_.slot(user), period);
	}
	void merge(const ActiveUsersState &other);

	const ActiveUsersOptions &
	options() const noexcept
	{
		return options_;
	}
	std::size_t
	users() const noexcept
	{
		return users_.size();
	}
	/// Each user's periods, one entry per change of period in arrival order (rows in time order:
	/// one per distinct period).
	const UserLog &
	log() const noexcept
	{
		return log_;
	}
	bool
	empty() const noexcept
	{
		return users_.size() == 0;
	}
	std::int64_t
	first_period() const noexcept
	{
		return first_;
	}
	std::int64_t
	last_period() const noexcept
	{
		return latest_;
	}
	std::string_view
	zone_name() const noexcept
	{
		return zone_name_;
	}

	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	static ActiveUsersState deserialize(const std::uint8_t *in, std::size_t size,
	                                    std::pmr::memory_resource *memory = std::pmr::new_delete_resource());

private:
	void add_period(std::uint32_t user, std::int64_t period);

	ActiveUsersOptions options_;
	UserIndex users_;
	UserLog log_;
	std::pmr::vector<std::int64_t> last_; ///< per user: the period of their latest entry
	std::int64_t first_ = 0;
	std::int64_t latest_ = 0; ///< the last period of all
	std::pmr::string zone_name_;
};

/// One row of the report: in `period`, the users active in the window of `window` periods ending
/// with it, and stickiness: the users active in the period itself divided by that.
struct ActiveUsersRow {
	std::int64_t period;
	std::int64_t window;
	std::int64_t users;
	double stickiness; ///< NaN when no user is active in the window
};

/// Folds every user into per-window counts over the span, resumably (as FunnelReportBuilder):
/// for each user, the union of [p, p + w - 1] over their active periods p, added to a
/// difference array per window. Throws LimitExceeded when the span exceeds kMaxActiveSpan.
class ActiveUsersBuilder {
public:
	ActiveUsersBuilder(const ActiveUsersState &state, std::pmr::memory_resource *memory);
	bool step(std::size_t budget);
	/// Rows by period, then by window in the order given; call once step() returned true.
	std::pmr::vector<ActiveUsersRow> result() const;

private:
	const ActiveUsersState &state_;
	std::pmr::memory_resource *memory_;
	UserGroups groups_;
	bool grouped_ = false;
	std::size_t user_ = 0;
	std::int64_t span_ = 0;
	std::pmr::vector<std::int64_t> periods_; ///< scratch: one user's periods
	std::pmr::vector<std::int64_t> changes_; ///< per window (+ the period itself), span + 1 each
};

// ---------------------------------------------------------------------------------------------
// retention_report: the cohort triangle, users grouped inside.

/// The report's parameters: period_retention's, and whether rows carry a value (revenue) summed
/// per cohort and period. Rolling periods: the cohort is the calendar day (calendar.unit Day, in
/// the zone) of the first start; the periods run from each user's own first start.
struct RetentionReportOptions {
	PeriodRetentionOptions retention;
	bool with_value = false;

	RetentionReportOptions() = default;
	RetentionReportOptions(const PeriodRetentionOptions &r, bool value = false) : retention(r), with_value(value) {}
	bool
	operator==(const RetentionReportOptions &o) const noexcept
	{
		return retention == o.retention && with_value == o.with_value;
	}
};

/// One user's rows of one calendar period folded: the earliest start and the latest return.
struct PendingPeriod {
	std::int64_t period = 0;
	std::int64_t start_ts = 0;  ///< when has_start
	std::int64_t return_ts = 0; ///< when has_return
	bool valid = false;
	bool has_start = false;
	bool has_return = false;
};

/// Every user's rows (time, calendar period, start and return flags) by user id, and with a value
/// column each row's value.
class RetentionReportState {
public:
	/// `zone_name` as for ActiveUsersState.
	RetentionReportState(const RetentionReportOptions &options, UserKeyKind kind, std::string_view zone_name,
	                     std::pmr::memory_resource *memory);
	RetentionReportState(const RetentionReportState &other, std::pmr::memory_resource *memory);

	/// One row. `value` counts only when the options say so (0 otherwise); a row that is neither a
	/// start nor a return and has no value changes nothing.
	template <class Key>
	void
	add(const RetentionReportOptions &options, Key user, std::int64_t ts, std::int64_t period, bool is_start,
	    bool is_return, double value = 0)
	{
		require_same(options_, options, "retention parameters");
		if (!is_start && !is_return && (!options_.with_value || value == 0))
			return;
		add_row(users_.slot(user), ts, period, is_start, is_return, value);
	}
	void merge(const RetentionReportState &other);

	const RetentionReportOptions &
	options() const noexcept
	{
		return options_;
	}
	std::size_t
	users() const noexcept
	{
		return users_.size();
	}
	std::string_view
	zone_name() const noexcept
	{
		return zone_name_;
	}
	const UserLog &
	log() const noexcept
	{
		return log_;
	}
	/// A kept row's parts: its calendar period and start / return flags, and its value.
	static std::int64_t
	period_of(const LogEntry &e) noexcept
	{
		return static_cast<std::int64_t>(e.payload) >> 2;
	}
	static bool
	is_start(const LogEntry &e) noexcept
	{
		return (e.payload & 2u) != 0;
	}
	static bool
	is_return(const LogEntry &e) noexcept
	{
		return (e.payload & 1u) != 0;
	}
	static double value_of(std::uint64_t bits) noexcept;
	/// Calls f(ts, period, is_start, is_return) for the user's folded rows not in the log yet.
	template <class F>
	void
	for_each_pending(std::size_t user, F &&f) const
	{
		if (user >= pending_.size() || !pending_[user].valid)
			return;
		const PendingPeriod &p = pending_[user];
		if (p.has_start)
			f(p.start_ts, p.period, true, false);
		if (p.has_return)
			f(p.return_ts, p.period, false, true);
	}

	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	static RetentionReportState deserialize(const std::uint8_t *in, std::size_t size,
	                                        std::pmr::memory_resource *memory = std::pmr::new_delete_resource());

private:
	void add_row(std::uint32_t user, std::int64_t ts, std::int64_t period, bool is_start, bool is_return, double value);
	void push(std::uint32_t user, std::int64_t ts, std::int64_t period, bool is_start, bool is_return, double value);

	RetentionReportOptions options_;
	UserIndex users_;
	UserLog log_; ///< with_value: each row's value bits as its extra word
	/// Calendar periods without a value: per user, the rows of their latest period folded into
	/// the earliest start and the latest return (all the per-user core looks at within a period),
	/// pushed to the log when the user's period changes. Rows in time order: one or two entries
	/// per user and active period instead of one per row.
	std::pmr::vector<PendingPeriod> pending_;
	std::pmr::string zone_name_;
};

/// One cell of the triangle: the users of a cohort (their first start in period `cohort`), and of
/// them those retained in period `k` after it; `complete` false when the cell is not over at as_of
/// for some user of the cohort (period_retention gives NULL there). `value`: the sum of the
/// cohort's values in period k (rows from the user's first start on), `value_to_date` of periods
/// 0..k.
struct RetentionReportCell {
	std::int64_t cohort;
	std::size_t k;
	std::int64_t users;
	std::int64_t retained;
	bool complete;
	double value;
	double value_to_date;
};

/// Runs period_retention's core over every user and counts the cells, resumably.
class RetentionReportBuilder {
public:
	RetentionReportBuilder(const RetentionReportState &state, std::pmr::memory_resource *memory);
	bool step(std::size_t budget);
	/// Cells by cohort, then k. Call once step() returned true.
	std::pmr::vector<RetentionReportCell> result() const;

private:
	const RetentionReportState &state_;
	std::pmr::memory_resource *memory_;
	UserGroups groups_;
	bool grouped_ = false;
	std::size_t user_ = 0;
	/// Per cohort period: users, then per k retained users and complete flags (periods + 1 each).
	struct Cohort {
		std::int64_t period;
		std::int64_t users;
		std::pmr::vector<std::int64_t> retained;
		std::pmr::vector<double> value; ///< with_value only
		bool complete[kMaxRetentionPeriods + 1];
	};
	std::pmr::vector<Cohort> cohorts_; ///< sorted by period
};

} // namespace pg_product_analytics::core
