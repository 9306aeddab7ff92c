// Support functions shared by the aggregates whose state keeps rows (funnels, session statistics):
// combine, serialize, deserialize, and sorting in slices. A State has a constructor
// State(const State &, std::pmr::memory_resource *), merge(), serialized_size(), serialize(),
// static deserialize(bytes, size, resource) and sort_step(budget).
#pragma once

#include "boundary.hpp"

#include <cstdint>

extern "C" {
#include "miscadmin.h"
}

namespace pg_product_analytics::pg {

/// Work done between two interrupt checks in final functions: rows sorted or scanned.
inline constexpr std::size_t kInterruptBudget = 1 << 16;

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
		if (left == nullptr)
			left = make_in_context_with<State>(context, [&](std::pmr::memory_resource *r) { return State(*right, r); });
		else
			left->merge(*right);
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
		state = make_in_context_with<State>(
		    CurrentMemoryContext, [&](std::pmr::memory_resource *r) { return State::deserialize(data, size, r); });
	});
	PG_RETURN_POINTER(state);
}

/// The same three for fixed-size states (no memory resource; copy-constructible, with
/// serialized_size(), serialize() and static deserialize(bytes, size)).
template <class State>
Datum
combine_plain(FunctionCallInfo fcinfo)
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
		if (left == nullptr)
			left = make_in_context<State>(context, *right);
		else
			left->merge(*right);
	});
	PG_RETURN_POINTER(left);
}

template <class State>
Datum
serialize_plain(FunctionCallInfo fcinfo)
{
	auto *state = reinterpret_cast<State *>(PG_GETARG_POINTER(0));
	std::uint8_t *payload;
	bytea *out = make_bytea(state->serialized_size(), &payload);
	guard([&] { state->serialize(payload, state->serialized_size()); });
	PG_RETURN_BYTEA_P(out);
}

template <class State>
Datum
deserialize_plain(FunctionCallInfo fcinfo)
{
	bytea *in = PG_GETARG_BYTEA_PP(0);
	const auto *data = reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(in));
	std::size_t size = VARSIZE_ANY_EXHDR(in);
	State *state = nullptr;
	guard([&] { state = make_in_context<State>(CurrentMemoryContext, State::deserialize(data, size)); });
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
