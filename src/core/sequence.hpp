// sequence_match / sequence_count / sequence_match_events (ClickHouse's pattern language over a
// group's events) and sequence_next_node (the event right after, or before, a run of events):
// docs/sequence.md.
#pragma once

#include "event_log.hpp"
#include "limits.hpp"
#include "shared_value.hpp"

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

namespace pg_product_analytics::core {

// ---------------------------------------------------------------------------------------------
// The pattern

/// A parsed pattern: a sequence of event elements, `(?N)` (the event matches condition N) or `.`
/// (any seen event), with what lies between consecutive elements: nothing (the next seen event),
/// `.*` or a time condition (any number of seen events; a time condition also bounds the time from
/// the element before it to the element after it). The start is unanchored (an implied leading
/// `.*`); what follows the last element constrains nothing.
struct SequencePattern {
	static constexpr std::size_t kMaxElements = 64;
	static constexpr std::uint64_t kNoUpperBound = ~std::uint64_t{0};

	std::size_t elements = 0;                  ///< event elements, at most kMaxElements
	std::size_t max_condition = 0;             ///< the highest N of a `(?N)` (0: none)
	std::uint64_t any = 0;                     ///< bit j: element j is `.`
	std::uint64_t gap = 0;                     ///< bit j (j >= 1): seen events may lie between elements j - 1 and j
	std::uint64_t gated = 0;                   ///< bit j (j >= 1): ts(j) - ts(j - 1) within [low[j], high[j]]
	std::uint8_t condition[kMaxElements] = {}; ///< element j's condition, 0-based (not for `.`)
	std::uint64_t low[kMaxElements] = {};      ///< inclusive bounds, in the time unit (gated only)
	std::uint64_t high[kMaxElements] = {};

	bool operator==(const SequencePattern &o) const noexcept;
};

/// Parses ClickHouse's pattern language: `(?N)` with 1 <= N <= 64, `.`, `.*`, and `(?t op S)`
/// with op one of < <= > >= == and S a non-negative number of seconds (at most six decimals: the
/// unit is the microsecond) or, with integer time, a non-negative integer in the unit of ts.
/// Spaces between tokens are allowed. A time condition needs an event element before it.
/// Throws InvalidArgument whose message gives the 1-based position of the error, LimitExceeded
/// for N > 64 or more than 64 event elements.
SequencePattern parse_sequence_pattern(std::string_view text, bool integer_time);

/// Throws InvalidArgument when the pattern names a condition beyond `conditions` (the number of
/// conditions passed), after checking that number (1..64).
void check_pattern_conditions(const SequencePattern &pattern, std::size_t conditions);

// ---------------------------------------------------------------------------------------------
// sequence_match, sequence_count, sequence_match_events

/// The state: the pattern, the number of conditions, and the seen events (rows matching at
/// least one condition: payload = the conditions' bit mask) in an EventLog, whose order on equal
/// timestamps (payload ascending) is the documented tie rule. A `shared` pattern (the glue's
/// call-site pattern, kept for the whole query) is pointed to, not copied: a state is a pointer and
/// its rows, and a row's pattern is checked by address.
class SequenceState {
public:
	SequenceState(const SequencePattern &pattern, bool shared, std::size_t conditions,
	              std::pmr::memory_resource *memory);
	SequenceState(const SequenceState &other, std::pmr::memory_resource *memory);

	/// Adds one row. Throws InvalidArgument when the pattern or the number of conditions differs
	/// from the group's.
	void
	add(const SequencePattern &pattern, std::size_t conditions, std::int64_t ts, std::uint64_t mask)
	{
		if (&pattern != pattern_.get() || conditions != conditions_)
			check_same(pattern, conditions);
		if (mask != 0)
			log_.push(LogEntry{ts, mask});
	}

	void merge(const SequenceState &other);

	const SequencePattern &
	pattern() const noexcept
	{
		return *pattern_;
	}
	const LogBuffer &
	events() const noexcept
	{
		return log_.entries();
	}
	bool
	sorted() const noexcept
	{
		return log_.sorted();
	}
	bool
	sort_step(std::size_t budget)
	{
		return log_.sort_step(budget);
	}

	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	/// Validates the pattern (as the parser builds them), the masks and the order (CorruptState).
	/// When the pattern equals one of `shared[0..shared_count)` (patterns the caller keeps longer
	/// than the state: the glue's first deserialized ones), the state points to it instead of
	/// keeping a copy.
	static SequenceState deserialize(const std::uint8_t *in, std::size_t size,
	                                 std::pmr::memory_resource *memory = std::pmr::new_delete_resource(),
	                                 const SequencePattern *const *shared = nullptr, std::size_t shared_count = 0);

private:
	void check_same(const SequencePattern &pattern, std::size_t conditions) const;

	SharedValue<SequencePattern> pattern_;
	std::size_t conditions_;
	EventLog log_;
};

/// What a SequenceEvaluator computes.
enum class SequenceQuestion : std::uint8_t {
	Match,  ///< does the pattern match
	Count,  ///< how many non-overlapping matches (each the one that ends first, then on after it)
	Events, ///< the timestamps of the (?N) elements of the first match (or longest matching prefix)
};

/// Evaluates a pattern over sorted events, resumably: step() does about `budget` units of work
/// (events read, each O(elements / 64 + time conditions)) and returns true when done, so the caller
/// can check for interrupts between calls. Work O(n * (1 + gated elements)), memory O(time
/// conditions * n) timestamps at worst (O(1) per condition with only an upper or a lower bound),
/// plus 8 bytes per event for Events. Never exponential, no cap on the input.
class SequenceEvaluator {
public:
	/// Over `count` sorted events at `events`; the pattern and the events must outlive the
	/// evaluator (the final function's state holds both).
	SequenceEvaluator(const SequencePattern &pattern, SequenceQuestion question, const LogEntry *events,
	                  std::size_t count, std::pmr::memory_resource *memory);

	bool step(std::size_t budget);

	bool
	matched() const noexcept
	{
		return matched_;
	}
	std::uint64_t
	matches() const noexcept
	{
		return matches_;
	}
	/// Events: the timestamps, one per (?N) element of the reported chain.
	const std::pmr::vector<std::int64_t> &
	chain() const noexcept
	{
		return chain_;
	}

private:
	/// Timestamps at which an element was reached, for a time condition: those that can still
	/// satisfy it for events to come (forward: later; backward: earlier).
	class Window {
	public:
		Window(std::uint64_t low, std::uint64_t high, std::pmr::memory_resource *memory)
		    : low_(low), high_(high), times_(memory)
		{
		}
		void push(std::int64_t ts);
		/// Is some kept timestamp at distance [low, high] from ts; drops those that never will be.
		bool query(std::int64_t ts, bool backward);
		void
		clear() noexcept
		{
			times_.clear();
			head_ = 0;
		}

	private:
		std::uint64_t low_;
		std::uint64_t high_;
		std::pmr::vector<std::int64_t> times_;
		std::size_t head_ = 0;
	};

	std::uint64_t
	candidates(std::uint64_t mask) const noexcept
	{
		std::uint64_t out = pattern_.any;
		while (mask != 0) {
			out |= of_condition_[__builtin_ctzll(mask)];
			mask &= mask - 1;
		}
		return out;
	}
	void restart() noexcept;
	bool forward(std::size_t budget);
	bool backward(std::size_t budget);
	bool pick(std::size_t budget);

	const SequencePattern &pattern_;
	SequenceQuestion question_;
	const LogEntry *events_;
	std::size_t count_;
	std::pmr::memory_resource *memory_;
	std::uint64_t of_condition_[kMaxConditions] = {}; ///< per condition: the elements testing it
	std::uint64_t last_ = 0;                          ///< the last element's bit
	std::uint64_t adjacent_ = 0;                      ///< elements j >= 1 with nothing between j - 1 and j
	std::uint64_t free_gap_ = 0;                      ///< elements j >= 1 after a gap without time condition
	std::pmr::vector<Window> windows_;                ///< per element, for patterns with time conditions
	enum class Phase : std::uint8_t { Forward, Backward, Pick, Done } phase_ = Phase::Forward;
	std::size_t pos_ = 0;
	std::uint64_t at_previous_ = 0; ///< elements reached at the previous event
	std::uint64_t before_ = 0;      ///< elements reached at some earlier event (since the last match)
	bool matched_ = false;
	std::uint64_t matches_ = 0;
	// Events: the longest matching prefix, per event the elements from which the prefix can be
	// completed (backward pass), and the chain picked from them.
	std::size_t prefix_ = 0;
	std::pmr::vector<std::uint64_t> completes_;
	std::uint64_t after_ = 0;
	std::size_t element_ = 0;
	std::size_t at_ = 0;
	std::pmr::vector<std::int64_t> chain_;
};

// ---------------------------------------------------------------------------------------------
// sequence_next_node

enum class NextDirection : std::uint8_t { Forward = 0, Backward = 1 };
enum class NextBase : std::uint8_t { Head = 0, Tail = 1, FirstMatch = 2, LastMatch = 3 };

/// Parse 'forward' / 'backward' and 'head' / 'tail' / 'first_match' / 'last_match' (exact, lower
/// case, as ClickHouse); InvalidArgument naming the valid values otherwise.
NextDirection parse_next_direction(std::string_view text);
NextBase parse_next_base(std::string_view text);

struct NextNodeOptions {
	NextDirection direction = NextDirection::Forward;
	NextBase base = NextBase::Head;
	std::size_t events = 0; ///< event conditions, 1..64

	bool
	operator==(const NextNodeOptions &o) const noexcept
	{
		return direction == o.direction && base == o.base && events == o.events;
	}
};

/// The state: the group's rows (time, event value, the event conditions' mask, base_condition),
/// ordered by (ts, value bytes, mask, base_condition) for evaluation. It keeps only rows that can
/// matter whatever rows come later: with base head or tail the first (last) events + 1 rows;
/// with first_match / last_match, as rows double, the base so far tells which side of it can be
/// dropped (forward first_match: rows past the events-th row after it; backward first_match: rows
/// after it; forward last_match: rows before it; backward last_match: rows before the events-th
/// row before it), and later rows beyond that bound are dropped as they arrive. Rows arriving in
/// time order thus keep O(rows before the base + events) rows.
class NextNodeState {
public:
	NextNodeState(const NextNodeOptions &options, std::pmr::memory_resource *memory);
	NextNodeState(const NextNodeState &other, std::pmr::memory_resource *memory);

	/// Throws InvalidArgument when the options differ from the group's.
	void add(const NextNodeOptions &options, std::int64_t ts, std::string_view value, bool base, std::uint64_t mask);
	void merge(const NextNodeState &other);

	const NextNodeOptions &
	options() const noexcept
	{
		return options_;
	}
	std::size_t
	rows() const noexcept
	{
		return nodes_.size();
	}

	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	static NextNodeState deserialize(const std::uint8_t *in, std::size_t size,
	                                 std::pmr::memory_resource *memory = std::pmr::new_delete_resource());

private:
	friend class NextNodeFinder;
	struct Node {
		std::int64_t ts;
		std::uint64_t mask;
		std::uint32_t offset;      ///< of the value in bytes_ (a state keeps at most 4 GB of values)
		std::uint32_t length : 31; ///< of the value (text is at most 1 GB)
		std::uint32_t base : 1;
	};
	static_assert(sizeof(Node) == 24, "24 bytes per kept row, plus its value");
	static constexpr std::size_t kNone = ~std::size_t{0};
	bool bounded() const noexcept;
	std::string_view
	value(const Node &n) const noexcept
	{
		return std::string_view(bytes_.data() + n.offset, n.length);
	}
	/// Order of rows: (ts, value bytes, mask, base).
	static int compare_keys(const Node &a, std::string_view a_value, const Node &b, std::string_view b_value) noexcept;
	int
	compare(const Node &a, std::string_view a_value, const Node &b) const noexcept
	{
		return compare_keys(a, a_value, b, value(b));
	}
	/// Row a before row b, ties by position (rows with equal keys are interchangeable).
	bool before(std::size_t a, std::size_t b) const noexcept;
	/// The base row: the first (head, first_match) or last (tail, last_match) of the rows that
	/// can be one (all rows for head and tail). False when there is none.
	bool find_base(std::size_t begin, std::size_t end, std::size_t &base) const noexcept;
	/// Inserts row i into `picked` (nearest to `base` first, at most `keep`) when it lies on the
	/// `after` side of the base and is nearer than the farthest picked.
	void pick_near(std::size_t base, bool after, std::size_t i, std::size_t keep,
	               std::pmr::vector<std::size_t> &picked) const;
	void append(std::int64_t ts, std::string_view value, bool base, std::uint64_t mask);
	void add_bounded(std::int64_t ts, std::string_view value, bool base, std::uint64_t mask);
	void prune();
	void compact();

	NextNodeOptions options_;
	std::pmr::vector<Node> nodes_; ///< bounded: sorted, at most events + 1
	std::pmr::vector<char> bytes_;
	std::size_t live_bytes_ = 0;
	/// first_match / last_match: the row that bounds the rows kept (kNone: none yet); first_match
	/// drops the rows after it, last_match the rows before it.
	std::size_t bound_ = kNone;
	std::size_t next_prune_ = 4;
	/// The time of the row past which rows are dropped (head / first_match: rows with a later time;
	/// tail / last_match: an earlier one), kept beside the pointers so a row arriving in time order
	/// is dropped without touching the rows. `have_edge_` false: no such row yet.
	bool have_edge_ = false;
	std::int64_t edge_ts_ = 0;
	void refresh_edge() noexcept;
};

/// Finds sequence_next_node's answer, resumably (step() reads about `budget` rows a call): the
/// base row, then the `events` rows right after it (forward) or before it (backward) by a
/// bounded selection: no sort, O(n * events) compares at worst.
class NextNodeFinder {
public:
	NextNodeFinder(const NextNodeState &state, std::pmr::memory_resource *memory);

	bool step(std::size_t budget);
	/// Call once step() returned true: whether there is a next node, and its value (valid while
	/// the state lives).
	bool
	found() const noexcept
	{
		return found_;
	}
	std::string_view
	value() const noexcept
	{
		return value_;
	}

private:
	void finish();

	const NextNodeState &state_;
	enum class Phase : std::uint8_t { Base, Select, Done } phase_ = Phase::Base;
	std::size_t pos_ = 0;
	std::size_t base_ = 0;
	bool have_base_ = false;
	std::pmr::vector<std::size_t> picked_; ///< the rows after (before) the base, nearest first
	bool found_ = false;
	std::string_view value_;
};

} // namespace pg_product_analytics::core
