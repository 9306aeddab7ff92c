// The report layer's glue shared by every report aggregate (funnel_report, ...): reading the user
// id argument as the core's user map keys it, and running a report's final fold in slices.
// Plain C-style code outside guard(), except where noted.
#pragma once

#include "../core/user_map.hpp"
#include "aggregate.hpp"
#include "call_site.hpp"

#include <cstdint>
#include <string_view>

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
}

namespace pg_product_analytics::pg {

/// A row's user id: NULL (the row is skipped), an integer (types passed by value: smallint,
/// integer, bigint, ...), or bytes (uuid, text, ...: users are equal when their bytes are).
struct UserArg {
	bool isnull;
	core::UserKeyKind kind;
	std::int64_t integer;
	std::string_view bytes; ///< valid for the current row only: the state copies it
};

/// Reads argument `argno`; its type is looked up once per call site.
UserArg user_arg(FunctionCallInfo fcinfo, int argno);

/// Calls add(key) with the id as the state keys it: an std::int64_t or an std::string_view.
template <class Add>
inline void
with_user_key(const UserArg &user, Add &&add)
{
	if (user.kind == core::UserKeyKind::Integer)
		add(user.integer);
	else
		add(user.bytes);
}

/// Runs builder->step(kInterruptBudget) inside the barrier until it returns true, checking for
/// interrupts between calls. The builder lives in a memory context that destroys it on reset.
template <class Builder>
inline void
build_in_slices(Builder *builder)
{
	bool done = false;
	while (!done) {
		guard([&] { done = builder->step(kInterruptBudget); });
		if (!done)
			CHECK_FOR_INTERRUPTS();
	}
}

} // namespace pg_product_analytics::pg
