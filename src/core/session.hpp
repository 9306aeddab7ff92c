// Sessionization: a new session starts when the gap to the previous event is strictly greater
// than `gap`, on a boundary row, when the session would exceed a maximum length, or at midnight
// in a given time zone (docs/session.md). Also conditional_true_event's counter.
#pragma once

#include "error.hpp"
#include "event_log.hpp"
#include "small_vector.hpp"
#include "user_map.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <vector>

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

/// One session as session_stats summarizes it: the times of its first and last rows and how many
/// rows it has.
struct SessionSpan {
	std::int64_t first;
	std::int64_t last;
	std::int64_t events;
};

/// Whether what starts at `first` is in the session whose last row is at `last`: it starts before
/// that row, or at most `gap` after it (the gap is inclusive).
inline bool
joins_session(std::int64_t last, std::int64_t first, std::int64_t gap) noexcept
{
	return first <= last ||
	       static_cast<std::uint64_t>(first) - static_cast<std::uint64_t>(last) <= static_cast<std::uint64_t>(gap);
}

/// The aggregate state of session_stats. Two representations, fixed by the rules:
///
/// - **Spans** (a gap only: no boundary rows, no maximum length, no midnight split): the group's
///   sessions, not its rows. Whether two rows are in one session then depends only on the gap
///   between them, so sessions are an exact summary: a row inside a session's time range joins
///   it, sessions whose ranges overlap or lie at most `gap` apart are one session, whatever the
///   order the rows came in or the parts a parallel plan split them into. A row at or after the
///   last session's last row (time order, as an append-only table's scan delivers) extends that
///   session or opens the next: O(1), and nothing kept per row. Rows before it wait in a log and
///   are folded in once they number half the sessions (and by the final step): memory bounded
///   by the sessions (in random order: the pieces of sessions the rows so far make), not the rows;
///   past kFoldLimit sessions, late rows are kept until the final step (16 bytes each).
/// - **Rows** (any other rule, where a session's extent depends on rows a summary would drop: the
///   maximum length counts from the session's first row; a boundary row splits a session at an
///   exact position; day changes need each row's day): every row (timestamp; payload = the row's
///   day << 1 | not-boundary, so that on equal timestamps a boundary row sorts first and starts
///   the session the others join), scanned in time order at the end.
class SessionStatsState {
public:
	/// Most sessions a transition step folds late rows into (a few milliseconds of work).
	static constexpr std::size_t kFoldLimit = std::size_t{1} << 18;
	/// `boundaries`: rows may be boundary rows (the aggregate's form has the argument).
	SessionStatsState(const SessionOptions &options, bool boundaries, std::pmr::memory_resource *memory);
	SessionStatsState(const SessionStatsState &other, std::pmr::memory_resource *memory);

	/// Throws InvalidArgument if `options` differ from the group's.
	void
	add(const SessionOptions &options, std::int64_t ts, bool boundary, std::int32_t day)
	{
		require_same(options_, options, "session parameters");
		if (!spans_)
			log_.push(LogEntry{ts, payload_of(boundary, options_.split_days ? day : 0)});
		else if (open_.events != 0 && ts >= open_.last) {
			// In time order: extend the last session or open the next one.
			if (joins_session(open_.last, ts, options_.gap)) {
				open_.last = ts;
				open_.events++;
			} else
				open_next(ts);
		} else if (open_.events != 0 && ts >= open_.first)
			open_.events++; // inside the last session
		else
			add_early(ts, boundary);
	}
	void merge(const SessionStatsState &other);

	const SessionOptions &
	options() const noexcept
	{
		return options_;
	}
	bool
	boundaries() const noexcept
	{
		return boundaries_;
	}
	/// Whether the state keeps sessions (spans) rather than rows.
	bool
	spans() const noexcept
	{
		return spans_;
	}
	/// Rows kept: every row (rows), or the rows not yet folded into the sessions (spans).
	const LogBuffer &
	rows() const noexcept
	{
		return log_.entries();
	}
	/// Sessions kept (spans; 0 otherwise).
	std::size_t
	span_count() const noexcept
	{
		return closed_.size() + (open_.events != 0 ? 1 : 0);
	}
	/// The i-th session in time order, i < span_count().
	const SessionSpan &
	span(std::size_t i) const noexcept
	{
		return i < closed_.size() ? closed_[i] : open_;
	}
	/// Sorts the rows kept in slices (see EventLog::sort_step); SessionStatsReader needs them sorted.
	bool
	sort_step(std::size_t budget)
	{
		return log_.sort_step(budget);
	}

	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	static SessionStatsState deserialize(const std::uint8_t *in, std::size_t size,
	                                     std::pmr::memory_resource *memory = std::pmr::new_delete_resource());

	/// A kept row's payload (rows): the day and the not-boundary bit.
	static std::uint64_t
	payload_of(bool boundary, std::int32_t day) noexcept
	{
		return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(day)) << 1) | (boundary ? 0u : 1u);
	}

private:
	/// The sessions in time order (a copy).
	std::pmr::vector<SessionSpan> all_spans() const;
	void open_next(std::int64_t ts);
	void add_early(std::int64_t ts, bool boundary);
	/// Folds the rows kept into the sessions (spans).
	void fold_rows();
	/// Replaces the sessions by the coalesced union of `count` sessions from `at(i)` (by first
	/// row; not the state's own: a copy) and the sorted rows kept, which it empties.
	template <class At>
	void rebuild(std::size_t count, At at);

	SessionOptions options_;
	bool boundaries_;
	bool spans_;
	SessionSpan open_{0, 0, 0}; ///< the last session (spans; events 0: none yet)
	/// The sessions before it, in time order (most users have a few: no allocation).
	SmallVector<SessionSpan, 2, 4> closed_;
	EventLog log_; ///< rows: every row; spans: rows not yet folded
};

/// Joins sessions and rows of a spans SessionStatsState in time order: the next item joins the
/// current session when it starts at most `gap` after the session's last row (or before it).
/// Plain data.
class SessionSpanMerger {
public:
	explicit SessionSpanMerger(std::int64_t gap) noexcept : gap_(gap) {}

	/// Offers the next item (items by ascending first row); returns true and the finished session
	/// in `done` when the item starts a new one.
	bool
	offer(const SessionSpan &item, SessionSpan &done) noexcept
	{
		if (current_.events != 0 && joins_session(current_.last, item.first, gap_)) {
			current_.last = std::max(current_.last, item.last);
			current_.events += item.events;
			return false;
		}
		done = current_;
		bool finished = current_.events != 0;
		current_ = item;
		return finished;
	}
	/// The session still open (events 0: none).
	const SessionSpan &
	current() const noexcept
	{
		return current_;
	}

private:
	std::int64_t gap_;
	SessionSpan current_{0, 0, 0};
};

/// Walks `count` sessions (`at(i)`, by first row) and sorted rows (each a one-row session)
/// together in time order. Plain data: may live on the caller's stack across interrupt checks.
struct SessionItems {
	std::size_t span = 0; ///< the next session
	std::size_t row = 0;  ///< the next row

	template <class At>
	bool
	next(At at, std::size_t count, const LogBuffer &rows, SessionSpan &item) noexcept
	{
		if (span < count && (row == rows.size() || at(span).first <= rows[row].ts))
			item = at(span++);
		else if (row < rows.size()) {
			item = SessionSpan{rows[row].ts, rows[row].ts, 1};
			row++;
		} else
			return false;
		return true;
	}
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

/// Computes a SessionStatsState's statistics in slices (so the caller can check for interrupts),
/// once its rows are sorted (sort_step returned true). Plain data: may live on the caller's stack
/// across the checks.
class SessionStatsReader {
public:
	explicit SessionStatsReader(const SessionStatsState &state) noexcept
	    : state_(&state), scan_(state.options()), merger_(state.options().gap)
	{
	}

	/// Processes at most `budget` rows or sessions; returns true when all are. Throws OutOfRange
	/// as result() does (sessions are counted as they finish).
	bool step(std::size_t budget);
	/// The statistics, after step() returned true. Throws OutOfRange as SessionStatsScan::result.
	SessionStats result() const;

private:
	const SessionStatsState *state_;
	SessionStatsScan scan_;    ///< rows
	std::size_t row_ = 0;      ///< rows: the next row
	SessionItems items_;       ///< spans: the next session and row
	SessionSpanMerger merger_; ///< spans
	SessionStats stats_;       ///< spans: the sessions finished
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
