#include "report.hpp"

extern "C" {
#include "utils/lsyscache.h"
}

namespace pg_product_analytics::pg {

UserArg
user_arg(FunctionCallInfo fcinfo, int argno)
{
	CallSite &site = call_site(fcinfo);
	if (site.user_type == InvalidOid) {
		Oid type = get_fn_expr_argtype(fcinfo->flinfo, argno);
		if (type == InvalidOid)
			elog(ERROR, "could not determine the type of the user id");
		get_typlenbyval(type, &site.user_length, &site.user_by_value);
		site.user_type = type;
	}
	UserArg u{};
	u.isnull = PG_ARGISNULL(argno);
	u.kind = site.user_by_value ? core::UserKeyKind::Integer : core::UserKeyKind::Bytes;
	if (u.isnull)
		return u;
	Datum d = PG_GETARG_DATUM(argno);
	if (site.user_by_value) {
		// Sign-extended by the type's own Datum conversion: equal ids give equal integers.
		u.integer = static_cast<std::int64_t>(d);
	} else if (site.user_length == -1) {
		struct varlena *v = PG_DETOAST_DATUM_PACKED(d);
		u.bytes = std::string_view(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
	} else if (site.user_length == -2) {
		const char *c = DatumGetCString(d);
		u.bytes = std::string_view(c, strlen(c));
	} else {
		u.bytes = std::string_view(DatumGetPointer(d), static_cast<std::size_t>(site.user_length));
	}
	return u;
}

} // namespace pg_product_analytics::pg
