#include "session.hpp"

#include "error.hpp"

namespace pg_product_analytics::core {

void
check_session_options(const SessionOptions &options)
{
	if (options.gap < 0)
		throw Error(ErrorKind::InvalidArgument, "session gap must not be negative");
	if (options.max_length != -1 && options.max_length <= 0)
		throw Error(ErrorKind::InvalidArgument, "maximum session length must be positive");
}

bool
session_advance(SessionCursor &cursor, const SessionOptions &options, std::int64_t ts, bool boundary, std::int64_t day)
{
	if (!cursor.started) {
		cursor = SessionCursor{true, ts, ts, day, 1};
		return true;
	}
	if (ts < cursor.last_ts)
		throw Error(ErrorKind::InvalidArgument,
		            "timestamps decrease within a window partition: order the window by the timestamp, "
		            "e.g. OVER (PARTITION BY user_id ORDER BY ts)");
	// ts >= last_ts >= start_ts: unsigned differences cannot overflow.
	auto since = [&](std::int64_t from) { return static_cast<std::uint64_t>(ts) - static_cast<std::uint64_t>(from); };
	bool split = boundary || since(cursor.last_ts) > static_cast<std::uint64_t>(options.gap) ||
	             (options.max_length > 0 && since(cursor.start_ts) > static_cast<std::uint64_t>(options.max_length)) ||
	             (options.split_days && day != cursor.last_day);
	cursor.last_ts = ts;
	cursor.last_day = day;
	if (split) {
		cursor.start_ts = ts;
		cursor.number++;
	}
	return split;
}

} // namespace pg_product_analytics::core
