// fmgr glue of retention(VARIADIC conds boolean[]) -> integer[]; the algorithm is core/retention.
#include "../core/retention.hpp"
#include "boundary.hpp"
#include "conditions.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"

PG_FUNCTION_INFO_V1(retention_transfn);
PG_FUNCTION_INFO_V1(retention_args_transfn);
PG_FUNCTION_INFO_V1(retention_combinefn);
PG_FUNCTION_INFO_V1(retention_serialfn);
PG_FUNCTION_INFO_V1(retention_deserialfn);
PG_FUNCTION_INFO_V1(retention_finalfn);
}

using pg_product_analytics::core::RetentionState;
namespace pg = pg_product_analytics::pg;

namespace {

// Adds one row to the group's state, creating the state in the aggregate context on the first row.
inline Datum
accumulate(FunctionCallInfo fcinfo, MemoryContext context, pg::ConditionMask row)
{
	auto *state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<RetentionState *>(PG_GETARG_POINTER(0));
	pg::guard([&] {
		if (state == nullptr)
			state = pg::make_in_context<RetentionState>(context, row.count);
		state->add(row.count, row.mask);
	});
	PG_RETURN_POINTER(state);
}

} // namespace

/*
 * retention_transfn(state internal, conds boolean[]) -> internal
 * The VARIADIC form (any count, or an explicit VARIADIC array). Not strict: state is NULL on a
 * group's first row. A NULL conds array (VARIADIC NULL) is ERROR 22004; NULL elements are false.
 */
extern "C" Datum
retention_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext context = pg::aggregate_context(fcinfo);
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("conditions array must not be null")));
	return accumulate(fcinfo, context, pg::read_conditions(PG_GETARG_ARRAYTYPE_P(1)));
}

/*
 * retention_transfn(state internal, c1 boolean, ..., cN boolean) -> internal, N = 1..64
 * The fixed-arity forms, which the parser prefers over the VARIADIC one when the conditions are
 * written out: no array is built per row. Not strict; NULL conditions are false.
 */
extern "C" Datum
retention_args_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext context = pg::aggregate_context(fcinfo);
	return accumulate(fcinfo, context, pg::read_condition_args(fcinfo, 1));
}

/*
 * retention_combinefn(state1 internal, state2 internal) -> internal
 * Not strict (required for internal states). Never keeps a pointer to state2: copies it into the
 * aggregate context when state1 is NULL.
 */
extern "C" Datum
retention_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext context = pg::aggregate_context(fcinfo);
	auto *left = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<RetentionState *>(PG_GETARG_POINTER(0));
	auto *right = PG_ARGISNULL(1) ? nullptr : reinterpret_cast<RetentionState *>(PG_GETARG_POINTER(1));
	if (right == nullptr) {
		if (left == nullptr)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(left);
	}
	pg::guard([&] {
		if (left == nullptr)
			left = pg::make_in_context<RetentionState>(context, *right);
		else
			left->merge(*right);
	});
	PG_RETURN_POINTER(left);
}

/*
 * retention_serialfn(state internal) -> bytea
 * Strict. The bytea is allocated in the current (per-tuple) memory context.
 */
extern "C" Datum
retention_serialfn(PG_FUNCTION_ARGS)
{
	auto *state = reinterpret_cast<RetentionState *>(PG_GETARG_POINTER(0));
	std::uint8_t *payload;
	bytea *out = pg::make_bytea(state->serialized_size(), &payload);
	pg::guard([&] { state->serialize(payload, state->serialized_size()); });
	PG_RETURN_BYTEA_P(out);
}

/*
 * retention_deserialfn(bytes bytea, internal) -> internal
 * Strict. The state is allocated in the current memory context (the combine function copies it).
 * Corrupt bytes are ERROR XX001.
 */
extern "C" Datum
retention_deserialfn(PG_FUNCTION_ARGS)
{
	bytea *in = PG_GETARG_BYTEA_PP(0);
	const auto *data = reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(in));
	std::size_t size = VARSIZE_ANY_EXHDR(in);
	RetentionState *state = nullptr;
	pg::guard([&] {
		state = pg::make_in_context<RetentionState>(CurrentMemoryContext, RetentionState::deserialize(data, size));
	});
	PG_RETURN_POINTER(state);
}

/*
 * retention_finalfn(state internal) -> integer[]
 * Strict: an empty group (no state) gives NULL. Read-only on the state, so it may run several
 * times on one state (window aggregates). The array is built in the current memory context.
 */
extern "C" Datum
retention_finalfn(PG_FUNCTION_ARGS)
{
	auto *state = reinterpret_cast<RetentionState *>(PG_GETARG_POINTER(0));
	std::int32_t values[pg_product_analytics::core::kMaxConditions];
	state->result(values);
	Datum elems[pg_product_analytics::core::kMaxConditions];
	int n = static_cast<int>(state->conditions());
	for (int i = 0; i < n; i++)
		elems[i] = Int32GetDatum(values[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
}
