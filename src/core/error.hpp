// Core error model: every failure the core can report is an Error with a kind.
// The core knows nothing of SQLSTATEs; the glue maps kinds to them (src/pg/barrier.hpp).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace pg_product_analytics::core {

/// What went wrong, in terms a caller can act on. Each kind maps to exactly one SQLSTATE in the glue.
enum class ErrorKind : std::uint8_t {
	InvalidArgument, ///< a parameter or an input value is outside the documented domain
	NullParameter,   ///< a parameter that must not be NULL was NULL
	LimitExceeded,   ///< a documented limit (number of conditions, state size) was exceeded
	CorruptState,    ///< serialized bytes that do not describe a valid state
	OutOfMemory,     ///< an allocation failed or would exceed the allocator's limit
	Internal,        ///< a broken invariant: a bug, never a user error
};

/// The only exception type the core throws on purpose (std::bad_alloc aside). The message follows
/// PostgreSQL's style: lower case, no trailing period, no function name.
class Error : public std::runtime_error {
public:
	Error(ErrorKind kind, const std::string &message) : std::runtime_error(message), kind_(kind) {}

	ErrorKind
	kind() const noexcept
	{
		return kind_;
	}

private:
	ErrorKind kind_;
};

} // namespace pg_product_analytics::core
