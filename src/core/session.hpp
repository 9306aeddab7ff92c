// Sessionization: a new session starts when the gap to the previous event is strictly greater
// than `gap`, on a boundary row, when the session would exceed a maximum length, or at midnight
// in a given time zone (docs/session.md). Also conditional_true_event's counter.
#pragma once

#include "event_log.hpp"
#include "user_map.hpp"

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
	const LogBuffer &
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

	/// With a vector, every closed session's duration is appended to it (session_report's
	/// percentiles); result() appends the last one.
	void
	record_lengths(std::pmr::vector<std::int64_t> *lengths) noexcept
	{
		lengths_ = lengths;
	}

private:
	std::pmr::vector<std::int64_t> *lengths_ = nullptr;
	SessionOptions options_;
	SessionCursor cursor_{};
	SessionStats stats_;
	std::int64_t current_events_ = 0; ///< rows in the current (last) session

	void close_session(std::int64_t start, std::int64_t last, SessionStats &stats) const;
};

/// session_report: the rows of every user (as SessionStatsState keeps them) by user id.
class SessionReportState {
public:
	SessionReportState(const SessionOptions &options, UserKeyKind kind, std::pmr::memory_resource *memory);
	SessionReportState(const SessionReportState &other, std::pmr::memory_resource *memory);

	template <class Key>
	void
	add(const SessionOptions &options, Key user, std::int64_t ts, bool boundary, std::int32_t day)
	{
		require_same(options_, options, "session parameters");
		rows_.add(user, row_of(ts, boundary, day));
	}
	/// Applies the rows add() held back (UserBatch); call before reading the state.
	void
	flush()
	{
		rows_.flush();
	}
	/// Both flushed.
	void merge(const SessionReportState &other);

	const SessionOptions &
	options() const noexcept
	{
		return options_;
	}
	/// The users and their rows; flushed first (Internal otherwise).
	std::size_t
	users() const
	{
		return rows_.users();
	}
	const UserLog &
	log() const
	{
		return rows_.log();
	}
	bool
	settled() const noexcept
	{
		return rows_.settled();
	}

	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	static SessionReportState deserialize(const std::uint8_t *in, std::size_t size,
	                                      std::pmr::memory_resource *memory = std::pmr::new_delete_resource());

private:
	LogEntry row_of(std::int64_t ts, bool boundary, std::int32_t day) const;

	SessionOptions options_;
	UserRows rows_;
};

/// The report: users, sessions, bounces; sessions per user (mean, and users with 1, 2, 3-5, 6-10,
/// 11 or more sessions); session length mean, median and 90th percentile (percentile_disc).
struct SessionReport {
	std::int64_t users = 0;
	std::int64_t sessions = 0;
	std::int64_t bounces = 0;
	std::int64_t users_by_sessions[5] = {0, 0, 0, 0, 0};
	std::int64_t total_length = 0;
	std::int64_t median_length = 0;
	std::int64_t p90_length = 0;
};

/// Scans every user's sessions, resumably (as FunnelReportBuilder).
class SessionReportBuilder {
public:
	SessionReportBuilder(const SessionReportState &state, std::pmr::memory_resource *memory);
	bool step(std::size_t budget);
	/// Call once step() returned true. Throws OutOfRange when the total length overflows.
	SessionReport result();

private:
	void finish_user();

	const SessionReportState &state_;
	UserGroups groups_;
	bool grouped_ = false;
	std::size_t user_ = 0;
	bool started_ = false;
	const LogEntry *rows_ = nullptr; ///< the user's rows in time order (grouped, or scratch_'s)
	std::size_t count_ = 0;
	std::size_t pos_ = 0;
	EventLog scratch_;
	SessionStatsScan scan_;
	std::pmr::vector<std::int64_t> lengths_;
	SessionReport report_;
};

} // namespace pg_product_analytics::core
