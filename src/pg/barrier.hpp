// The exception barrier between the C++ core and PostgreSQL, in the part that needs no PostgreSQL
// header (so the unit tests cover it): run a callable, catch everything it throws, and keep only
// plain data describing the failure. Reporting that data as an ERROR is boundary.hpp's job, and
// happens after the catch handler has been left and every C++ object of the callable is destroyed.
#pragma once

#include "../core/error.hpp"

#include <cstddef>
#include <cstring>
#include <exception>
#include <new>

namespace pg_product_analytics::pg {

/// Copies `text` into `out` (`size` bytes, terminated), cut if needed at a UTF-8 character
/// boundary: never in the middle of a multibyte character.
inline void
copy_clipped(char *out, std::size_t size, const char *text) noexcept
{
	std::size_t n = std::strlen(text);
	if (n >= size) {
		n = size - 1;
		while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80)
			n--; // text[n] continues a character: cut before its first byte
	}
	std::memcpy(out, text, n);
	out[n] = '\0';
}

/// A failure as plain data: safe to keep on the stack across a longjmp. Empty detail or hint:
/// none.
struct ErrorReport {
	core::ErrorKind kind;
	char message[1024];
	char detail[1024];
	char hint[512];

	void
	set(core::ErrorKind k, const char *text, const char *detail_text = "", const char *hint_text = "") noexcept
	{
		kind = k;
		copy_clipped(message, sizeof(message), text);
		copy_clipped(detail, sizeof(detail), detail_text);
		copy_clipped(hint, sizeof(hint), hint_text);
	}
};

/// The SQLSTATE (five characters) that a core error kind is reported with.
constexpr const char *
sqlstate_for(core::ErrorKind kind) noexcept
{
	switch (kind) {
	case core::ErrorKind::InvalidArgument:
		return "22023"; // invalid_parameter_value
	case core::ErrorKind::NullParameter:
		return "22004"; // null_value_not_allowed
	case core::ErrorKind::LimitExceeded:
		return "54000"; // program_limit_exceeded
	case core::ErrorKind::CorruptState:
		return "XX001"; // data_corrupted
	case core::ErrorKind::OutOfMemory:
		return "53200"; // out_of_memory
	case core::ErrorKind::OutOfRange:
		return "22003"; // numeric_value_out_of_range
	case core::ErrorKind::Internal:
		break;
	}
	return "XX000"; // internal_error
}

/// Runs `f`; returns true if it returned normally. Otherwise fills `report` and returns false.
/// Nothing escapes: the last handler is catch (...).
template <class F>
bool
run_captured(F &&f, ErrorReport &report) noexcept
{
	try {
		f();
		return true;
	} catch (const core::Error &e) {
		report.set(e.kind(), e.what(), e.detail().c_str(), e.hint().c_str());
	} catch (const std::bad_alloc &) {
		report.set(core::ErrorKind::OutOfMemory, "out of memory");
	} catch (const std::exception &e) {
		report.set(core::ErrorKind::Internal, e.what());
	} catch (...) {
		report.set(core::ErrorKind::Internal, "unexpected C++ exception");
	}
	return false;
}

} // namespace pg_product_analytics::pg
