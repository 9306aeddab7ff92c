// Support functions shared by the aggregates with an internal state: combine, serialize,
// deserialize, and sorting in slices for the states that keep rows. A State has merge(),
// serialized_size(), serialize(out, size) and a static deserialize (see kGrows).
#pragma once

#include "../core/user_map.hpp"
#include "boundary.hpp"

#include <cstdint>
#include <type_traits>
#include <utility>

extern "C" {
#include "miscadmin.h"
}

namespace pg_product_analytics::pg {

/// Work done between two interrupt checks in final functions: rows sorted or scanned.
inline constexpr std::size_t kInterruptBudget = 1 << 16;

/// A State that grows takes a memory resource: State(const State &, std::pmr::memory_resource *)
/// and static deserialize(bytes, size, resource). A fixed-size State is copy-constructible and
/// has static deserialize(bytes, size).
template <class State>
inline constexpr bool kGrows = std::is_constructible_v<State, const State &, std::pmr::memory_resource *>;

/// The one transition step of every aggregate: takes the group's state (argument 0), or makes it
/// in the aggregate context on the group's first row with `make(resource)` (a growing State
/// allocates from the resource; a fixed-size one ignores it), then runs `add(state)` for the row.
/// Both run inside the barrier; the caller reads and checks the row's arguments before, in plain
/// C style. Returns the state for PG_RETURN_POINTER.
template <class State, class Make, class Add>
State *
transition(FunctionCallInfo fcinfo, Make &&make, Add &&add)
{
	MemoryContext context = aggregate_context(fcinfo);
	auto *state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<State *>(PG_GETARG_POINTER(0));
	guard([&] {
		if (state == nullptr) {
			if constexpr (kGrows<State>)
				state = make_in_context_with<State>(context, make);
			else
				state = make_in_context<State>(context, make(nullptr));
		}
		add(*state);
	});
	return state;
}

/// Applies the rows a report state held back for its user lookups (core::settle): every read of
/// a state that batches (combine, serialize, the final function) settles it first. Inside the
/// barrier (it may allocate).
using core::settle;

/// combinefn(state1 internal, state2 internal): not strict; copies state2 into the aggregate
/// context when state1 is NULL, never keeps a pointer to it.
template <class State>
Datum
combine(FunctionCallInfo fcinfo)
{
	MemoryContext context = aggregate_context(fcinfo);
	auto *left = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<State *>(PG_GETARG_POINTER(0));
	auto *right = PG_ARGISNULL(1) ? nullptr : reinterpret_cast<State *>(PG_GETARG_POINTER(1));
	if (right == nullptr) {
		if (left == nullptr)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(left);
	}
	guard([&] {
		settle(*right);
		if (left != nullptr) {
			settle(*left);
			left->merge(*right);
		} else if constexpr (kGrows<State>)
			left = make_in_context_with<State>(context, [&](std::pmr::memory_resource *r) { return State(*right, r); });
		else
			left = make_in_context<State>(context, *right);
	});
	PG_RETURN_POINTER(left);
}

/// serialfn(state internal) -> bytea: strict; the bytea is in the current memory context. A
/// state over 1 GB (a bytea's limit: about 67 million kept rows) is ERROR 54000.
template <class State>
Datum
serialize(FunctionCallInfo fcinfo, const char *what)
{
	auto *state = reinterpret_cast<State *>(PG_GETARG_POINTER(0));
	guard([&] { settle(*state); });
	std::size_t size = state->serialized_size();
	if (size > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
		        (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
		         errmsg("%s state of %zu bytes is too large to pass between parallel workers", what, size),
		         errhint("Disable parallel query for this statement: SET max_parallel_workers_per_gather = 0.")));
	std::uint8_t *payload;
	bytea *out = make_bytea(size, &payload);
	guard([&] { state->serialize(payload, size); });
	PG_RETURN_BYTEA_P(out);
}

/// deserialfn(bytes bytea, internal) -> internal: strict; allocates in the current memory
/// context (the combine function copies); corrupt bytes are ERROR XX001.
template <class State>
Datum
deserialize(FunctionCallInfo fcinfo)
{
	bytea *in = PG_GETARG_BYTEA_PP(0);
	const auto *data = reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(in));
	std::size_t size = VARSIZE_ANY_EXHDR(in);
	State *state = nullptr;
	guard([&] {
		if constexpr (kGrows<State>)
			state = make_in_context_with<State>(
			    CurrentMemoryContext, [&](std::pmr::memory_resource *r) { return State::deserialize(data, size, r); });
		else
			state = make_in_context<State>(CurrentMemoryContext, State::deserialize(data, size));
	});
	PG_RETURN_POINTER(state);
}

/// Sorts a state's rows in place, checking for interrupts between slices. Only reorders rows, so
/// a final function may do it (it may run again on the same state in window use).
template <class State>
void
sort_in_slices(State &state)
{
	bool sorted = false;
	while (true) {
		guard([&] { sorted = state.sort_step(kInterruptBudget); });
		if (sorted)
			return;
		CHECK_FOR_INTERRUPTS();
	}
}

} // namespace pg_product_analytics::pg

/// Defines the parallel-support entry points of an aggregate whose state is the core type
/// `State`: <prefix>_combinefn(internal, internal) (not strict), <prefix>_serialfn(internal) ->
/// bytea (strict; `what` names the state in the size error) and <prefix>_deserialfn(bytea,
/// internal) (strict; corrupt bytes are ERROR XX001). See combine, serialize and deserialize.
#define PPA_STATE_SUPPORT_FUNCTIONS(prefix, State, what)                                                               \
	extern "C" {                                                                                                       \
	PG_FUNCTION_INFO_V1(prefix##_combinefn);                                                                           \
	PG_FUNCTION_INFO_V1(prefix##_serialfn);                                                                            \
	PG_FUNCTION_INFO_V1(prefix##_deserialfn);                                                                          \
	}                                                                                                                  \
	extern "C" Datum prefix##_combinefn(PG_FUNCTION_ARGS)                                                              \
	{                                                                                                                  \
		return pg_product_analytics::pg::combine<State>(fcinfo);                                                       \
	}                                                                                                                  \
	extern "C" Datum prefix##_serialfn(PG_FUNCTION_ARGS)                                                               \
	{                                                                                                                  \
		return pg_product_analytics::pg::serialize<State>(fcinfo, what);                                               \
	}                                                                                                                  \
	extern "C" Datum prefix##_deserialfn(PG_FUNCTION_ARGS)                                                             \
	{                                                                                                                  \
		return pg_product_analytics::pg::deserialize<State>(fcinfo);                                                   \
	}
