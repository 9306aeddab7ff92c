#include "limits.hpp"

#include "error.hpp"

#include <string>

namespace pg_product_analytics::core {

void
check_condition_count(std::size_t count, const char *what)
{
	if (count == 0)
		throw Error(ErrorKind::InvalidArgument, std::string("at least one ") + what + " is required");
	if (count > kMaxConditions)
		throw Error(ErrorKind::LimitExceeded, "too many " + std::string(what) + "s: " + std::to_string(count) +
		                                          " given, the limit is " + std::to_string(kMaxConditions));
}

} // namespace pg_product_analytics::core
