// Core error model: every failure the core can report is an Error with a kind.
// The core knows nothing of SQLSTATEs; the glue maps kinds to them (src/pg/barrier.hpp).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace pg_product_analytics::core {

/// What went wrong, in terms a caller can act on. Each kind maps to exactly one SQLSTATE in the glue.
enum class ErrorKind : std::uint8_t {
	InvalidArgument, ///< a parameter or an input value is outside the documented domain
	NullParameter,   ///< a parameter that must not be NULL was NULL
	LimitExceeded,   ///< a documented limit (number of conditions, state size) was exceeded
	CorruptState,    ///< serialized bytes that do not describe a valid state
	OutOfMemory,     ///< an allocation failed or would exceed the allocator's limit
	OutOfRange,      ///< a result (a duration, a sum, an index) does not fit its type
	Internal,        ///< a broken invariant: a bug, never a user error
};

/// The only exception type the core throws on purpose (std::bad_alloc aside). The message follows
/// PostgreSQL's style: lower case, no trailing period, no function name; the optional detail and
/// hint are full sentences (they become errdetail and errhint).
class Error : public std::runtime_error {
public:
	Error(ErrorKind kind, const std::string &message, std::string detail = {}, std::string hint = {})
	    : std::runtime_error(message), kind_(kind), detail_(std::move(detail)), hint_(std::move(hint))
	{
	}

	ErrorKind
	kind() const noexcept
	{
		return kind_;
	}
	const std::string &
	detail() const noexcept
	{
		return detail_;
	}
	const std::string &
	hint() const noexcept
	{
		return hint_;
	}

private:
	ErrorKind kind_;
	std::string detail_;
	std::string hint_;
};

/// The one rule for parameters that must be constant within a group (a window, a mode, a
/// period, a time zone): every state checks it on each row and on merge through require_same, so
/// serial, hashed and parallel plans raise the same error.
[[noreturn]] inline void
throw_changed_within_group(const std::string &what)
{
	throw Error(ErrorKind::InvalidArgument, what + " changed within a group",
	            "Every row of one group must pass the same " + what + ".",
	            "Make it a constant, or a value fixed per group (e.g. a user's time zone from a users table).");
}

/// Throws the error above unless the group's parameters equal the row's (or the other state's).
template <class Parameters>
inline void
require_same(const Parameters &group, const Parameters &other, const char *what)
{
	if (!(group == other))
		throw_changed_within_group(what);
}

} // namespace pg_product_analytics::core
