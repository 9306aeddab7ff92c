#include "sequence.hpp"

#include "error.hpp"
#include "serial.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

namespace pg_product_analytics::core {

namespace {

constexpr std::uint64_t
bit(std::size_t i) noexcept
{
	return std::uint64_t{1} << i;
}

constexpr std::uint64_t
low_bits(std::size_t n) noexcept
{
	return n >= 64 ? ~std::uint64_t{0} : bit(n) - 1;
}

// ---- Parsing --------------------------------------------------------------------------------

class PatternParser {
public:
	PatternParser(std::string_view text, bool integer_time) : text_(text), integer_time_(integer_time) {}

	SequencePattern
	parse()
	{
		while (true) {
			skip_spaces();
			if (pos_ == text_.size())
				break;
			const std::size_t start = pos_;
			if (take("(?")) {
				skip_spaces();
				if (take("t"))
					time_condition(start);
				else
					event(start);
			} else if (take(".*")) {
				pending_gap_ = true;
			} else if (take(".")) {
				add_element(start, true, 0);
			} else {
				fail(start, std::string("unexpected character \"") + text_[start] + "\"");
			}
		}
		// A time condition after the last element has no event after it: it constrains nothing.
		return pattern_;
	}

private:
	[[noreturn]] void
	fail(std::size_t at, const std::string &what) const
	{
		throw Error(ErrorKind::InvalidArgument,
		            "invalid sequence pattern at position " + std::to_string(at + 1) + ": " + what,
		            "The pattern is \"" + std::string(text_) + "\".",
		            "Elements are (?N), ., .* and (?t op S) with op one of < <= > >= ==.");
	}
	void
	skip_spaces() noexcept
	{
		while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n'))
			pos_++;
	}
	bool
	take(std::string_view s) noexcept
	{
		if (text_.substr(pos_, s.size()) != s)
			return false;
		pos_ += s.size();
		return true;
	}
	bool
	digit() const noexcept
	{
		return pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9';
	}
	void
	close()
	{
		skip_spaces();
		if (!take(")"))
			fail(pos_, pos_ == text_.size() ? "expected \")\", found the end" : "expected \")\"");
	}

	// `(?N)`: the "(?" is read.
	void
	event(std::size_t start)
	{
		if (!digit())
			fail(pos_, "expected a condition number or t after \"(?\"");
		std::uint64_t n = 0;
		while (digit()) {
			n = std::min<std::uint64_t>(n * 10 + static_cast<std::uint64_t>(text_[pos_] - '0'), 1000000);
			pos_++;
		}
		if (n == 0)
			fail(start, "condition numbers start at 1");
		if (n > kMaxConditions)
			throw Error(ErrorKind::LimitExceeded,
			            "sequence pattern at position " + std::to_string(start + 1) + " names condition " +
			                std::to_string(n) + ", the limit is " + std::to_string(kMaxConditions),
			            "Each event keeps the conditions it matches as the bits of one 64-bit mask.");
		close();
		add_element(start, false, static_cast<std::uint8_t>(n - 1));
	}

	// `(?t op S)`: the "(?t" is read.
	void
	time_condition(std::size_t start)
	{
		if (pattern_.elements == 0)
			fail(start, "a time condition must follow an event ((?N) or .)");
		skip_spaces();
		enum class Op { Less, LessEqual, Greater, GreaterEqual, Equal } op;
		if (take("<="))
			op = Op::LessEqual;
		else if (take(">="))
			op = Op::GreaterEqual;
		else if (take("=="))
			op = Op::Equal;
		else if (take("<"))
			op = Op::Less;
		else if (take(">"))
			op = Op::Greater;
		else
			fail(pos_, "expected one of < <= > >= == after \"(?t\"");
		skip_spaces();
		const std::uint64_t s = amount();
		close();
		std::uint64_t &low = pending_low_;
		std::uint64_t &high = pending_high_;
		switch (op) {
		case Op::Less:
			if (s == 0)
				low = std::max<std::uint64_t>(low, 1), high = 0; // never: no difference is below 0
			else
				high = std::min(high, s - 1);
			break;
		case Op::LessEqual:
			high = std::min(high, s);
			break;
		case Op::Greater:
			low = std::max(low, s + 1);
			break;
		case Op::GreaterEqual:
			low = std::max(low, s);
			break;
		case Op::Equal:
			low = std::max(low, s);
			high = std::min(high, s);
			break;
		}
		pending_gated_ = pending_gap_ = true;
	}

	// A non-negative number of seconds in microseconds (at most six decimals), or an integer in
	// the unit of ts; at most 2^62 units, so S + 1 cannot overflow.
	std::uint64_t
	amount()
	{
		const std::size_t start = pos_;
		if (!digit())
			fail(pos_,
			     integer_time_ ? "expected a non-negative integer time" : "expected a non-negative number of seconds");
		constexpr std::uint64_t kMax = std::uint64_t{1} << 62;
		const std::uint64_t scale = integer_time_ ? 1 : 1000000;
		std::uint64_t whole = 0;
		while (digit()) {
			whole = std::min<std::uint64_t>(whole * 10 + static_cast<std::uint64_t>(text_[pos_] - '0'), kMax);
			pos_++;
		}
		if (whole > kMax / scale)
			fail(start, "time out of range");
		std::uint64_t value = whole * scale;
		if (pos_ < text_.size() && text_[pos_] == '.') {
			if (integer_time_)
				fail(pos_, "integer time takes a whole number");
			pos_++;
			std::uint64_t unit = scale;
			if (!digit())
				fail(pos_, "expected digits after \".\"");
			while (digit()) {
				unit /= 10;
				if (unit == 0)
					fail(pos_, "more than six decimals: the unit is the microsecond");
				value += static_cast<std::uint64_t>(text_[pos_] - '0') * unit;
				pos_++;
			}
		}
		if (value > kMax)
			fail(start, "time out of range");
		return value;
	}

	void
	add_element(std::size_t start, bool any, std::uint8_t condition)
	{
		const std::size_t j = pattern_.elements;
		if (j == SequencePattern::kMaxElements)
			throw Error(ErrorKind::LimitExceeded,
			            "sequence pattern at position " + std::to_string(start + 1) + " has more than " +
			                std::to_string(SequencePattern::kMaxElements) + " events ((?N) or .)",
			            "The matcher keeps the pattern's events as the bits of one 64-bit mask.");
		if (any)
			pattern_.any |= bit(j);
		else {
			pattern_.condition[j] = condition;
			pattern_.max_condition = std::max<std::size_t>(pattern_.max_condition, condition + 1u);
		}
		if (j > 0 && pending_gap_)
			pattern_.gap |= bit(j);
		if (j > 0 && pending_gated_) {
			pattern_.gated |= bit(j);
			pattern_.low[j] = pending_low_;
			pattern_.high[j] = pending_high_;
		}
		pattern_.elements = j + 1;
		pending_gap_ = pending_gated_ = false;
		pending_low_ = 0;
		pending_high_ = SequencePattern::kNoUpperBound;
	}

	std::string_view text_;
	bool integer_time_;
	std::size_t pos_ = 0;
	SequencePattern pattern_;
	bool pending_gap_ = false;
	bool pending_gated_ = false;
	std::uint64_t pending_low_ = 0;
	std::uint64_t pending_high_ = SequencePattern::kNoUpperBound;
};

} // namespace

bool
SequencePattern::operator==(const SequencePattern &o) const noexcept
{
	return elements == o.elements && max_condition == o.max_condition && any == o.any && gap == o.gap &&
	       gated == o.gated && std::memcmp(condition, o.condition, sizeof condition) == 0 &&
	       std::memcmp(low, o.low, sizeof low) == 0 && std::memcmp(high, o.high, sizeof high) == 0;
}

SequencePattern
parse_sequence_pattern(std::string_view text, bool integer_time)
{
	return PatternParser(text, integer_time).parse();
}

void
check_pattern_conditions(const SequencePattern &pattern, std::size_t conditions)
{
	check_condition_count(conditions, "condition");
	if (pattern.max_condition > conditions)
		throw Error(ErrorKind::InvalidArgument,
		            "sequence pattern names condition " + std::to_string(pattern.max_condition) + " but only " +
		                std::to_string(conditions) + " condition" + (conditions == 1 ? " is" : "s are") + " given");
}

// ---- SequenceState --------------------------------------------------------------------------

SequenceState::SequenceState(const SequencePattern &pattern, bool shared, std::size_t conditions,
                             std::pmr::memory_resource *memory)
    : pattern_((check_pattern_conditions(pattern, conditions), pattern), shared, memory), conditions_(conditions),
      log_(memory)
{
}

SequenceState::SequenceState(const SequenceState &other, std::pmr::memory_resource *memory)
    : pattern_(other.pattern_, memory), conditions_(other.conditions_), log_(other.log_, memory)
{
}

void
SequenceState::check_same(const SequencePattern &pattern, std::size_t conditions) const
{
	if (conditions != conditions_)
		throw_changed_within_group("number of conditions");
	if (!(pattern == *pattern_))
		throw_changed_within_group("sequence pattern");
}

void
SequenceState::merge(const SequenceState &other)
{
	if (other.pattern_.get() != pattern_.get() || other.conditions_ != conditions_)
		check_same(*other.pattern_, other.conditions_);
	log_.merge(other.log_);
}

namespace {

std::size_t
pattern_size(const SequencePattern &p) noexcept
{
	return 2 + 3 * 8 + p.elements + 16 * static_cast<std::size_t>(__builtin_popcountll(p.gated));
}

void
write_pattern(ByteWriter &w, const SequencePattern &p)
{
	w.u8(static_cast<std::uint8_t>(p.elements));
	w.u8(static_cast<std::uint8_t>(p.max_condition));
	w.u64(p.any);
	w.u64(p.gap);
	w.u64(p.gated);
	for (std::size_t j = 0; j < p.elements; j++)
		w.u8(p.condition[j]);
	for (std::size_t j = 0; j < p.elements; j++)
		if (p.gated & bit(j)) {
			w.u64(p.low[j]);
			w.u64(p.high[j]);
		}
}

// Accepts exactly the patterns the parser builds.
SequencePattern
read_pattern(ByteReader &r)
{
	SequencePattern p;
	p.elements = r.u8();
	p.max_condition = r.u8();
	p.any = r.u64();
	p.gap = r.u64();
	p.gated = r.u64();
	if (p.elements > SequencePattern::kMaxElements)
		throw_corrupt("too many pattern elements");
	const std::uint64_t used = low_bits(p.elements);
	if ((p.any & ~used) != 0 || (p.gap & ~used) != 0 || (p.gated & ~p.gap) != 0 || (p.gap & 1) != 0)
		throw_corrupt("invalid pattern element flags");
	std::size_t max_condition = 0;
	for (std::size_t j = 0; j < p.elements; j++) {
		p.condition[j] = r.u8();
		if (p.any & bit(j)) {
			if (p.condition[j] != 0)
				throw_corrupt("invalid pattern element");
		} else {
			if (p.condition[j] >= kMaxConditions)
				throw_corrupt("invalid pattern condition");
			max_condition = std::max<std::size_t>(max_condition, p.condition[j] + 1u);
		}
	}
	if (max_condition != p.max_condition)
		throw_corrupt("invalid pattern condition count");
	constexpr std::uint64_t kMax = std::uint64_t{1} << 62;
	for (std::size_t j = 0; j < p.elements; j++)
		if (p.gated & bit(j)) {
			p.low[j] = r.u64();
			p.high[j] = r.u64();
			if (p.low[j] > kMax + 1 || (p.high[j] > kMax && p.high[j] != SequencePattern::kNoUpperBound))
				throw_corrupt("invalid pattern time bound");
		}
	return p;
}

} // namespace

std::size_t
SequenceState::serialized_size() const noexcept
{
	return kHeaderSize + 1 + pattern_size(*pattern_) + log_.serialized_size();
}

void
SequenceState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::Sequence);
	w.u8(static_cast<std::uint8_t>(conditions_));
	write_pattern(w, *pattern_);
	log_.serialize(w);
	w.finish();
}

SequenceState
SequenceState::deserialize(const std::uint8_t *in, std::size_t size, std::pmr::memory_resource *memory,
                           const SequencePattern *const *shared, std::size_t shared_count)
{
	ByteReader r(in, size);
	r.header(StateTag::Sequence);
	const std::size_t conditions = r.u8();
	const SequencePattern pattern = read_pattern(r);
	if (conditions == 0 || conditions > kMaxConditions || pattern.max_condition > conditions)
		throw_corrupt("invalid number of conditions");
	const SequencePattern *same = nullptr;
	for (std::size_t i = 0; i < shared_count && same == nullptr; i++)
		if (*shared[i] == pattern)
			same = shared[i];
	SequenceState state(same != nullptr ? *same : pattern, same != nullptr, conditions, memory);
	const std::uint64_t valid = low_bits(conditions);
	state.log_.deserialize(r, [&](const LogEntry &e) { return e.payload != 0 && (e.payload & ~valid) == 0; });
	r.finish();
	return state;
}

// ---- SequenceEvaluator ----------------------------------------------------------------------

void
SequenceEvaluator::Window::push(std::int64_t ts)
{
	if (head_ < times_.size() && times_.back() == ts)
		return;
	if (low_ == 0) {
		// Only an upper bound: the nearest time is the best for every event to come.
		times_.clear();
		head_ = 0;
	} else if (high_ == SequencePattern::kNoUpperBound && head_ < times_.size()) {
		return; // only a lower bound: the farthest (first) time is the best
	}
	if (head_ > 64 && head_ * 2 > times_.size()) {
		times_.erase(times_.begin(), times_.begin() + static_cast<std::ptrdiff_t>(head_));
		head_ = 0;
	}
	times_.push_back(ts);
}

bool
SequenceEvaluator::Window::query(std::int64_t ts, bool backward)
{
	auto distance = [&](std::int64_t t) {
		return backward ? static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(ts)
		                : static_cast<std::uint64_t>(ts) - static_cast<std::uint64_t>(t);
	};
	while (head_ < times_.size() && distance(times_[head_]) > high_)
		head_++; // too far now, and farther for every event to come
	return head_ < times_.size() && distance(times_[head_]) >= low_;
}

SequenceEvaluator::SequenceEvaluator(const SequencePattern &pattern, SequenceQuestion question, const LogEntry *events,
                                     std::size_t count, std::pmr::memory_resource *memory)
    : pattern_(pattern), question_(question), events_(events), count_(count), memory_(memory), windows_(memory),
      completes_(memory), chain_(memory)
{
	for (std::size_t j = 0; j < pattern_.elements; j++)
		if (!(pattern_.any & bit(j)))
			of_condition_[pattern_.condition[j]] |= bit(j);
	if (pattern_.gated != 0) // windows are read for gated elements only
		for (std::size_t j = 0; j < pattern_.elements; j++)
			windows_.emplace_back(pattern_.low[j], pattern_.high[j], memory_);
	if (pattern_.elements > 0)
		last_ = bit(pattern_.elements - 1);
	const std::uint64_t later = low_bits(pattern_.elements) & ~std::uint64_t{1};
	adjacent_ = later & ~pattern_.gap;
	free_gap_ = later & pattern_.gap & ~pattern_.gated;
}

void
SequenceEvaluator::restart() noexcept
{
	at_previous_ = before_ = 0;
	for (std::size_t j = 0; j < pattern_.elements; j++)
		if (pattern_.gated & bit(j))
			windows_[j].clear();
}

bool
SequenceEvaluator::step(std::size_t budget)
{
	if (pattern_.elements == 0) {
		// No event element: the empty sequence matches, once per seen event for the count.
		matched_ = true;
		matches_ = count_;
		phase_ = Phase::Done;
	}
	switch (phase_) {
	case Phase::Forward:
		return forward(budget);
	case Phase::Backward:
		return backward(budget);
	case Phase::Pick:
		return pick(budget);
	case Phase::Done:
		break;
	}
	return true;
}

// Reads events in order, keeping the elements reached at the previous event and at any earlier
// one (since the last match, for the count); a time condition asks its window.
bool
SequenceEvaluator::forward(std::size_t budget)
{
	const LogEntry *events = events_;
	const std::size_t count = count_;
	const std::size_t end = count - pos_ > budget ? pos_ + budget : count;
	const std::uint64_t push_into = pattern_.gated >> 1; // elements whose successor has a time condition
	for (std::size_t p = pos_; p < end; p++) {
		const LogEntry &e = events[p];
		const std::uint64_t can = candidates(e.payload);
		std::uint64_t reach = can & (1 | ((at_previous_ << 1) & adjacent_) | ((before_ << 1) & free_gap_));
		for (std::uint64_t g = can & pattern_.gated & (before_ << 1); g != 0; g &= g - 1) {
			const std::size_t j = static_cast<std::size_t>(__builtin_ctzll(g));
			if (windows_[j].query(e.ts, false))
				reach |= bit(j);
		}
		for (std::uint64_t q = reach & push_into; q != 0; q &= q - 1)
			windows_[static_cast<std::size_t>(__builtin_ctzll(q)) + 1].push(e.ts);
		before_ |= reach;
		at_previous_ = reach;
		if (reach & last_) {
			if (question_ == SequenceQuestion::Match) {
				matched_ = true;
				phase_ = Phase::Done;
				return true;
			}
			if (question_ == SequenceQuestion::Count) {
				matches_++;
				restart();
			}
		}
	}
	pos_ = end;
	if (end < count)
		return false;
	if (question_ != SequenceQuestion::Events) {
		phase_ = Phase::Done;
		return true;
	}
	// Elements are reached in order, so the reached ones are a prefix.
	prefix_ = static_cast<std::size_t>(__builtin_popcountll(before_));
	matched_ = prefix_ == pattern_.elements;
	if (prefix_ == 0) {
		phase_ = Phase::Done;
		return true;
	}
	restart();
	completes_.assign(count, 0);
	after_ = 0;
	pos_ = count;
	phase_ = Phase::Backward;
	return false;
}

// From the last event back: for each event, the elements j < prefix_ from which elements j..prefix_-1
// can be matched starting at it.
bool
SequenceEvaluator::backward(std::size_t budget)
{
	const LogEntry *events = events_;
	const std::uint64_t in_prefix = low_bits(prefix_);
	const std::uint64_t final_bit = bit(prefix_ - 1);
	const std::uint64_t next_adjacent = adjacent_ >> 1;
	const std::uint64_t next_free = free_gap_ >> 1;
	const std::uint64_t next_gated = (pattern_.gated & in_prefix) >> 1;
	const std::size_t stop = pos_ > budget ? pos_ - budget : 0;
	for (std::size_t p = pos_; p-- > stop;) {
		const LogEntry &e = events[p];
		const std::uint64_t can = candidates(e.payload) & in_prefix;
		const std::uint64_t next = p + 1 < completes_.size() ? completes_[p + 1] : 0;
		std::uint64_t ok = can & (final_bit | ((next >> 1) & next_adjacent) | ((after_ >> 1) & next_free));
		for (std::uint64_t g = can & next_gated & (after_ >> 1); g != 0; g &= g - 1) {
			const std::size_t j = static_cast<std::size_t>(__builtin_ctzll(g));
			if (windows_[j + 1].query(e.ts, true))
				ok |= bit(j);
		}
		for (std::uint64_t q = ok & pattern_.gated; q != 0; q &= q - 1)
			windows_[static_cast<std::size_t>(__builtin_ctzll(q))].push(e.ts);
		completes_[p] = ok;
		after_ |= ok;
	}
	pos_ = stop;
	if (stop > 0)
		return false;
	pos_ = 0;
	element_ = 0;
	at_ = 0;
	phase_ = Phase::Pick;
	return false;
}

// The chain with the earliest first event, then the earliest second, ...: each element takes the
// first event from which the rest can still be completed.
bool
SequenceEvaluator::pick(std::size_t budget)
{
	const LogEntry *events = events_;
	std::size_t work = 0;
	while (element_ < prefix_) {
		const std::size_t j = element_;
		const std::uint64_t want = bit(j);
		std::size_t p = pos_;
		const bool gated = (pattern_.gated & want) != 0;
		while (true) {
			if (work++ >= budget) {
				pos_ = p;
				return false;
			}
			if (p >= completes_.size())
				throw Error(ErrorKind::Internal, "sequence chain not found");
			if ((completes_[p] & want) != 0) {
				if (!gated)
					break;
				const std::uint64_t d =
				    static_cast<std::uint64_t>(events[p].ts) - static_cast<std::uint64_t>(events[at_].ts);
				if (d >= pattern_.low[j] && d <= pattern_.high[j])
					break;
			}
			if (j > 0 && (adjacent_ & want))
				throw Error(ErrorKind::Internal, "sequence chain not found");
			p++;
		}
		if (!(pattern_.any & want))
			chain_.push_back(events[p].ts);
		at_ = p;
		pos_ = p + 1;
		element_++;
	}
	completes_ = std::pmr::vector<std::uint64_t>(memory_);
	phase_ = Phase::Done;
	return true;
}

// ---- sequence_next_node ---------------------------------------------------------------------

NextDirection
parse_next_direction(std::string_view text)
{
	if (text == "forward")
		return NextDirection::Forward;
	if (text == "backward")
		return NextDirection::Backward;
	throw Error(ErrorKind::InvalidArgument, "invalid sequence_next_node direction \"" + std::string(text) + "\"", "",
	            "Valid directions are forward and backward.");
}

NextBase
parse_next_base(std::string_view text)
{
	if (text == "head")
		return NextBase::Head;
	if (text == "tail")
		return NextBase::Tail;
	if (text == "first_match")
		return NextBase::FirstMatch;
	if (text == "last_match")
		return NextBase::LastMatch;
	throw Error(ErrorKind::InvalidArgument, "invalid sequence_next_node base \"" + std::string(text) + "\"", "",
	            "Valid bases are head, tail, first_match and last_match.");
}

NextNodeState::NextNodeState(const NextNodeOptions &options, std::pmr::memory_resource *memory)
    : options_(options), nodes_(memory), bytes_(memory)
{
	check_condition_count(options.events, "event condition");
}

NextNodeState::NextNodeState(const NextNodeState &other, std::pmr::memory_resource *memory)
    : options_(other.options_), nodes_(other.nodes_, memory), bytes_(other.bytes_, memory),
      live_bytes_(other.live_bytes_), bound_(other.bound_), next_prune_(other.next_prune_),
      have_edge_(other.have_edge_), edge_ts_(other.edge_ts_)
{
}

bool
NextNodeState::bounded() const noexcept
{
	return options_.base == NextBase::Head || options_.base == NextBase::Tail;
}

int
NextNodeState::compare_keys(const Node &a, std::string_view a_value, const Node &b, std::string_view b_value) noexcept
{
	if (a.ts != b.ts)
		return a.ts < b.ts ? -1 : 1;
	if (int c = a_value.compare(b_value); c != 0)
		return c < 0 ? -1 : 1;
	if (a.mask != b.mask)
		return a.mask < b.mask ? -1 : 1;
	if (a.base != b.base)
		return a.base ? 1 : -1;
	return 0;
}

bool
NextNodeState::before(std::size_t a, std::size_t b) const noexcept
{
	const int c = compare(nodes_[a], value(nodes_[a]), nodes_[b]);
	return c < 0 || (c == 0 && a < b);
}

bool
NextNodeState::find_base(std::size_t begin, std::size_t end, std::size_t &base) const noexcept
{
	const bool match = options_.base == NextBase::FirstMatch || options_.base == NextBase::LastMatch;
	const bool first = options_.base == NextBase::Head || options_.base == NextBase::FirstMatch;
	bool found = false;
	for (std::size_t i = begin; i < end; i++) {
		if (match && !(nodes_[i].base && (nodes_[i].mask & 1)))
			continue;
		if (!found || (first ? before(i, base) : before(base, i))) {
			base = i;
			found = true;
		}
	}
	return found;
}

void
NextNodeState::pick_near(std::size_t base, bool after, std::size_t i, std::size_t keep,
                         std::pmr::vector<std::size_t> &picked) const
{
	auto nearer = [&](std::size_t a, std::size_t b) { return after ? before(a, b) : before(b, a); };
	if (i == base || nearer(i, base))
		return; // the base itself, or on its other side
	if (picked.size() == keep && !nearer(i, picked.back()))
		return;
	std::size_t at = picked.size();
	while (at > 0 && nearer(i, picked[at - 1]))
		at--;
	if (picked.size() == keep)
		picked.pop_back();
	picked.insert(picked.begin() + static_cast<std::ptrdiff_t>(at), i);
}

void
NextNodeState::append(std::int64_t ts, std::string_view value, bool base, std::uint64_t mask)
{
	if (bytes_.size() + value.size() > std::numeric_limits<std::uint32_t>::max())
		throw Error(ErrorKind::LimitExceeded, "sequence_next_node keeps more than 4 GB of event values in one group",
		            "Base first_match and last_match keep the rows that can still matter; head and tail keep a few.");
	Node n{ts, mask, static_cast<std::uint32_t>(bytes_.size()), static_cast<std::uint32_t>(value.size()), base};
	if (nodes_.empty()) {
		// Most groups keep a handful of short values: one allocation each instead of regrowths.
		nodes_.reserve(bounded() ? options_.events + 1 : 8);
		bytes_.reserve(64);
	}
	bytes_.insert(bytes_.end(), value.begin(), value.end());
	nodes_.push_back(n);
	live_bytes_ += value.size();
}

void
NextNodeState::add(const NextNodeOptions &options, std::int64_t ts, std::string_view value, bool base,
                   std::uint64_t mask)
{
	if (!(options == options_))
		throw_changed_within_group("sequence_next_node direction, base or number of events");
	if (have_edge_ &&
	    (options_.base == NextBase::Head || options_.base == NextBase::FirstMatch ? ts > edge_ts_ : ts < edge_ts_))
		return; // beyond the edge row by its time alone
	if (bounded()) {
		add_bounded(ts, value, base, mask);
		return;
	}
	if (bound_ != kNone) {
		const int c = compare(Node{ts, mask, 0, 0, base}, value, nodes_[bound_]);
		if (options_.base == NextBase::FirstMatch ? c > 0 : c < 0)
			return; // beyond the bound: can never matter
	}
	append(ts, value, base, mask);
	if (nodes_.size() >= next_prune_)
		prune();
}

// Head keeps the first events + 1 rows in order, tail the last: a row that cannot be among them
// is dropped (rows arriving in time order by their time alone, in add()).
void
NextNodeState::add_bounded(std::int64_t ts, std::string_view value, bool base, std::uint64_t mask)
{
	const std::size_t keep = options_.events + 1;
	const bool head = options_.base == NextBase::Head;
	const Node probe{ts, mask, 0, 0, base};
	if (nodes_.size() == keep) {
		const int c = compare(probe, value, head ? nodes_.back() : nodes_.front());
		if (head ? c >= 0 : c <= 0)
			return;
	}
	// Position: the first kept row after the new one.
	std::size_t at = nodes_.size();
	while (at > 0 && compare(probe, value, nodes_[at - 1]) < 0)
		at--;
	append(ts, value, base, mask);
	std::rotate(nodes_.begin() + static_cast<std::ptrdiff_t>(at), nodes_.end() - 1, nodes_.end());
	if (nodes_.size() > keep) {
		const auto evicted = head ? nodes_.end() - 1 : nodes_.begin();
		live_bytes_ -= evicted->length;
		nodes_.erase(evicted);
	}
	if (bytes_.size() > 2 * live_bytes_ + 4096)
		compact();
	refresh_edge();
}

void
NextNodeState::refresh_edge() noexcept
{
	have_edge_ = false;
	if (bounded()) {
		if (nodes_.size() == options_.events + 1) {
			have_edge_ = true;
			edge_ts_ = options_.base == NextBase::Head ? nodes_.back().ts : nodes_.front().ts;
		}
	} else if (bound_ != kNone) {
		have_edge_ = true;
		edge_ts_ = nodes_[bound_].ts;
	}
}

// first_match / last_match, when the rows have doubled: the base so far bounds which rows can
// still matter, whatever rows come later (a later base is only nearer the start for first_match,
// nearer the end for last_match), and rows beyond the bound are dropped. O(rows * events)
// compares at worst, O(rows) when rows arrive in time order; not above 4M rows (the call is not
// interruptible), where the state simply keeps its rows.
void
NextNodeState::prune()
{
	const std::size_t n = nodes_.size();
	next_prune_ = 2 * n;
	if (n > (std::size_t{1} << 22))
		return;
	std::size_t base = 0;
	if (!find_base(0, n, base))
		return;
	const bool forward = options_.direction == NextDirection::Forward;
	const bool first = options_.base == NextBase::FirstMatch;
	std::size_t bound = base;
	if (first == forward) {
		// Forward first_match: rows past the events-th after the base; backward last_match: rows
		// before the events-th before it. (Otherwise rows after, or before, the base itself.)
		std::pmr::vector<std::size_t> picked(nodes_.get_allocator());
		picked.reserve(options_.events);
		for (std::size_t i = 0; i < n; i++)
			pick_near(base, forward, i, options_.events, picked);
		if (picked.size() < options_.events)
			return;
		bound = picked.back();
	}
	const Node edge = nodes_[bound]; // a copy: its value stays in bytes_ until compact()
	std::size_t kept = 0;
	for (std::size_t i = 0; i < n; i++) {
		const Node node = nodes_[i];
		const int c = compare(node, value(node), edge);
		if (first ? c > 0 : c < 0) {
			live_bytes_ -= node.length;
			continue;
		}
		if (i == bound)
			bound_ = kept;
		nodes_[kept++] = node;
	}
	nodes_.resize(kept);
	compact();
	next_prune_ = std::max<std::size_t>(16, 2 * kept);
	refresh_edge();
}

void
NextNodeState::compact()
{
	std::pmr::vector<char> bytes(bytes_.get_allocator());
	bytes.reserve(live_bytes_);
	for (Node &n : nodes_) {
		const std::uint64_t offset = bytes.size();
		bytes.insert(bytes.end(), bytes_.begin() + static_cast<std::ptrdiff_t>(n.offset),
		             bytes_.begin() + static_cast<std::ptrdiff_t>(n.offset + n.length));
		n.offset = offset;
	}
	bytes_.swap(bytes);
}

void
NextNodeState::merge(const NextNodeState &other)
{
	if (!(other.options_ == options_))
		throw_changed_within_group("sequence_next_node direction, base or number of events");
	if (&other == this)
		throw Error(ErrorKind::Internal, "state merged with itself");
	for (const Node &n : other.nodes_)
		add(options_, n.ts, other.value(n), n.base, n.mask);
}

std::size_t
NextNodeState::serialized_size() const noexcept
{
	std::size_t size = kHeaderSize + 3 + ByteWriter::varint_size(nodes_.size());
	for (const Node &n : nodes_)
		size += 8 + 8 + 1 + ByteWriter::varint_size(n.length) + n.length;
	return size;
}

void
NextNodeState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::NextNode);
	w.u8(static_cast<std::uint8_t>(options_.direction));
	w.u8(static_cast<std::uint8_t>(options_.base));
	w.u8(static_cast<std::uint8_t>(options_.events));
	w.varint(nodes_.size());
	for (const Node &n : nodes_) {
		w.u64(static_cast<std::uint64_t>(n.ts));
		w.u64(n.mask);
		w.u8(n.base ? 1 : 0);
		w.varint(n.length);
		w.bytes(reinterpret_cast<const std::uint8_t *>(bytes_.data() + n.offset), n.length);
	}
	w.finish();
}

NextNodeState
NextNodeState::deserialize(const std::uint8_t *in, std::size_t size, std::pmr::memory_resource *memory)
{
	ByteReader r(in, size);
	r.header(StateTag::NextNode);
	NextNodeOptions options;
	const std::uint8_t direction = r.u8();
	const std::uint8_t base = r.u8();
	options.events = r.u8();
	if (direction > 1 || base > 3 || options.events == 0 || options.events > kMaxConditions)
		throw_corrupt("invalid sequence_next_node options");
	options.direction = static_cast<NextDirection>(direction);
	options.base = static_cast<NextBase>(base);
	NextNodeState state(options, memory);
	const std::uint64_t count = r.varint();
	if (count > r.remaining() / 18)
		throw_corrupt("row count does not match the size");
	if (state.bounded() && count > options.events + 1)
		throw_corrupt("too many rows for head or tail");
	const std::uint64_t valid = low_bits(options.events);
	for (std::uint64_t i = 0; i < count; i++) {
		const auto ts = static_cast<std::int64_t>(r.u64());
		const std::uint64_t mask = r.u64();
		const std::uint8_t is_base = r.u8();
		const std::uint64_t length = r.varint();
		if ((mask & ~valid) != 0 || is_base > 1 || length > std::numeric_limits<std::uint32_t>::max())
			throw_corrupt("invalid sequence_next_node row");
		const auto *bytes = reinterpret_cast<const char *>(r.bytes(static_cast<std::size_t>(length)));
		const std::string_view value(bytes, static_cast<std::size_t>(length));
		if (state.bounded() && !state.nodes_.empty() &&
		    state.compare(Node{ts, mask, 0, 0, is_base == 1}, value, state.nodes_.back()) < 0)
			throw_corrupt("head or tail rows out of order");
		state.append(ts, value, is_base == 1, mask);
	}
	r.finish();
	state.next_prune_ = std::max<std::size_t>(16, 2 * state.nodes_.size());
	state.refresh_edge();
	return state;
}

NextNodeFinder::NextNodeFinder(const NextNodeState &state, std::pmr::memory_resource *memory)
    : state_(state), picked_(memory)
{
	picked_.reserve(state.options_.events);
}

bool
NextNodeFinder::step(std::size_t budget)
{
	const std::size_t n = state_.nodes_.size();
	const std::size_t end = n - pos_ > budget ? pos_ + budget : n;
	if (phase_ == Phase::Base) {
		std::size_t best = 0;
		if (state_.find_base(pos_, end, best) &&
		    (!have_base_ || (state_.options_.base == NextBase::Head || state_.options_.base == NextBase::FirstMatch
		                         ? state_.before(best, base_)
		                         : state_.before(base_, best)))) {
			base_ = best;
			have_base_ = true;
		}
		pos_ = end;
		if (end < n)
			return false;
		if (!have_base_ || !state_.nodes_[base_].base) {
			phase_ = Phase::Done;
			return true;
		}
		phase_ = Phase::Select;
		pos_ = 0;
		return false;
	}
	if (phase_ == Phase::Select) {
		// The `events` rows nearest the base on its side, nearest first.
		const bool forward = state_.options_.direction == NextDirection::Forward;
		for (std::size_t i = pos_; i < end; i++)
			state_.pick_near(base_, forward, i, state_.options_.events, picked_);
		pos_ = end;
		if (end < n)
			return false;
		finish();
		phase_ = Phase::Done;
	}
	return true;
}

// Rows base, then the picked ones, must match event conditions 1, 2, ... in turn; the row after
// them is the answer.
void
NextNodeFinder::finish()
{
	const auto &nodes = state_.nodes_;
	const std::size_t k = state_.options_.events;
	if (picked_.size() < k)
		return;
	if (!(nodes[base_].mask & 1))
		return;
	for (std::size_t i = 1; i < k; i++)
		if (!(nodes[picked_[i - 1]].mask & bit(i)))
			return;
	found_ = true;
	value_ = state_.value(nodes[picked_[k - 1]]);
}

} // namespace pg_product_analytics::core
