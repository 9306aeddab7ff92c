// Sessionization: a new session starts when the gap to the previous event is strictly greater
// than `gap`, on a boundary row, when the session would exceed a maximum length, or at midnight
// in a given time zone (docs/session.md). Also conditional_true_event's counter.
#pragma once

#include "event_log.hpp"

#include <cstddef>
#include <cstdint>
#include <memory_resource>

namespace pg_product_analytics::core {

/// The split rules of one partition or group. Times in the unit of the timestamps.
struct SessionOptions {
	std::int64_t gap = 0; ///< >= 0; a gap of exactly this much continues the session
	std::int64_t max_length =
	    -1; ///< > 0, or -1 for no maximum; a row later than this after the session's start starts a new one
	bool split_days = false;    ///< a row on another day (as given per row) starts a new session
	std::uint64_t day_zone = 0; ///< identity of the zone whose days split_days uses (0: local days)

	bool
	operator==(const SessionOptions &o) const noexcept
	{
		return gap == o.gap && max_length == o.max_length && split_days == o.split_days && day_zone == o.day_zone;
	}
};

/// Throws InvalidArgument for a negative gap or a non-positive maximum length.
void check_session_options(const SessionOptions &options);

/// The running state over one partition's rows in time order. Plain data: it lives in memory
/// PostgreSQL zeroes per window partition, so all-zero is the valid initial state.
struct SessionCursor {
	bool started;
	std::int64_t last_ts;
	std::int64_t start_ts;
	std::int64_t last_day;
	std::int64_t number; ///< 1-based number of the current session
};

/// Advances over one row; returns true when the row starts a new session (the first row does).
/// Throws InvalidArgument when ts is before the previous row's: the rows must come in time order.
bool session_advance(SessionCursor &cursor, const SessionOptions &options, std::int64_t ts, bool boundary,
                     std::int64_t day);

/// Per-user session statistics in one aggregate pass. Durations are last event - first event of a
/// session (a one-event session lasts 0 and is a bounce).
struct SessionStats {
	std::int64_t sessions = 0;
	std::int64_t events = 0;
	std::int64_t bounces = 0;
	std::int64_t total_duration = 0;
	std::int64_t longest_duration = 0;
};

/// The aggregate state of session_stats: the rules and the rows (timestamp; payload = the row's
/// day << 1 | not-boundary, so that on equal timestamps a boundary row sorts first and starts the
/// session the others join).
class SessionStatsState {
public:
	SessionStatsState(const SessionOptions &options, std::pmr::memory_resource *memory);
	SessionStatsState(const SessionStatsState &other, std::pmr::memory_resource *memory);

	/// Throws InvalidArgument if `options` differ from the group's.
	void add(const SessionOptions &options, std::int64_t ts, bool boundary, std::int32_t day);
	void merge(const SessionStatsState &other);

	const SessionOptions &
	options() const noexcept
	{
		return options_;
	}
	const std::pmr::vector<LogEntry> &
	rows() const noexcept
	{
		return log_.entries();
	}
	/// See EventLog::sort_step.
	bool
	sort_step(std::size_t budget)
	{
		return log_.sort_step(budget);
	}

	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	static SessionStatsState deserialize(const std::uint8_t *in, std::size_t size,
	                                     std::pmr::memory_resource *memory = std::pmr::new_delete_resource());

private:
	SessionOptions options_;
	EventLog log_;
};

/// Scans sorted rows of a SessionStatsState in slices (so the caller can check for interrupts).
/// Plain data: may live on the caller's stack across the checks.
class SessionStatsScan {
public:
	explicit SessionStatsScan(const SessionOptions &options) : options_(options) {}

	/// Processes rows[pos..) for at most `budget` rows; returns the new position.
	std::size_t process(const LogEntry *rows, std::size_t count, std::size_t pos, std::size_t budget);
	/// The statistics after every row was processed. Throws OutOfRange when a duration or the total
	/// does not fit in 64 bits (sessions spanning about 292 000 years).
	SessionStats result() const;

private:
	SessionOptions options_;
	SessionCursor cursor_{};
	SessionStats stats_;
	std::int64_t current_events_ = 0; ///< rows in the current (last) session

	void close_session(std::int64_t start, std::int64_t last, SessionStats &stats) const;
};

} // namespace pg_product_analytics::core
