// Limits shared by every function family, checked in one place.
#pragma once

#include <cstddef>

namespace pg_product_analytics::core {

/// Conditions (retention) and steps (funnels) are kept as bits of one 64-bit mask.
inline constexpr std::size_t kMaxConditions = 64;

/// Throws InvalidArgument for zero conditions and LimitExceeded above kMaxConditions.
/// `what` names one of the things counted, in the singular ("condition", "step").
void check_condition_count(std::size_t count, const char *what);

} // namespace pg_product_analytics::core
