// period_retention: for one user, the cohort period (the period of the first start event) and,
// for periods k = 0..N after it, whether a return event happened in period k (or in k or later),
// with periods not yet complete at an "as of" time told apart (docs/retention.md).
#pragma once

#include "period.hpp"

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <vector>

namespace pg_product_analytics::core {

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

	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	static PeriodRetentionState deserialize(const std::uint8_t *in, std::size_t size,
	                                        std::pmr::memory_resource *memory = std::pmr::new_delete_resource());

	struct Return {
		std::int64_t key;    ///< calendar period, or the first return time of a rolling cluster
		std::int64_t latest; ///< latest return time with this key / in this cluster
	};

	/// Entries kept (for tests of the bound).
	std::size_t
	entries() const noexcept
	{
		return returns_.size();
	}

private:
	void compact_if_grown();
	void compact();

	PeriodRetentionOptions options_;
	bool have_start_ = false;
	std::int64_t start_ts_ = 0;
	std::int64_t start_period_ = 0;
	bool beyond_ = false; ///< a return after period N of the current start
	std::pmr::vector<Return> returns_;
	std::size_t compacted_ = 0; ///< entries after the last compaction
};

} // namespace pg_product_analytics::core
