// Sessionization: a new session starts when the gap to the previous event is strictly greater
// than `gap`, on a boundary row, when the session would exceed a maximum length, or at midnight
// in a given time zone (docs/sessions.md). Also conditional_true_event's counter.
#pragma once

#include <cstdint>

namespace pg_product_analytics::core {

/// The split rules of one partition or group. Times in the unit of the timestamps.
struct SessionOptions {
	std::int64_t gap = 0; ///< >= 0; a gap of exactly this much continues the session
	std::int64_t max_length =
	    -1; ///< > 0, or -1 for no maximum; a row later than this after the session's start starts a new one
	bool split_days = false; ///< a row on another day (as given per row) starts a new session

	bool
	operator==(const SessionOptions &o) const noexcept
	{
		return gap == o.gap && max_length == o.max_length && split_days == o.split_days;
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

} // namespace pg_product_analytics::core
