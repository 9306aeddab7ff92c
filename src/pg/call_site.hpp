// What one call site (one function call in a query: one FmgrInfo) remembers between rows, in
// fn_extra: parsed constant arguments (funnel modes, period units), looked-up time zones, an
// equality function. One struct for every kind, so several caches of one function share fn_extra;
// fixed size, allocated zeroed once per call site in fn_mcxt (it lives as long as the query), so
// its memory is constant whatever the rows carry. Plain C-style code, call outside guard().
#pragma once

#include "../core/period.hpp"

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <type_traits>

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "access/tupdesc.h"
#include "pgtime.h"
}

namespace pg_product_analytics::pg {

/// A few (key text → value) pairs, replaced round robin. Keys longer than kKeyMax bytes are not
/// cached (looked up or parsed on every row: correct, only slower).
template <class Value, int N>
struct TextCache {
	static constexpr int kKeyMax = 64;
	struct Slot {
		int length; // -1: empty
		Value value;
		char key[kKeyMax];
	};
	Slot slots[N];
	int next;

	void
	init() noexcept
	{
		for (auto &s : slots)
			s.length = -1;
		next = 0;
	}
	const Value *
	find(const char *data, int length) const noexcept
	{
		for (const auto &s : slots)
			if (s.length == length && std::memcmp(s.key, data, static_cast<std::size_t>(length)) == 0)
				return &s.value;
		return nullptr;
	}
	void
	put(const char *data, int length, const Value &value) noexcept
	{
		if (length > kKeyMax)
			return;
		Slot &s = slots[next];
		next = (next + 1) % N;
		s.length = length;
		s.value = value;
		std::memcpy(s.key, data, static_cast<std::size_t>(length));
	}
};

/// A time zone as the states compare it: PostgreSQL's zone (for the calendar), and a 64-bit
/// identity that is the same in every process (a hash of the zone's canonical name; 0 for local
/// times, which have no zone). States keep the identity, never the pointer or the name.
struct Zone {
	pg_tz *tz;
	std::uint64_t id;
};

/// Step or condition names given as a text array (the event-name forms): up to 64 names, each with
/// the mask of the steps it names (a name given twice is two steps). The call site keeps the first
/// array it sees, parsed, in fn_mcxt, with a copy of its bytes: a row with the same bytes (a
/// constant or a bound parameter: every row) uses it; other arrays are parsed per row.
struct StepNames {
	static constexpr int kMax = 64;
	int raw_length;            ///< bytes of the array as given (its varlena)
	const char *raw;           ///< a copy of them
	int count;                 ///< names in the array (steps)
	int distinct;              ///< entries below
	int lengths[kMax];         ///< bytes of each distinct name
	const char *names[kMax];   ///< each distinct name's bytes (in fn_mcxt)
	std::uint64_t masks[kMax]; ///< the steps each distinct name stands for
};

struct CallSite {
	TextCache<Zone, 8> zones;             ///< zones by the name given (per-row zones: users in several zones)
	TextCache<std::uint32_t, 2> modes;    ///< funnel modes
	TextCache<std::int64_t, 2> intervals; ///< interval literals passed as text: microseconds
	FmgrInfo *equality;                   ///< conditional_change_event: the argument type's equality (type cache)
	Oid user_type;                        ///< report aggregates: the user id's type (InvalidOid: not looked up yet)
	int16 user_length;                    ///< and its length and passing convention
	bool user_by_value;
	StepNames *step_names[2];    ///< event-name forms: the parsed names per names argument (nullptr: not yet)
	bool step_names_constant[2]; ///< and they come from a constant or bound parameter
	static constexpr int kKept = 4;
	/// kept_value: the first kKept distinct parsed parameters of the call site (sequence patterns,
	/// funnel options), in fn_mcxt and never replaced (states point to them), each with a copy of
	/// the argument bytes it was parsed from (none for one read from a partial state).
	const void *kept[kKept];
	const char *kept_keys[kKept];
	int kept_key_lengths[kKept];
	int kept_count;
	bool kept_constant;                    ///< kept[0] came from a constant or bound parameter: every row has it
	bool layout_known;                     ///< argument positions a function derived from its argument types
	std::int32_t layout[6];                ///< (fixed for the call site: looked up on the first row)
	std::uint8_t options_state;            ///< constant_options: 0 not looked at, 1 kept, 2 per row
	alignas(8) unsigned char options[192]; ///< constant_options: the parsed options, when kept
	TupleDesc result_desc;                 ///< result_desc: the composite result's, blessed (nullptr: not yet)
	void *evaluator;                       ///< a final function's evaluator, reused group after group
};

/// Whether argument `argno` of an aggregate's transition function (argno 0 is the state) is a
/// constant or a bound parameter in the aggregate call (its Aggref), so the same on every row of
/// this execution. False outside an aggregate (window functions: WindowAgg) or when unknown.
bool argument_is_constant(FunctionCallInfo fcinfo, int argno);

/// The call site's cache, created on first use.
CallSite &call_site(FunctionCallInfo fcinfo);

/// The blessed descriptor of a function's composite result (a final function's: one per group),
/// looked up on the first call and kept in fn_mcxt. ERROR (internal) when the result is not a
/// composite of `natts` attributes.
TupleDesc result_desc(FunctionCallInfo fcinfo, int natts);

/// A parsed parameter of the current row, and whether the call site keeps it for the query
/// (`stable`: a state may point to it; otherwise it lives in the per-row context and states copy it).
template <class T>
struct Kept {
	const T *value;
	bool stable;
};

/// The parsed form of the argument bytes [key, key + length): the call site's kept one when the
/// bytes are those of one it parsed (a constant or a bound parameter: every row after the first),
/// else parse(T *out, MemoryContext memory) fills a new one (anything it points to allocated in
/// `memory`), kept while the call site has room (kKept), else in the per-row context. T is plain
/// data; parse() reports errors itself (ereport, or guard()). When the bytes are argument `argno`
/// and it is a constant or bound parameter of the aggregate call, kept_constant_value gives later
/// rows the kept value without reading the argument.
template <class T, class Parse>
Kept<T>
kept_value(FunctionCallInfo fcinfo, const char *key, int length, Parse parse, int argno = -1)
{
	static_assert(std::is_trivially_copyable_v<T>, "kept values are plain data");
	CallSite &site = call_site(fcinfo);
	for (int i = 0; i < site.kept_count; i++)
		if (site.kept_keys[i] != nullptr && site.kept_key_lengths[i] == length &&
		    std::memcmp(site.kept_keys[i], key, static_cast<std::size_t>(length)) == 0)
			return Kept<T>{static_cast<const T *>(site.kept[i]), true};
	const bool keep = site.kept_count < CallSite::kKept;
	MemoryContext memory = keep ? fcinfo->flinfo->fn_mcxt : CurrentMemoryContext;
	T *value = static_cast<T *>(MemoryContextAlloc(memory, sizeof(T)));
	parse(value, memory);
	if (keep) {
		char *copy = static_cast<char *>(MemoryContextAlloc(memory, static_cast<Size>(length) + 1));
		std::memcpy(copy, key, static_cast<std::size_t>(length));
		const int i = site.kept_count++;
		site.kept[i] = value;
		site.kept_keys[i] = copy;
		site.kept_key_lengths[i] = length;
		site.kept_constant = i == 0 && argno >= 0 && argument_is_constant(fcinfo, argno);
	}
	return Kept<T>{value, keep};
}

/// The call site's value of a constant argument kept by kept_value(..., argno), or nullptr.
template <class T>
const T *
kept_constant_value(FunctionCallInfo fcinfo)
{
	CallSite &site = call_site(fcinfo);
	return site.kept_constant ? static_cast<const T *>(site.kept[0]) : nullptr;
}

/// The values the call site keeps, for a deserialization function to share (`list` has room for
/// CallSite::kKept): returns how many.
template <class T>
int
kept_values(FunctionCallInfo fcinfo, const T **list)
{
	CallSite &site = call_site(fcinfo);
	for (int i = 0; i < site.kept_count; i++)
		list[i] = static_cast<const T *>(site.kept[i]);
	return site.kept_count;
}

/// A deserialization function keeps a copy of `value` (read from a partial state) when it is not
/// one of the kept ones and there is room, so the states after it that carry the same share it.
template <class T>
void
keep_read_value(FunctionCallInfo fcinfo, const T &value)
{
	CallSite &site = call_site(fcinfo);
	for (int i = 0; i < site.kept_count; i++)
		if (site.kept[i] == &value)
			return;
	if (site.kept_count >= CallSite::kKept)
		return;
	T *copy = static_cast<T *>(MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(T)));
	*copy = value;
	const int i = site.kept_count++;
	site.kept[i] = copy;
	site.kept_keys[i] = nullptr; // matched by value, never by bytes
	site.kept_key_lengths[i] = 0;
}

/// Options a transition function parses from the arguments `args` (those present): when every
/// one is a constant or bound parameter of the aggregate call, parse() runs on the first row only
/// and its result is kept in the call site; otherwise on every row. T is plain data (zones as
/// pg_tz pointers, which PostgreSQL keeps for the life of the backend).
template <class T, class Parse>
T
constant_options(FunctionCallInfo fcinfo, std::initializer_list<int> args, Parse parse)
{
	static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(CallSite::options) && alignof(T) <= 8,
	              "options kept in the call site are small plain data");
	CallSite &site = call_site(fcinfo);
	T options;
	if (site.options_state == 1) {
		std::memcpy(&options, site.options, sizeof options);
		return options;
	}
	options = parse();
	if (site.options_state == 0) {
		bool constant = true;
		for (int a : args)
			if (a < PG_NARGS())
				constant = constant && argument_is_constant(fcinfo, a);
		site.options_state = constant ? 1 : 2;
		if (constant)
			std::memcpy(site.options, &options, sizeof options);
	}
	return options;
}

} // namespace pg_product_analytics::pg
