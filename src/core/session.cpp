#include "session.hpp"

#include "error.hpp"
#include "serial.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

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
		throw Error(ErrorKind::InvalidArgument, "timestamps decrease within a window partition",
		            "A window function cannot see its window's ORDER BY; the rows came out of time order.",
		            "Order the window by the timestamp, e.g. OVER (PARTITION BY user_id ORDER BY ts).");
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

namespace {

constexpr std::size_t kSessionHeaderSize = kHeaderSize + 8 + 8 + 1 + 8;
constexpr std::size_t kSessionSpanSize = 8 + 8 + 8;

// The split rules as both session states serialize them (after the header).
void
write_session_options(ByteWriter &w, const SessionOptions &o)
{
	w.u64(static_cast<std::uint64_t>(o.gap));
	w.u64(static_cast<std::uint64_t>(o.max_length));
	w.u8(o.split_days ? 1 : 0);
	w.u64(o.day_zone);
}

SessionOptions
read_session_options(ByteReader &r)
{
	SessionOptions o;
	o.gap = static_cast<std::int64_t>(r.u64());
	o.max_length = static_cast<std::int64_t>(r.u64());
	std::uint8_t split = r.u8();
	if (split > 1)
		throw_corrupt("bad midnight flag");
	o.split_days = split == 1;
	o.day_zone = r.u64();
	if (!o.split_days && o.day_zone != 0)
		throw_corrupt("a midnight zone without the midnight split");
	try {
		check_session_options(o);
	} catch (const Error &) {
		throw_corrupt("invalid session options");
	}
	return o;
}

// Adds one session from `first` to `last` to the statistics (not its events or bounce).
void
count_session(SessionStats &stats, std::int64_t first, std::int64_t last)
{
	// last >= first: the unsigned difference is exact, but may not fit in 64 signed bits.
	std::uint64_t span = static_cast<std::uint64_t>(last) - static_cast<std::uint64_t>(first);
	if (span > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
		throw Error(ErrorKind::OutOfRange, "session duration out of range",
		            "A session lasts more than 2^63 - 1 time units (about 292 000 years in microseconds).");
	auto duration = static_cast<std::int64_t>(span);
	if (__builtin_add_overflow(stats.total_duration, duration, &stats.total_duration))
		throw Error(ErrorKind::OutOfRange, "total session duration out of range",
		            "The sessions of a group last more than 2^63 - 1 time units together.");
	stats.longest_duration = std::max(stats.longest_duration, duration);
}

// Adds one whole session to the statistics.
void
count_span(SessionStats &stats, const SessionSpan &span)
{
	count_session(stats, span.first, span.last);
	stats.sessions++;
	stats.events += span.events;
	stats.bounces += span.events == 1;
}

// Whether the rules let sessions stand for their rows (SessionStatsState's spans).
bool
spans_suffice(const SessionOptions &o, bool boundaries)
{
	return !boundaries && o.max_length == -1 && !o.split_days;
}

// A kept row's payload: a day that fits 32 bits (0 without the midnight split) and the boundary bit.
bool
valid_row(const SessionOptions &o, const LogEntry &e)
{
	return (e.payload >> 33) == 0 && (o.split_days || (e.payload >> 1) == 0);
}

} // namespace

SessionStatsState::SessionStatsState(const SessionOptions &options, bool boundaries, std::pmr::memory_resource *memory)
    : options_(options), boundaries_(boundaries), spans_(spans_suffice(options, boundaries)), closed_(memory),
      log_(memory)
{
	check_session_options(options);
}

SessionStatsState::SessionStatsState(const SessionStatsState &other, std::pmr::memory_resource *memory)
    : options_(other.options_), boundaries_(other.boundaries_), spans_(other.spans_), open_(other.open_),
      closed_(other.closed_, memory), log_(other.log_, memory)
{
}

void
SessionStatsState::open_next(std::int64_t ts)
{
	closed_.push_back(open_);
	open_ = SessionSpan{ts, ts, 1};
}

std::pmr::vector<SessionSpan>
SessionStatsState::all_spans() const
{
	std::pmr::vector<SessionSpan> out(closed_.resource());
	out.reserve(span_count());
	for (std::size_t i = 0; i < span_count(); i++)
		out.push_back(span(i));
	return out;
}

void
SessionStatsState::add_early(std::int64_t ts, bool boundary)
{
	if (boundary)
		throw Error(ErrorKind::Internal, "a boundary row for a session state without boundaries");
	if (open_.events == 0 && closed_.empty() && log_.empty()) {
		open_ = SessionSpan{ts, ts, 1}; // the group's first row
		return;
	}
	// Out of time order: kept until they number half the sessions, so that folding them in (a
	// sort and one pass over both) is paid for by the rows that grew them. Past kFoldLimit
	// sessions a fold would take too long for a transition step (it cannot be interrupted):
	// the rows then wait for the final step, which reads them in slices.
	log_.push(LogEntry{ts, payload_of(false, 0)});
	if (log_.entries().size() > span_count() / 2 + 64 && span_count() <= kFoldLimit)
		fold_rows();
}

template <class At>
void
SessionStatsState::rebuild(std::size_t count, At at)
{
	while (!log_.sort_step(std::size_t{1} << 20)) {
	}
	const LogBuffer &rows = log_.entries();
	closed_.clear();
	SessionSpanMerger merger(options_.gap);
	SessionItems items;
	SessionSpan item{}, done{};
	while (items.next(at, count, rows, item))
		if (merger.offer(item, done))
			closed_.push_back(done);
	open_ = merger.current();
	log_.clear();
}

void
SessionStatsState::fold_rows()
{
	// The sessions are copied out first: rebuild() rewrites them.
	const std::pmr::vector<SessionSpan> mine = all_spans();
	rebuild(mine.size(), [&](std::size_t i) -> const SessionSpan & { return mine[i]; });
}

void
SessionStatsState::merge(const SessionStatsState &other)
{
	require_same(options_, other.options_, "session parameters");
	if (boundaries_ != other.boundaries_)
		throw_changed_within_group("session parameters");
	log_.merge(other.log_);
	if (!spans_)
		return;
	// Both session lists in order of their first rows, then the rows kept, in one pass.
	const std::pmr::vector<SessionSpan> mine = all_spans();
	std::pmr::vector<SessionSpan> both(closed_.resource());
	both.reserve(mine.size() + other.span_count());
	std::size_t a = 0, b = 0;
	while (a < mine.size() || b < other.span_count()) {
		if (b == other.span_count() || (a < mine.size() && mine[a].first <= other.span(b).first))
			both.push_back(mine[a++]);
		else
			both.push_back(other.span(b++));
	}
	rebuild(both.size(), [&](std::size_t i) -> const SessionSpan & { return both[i]; });
}

std::size_t
SessionStatsState::serialized_size() const noexcept
{
	return kSessionHeaderSize + 1 + 8 + kSessionSpanSize * span_count() + log_.serialized_size();
}

void
SessionStatsState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::SessionStats);
	write_session_options(w, options_);
	w.u8(boundaries_ ? 1 : 0);
	w.u64(span_count());
	for (std::size_t i = 0; i < span_count(); i++) {
		w.u64(static_cast<std::uint64_t>(span(i).first));
		w.u64(static_cast<std::uint64_t>(span(i).last));
		w.u64(static_cast<std::uint64_t>(span(i).events));
	}
	log_.serialize(w);
	w.finish();
}

SessionStatsState
SessionStatsState::deserialize(const std::uint8_t *in, std::size_t size, std::pmr::memory_resource *memory)
{
	ByteReader r(in, size);
	r.header(StateTag::SessionStats);
	const SessionOptions options = read_session_options(r);
	std::uint8_t boundaries = r.u8();
	if (boundaries > 1)
		throw_corrupt("bad boundaries flag");
	SessionStatsState state(options, boundaries == 1, memory);
	std::uint64_t spans = r.u64();
	if (spans != 0 && !state.spans_)
		throw_corrupt("sessions in a state that keeps rows");
	if (spans > r.remaining() / kSessionSpanSize)
		throw_corrupt("session count does not match the size");
	for (std::uint64_t i = 0; i < spans; i++) {
		SessionSpan span{static_cast<std::int64_t>(r.u64()), static_cast<std::int64_t>(r.u64()),
		                 static_cast<std::int64_t>(r.u64())};
		// No group has 2^48 rows: the bound keeps sums of corrupt counts from overflowing.
		if (span.events < 1 || span.events > (std::int64_t{1} << 48) || span.last < span.first)
			throw_corrupt("invalid session");
		// Sessions are apart by more than the gap (else they would be one).
		if (i > 0 && joins_session(state.open_.last, span.first, options.gap))
			throw_corrupt("sessions out of order");
		if (i > 0)
			state.closed_.push_back(state.open_);
		state.open_ = span;
	}
	state.log_.deserialize(r, [&](const LogEntry &e) {
		return valid_row(options, e) && ((e.payload & 1u) == 1 || boundaries == 1) && (!state.spans_ || e.payload == 1);
	});
	r.finish();
	return state;
}

void
SessionStatsScan::close_session(std::int64_t start, std::int64_t last, SessionStats &stats) const
{
	count_session(stats, start, last);
	if (lengths_ != nullptr)
		lengths_->push_back(
		    static_cast<std::int64_t>(static_cast<std::uint64_t>(last) - static_cast<std::uint64_t>(start)));
}

std::size_t
SessionStatsScan::process(const LogEntry *rows, std::size_t count, std::size_t pos, std::size_t budget)
{
	std::size_t end = count - pos > budget ? pos + budget : count;
	for (; pos < end; pos++) {
		const LogEntry &row = rows[pos];
		bool boundary = (row.payload & 1u) == 0;
		auto day = static_cast<std::int32_t>(static_cast<std::uint32_t>(row.payload >> 1));
		std::int64_t previous_last = cursor_.last_ts, previous_start = cursor_.start_ts;
		bool had_session = cursor_.started;
		if (session_advance(cursor_, options_, row.ts, boundary, day)) {
			if (had_session) {
				close_session(previous_start, previous_last, stats_);
				stats_.bounces += current_events_ == 1;
			}
			stats_.sessions++;
			current_events_ = 0;
		}
		current_events_++;
		stats_.events++;
	}
	return pos;
}

SessionStats
SessionStatsScan::result() const
{
	SessionStats s = stats_;
	if (cursor_.started) {
		close_session(cursor_.start_ts, cursor_.last_ts, s);
		s.bounces += current_events_ == 1;
	}
	return s;
}

bool
SessionStatsReader::step(std::size_t budget)
{
	const LogBuffer &rows = state_->rows();
	if (!state_->spans()) {
		row_ = scan_.process(rows.data(), rows.size(), row_, budget);
		return row_ >= rows.size();
	}
	// The sessions and the rows not yet folded in, joined in time order.
	auto at = [&](std::size_t i) -> const SessionSpan & { return state_->span(i); };
	SessionSpan item{}, done{};
	for (std::size_t work = 0; work < budget; work++) {
		if (!items_.next(at, state_->span_count(), rows, item))
			return true;
		if (merger_.offer(item, done))
			count_span(stats_, done);
	}
	return items_.span >= state_->span_count() && items_.row >= rows.size();
}

SessionStats
SessionStatsReader::result() const
{
	if (!state_->spans())
		return scan_.result();
	SessionStats s = stats_;
	if (merger_.current().events != 0)
		count_span(s, merger_.current());
	return s;
}

// ---------------------------------------------------------------------------------------------
// session_report

SessionReportState::SessionReportState(const SessionOptions &options, UserKeyKind kind,
                                       std::pmr::memory_resource *memory)
    : options_(options), rows_(kind, memory)
{
	check_session_options(options);
}

SessionReportState::SessionReportState(const SessionReportState &other, std::pmr::memory_resource *memory)
    : SessionReportState(other.options_, other.rows_.kind(), memory)
{
	merge(other);
}

LogEntry
SessionReportState::row_of(std::int64_t ts, bool boundary, std::int32_t day) const
{
	return LogEntry{ts, SessionStatsState::payload_of(boundary, options_.split_days ? day : 0)};
}

void
SessionReportState::merge(const SessionReportState &other)
{
	require_same(options_, other.options_, "session parameters");
	rows_.merge(other.rows_);
}

std::size_t
SessionReportState::serialized_size() const noexcept
{
	return kSessionHeaderSize + rows_.serialized_size();
}

void
SessionReportState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::SessionReport);
	write_session_options(w, options_);
	rows_.serialize(w);
	w.finish();
}

SessionReportState
SessionReportState::deserialize(const std::uint8_t *in, std::size_t size, std::pmr::memory_resource *memory)
{
	ByteReader r(in, size);
	r.header(StateTag::SessionReport);
	const SessionOptions options = read_session_options(r);
	SessionReportState state(options, UserRows::peek_kind(r), memory);
	state.rows_.deserialize(r, [&](const LogEntry &e) { return valid_row(options, e); });
	r.finish();
	return state;
}

SessionReportBuilder::SessionReportBuilder(const SessionReportState &state, std::pmr::memory_resource *memory)
    : state_(state), groups_(state.log(), state.users(), memory), scratch_(memory), scan_(state.options()),
      lengths_(memory)
{
	scan_.record_lengths(&lengths_);
}

void
SessionReportBuilder::finish_user()
{
	SessionStats s = scan_.result(); // appends the last session's length
	report_.users++;
	report_.sessions += s.sessions;
	report_.bounces += s.bounces;
	const int bucket = s.sessions <= 2    ? static_cast<int>(s.sessions) - 1
	                   : s.sessions <= 5  ? 2
	                   : s.sessions <= 10 ? 3
	                                      : 4;
	report_.users_by_sessions[bucket]++;
	scan_ = SessionStatsScan(state_.options());
	scan_.record_lengths(&lengths_);
	started_ = false;
	user_++;
}

bool
SessionReportBuilder::step(std::size_t budget)
{
	if (!grouped_) {
		if (!groups_.step(budget))
			return false;
		grouped_ = true;
	}
	std::size_t work = 0;
	while (user_ < state_.users() && work < budget) {
		if (!started_) {
			started_ = true;
			pos_ = 0;
			rows_ = groups_.rows(user_);
			count_ = groups_.count(user_);
			if (count_ == 0) {
				started_ = false; // no rows (not after a valid merge or deserialization): no user
				user_++;
				continue;
			}
			if (!groups_.sorted(user_)) {
				scratch_.clear();
				for (std::size_t i = 0; i < count_; i++)
					scratch_.push(rows_[i]);
				work += count_;
				rows_ = nullptr;
			}
		}
		if (rows_ == nullptr) {
			if (!scratch_.sort_step(budget)) {
				work += budget;
				continue;
			}
			rows_ = scratch_.entries().data();
			count_ = scratch_.entries().size();
		}
		std::size_t before = pos_;
		pos_ = scan_.process(rows_, count_, pos_, budget - std::min(work, budget - 1));
		work += pos_ - before + 1;
		if (pos_ >= count_)
			finish_user();
	}
	return user_ >= state_.users();
}

SessionReport
SessionReportBuilder::result()
{
	SessionReport r = report_;
	for (auto length : lengths_)
		if (__builtin_add_overflow(r.total_length, length, &r.total_length))
			throw Error(ErrorKind::OutOfRange, "total session length out of range");
	if (!lengths_.empty()) {
		auto at = [&](double p) {
			auto n = static_cast<double>(lengths_.size());
			auto i = static_cast<std::size_t>(std::max(0.0, std::ceil(p * n) - 1));
			std::nth_element(lengths_.begin(), lengths_.begin() + static_cast<std::ptrdiff_t>(i), lengths_.end());
			return lengths_[i];
		};
		r.median_length = at(0.5);
		r.p90_length = at(0.9);
	}
	return r;
}

} // namespace pg_product_analytics::core
