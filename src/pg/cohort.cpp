// fmgr glue of the cohort family: min_by(value, key) / max_by(value, key), the value at the
// smallest / largest key (PostgreSQL datums compared through the types' btree support; the core
// only carries their bytes, core::ByImage), period_index and cohort_period (core::CohortState).
#include "../core/cohort.hpp"
#include "aggregate.hpp"
#include "boundary.hpp"
#include "conditions.hpp"
#include "time.hpp"

#include <cstring>

extern "C" {
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(min_by_transfn);
PG_FUNCTION_INFO_V1(max_by_transfn);
PG_FUNCTION_INFO_V1(by_combinefn);
PG_FUNCTION_INFO_V1(by_serialfn);
PG_FUNCTION_INFO_V1(by_deserialfn);
PG_FUNCTION_INFO_V1(by_finalfn);
PG_FUNCTION_INFO_V1(period_index_calendar_tz);
PG_FUNCTION_INFO_V1(period_index_calendar);
PG_FUNCTION_INFO_V1(period_index_rolling);
PG_FUNCTION_INFO_V1(cohort_period_transfn);
PG_FUNCTION_INFO_V1(cohort_period_local_transfn);
PG_FUNCTION_INFO_V1(cohort_period_names_transfn);
PG_FUNCTION_INFO_V1(cohort_period_names_local_transfn);
PG_FUNCTION_INFO_V1(cohort_period_finalfn);
}

namespace core = pg_product_analytics::core;
namespace pg = pg_product_analytics::pg;

namespace {

// The state: the best key so far and its value, copied into the aggregate context, with what is
// needed to compare and copy them. Plain data.
struct ByState {
	bool largest; // max_by
	bool have;    // a non-NULL key has been seen
	Oid key_type;
	Oid value_type;
	Oid collation;
	int16 key_len;
	bool key_byval;
	int16 value_len;
	bool value_byval;
	FmgrInfo *key_cmp;   // the key type's btree comparison (type cache: lives for the backend)
	FmgrInfo *value_cmp; // the value type's, or NULL when it has none (ties then compare bytes)
	Datum key;
	Datum value;
	bool value_null;
};

FmgrInfo *
comparison_of(Oid type, bool required)
{
	TypeCacheEntry *entry = lookup_type_cache(type, TYPECACHE_CMP_PROC_FINFO);
	if (!OidIsValid(entry->cmp_proc_finfo.fn_oid)) {
		if (required)
			ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
			                errmsg("could not identify an ordering operator for type %s", format_type_be(type)),
			                errhint("The key of min_by and max_by must have a default btree ordering.")));
		return nullptr;
	}
	return &entry->cmp_proc_finfo;
}

void
init_state(ByState *s, bool largest, Oid value_type, Oid key_type, Oid collation)
{
	std::memset(s, 0, sizeof(ByState));
	s->largest = largest;
	s->key_type = key_type;
	s->value_type = value_type;
	s->collation = collation;
	get_typlenbyval(key_type, &s->key_len, &s->key_byval);
	get_typlenbyval(value_type, &s->value_len, &s->value_byval);
	s->key_cmp = comparison_of(key_type, true);
	s->value_cmp = comparison_of(value_type, false);
}

// Orders values for ties: the type's ordering when it has one, else length then bytes. NULL last.
int
compare_values(const ByState *s, Datum a, bool a_null, Datum b, bool b_null)
{
	if (a_null || b_null)
		return a_null == b_null ? 0 : (a_null ? 1 : -1);
	if (s->value_cmp != nullptr)
		return DatumGetInt32(FunctionCall2Coll(s->value_cmp, s->collation, a, b));
	if (s->value_byval)
		return a == b ? 0 : (a < b ? -1 : 1);
	Size la = datumGetSize(a, false, s->value_len), lb = datumGetSize(b, false, s->value_len);
	if (la != lb)
		return la < lb ? -1 : 1;
	return std::memcmp(DatumGetPointer(a), DatumGetPointer(b), la);
}

// Offers (key, value): takes it when its key is better, or equal with a better value (the
// smallest value for min_by, the largest for max_by, NULL values losing). Copies into `context`.
void
offer(ByState *s, MemoryContext context, Datum key, Datum value, bool value_null)
{
	if (s->have) {
		int c = DatumGetInt32(FunctionCall2Coll(s->key_cmp, s->collation, key, s->key));
		if (s->largest)
			c = -c;
		if (c > 0)
			return;
		if (c == 0) {
			int v = compare_values(s, value, value_null, s->value, s->value_null);
			if (s->largest && !value_null && !s->value_null)
				v = -v;
			if (v >= 0)
				return;
		}
		if (!s->key_byval)
			pfree(DatumGetPointer(s->key));
		if (!s->value_null && !s->value_byval)
			pfree(DatumGetPointer(s->value));
	}
	// Varlena datums are detoasted first (in the caller's short-lived context): the copy must not
	// point into a table's TOAST data.
	if (s->key_len == -1)
		key = PointerGetDatum(PG_DETOAST_DATUM(key));
	if (!value_null && s->value_len == -1)
		value = PointerGetDatum(PG_DETOAST_DATUM(value));
	MemoryContext old = MemoryContextSwitchTo(context);
	s->key = datumCopy(key, s->key_byval, s->key_len);
	s->value = value_null ? (Datum)0 : datumCopy(value, s->value_byval, s->value_len);
	MemoryContextSwitchTo(old);
	s->value_null = value_null;
	s->have = true;
}

Datum
accumulate(FunctionCallInfo fcinfo, bool largest)
{
	MemoryContext context = pg::aggregate_context(fcinfo);
	auto *s = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<ByState *>(PG_GETARG_POINTER(0));
	if (s == nullptr) {
		s = static_cast<ByState *>(MemoryContextAlloc(context, sizeof(ByState)));
		init_state(s, largest, get_fn_expr_argtype(fcinfo->flinfo, 1), get_fn_expr_argtype(fcinfo->flinfo, 2),
		           PG_GET_COLLATION());
	}
	if (!PG_ARGISNULL(2)) // a NULL key is skipped
		offer(s, context, PG_GETARG_DATUM(2), PG_GETARG_DATUM(1), PG_ARGISNULL(1));
	PG_RETURN_POINTER(s);
}

// A datum's image (its bytes) as the core format carries it.
void
image_of(Datum d, bool byval, int16 len, const std::uint8_t **bytes, std::size_t *size, Datum *scratch)
{
	if (byval) {
		*scratch = d;
		*bytes = reinterpret_cast<const std::uint8_t *>(scratch);
		*size = sizeof(Datum);
	} else {
		*bytes = reinterpret_cast<const std::uint8_t *>(DatumGetPointer(d));
		*size = datumGetSize(d, false, len);
	}
}

[[noreturn]] void
corrupt(const char *what)
{
	ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("invalid aggregate state: %s", what)));
	pg_unreachable();
}

// A datum from its image, checked against the type's length rules, copied into the current context.
Datum
datum_of(const std::uint8_t *bytes, std::size_t n, bool byval, int16 len)
{
	if (byval) {
		if (n != sizeof(Datum))
			corrupt("bad by-value datum size");
		Datum d;
		std::memcpy(&d, bytes, sizeof(d));
		return d;
	}
	const char *p = reinterpret_cast<const char *>(bytes);
	if (len > 0 && n != static_cast<std::size_t>(len))
		corrupt("bad fixed-length datum size");
	if (len == -1 && (n < VARHDRSZ_SHORT || VARSIZE_ANY(p) != n))
		corrupt("bad varlena size");
	if (len == -2 && (n == 0 || strnlen(p, n) != n - 1))
		corrupt("bad cstring");
	char *copy = static_cast<char *>(palloc(n));
	std::memcpy(copy, p, n);
	return PointerGetDatum(copy);
}

} // namespace

/*
 * min_by_transfn / max_by_transfn(state internal, value anyelement, key anycompatible) -> internal
 * Not strict: state is NULL on a group's first row; the state and the copies of the best key and
 * value are in the aggregate context (old copies are freed when replaced). NULL keys are skipped.
 */
extern "C" Datum
min_by_transfn(PG_FUNCTION_ARGS)
{
	return accumulate(fcinfo, false);
}
extern "C" Datum
max_by_transfn(PG_FUNCTION_ARGS)
{
	return accumulate(fcinfo, true);
}

/*
 * by_combinefn(state1 internal, state2 internal) -> internal
 * Not strict. Offers state2's best row to state1, copying into the aggregate context: exact for
 * every type, since the rule (best key, then best value) does not depend on the order.
 */
extern "C" Datum
by_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext context = pg::aggregate_context(fcinfo);
	auto *left = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<ByState *>(PG_GETARG_POINTER(0));
	auto *right = PG_ARGISNULL(1) ? nullptr : reinterpret_cast<ByState *>(PG_GETARG_POINTER(1));
	if (right == nullptr)
		PG_RETURN_POINTER(left);
	if (left == nullptr) {
		left = static_cast<ByState *>(MemoryContextAlloc(context, sizeof(ByState)));
		*left = *right;
		left->have = false;
	}
	if (left->key_type != right->key_type || left->value_type != right->value_type || left->largest != right->largest ||
	    left->collation != right->collation)
		ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
		                errmsg("invalid aggregate state: min_by/max_by states of different types or collations")));
	if (right->have)
		offer(left, context, right->key, right->value, right->value_null);
	PG_RETURN_POINTER(left);
}

/* by_serialfn(state internal) -> bytea: strict; the core format (core::ByImage): types and the datums' images. */
extern "C" Datum
by_serialfn(PG_FUNCTION_ARGS)
{
	auto *s = reinterpret_cast<ByState *>(PG_GETARG_POINTER(0));
	core::ByImage image;
	image.largest = s->largest;
	image.have = s->have;
	image.value_null = s->value_null;
	image.key_type = s->key_type;
	image.value_type = s->value_type;
	image.collation = s->collation;
	Datum key_scratch, value_scratch;
	if (s->have) {
		image_of(s->key, s->key_byval, s->key_len, &image.key, &image.key_size, &key_scratch);
		if (!s->value_null)
			image_of(s->value, s->value_byval, s->value_len, &image.value, &image.value_size, &value_scratch);
	}
	std::size_t size = image.serialized_size();
	std::uint8_t *payload;
	bytea *out = pg::make_bytea(size, &payload);
	pg::guard([&] { image.serialize(payload, size); });
	PG_RETURN_BYTEA_P(out);
}

/*
 * by_deserialfn(bytes bytea, internal) -> internal
 * Strict. The core checks the format and every length against the bytes; here the types must
 * exist and the images follow their length rules (ERROR XX001). The combine function checks the
 * types against its own state's.
 */
extern "C" Datum
by_deserialfn(PG_FUNCTION_ARGS)
{
	bytea *in = PG_GETARG_BYTEA_PP(0);
	const auto *data = reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(in));
	std::size_t size = VARSIZE_ANY_EXHDR(in);
	core::ByImage image;
	pg::guard([&] { image = core::ByImage::deserialize(data, size); });
	if (get_typlen(image.key_type) == 0 || get_typlen(image.value_type) == 0)
		corrupt("unknown type");
	if (image.collation != InvalidOid && !SearchSysCacheExists1(COLLOID, ObjectIdGetDatum(image.collation)))
		corrupt("unknown collation");
	auto *s = static_cast<ByState *>(palloc(sizeof(ByState)));
	init_state(s, image.largest, image.value_type, image.key_type, image.collation);
	s->have = image.have;
	s->value_null = image.value_null;
	if (s->have) {
		s->key = datum_of(image.key, image.key_size, s->key_byval, s->key_len);
		if (!s->value_null)
			s->value = datum_of(image.value, image.value_size, s->value_byval, s->value_len);
	}
	PG_RETURN_POINTER(s);
}

/*
 * by_finalfn(state internal, value anyelement, key anycompatible) -> anyelement
 * FINALFUNC_EXTRA (for the result type). Not strict: no row with a non-NULL key gives NULL.
 */
extern "C" Datum
by_finalfn(PG_FUNCTION_ARGS)
{
	auto *s = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<ByState *>(PG_GETARG_POINTER(0));
	if (s == nullptr || !s->have || s->value_null)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(datumCopy(s->value, s->value_byval, s->value_len)); // the state may outlive the call
}

// ---------------------------------------------------------------------------------------------
// period_index and cohort_period: calendar periods in a time zone, rolling periods

namespace {

Datum
index_result(std::int64_t index)
{
	if (index < PG_INT32_MIN || index > PG_INT32_MAX)
		ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("period index out of range")));
	return Int32GetDatum(static_cast<int32>(index));
}

Datum
rolling_index(FunctionCallInfo fcinfo, std::int64_t length)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	pg::require_finite(PG_GETARG_TIMESTAMP(0), "rolling period");
	pg::require_finite(PG_GETARG_TIMESTAMP(1), "rolling period");
	return index_result(core::rolling_period(PG_GETARG_TIMESTAMP(0), PG_GETARG_TIMESTAMP(1), length));
}

Datum
calendar_index(FunctionCallInfo fcinfo, bool with_zone)
{
	if (PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("period must not be null")));
	pg::PeriodArg period = pg::period_arg(fcinfo, PG_GETARG_TEXT_PP(2));
	if (period.rolling) // an interval bound as text: the rolling form (the zone plays no part)
		return rolling_index(fcinfo, period.length);
	pg_tz *zone = with_zone ? pg::zone_arg(fcinfo, 3).tz : nullptr;
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	std::int64_t ts = pg::calendar_period_of(period.unit, PG_GETARG_TIMESTAMP(0), zone);
	std::int64_t anchor = pg::calendar_period_of(period.unit, PG_GETARG_TIMESTAMP(1), zone);
	return index_result(ts - anchor);
}

} // namespace

/*
 * period_index(ts timestamptz, anchor timestamptz, period text, time_zone text DEFAULT NULL) -> integer
 * Calendar periods: the period of ts minus the period of anchor, both in the zone (NULL: the
 * session's TimeZone). Not strict: NULL ts or anchor gives NULL; NULL period is ERROR 22004.
 */
extern "C" Datum
period_index_calendar_tz(PG_FUNCTION_ARGS)
{
	return calendar_index(fcinfo, true);
}

/* period_index(ts timestamp, anchor timestamp, period text) -> integer: the same on local times. */
extern "C" Datum
period_index_calendar(PG_FUNCTION_ARGS)
{
	return calendar_index(fcinfo, false);
}

/*
 * period_index(ts, anchor, period interval) -> integer (timestamptz or timestamp)
 * Rolling periods: floor((ts - anchor) / period); the period must have no month part and be
 * positive (ERROR 22023). Not strict: NULL ts or anchor gives NULL; NULL period is ERROR 22004.
 */
extern "C" Datum
period_index_rolling(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("period must not be null")));
	std::int64_t length = pg::interval_micros(PG_GETARG_INTERVAL_P(2), "period");
	if (length <= 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("period must be positive")));
	return rolling_index(fcinfo, length);
}

using core::CohortState;

namespace {

// Arguments: (state, ts, period text[, is_start boolean[, time_zone text]]); timestamptz rows
// use the zone (NULL or absent: the session's), timestamp rows none.
Datum
cohort_period_accumulate(FunctionCallInfo fcinfo, bool local, bool names = false)
{
	// (ts, period[, is_start[, time_zone]]) or (ts, period, event, start_events[, time_zone]).
	const pg::CalendarArgs calendar = pg::calendar_args(fcinfo, 2, local ? -1 : (names ? 5 : 4));
	const core::CalendarKey key = calendar.key;
	const pg::Zone zone{calendar.tz, key.zone};
	const bool start = names ? pg::match_step_names(fcinfo, 3, 4, 0, "start events").mask != 0
	                         : PG_NARGS() <= 3 || (!PG_ARGISNULL(3) && PG_GETARG_BOOL(3));
	const bool take = !PG_ARGISNULL(1) && start; // NULL ts or is_start: skipped
	const Timestamp ts = take ? PG_GETARG_TIMESTAMP(1) : 0;
	bool improves = false;
	CohortState *state = pg::transition<CohortState>(
	    fcinfo, [&](std::pmr::memory_resource *) { return CohortState(key); },
	    [&](CohortState &s) { improves = s.improves(key, ts) && take; });
	if (improves) // rarely: the first row, then only earlier ones
		state->set_first(ts, pg::period_start(key.unit, ts, zone.tz));
	PG_RETURN_POINTER(state);
}

} // namespace

/*
 * cohort_period_transfn(state internal, ts timestamptz, period text[, is_start boolean[, time_zone text]])
 * cohort_period_local_transfn(state internal, ts timestamp, period text[, is_start boolean])
 * Not strict: state NULL on a group's first row; a fixed-size state in the aggregate context. Keeps
 * the earliest ts among rows with is_start true (all rows when omitted) and the start of its
 * period; NULL ts or is_start skip the row. NULL period is ERROR 22004; period or zone changing
 * within a group is ERROR 22023; an infinite first start is ERROR 22008.
 */
extern "C" Datum
cohort_period_transfn(PG_FUNCTION_ARGS)
{
	return cohort_period_accumulate(fcinfo, false);
}

extern "C" Datum
cohort_period_local_transfn(PG_FUNCTION_ARGS)
{
	return cohort_period_accumulate(fcinfo, true);
}

/*
 * cohort_period_names_transfn(state internal, ts timestamptz, period text, event text,
 *     start_events text[][, time_zone text]); cohort_period_names_local_transfn: ts timestamp, no
 * zone. The event-name form: a row is a start when its event is one of start_events (by bytes;
 * a NULL event is not). NULL array or name ERROR 22004, empty array 22023, over 64 names 54000.
 */
extern "C" Datum
cohort_period_names_transfn(PG_FUNCTION_ARGS)
{
	return cohort_period_accumulate(fcinfo, false, true);
}

extern "C" Datum
cohort_period_names_local_transfn(PG_FUNCTION_ARGS)
{
	return cohort_period_accumulate(fcinfo, true, true);
}

PPA_STATE_SUPPORT_FUNCTIONS(cohort_period, CohortState, "cohort period")

/*
 * cohort_period_finalfn(internal) -> timestamptz | timestamp: the start of the period of the
 * earliest start time (date_trunc(unit, first, zone)); NULL when no row was a start. Not strict.
 */
extern "C" Datum
cohort_period_finalfn(PG_FUNCTION_ARGS)
{
	auto *s = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<CohortState *>(PG_GETARG_POINTER(0));
	if (s == nullptr || !s->have())
		PG_RETURN_NULL();
	PG_RETURN_INT64(s->period_start()); // timestamptz and timestamp are both int64 inside
}
