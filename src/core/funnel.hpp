// window_funnel / window_funnel_events: the deepest step of an ordered chain of events inside a
// window anchored at the chain's first step, with ClickHouse's modes (docs/funnel.md).
#pragma once

#include "event_log.hpp"
#include "limits.hpp"
#include "period.hpp"
#include "shared_value.hpp"
#include "user_map.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory_resource>
#include <string>
#include <type_traits>
#include <string_view>
#include <vector>

namespace pg_product_analytics::core {

/// Mode flags, combinable as in ClickHouse (comma-separated in SQL).
enum FunnelMode : std::uint32_t {
	kStrictOrder = 1u << 0,    ///< a row matching no step, or a step whose predecessor is missing, ends the scan
	kStrictDedup = 1u << 1,    ///< a repeat of an already reached step (> 1) ends the scan
	kStrictIncrease = 1u << 2, ///< steps need strictly increasing timestamps
	kStrictOnce = 1u << 3,     ///< one row fills at most one step of a chain
	kAllowReentry = 1u << 4,   ///< with strict_order: an early future step is ignored instead of ending the scan
};

/// Parses "strict_order, strict_increase" (spaces around names ignored, empty string = default).
/// Throws InvalidArgument naming the valid modes for an unknown name, and for allow_reentry
/// without strict_order.
std::uint32_t parse_funnel_modes(std::string_view text);

/// The parameters of one funnel; every row of a group must carry the same (else InvalidArgument).
struct FunnelOptions {
	std::int64_t window = 0; ///< inclusive, in the time unit (microseconds for timestamps)
	std::uint32_t modes = 0;
	std::size_t steps = 0;

	bool
	operator==(const FunnelOptions &o) const noexcept
	{
		return window == o.window && modes == o.modes && steps == o.steps;
	}
};

/// Throws InvalidArgument for a negative window or invalid modes, and checks the step count.
void check_funnel_options(const FunnelOptions &options);

/// One kept row: its time and, as the payload, the steps it matches (bit i = step i + 1). A row
/// matching no step is kept only in strict_order mode (payload 0), since there it can end a chain.
using FunnelEvent = LogEntry;

/// The aggregate state: the options and the kept rows.
/// Invariant: every mask fits the step count; mask 0 only in strict_order mode.
class FunnelState {
public:
	FunnelState(const FunnelOptions &options, std::pmr::memory_resource *memory);
	FunnelState(const FunnelState &other, std::pmr::memory_resource *memory);

	/// Adds one row. Throws InvalidArgument if `options` differ from the group's.
	void
	add(const FunnelOptions &options, std::int64_t ts, std::uint64_t mask)
	{
		if (!(options == options_))
			throw_options_changed(options);
		if (mask == 0 && (options_.modes & kStrictOrder) == 0)
			return;
		FunnelEvent e{ts, mask};
		// Identical rows matching nothing are redundant: keep one per timestamp.
		if (mask == 0 && !log_.empty() && log_.last() == e)
			return;
		log_.push(e);
	}

	/// Appends another state's rows. Throws InvalidArgument if the options differ.
	void merge(const FunnelState &other);

	const FunnelOptions &
	options() const noexcept
	{
		return options_;
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
	/// See EventLog::sort_step.
	bool
	sort_step(std::size_t budget)
	{
		return log_.sort_step(budget);
	}

	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	/// Validates options, count against the size, masks, and the sorted flag (CorruptState).
	static FunnelState deserialize(const std::uint8_t *in, std::size_t size,
	                               std::pmr::memory_resource *memory = std::pmr::new_delete_resource());

private:
	[[noreturn]] void throw_options_changed(const FunnelOptions &got) const;

	FunnelOptions options_;
	EventLog log_;
};

/// Evaluates a funnel over sorted events, resumably: process() does a bounded amount of work
/// (rows read, matching steps explored) per call, also inside one huge group of equal timestamps,
/// so the caller can check for interrupts between calls.
/// With track_steps, it also keeps the timestamps of the reported chain: among the chains that
/// reach the deepest step, the one with the latest first step, then the earliest timestamps
/// for steps 2, 3, ... compared in that order.
///
/// Work per group of equal timestamps with r rows and S steps: O(r * matched steps per row) to
/// read it, then O(S) (strict_once: a bipartite matching of steps to rows, O(S^2 * min(r, S))
/// at worst, since each step keeps only its first S candidate rows). Never exponential.
class FunnelEvaluator {
public:
	FunnelEvaluator(const FunnelOptions &options, bool track_steps, std::pmr::memory_resource *memory);

	/// Processes events[pos..) for about `budget` units of work; returns the new position (which
	/// may be inside a group of equal timestamps: pass it back unchanged). Stops early (done()
	/// true) when a strict mode ends the scan or the last step is reached. With `more_follows`,
	/// events[0..count) is one piece of the input (a chunk): the rows go on in the next piece,
	/// passed with pos 0, and done() only comes after a last piece.
	std::size_t process(const FunnelEvent *events, std::size_t count, std::size_t pos, std::size_t budget,
	                    bool more_follows = false);

	/// Forgets everything seen: ready for another group's rows (keeps its memory).
	void reset() noexcept;
	/// Whether reset() makes it an evaluator for these options (another group of the same call).
	bool
	reusable_for(const FunnelOptions &options, bool track_steps) const noexcept
	{
		return options_ == options && track_ == track_steps;
	}

	bool
	done() const noexcept
	{
		return done_;
	}

	/// The deepest step reached (0 = step 1 never matched). Call once done().
	std::size_t level() const noexcept;

	/// Writes the timestamps of the reported chain (track_steps only) to `out`, which has room for
	/// the step count, and returns how many: level(), or 0 without tracking.
	std::size_t chain(std::int64_t *out) const;

private:
	static constexpr std::size_t kLevels = kMaxConditions + 1;

	/// A chain ending in the current group of equal timestamps. Its timestamps are those of the
	/// settled chain of level `base` followed by the group's timestamp (base 0: it starts here).
	struct Chain {
		std::int64_t first;
		std::size_t base;
	};

	void begin_group(std::int64_t ts);
	void collect(std::uint64_t mask);
	void evaluate_group();
	void finish_group();
	bool usable(std::size_t base) const noexcept;
	Chain chain_of(std::size_t base) const noexcept;
	bool better(std::size_t level, const Chain &a, const Chain &b) const;
	bool in_window(std::int64_t first) const noexcept;

	// strict_once: steps matched to distinct candidate rows of the group; matchable(low, high, k):
	// steps low..high can be, with step high on one of its first k rows.
	static constexpr std::size_t kAllPositions = ~std::size_t{0};
	bool augment(std::size_t step, std::size_t only_position);
	bool assign(std::size_t step, std::uint32_t row);
	void unmatch(std::size_t step);
	void clear_matching() noexcept;
	bool matchable(std::size_t low, std::size_t high, std::size_t high_positions);
	std::uint32_t
	candidate(std::size_t step, std::size_t position) const noexcept
	{
		return candidates_[(step - 1) * options_.steps + position];
	}

	FunnelOptions options_;
	bool track_;
	bool once_; ///< strict_once without strict_increase: rows of a group must be distinct
	bool collecting_ = false;
	std::int64_t group_ts_ = 0;
	bool in_group_ = false;
	bool any_start_ = false;
	bool done_ = false;
	// Per level (1-based): reached ever; the best chain that ended before the current group; the
	// best chain ending in it. Only levels 0..steps are initialized (the constructor).
	bool reached_[kLevels];
	bool settled_[kLevels];
	std::int64_t settled_first_[kLevels];
	bool pending_[kLevels];
	Chain pending_chain_[kLevels];
	std::pmr::vector<std::int64_t> paths_; ///< track only: settled chain timestamps, kMaxConditions per level
	std::size_t top_ = 0;                  ///< highest level with a pending chain in the current group
	// The group being read: rows per step (capped at steps + 1), steps present.
	std::uint8_t rows_of_step_[kLevels];
	std::uint64_t present_ = 0;
	// strict_once: each step's first `steps` candidate rows (compact row numbers), the matching.
	std::uint32_t group_rows_ = 0;               ///< compact numbers given to rows of the group so far
	std::pmr::vector<std::uint32_t> candidates_; ///< steps x steps
	std::pmr::vector<std::uint32_t> row_step_;   ///< per compact row: matched step, 0 = free
	std::pmr::vector<std::uint32_t> row_visit_;  ///< per compact row: last search that visited it
	std::uint32_t step_row_[kLevels];            ///< per step: matched compact row + 1, 0 = none
	std::uint32_t search_ = 0;
	std::size_t work_ = 0; ///< matching steps explored, counted against the budget
};

// ---------------------------------------------------------------------------------------------
// The options form: window_funnel(funnel_options(...), ts, ...) with exclusion steps, step order
// and per-step windows (docs/funnel.md, "Funnel options"). Its own rules, not ClickHouse's modes:
// a row fills at most one step of a chain; steps on one timestamp chain in any order.

enum class StepOrder : std::uint8_t {
	Ordered = 0, ///< any events between the steps
	Strict = 1,  ///< no event of the user strictly between two consecutive steps (by timestamp)
	Any = 2,     ///< the steps in any order, all within the window
};

enum class ExclusionRule : std::uint8_t {
	ExcludeUser = 0, ///< a user whose every deepest chain is interrupted is excluded (level -1)
	EndChain = 1,    ///< an interrupted chain ends at the exclusion: the user keeps the steps before it
};

/// Which breakdown value funnel_breakdown gives a user.
enum class Attribution : std::uint8_t {
	FirstTouch = 0, ///< of the user's earliest row matching a step (with a value)
	LastTouch = 1,  ///< of the latest
	Step = 2,       ///< of the row filling step attribution_step of the counted chain
};

/// The options of one funnel. A row's mask: bit k - 1 = step k, bit steps + x = exclusion x.
struct FunnelSpec {
	static constexpr std::int64_t kNoLimit = std::numeric_limits<std::int64_t>::max();

	std::size_t steps = 0;
	std::size_t exclusions = 0;
	StepOrder order = StepOrder::Ordered;
	ExclusionRule rule = ExclusionRule::ExcludeUser;
	bool strict_increase = false;                      ///< consecutive steps need strictly increasing timestamps
	std::int64_t window = kNoLimit;                    ///< from the first step to any later one, inclusive (time unit)
	std::int64_t step_window[kMaxConditions];          ///< [k - 1]: from step k to step k + 1, inclusive
	std::uint8_t exclude_from[kMaxConditions] = {};    ///< exclusion x applies between these steps
	std::uint8_t exclude_to[kMaxConditions] = {};      ///< (1-based, from < to)
	Attribution attribution = Attribution::FirstTouch; ///< funnel_breakdown only
	std::uint8_t attribution_step = 0;                 ///< Attribution::Step: 1..steps
	std::uint64_t control = 0; ///< funnel_breakdown: a hash of the control value's bytes (0: none)

	FunnelSpec() noexcept;
	bool operator==(const FunnelSpec &o) const noexcept;

	std::uint64_t
	step_bits() const noexcept
	{
		return steps >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << steps) - 1;
	}
	/// The bits a row's mask may have: steps and exclusions.
	std::uint64_t
	valid_bits() const noexcept
	{
		const std::size_t n = steps + exclusions;
		return n >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
	}
};

/// Throws InvalidArgument for what the docs list (a negative window, an exclusion range outside
/// the steps, options that do not combine with step_order any, ...) and LimitExceeded past 64
/// steps and exclusions together. Step windows past the last step must be kNoLimit.
void check_funnel_spec(const FunnelSpec &spec);

/// The options form's state: the options (pointed to when the caller keeps them: SharedValue) and
/// the kept rows: those matching a step or an exclusion (with step_order strict every row, one per
/// timestamp for rows matching nothing).
class FunnelSpecState {
public:
	FunnelSpecState(const FunnelSpec &spec, bool shared, std::pmr::memory_resource *memory);
	FunnelSpecState(const FunnelSpecState &other, std::pmr::memory_resource *memory);

	/// Adds one row. Throws InvalidArgument if `spec` differs from the group's.
	void
	add(const FunnelSpec &spec, std::int64_t ts, std::uint64_t mask)
	{
		if (&spec != spec_.get() && !(spec == *spec_))
			throw_changed_within_group("funnel options");
		if (mask == 0) {
			if (spec_->order != StepOrder::Strict)
				return;
			if (!log_.empty() && log_.last() == LogEntry{ts, 0})
				return;
		}
		log_.push(LogEntry{ts, mask});
	}
	void merge(const FunnelSpecState &other);

	const FunnelSpec &
	options() const noexcept
	{
		return *spec_;
	}
	/// Whether options() is the caller's spec (kept for the query), not the state's own copy.
	bool
	spec_shared() const noexcept
	{
		return spec_.shared();
	}
	const LogBuffer &
	events() const noexcept
	{
		return log_.entries();
	}
	bool
	sort_step(std::size_t budget)
	{
		return log_.sort_step(budget);
	}

	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	/// Validates the options, masks and order (CorruptState). Options equal to one of
	/// `shared[0..shared_count)` (kept by the caller for longer) are pointed to, not copied.
	static FunnelSpecState deserialize(const std::uint8_t *in, std::size_t size,
	                                   std::pmr::memory_resource *memory = std::pmr::new_delete_resource(),
	                                   const FunnelSpec *const *shared = nullptr, std::size_t shared_count = 0);

private:
	SharedValue<FunnelSpec> spec_;
	EventLog log_;
};

/// Evaluates the options form over one user's sorted rows, resumably (process() does about
/// `budget` units of work per call). Ordered and strict: a forward pass that keeps, per step, the
/// chains that can still grow (for each start the latest, dropping a chain another beats on both
/// its start and its last step: O(1) amortized per row) and, with exclusions, which chains were
/// interrupted. Any order: a sliding window over time. Never exponential: per timestamp with r rows
/// and S steps O(r + S), or O(S^3) when rows match several steps (a bipartite matching of steps to
/// rows, each step keeping S candidate rows).
class FunnelPathEvaluator {
public:
	/// With track_steps, chain() reports the counted chain (not with step_order any: InvalidArgument).
	FunnelPathEvaluator(const FunnelSpec &spec, bool track_steps, std::pmr::memory_resource *memory);

	std::size_t process(const LogEntry *rows, std::size_t count, std::size_t pos, std::size_t budget);
	void reset();
	/// Whether reset() makes it an evaluator for `spec`: the same spec object, which the caller
	/// keeps unchanged for as long as the evaluator (a call site's kept spec), and the same tracking.
	bool
	reusable_for(const FunnelSpec &spec, bool track_steps) const noexcept
	{
		return &spec_ == &spec && track_ == track_steps;
	}
	bool
	done() const noexcept
	{
		return done_;
	}
	/// The deepest step reached (0: none), or -1 for a user the exclusion rule excludes. Call once done().
	int level() const noexcept;
	/// The timestamps of the reported chain (track only): of the chains that count at level(), the
	/// one whose last step is earliest, then the latest first step, then the latest step
	/// level() - 1, level() - 2, ..., 2. Returns level() entries (0 when excluded or without tracking).
	std::size_t chain(std::int64_t *out) const;

private:
	static constexpr std::size_t kLevels = kMaxConditions + 1;
	static constexpr std::uint32_t kNoNode = ~std::uint32_t{0};

	struct Entry {
		std::int64_t start;
		std::int64_t last;
		std::uint32_t node;
	};
	/// Chains per level: a queue ordered by last step (ascending) and first step (descending).
	struct Queue {
		std::pmr::vector<Entry> items;
		std::size_t head = 0;
		explicit Queue(std::pmr::memory_resource *memory) : items(memory) {}
	};
	/// One forward pass: `kills` applies the exclusions (without it, the pass finds the deepest
	/// level of any chain, which the ExcludeUser rule needs beside the clean pass).
	struct Ladder {
		bool kills;
		std::pmr::vector<Queue> queues; ///< per level 1..steps (index 0 unused)
		bool reached[kLevels];
		std::uint32_t first_reached[kLevels]; ///< node of the first chain of the level (EndChain)
		bool open[kLevels];                   ///< a clean chain created since the level's last kill
		bool deadline_pending[kLevels];       ///< strict: its deadline is the next timestamp
		std::int64_t open_deadline[kLevels];  ///< its deadline (the first one's: the earliest)
		std::uint32_t open_node[kLevels];
		bool escaped[kLevels]; ///< a clean chain a kill came too late for: it counts for good
		std::uint32_t escaped_node[kLevels];
		std::size_t top = 0; ///< deepest level reached
		Ladder(bool kills, std::size_t steps, std::pmr::memory_resource *memory);
		void reset() noexcept;
	};
	/// The chains made at a level on the current timestamp: the best of all, and the best that is
	/// not interrupted at birth (an exclusion on this timestamp after its step i and below step j).
	struct Created {
		bool valid;
		bool clean;
		std::int64_t start;
		std::size_t base;
		std::uint32_t base_node;
		std::int64_t clean_start;
		std::size_t clean_base;
		std::uint32_t clean_base_node;
	};

	void begin_group(std::int64_t ts);
	void collect(std::uint64_t mask);
	void evaluate_group();
	void feasible_bases();
	void advance(Ladder &ladder);
	bool prune(Queue &q, std::size_t level) const noexcept;
	std::int64_t deadline(std::size_t level) const noexcept;
	std::uint32_t make_node(std::size_t steps_here, std::uint32_t parent);
	void update_done();
	// step_order any
	void any_group(const LogEntry *rows);
	std::size_t any_matching();
	// The group's bipartite matching of steps to rows (rows matching several steps).
	bool augment(std::size_t step);
	void unmatch(std::size_t step) noexcept;
	void clear_matching() noexcept;

	const FunnelSpec &spec_;
	bool track_;
	bool two_passes_; ///< ExcludeUser with exclusions: a pass without kills finds the deepest level
	bool done_ = false;
	bool collecting_ = false;
	std::int64_t group_ts_ = 0;
	std::size_t work_ = 0;
	Ladder clean_; ///< the pass that reports (kills when there are exclusions)
	Ladder all_;   ///< two_passes_ only
	// The group being read.
	std::uint64_t present_ = 0;    ///< steps with a row in the group
	std::uint64_t excluded_ = 0;   ///< exclusions with a row in the group
	bool multi_ = false;           ///< a row of the group matches several steps
	std::uint32_t group_rows_ = 0; ///< compact numbers given to the group's multi-step rows
	std::uint8_t rows_of_step_[kLevels];
	std::size_t low_[kLevels];                   ///< per step m present: the lowest feasible base + 1
	Created created_[kLevels];                   ///< per level, computed by advance()
	std::pmr::vector<std::uint32_t> candidates_; ///< steps x steps: each step's first rows
	std::pmr::vector<std::uint32_t> row_step_;   ///< per compact row: matched step, 0 = none
	std::pmr::vector<std::uint32_t> row_visit_;
	std::uint32_t step_row_[kLevels]; ///< per step: matched compact row + 1, 0 = none
	std::uint32_t search_ = 0;
	struct Node {
		std::int64_t ts;
		std::uint32_t parent;
		std::uint32_t steps; ///< steps of the chain on this timestamp
	};
	std::pmr::vector<Node> nodes_; ///< track only
	// step_order any: the rows in [left_, pos) lie within the window of the latest timestamp.
	std::size_t group_begin_ = 0; ///< position of the group's first row
	std::size_t left_ = 0;
	std::size_t best_ = 0;
	std::size_t covered_ = 0;                                  ///< steps with a row in the window
	std::size_t multi_rows_ = 0;                               ///< rows in the window matching several steps
	std::pmr::vector<std::uint32_t> in_window_;                ///< per step: rows in the window matching it
	std::pmr::vector<std::pmr::vector<std::uint32_t>> recent_; ///< per step: its last rows (positions)
	std::pmr::vector<std::uint32_t> any_row_step_;             ///< per position: matched step + 1
	std::pmr::vector<std::uint32_t> any_row_visit_;            ///< per position: last search
};

// ---------------------------------------------------------------------------------------------
// conversion_significance: a variant's conversion against a control's.

/// Control a and variant b compared (docs/funnel.md, "Comparing variants"). NaN where undefined
/// (the glue gives NULL): rates without users; difference, interval and probability unless both
/// have users; the p-value when the pooled rate is 0 or 1; the interval when both rates are.
struct ConversionComparison {
	double rate_a;
	double rate_b;
	double difference; ///< rate_b - rate_a
	double ci_low;     ///< 95% Wald interval of the difference (unpooled variance)
	double ci_high;
	double p_value;              ///< two-sided, two-proportion z-test (pooled variance)
	double probability_b_better; ///< P(rate_b > rate_a) under uniform Beta(1, 1) priors
};

/// Throws InvalidArgument for negative counts or more converted than users.
ConversionComparison compare_conversions(std::int64_t users_a, std::int64_t converted_a, std::int64_t users_b,
                                         std::int64_t converted_b);

// ---------------------------------------------------------------------------------------------
// funnel_report: the funnel of every user of a group, folded into one row per step.

/// The report aggregate's state: the funnel's parameters, its users (UserIndex) and each user's
/// kept rows (as FunnelState keeps them), in chunks from one arena.
class FunnelReportState {
public:
	FunnelReportState(const FunnelOptions &options, UserKeyKind kind, std::pmr::memory_resource *memory);
	FunnelReportState(const FunnelReportState &other, std::pmr::memory_resource *memory);

	/// One row of the user with id `user` (an integer or the id's bytes). Throws InvalidArgument
	/// when `options` differ from the group's.
	template <class Key>
	void
	add(const FunnelOptions &options, Key user, std::int64_t ts, std::uint64_t mask)
	{
		if (!(options == options_))
			throw_changed_within_group("funnel parameters");
		if (mask == 0 && (options_.modes & kStrictOrder) == 0)
			return; // matches no step: the user's level does not depend on it
		rows_.add(user, FunnelEvent{ts, mask});
	}
	/// Applies the rows add() held back (UserBatch); call before reading the state.
	void
	flush()
	{
		rows_.flush();
	}
	/// Appends another state's users and rows (a user in both gets the rows of both). Both flushed.
	void merge(const FunnelReportState &other);

	const FunnelOptions &
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

	/// Flushed first.
	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	static FunnelReportState deserialize(const std::uint8_t *in, std::size_t size,
	                                     std::pmr::memory_resource *memory = std::pmr::new_delete_resource());

private:
	FunnelOptions options_;
	UserRows rows_;
};

/// funnel_report, funnel_breakdown and funnel_trend with funnel options: the options (pointed to
/// when the caller keeps them), the users and their kept rows (as FunnelSpecState keeps them).
/// With a breakdown, each row's value, numbered in a dictionary of the values seen (UserIndex by
/// bytes), in the upper half of the row's payload: value number + 1, 0 for NULL; steps and
/// exclusions together are then at most 32. With a trend, the calendar (unit, zone) of its periods.
class FunnelSpecReportState {
public:
	static constexpr unsigned kValueShift = 32;

	/// `control`: the breakdown's control value (a hash of it is in the options), or nullptr.
	FunnelSpecReportState(const FunnelSpec &spec, bool shared, bool breakdown, const std::string_view *control,
	                      const CalendarKey *trend, std::string_view zone_name, UserKeyKind kind,
	                      std::pmr::memory_resource *memory);
	FunnelSpecReportState(const FunnelSpecReportState &other, std::pmr::memory_resource *memory);

	/// One row of the user with id `user`; `value` is the breakdown value (nullptr: NULL), only with
	/// a breakdown. Throws InvalidArgument when `spec` differs from the group's.
	template <class Key>
	void
	add(const FunnelSpec &spec, Key user, std::int64_t ts, std::uint64_t mask, const std::string_view *value = nullptr)
	{
		if (&spec != spec_.get() && !(spec == *spec_))
			throw_changed_within_group("funnel options");
		if (mask == 0 && spec_->order != StepOrder::Strict)
			return; // matches nothing: the user's chains do not depend on it
		if (breakdown_ && value != nullptr)
			mask |= static_cast<std::uint64_t>(values_.slot(*value) + 1) << kValueShift;
		rows_.add(user, LogEntry{ts, mask});
	}
	/// The calendar must be the group's (InvalidArgument otherwise).
	void
	check_trend(const CalendarKey &trend) const
	{
		require_same(trend_, trend, "trend period or time zone");
	}
	void
	flush()
	{
		rows_.flush();
	}
	void merge(const FunnelSpecReportState &other);

	const FunnelSpec &
	options() const noexcept
	{
		return *spec_;
	}
	/// The control value: when has_control().
	bool
	has_control() const noexcept
	{
		return has_control_;
	}
	std::string_view
	control() const noexcept
	{
		return control_;
	}
	const CalendarKey &
	trend() const noexcept
	{
		return trend_;
	}
	std::string_view
	zone_name() const noexcept
	{
		return zone_name_;
	}
	/// The breakdown values, numbered as the rows' payloads carry them (minus one).
	const UserIndex &
	values() const noexcept
	{
		return values_;
	}
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
	static FunnelSpecReportState deserialize(const std::uint8_t *in, std::size_t size,
	                                         std::pmr::memory_resource *memory = std::pmr::new_delete_resource(),
	                                         const FunnelSpec *const *shared = nullptr, std::size_t shared_count = 0);

private:
	SharedValue<FunnelSpec> spec_;
	bool breakdown_;
	bool has_control_;
	std::pmr::string control_;
	CalendarKey trend_;
	std::pmr::string zone_name_;
	UserIndex values_;
	UserRows rows_;
};

/// The hash of a control value that FunnelSpec::control keeps (never 0).
std::uint64_t control_hash(std::string_view value) noexcept;

/// One row of the report: users whose deepest step is at least `step`, conversion from step 1 and
/// from the previous step (NaN when undefined: the glue gives NULL), and the time from the
/// previous step of their reported chain (window_funnel_events' chain): median and 90th
/// percentile, percentile_disc (an observed value), for step >= 2 with users > 0.
struct FunnelReportRow {
	std::size_t step = 0;
	std::int64_t users = 0;
	double from_first = 0;
	double from_previous = 0;
	bool have_times = false;
	std::int64_t median = 0;
	std::int64_t p90 = 0;
};

/// Users folded into the report's rows: how many reached each step, and the times between the
/// steps of their chains. Excluded users (level -1) are counted apart.
class FunnelTally {
public:
	FunnelTally(std::size_t steps, std::pmr::memory_resource *memory);
	/// One user: the deepest step (-1: excluded) and the chain's timestamps (`length` of them: none
	/// without a chain, then no times).
	void add(int level, const std::int64_t *chain, std::size_t length);
	/// The rows for steps 1..steps.
	std::pmr::vector<FunnelReportRow> rows() const;
	std::int64_t
	excluded() const noexcept
	{
		return excluded_;
	}
	/// Users reaching at least `step` (1-based).
	std::int64_t reached(std::size_t step) const noexcept;

private:
	std::pmr::memory_resource *memory_;
	std::pmr::vector<std::int64_t> levels_;                  ///< users per deepest step
	std::pmr::vector<std::pmr::vector<std::int64_t>> times_; ///< per step >= 2: time from the previous step
	std::int64_t excluded_ = 0;
};

/// One user's funnel as a report folds it: the deepest step (-1: excluded), the reported chain,
/// and the user's rows in (ts, payload) order.
struct FunnelUserResult {
	std::uint32_t user;
	int level;
	const std::int64_t *chain;
	std::size_t chain_length;
	const LogEntry *rows;
	std::size_t count;
};

inline int
user_level(const FunnelEvaluator &e) noexcept
{
	return static_cast<int>(e.level());
}
inline int
user_level(const FunnelPathEvaluator &e) noexcept
{
	return e.level();
}

/// Evaluates every user of a report state, resumably: step() does about `budget` units of work
/// (rows grouped, sorted, evaluated) and calls sink(const FunnelUserResult &) for each user done;
/// it returns true when all are. The rows are grouped by user first; a user's rows that arrived
/// in order are evaluated where they are, the others sorted in place.
template <class State, class Evaluator>
class FunnelScan {
public:
	FunnelScan(const State &state, bool track_steps, std::pmr::memory_resource *memory)
	    : state_(state), evaluator_(state.options(), track_steps, memory), groups_(state.log(), state.users(), memory),
	      scratch_(memory)
	{
	}

	template <class Sink>
	bool
	step(std::size_t budget, Sink &&sink)
	{
		std::size_t work = 0;
		if (phase_ == Phase::Group) {
			if (!groups_.step(budget))
				return false;
			phase_ = Phase::Start;
		}
		while (user_ < state_.users() && work < budget) {
			switch (phase_) {
			case Phase::Group:
			case Phase::Start:
				pos_ = 0;
				count_ = groups_.count(user_);
				if (groups_.sorted(user_)) {
					rows_ = groups_.rows(user_);
					phase_ = Phase::Evaluate;
				} else {
					scratch_.clear();
					const LogEntry *rows = groups_.rows(user_);
					for (std::size_t i = 0; i < count_; i++)
						scratch_.push(rows[i]);
					work += count_;
					phase_ = Phase::Sort;
				}
				break;
			case Phase::Sort:
				if (scratch_.sort_step(budget)) {
					rows_ = scratch_.entries().data();
					count_ = scratch_.entries().size();
					phase_ = Phase::Evaluate;
				}
				work += std::min<std::size_t>(scratch_.entries().size() + 1, budget);
				break;
			case Phase::Evaluate: {
				const std::size_t before = pos_;
				pos_ = evaluator_.process(rows_, count_, pos_, budget - std::min(work, budget - 1));
				work += pos_ - before + 1;
				if (evaluator_.done()) {
					std::int64_t chain[kMaxConditions];
					const std::size_t length = evaluator_.chain(chain);
					sink(FunnelUserResult{static_cast<std::uint32_t>(user_), user_level(evaluator_), chain, length,
					                      rows_, count_});
					evaluator_.reset();
					user_++;
					phase_ = Phase::Start;
				}
				break;
			}
			}
		}
		return user_ >= state_.users();
	}

private:
	const State &state_;
	Evaluator evaluator_;
	UserGroups groups_;
	EventLog scratch_; ///< an unsorted user's rows, copied and sorted
	std::size_t user_ = 0;
	enum class Phase : std::uint8_t { Group, Start, Sort, Evaluate } phase_ = Phase::Group;
	const LogEntry *rows_ = nullptr; ///< the rows being evaluated (the user's, or scratch_'s)
	std::size_t count_ = 0;
	std::size_t pos_ = 0;
};

/// Whether a report's users need their chains (the times between steps): not with step_order any.
inline bool
reports_chains(const FunnelOptions &) noexcept
{
	return true;
}
inline bool
reports_chains(const FunnelSpec &spec) noexcept
{
	return spec.order != StepOrder::Any;
}

/// Folds every user of a report state into the report: FunnelScan into a FunnelTally. For
/// funnel_report in both forms (FunnelReportBuilder, FunnelSpecReportBuilder).
template <class State, class Evaluator>
class FunnelTallyBuilder {
public:
	FunnelTallyBuilder(const State &state, std::pmr::memory_resource *memory)
	    : scan_(state, reports_chains(state.options()), memory), tally_(state.options().steps, memory)
	{
	}
	bool
	step(std::size_t budget)
	{
		return scan_.step(budget, [&](const FunnelUserResult &u) { tally_.add(u.level, u.chain, u.chain_length); });
	}
	const FunnelTally &
	tally() const noexcept
	{
		return tally_;
	}
	/// The rows for steps 1..steps; call once step() returned true.
	std::pmr::vector<FunnelReportRow>
	result() const
	{
		return tally_.rows();
	}

private:
	FunnelScan<State, Evaluator> scan_;
	FunnelTally tally_;
};

using FunnelReportBuilder = FunnelTallyBuilder<FunnelReportState, FunnelEvaluator>;

/// funnel_report with funnel options: excluded users are counted apart (FunnelTally::excluded).
using FunnelSpecReportBuilder = FunnelTallyBuilder<FunnelSpecReportState, FunnelPathEvaluator>;

/// One row of funnel_breakdown: a breakdown value (or NULL), one step of its report, and that
/// step's conversion from step 1 compared with the control value's (when there is one and this
/// is another value).
struct FunnelBreakdownRow {
	bool has_value;
	std::string_view value; ///< valid while the state lives
	FunnelReportRow row;
	bool compared;
	ConversionComparison vs_control;
};

/// funnel_breakdown: each user who entered the funnel attributed one breakdown value
/// (FunnelSpec::attribution), users folded per value. Users with no value are the NULL value's; with Attribution::Step,
/// users whose counted chain does not reach the step, or whose rows there have no value, are left out, as are excluded
/// users always.
class FunnelBreakdownBuilder {
public:
	FunnelBreakdownBuilder(const FunnelSpecReportState &state, std::pmr::memory_resource *memory);
	bool step(std::size_t budget);
	/// Rows by value (byte order, NULL last), then step; call once step() returned true.
	std::pmr::vector<FunnelBreakdownRow> result() const;

private:
	void add_user(const FunnelUserResult &u);
	/// The user's value by the attribution rule: 0 none (left out), 1 NULL, else value number + 2.
	std::uint64_t attributed(const FunnelUserResult &u) const;

	const FunnelSpecReportState &state_;
	std::pmr::memory_resource *memory_;
	FunnelScan<FunnelSpecReportState, FunnelPathEvaluator> scan_;
	std::pmr::vector<std::int32_t> tally_of_; ///< per value number + 1 (0: NULL): index into tallies_, -1 none
	std::pmr::vector<FunnelTally> tallies_;
};

/// funnel_trend: per user who entered the funnel (a counted chain), the time of the chain's first
/// step and whether it reached the last step; the glue puts them into calendar periods.
class FunnelTrendBuilder {
public:
	struct Entry {
		std::int64_t entered;
		bool converted;
	};
	FunnelTrendBuilder(const FunnelSpecReportState &state, std::pmr::memory_resource *memory)
	    : scan_(state, true, memory), steps_(state.options().steps), entries_(memory)
	{
	}
	bool
	step(std::size_t budget)
	{
		return scan_.step(budget, [&](const FunnelUserResult &u) {
			if (u.level >= 1 && u.chain_length >= 1)
				entries_.push_back(Entry{u.chain[0], static_cast<std::size_t>(u.level) == steps_});
		});
	}
	const std::pmr::vector<Entry> &
	entries() const noexcept
	{
		return entries_;
	}

private:
	FunnelScan<FunnelSpecReportState, FunnelPathEvaluator> scan_;
	std::size_t steps_;
	std::pmr::vector<Entry> entries_;
};

} // namespace pg_product_analytics::core
