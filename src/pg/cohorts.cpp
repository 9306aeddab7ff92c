// fmgr glue of the cohort family: min_by(value, key) / max_by(value, key), the value at the
// smallest / largest key. Pure PostgreSQL datum handling (comparison through the types' btree
// support), so there is no core part: no C++ object is created here, errors are ordinary ereports.
#include "../core/period.hpp"
#include "boundary.hpp"
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
PG_FUNCTION_INFO_V1(cohort_period_combinefn);
PG_FUNCTION_INFO_V1(cohort_period_serialfn);
PG_FUNCTION_INFO_V1(cohort_period_deserialfn);
PG_FUNCTION_INFO_V1(cohort_period_tz_finalfn);
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

// Serialized: largest u8, have u8, value_null u8, key_type, value_type, collation (u32 each), then
// key length u32 + bytes, value length u32 + bytes (the datums' images).
void
put(StringInfo buf, const void *p, int n)
{
	appendBinaryStringInfo(buf, static_cast<const char *>(p), n);
}

void
put_datum(StringInfo buf, Datum d, bool byval, int16 len)
{
	uint32 n = static_cast<uint32>(byval ? sizeof(Datum) : datumGetSize(d, false, len));
	put(buf, &n, sizeof(n));
	if (byval)
		put(buf, &d, sizeof(Datum));
	else
		put(buf, DatumGetPointer(d), static_cast<int>(n));
}

[[noreturn]] void
corrupt(const char *what)
{
	ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("invalid aggregate state: %s", what)));
	pg_unreachable();
}

struct Reader {
	const char *p;
	const char *end;
	void
	get(void *out, size_t n)
	{
		if (static_cast<size_t>(end - p) < n)
			corrupt("truncated data");
		std::memcpy(out, p, n);
		p += n;
	}
	// A datum image, checked against the type's length rules, copied into the current context.
	Datum
	datum(bool byval, int16 len)
	{
		uint32 n;
		get(&n, sizeof(n));
		if (byval) {
			if (n != sizeof(Datum))
				corrupt("bad by-value datum size");
			Datum d;
			get(&d, sizeof(d));
			return d;
		}
		if (static_cast<size_t>(end - p) < n)
			corrupt("truncated datum");
		if (len > 0 && n != static_cast<uint32>(len))
			corrupt("bad fixed-length datum size");
		if (len == -1 && (n < VARHDRSZ_SHORT || VARSIZE_ANY(p) != n))
			corrupt("bad varlena size");
		if (len == -2 && (n == 0 || strnlen(p, n) != n - 1))
			corrupt("bad cstring");
		char *copy = static_cast<char *>(palloc(n));
		std::memcpy(copy, p, n);
		p += n;
		return PointerGetDatum(copy);
	}
};

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
	if (left->key_type != right->key_type || left->value_type != right->value_type || left->largest != right->largest)
		elog(ERROR, "min_by/max_by states of different types cannot be combined");
	if (right->have)
		offer(left, context, right->key, right->value, right->value_null);
	PG_RETURN_POINTER(left);
}

/* by_serialfn(state internal) -> bytea: strict; the datums' images with their lengths. */
extern "C" Datum
by_serialfn(PG_FUNCTION_ARGS)
{
	auto *s = reinterpret_cast<ByState *>(PG_GETARG_POINTER(0));
	StringInfoData buf;
	initStringInfo(&buf);
	appendStringInfoSpaces(&buf, VARHDRSZ);
	uint8 flags[3] = {static_cast<uint8>(s->largest), static_cast<uint8>(s->have), static_cast<uint8>(s->value_null)};
	put(&buf, flags, 3);
	put(&buf, &s->key_type, sizeof(Oid));
	put(&buf, &s->value_type, sizeof(Oid));
	put(&buf, &s->collation, sizeof(Oid));
	if (s->have) {
		put_datum(&buf, s->key, s->key_byval, s->key_len);
		if (!s->value_null)
			put_datum(&buf, s->value, s->value_byval, s->value_len);
	}
	SET_VARSIZE(buf.data, buf.len);
	PG_RETURN_BYTEA_P(reinterpret_cast<bytea *>(buf.data));
}

/*
 * by_deserialfn(bytes bytea, internal) -> internal
 * Strict. Checks every length against the bytes and the types' length rules (ERROR XX001).
 */
extern "C" Datum
by_deserialfn(PG_FUNCTION_ARGS)
{
	bytea *in = PG_GETARG_BYTEA_PP(0);
	Reader r{VARDATA_ANY(in), VARDATA_ANY(in) + VARSIZE_ANY_EXHDR(in)};
	uint8 flags[3];
	r.get(flags, 3);
	Oid key_type, value_type, collation;
	r.get(&key_type, sizeof(Oid));
	r.get(&value_type, sizeof(Oid));
	r.get(&collation, sizeof(Oid));
	if (flags[0] > 1 || flags[1] > 1 || flags[2] > 1)
		corrupt("bad flags");
	if (get_typlen(key_type) == 0 || get_typlen(value_type) == 0)
		corrupt("unknown type");
	auto *s = static_cast<ByState *>(palloc(sizeof(ByState)));
	init_state(s, flags[0] == 1, value_type, key_type, collation);
	s->have = flags[1] == 1;
	s->value_null = flags[2] == 1;
	if (s->have) {
		s->key = r.datum(s->key_byval, s->key_len);
		if (!s->value_null)
			s->value = r.datum(s->value_byval, s->value_len);
	}
	if (r.p != r.end)
		corrupt("trailing bytes");
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
calendar_index(FunctionCallInfo fcinfo, bool with_zone)
{
	if (PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("period must not be null")));
	core::PeriodUnit unit = pg::period_unit_of(PG_GETARG_TEXT_PP(2));
	pg_tz *zone = with_zone ? pg::zone_arg(fcinfo, 3) : nullptr;
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	std::int64_t ts = pg::calendar_period_of(unit, PG_GETARG_TIMESTAMP(0), zone);
	std::int64_t anchor = pg::calendar_period_of(unit, PG_GETARG_TIMESTAMP(1), zone);
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
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	return index_result(core::rolling_period(PG_GETARG_TIMESTAMP(0), PG_GETARG_TIMESTAMP(1), length));
}

namespace {

// cohort_period's state: the earliest start time, the unit, and the zone's name (NULL: the
// session's zone), which lives as long as the query: the call site's zone cache in a transition
// state, the state's own memory after deserialization. Plain data.
struct CohortState {
	bool have;
	core::PeriodUnit unit;
	Timestamp first;
	const char *zone;
};

} // namespace

/*
 * cohort_period_transfn(state internal, ts, period text[, is_start boolean[, time_zone text]])
 * Not strict: state NULL on a group's first row, allocated in the aggregate context. Keeps the
 * earliest ts among rows with is_start true (all rows when omitted); NULL ts or is_start skip the
 * row. NULL period is ERROR 22004; period or zone changing within a group is ERROR 22023.
 */
extern "C" Datum
cohort_period_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext context = pg::aggregate_context(fcinfo);
	if (PG_ARGISNULL(2))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("period must not be null")));
	core::PeriodUnit unit = pg::period_unit_of(PG_GETARG_TEXT_PP(2));
	// The zone travels between processes by name; on later rows the cache gives the same pointer.
	NullableDatum zone_name = pg::optional_arg(fcinfo, 4);
	const char *zone = zone_name.isnull ? nullptr : pg::zone_ref(fcinfo, DatumGetTextPP(zone_name.value)).name;
	auto *s = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<CohortState *>(PG_GETARG_POINTER(0));
	if (s == nullptr) {
		s = static_cast<CohortState *>(MemoryContextAlloc(context, sizeof(CohortState)));
		*s = CohortState{false, unit, 0, zone};
	} else if (s->unit != unit || s->zone != zone) {
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("cohort period or time zone changed within a group")));
	}
	bool start = PG_NARGS() <= 3 || (!PG_ARGISNULL(3) && PG_GETARG_BOOL(3));
	if (!PG_ARGISNULL(1) && start) {
		Timestamp ts = PG_GETARG_TIMESTAMP(1);
		if (!s->have || ts < s->first) {
			s->first = ts;
			s->have = true;
		}
	}
	PG_RETURN_POINTER(s);
}

/* cohort_period_combinefn(internal, internal): not strict; the earlier first time wins. */
extern "C" Datum
cohort_period_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext context = pg::aggregate_context(fcinfo);
	auto *left = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<CohortState *>(PG_GETARG_POINTER(0));
	auto *right = PG_ARGISNULL(1) ? nullptr : reinterpret_cast<CohortState *>(PG_GETARG_POINTER(1));
	if (right == nullptr)
		PG_RETURN_POINTER(left);
	if (left == nullptr) {
		left = static_cast<CohortState *>(MemoryContextAlloc(context, sizeof(CohortState)));
		*left = *right;
		PG_RETURN_POINTER(left);
	}
	if (right->have && (!left->have || right->first < left->first)) {
		left->first = right->first;
		left->have = true;
	}
	PG_RETURN_POINTER(left);
}

/* cohort_period_serialfn(internal) -> bytea: strict; have, unit, first, then the zone name or nothing. */
extern "C" Datum
cohort_period_serialfn(PG_FUNCTION_ARGS)
{
	auto *s = reinterpret_cast<CohortState *>(PG_GETARG_POINTER(0));
	std::size_t zone_length = s->zone != nullptr ? strlen(s->zone) : 0;
	std::uint8_t *payload;
	bytea *out = pg::make_bytea(2 + sizeof(Timestamp) + zone_length, &payload);
	payload[0] = s->have ? 1 : 0;
	payload[1] = static_cast<std::uint8_t>(s->unit);
	std::memcpy(payload + 2, &s->first, sizeof(Timestamp));
	if (zone_length > 0)
		std::memcpy(payload + 2 + sizeof(Timestamp), s->zone, zone_length);
	PG_RETURN_BYTEA_P(out);
}

/* cohort_period_deserialfn(bytea, internal): strict; checks size, flag, unit and zone name (XX001). */
extern "C" Datum
cohort_period_deserialfn(PG_FUNCTION_ARGS)
{
	bytea *in = PG_GETARG_BYTEA_PP(0);
	const char *raw = VARDATA_ANY(in);
	std::size_t size = VARSIZE_ANY_EXHDR(in);
	if (size < 2 + sizeof(Timestamp) || size > 2 + sizeof(Timestamp) + TZ_STRLEN_MAX)
		ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("invalid aggregate state: wrong size")));
	std::size_t zone_length = size - 2 - sizeof(Timestamp);
	const char *zone = raw + 2 + sizeof(Timestamp);
	auto unit = static_cast<std::uint8_t>(raw[1]);
	if (static_cast<std::uint8_t>(raw[0]) > 1 || unit < 1 || unit > 5 || memchr(zone, '\0', zone_length) != nullptr)
		ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("invalid aggregate state: bad flag, unit or zone")));
	auto *s = static_cast<CohortState *>(palloc(sizeof(CohortState)));
	s->have = raw[0] == 1;
	s->unit = static_cast<core::PeriodUnit>(unit);
	std::memcpy(&s->first, raw + 2, sizeof(Timestamp));
	s->zone = zone_length > 0 ? pnstrdup(zone, zone_length) : nullptr;
	PG_RETURN_POINTER(s);
}

namespace {

const char *
unit_name(core::PeriodUnit unit)
{
	switch (unit) {
	case core::PeriodUnit::Day:
		return "day";
	case core::PeriodUnit::Week:
		return "week";
	case core::PeriodUnit::Month:
		return "month";
	case core::PeriodUnit::Quarter:
		return "quarter";
	case core::PeriodUnit::Year:
		break;
	}
	return "year";
}

} // namespace

/*
 * cohort_period_tz_finalfn(internal) -> timestamptz: the start of the period of the earliest start
 * time, in the state's zone (or the session's): date_trunc(unit, first, zone). NULL when no row
 * was a start. cohort_period_finalfn: the same for timestamp.
 */
extern "C" Datum
cohort_period_tz_finalfn(PG_FUNCTION_ARGS)
{
	auto *s = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<CohortState *>(PG_GETARG_POINTER(0));
	if (s == nullptr || !s->have)
		PG_RETURN_NULL();
	Datum unit = CStringGetTextDatum(unit_name(s->unit));
	if (s->zone != nullptr)
		return DirectFunctionCall3(timestamptz_trunc_zone, unit, TimestampTzGetDatum(s->first),
		                           CStringGetTextDatum(s->zone));
	return DirectFunctionCall2(timestamptz_trunc, unit, TimestampTzGetDatum(s->first));
}

extern "C" Datum
cohort_period_finalfn(PG_FUNCTION_ARGS)
{
	auto *s = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<CohortState *>(PG_GETARG_POINTER(0));
	if (s == nullptr || !s->have)
		PG_RETURN_NULL();
	return DirectFunctionCall2(timestamp_trunc, CStringGetTextDatum(unit_name(s->unit)), TimestampGetDatum(s->first));
}
