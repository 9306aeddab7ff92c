// retention(c1, ..., cN): ClickHouse's existential retention. The state is which conditions were
// true on at least one row of the group; r[1] = any(c1), r[k] = any(c1) AND any(ck) for k > 1.
#pragma once

#include "limits.hpp"

#include <cstddef>
#include <cstdint>

namespace pg_product_analytics::core {

/// Invariant: 1 <= conditions() <= kMaxConditions and no bit at or above conditions() is set.
/// Merging is a bitwise OR, so the result never depends on row order or on how rows are split.
class RetentionState {
public:
	/// Throws InvalidArgument (0) or LimitExceeded (> kMaxConditions).
	explicit RetentionState(std::size_t conditions);

	/// Adds one row: bit i of `mask` set when condition i + 1 was true. `conditions` is the row's count,
	/// which must equal the group's (InvalidArgument otherwise); bits at or above it are ignored.
	void
	add(std::size_t conditions, std::uint64_t mask)
	{
		if (conditions != conditions_)
			throw_count_changed(conditions);
		seen_ |= mask & valid_bits();
	}

	/// Adds all rows another state has seen. Throws InvalidArgument if the condition counts differ.
	void merge(const RetentionState &other);

	std::size_t
	conditions() const noexcept
	{
		return conditions_;
	}

	/// Result element k (0-based): 1 when condition 1 held, and condition k + 1 held, on some row.
	bool
	retained(std::size_t k) const noexcept
	{
		return (seen_ & 1u) != 0 && ((seen_ >> k) & 1u) != 0;
	}

	/// Writes conditions() elements of 0/1 to `out`.
	void result(std::int32_t *out) const noexcept;

	static constexpr std::size_t kSerializedSize = 4 + 1 + 8;

	std::size_t
	serialized_size() const noexcept
	{
		return kSerializedSize;
	}

	void serialize(std::uint8_t *out, std::size_t size) const;

	/// Validates the count range and that no bit beyond the count is set (CorruptState otherwise).
	static RetentionState deserialize(const std::uint8_t *in, std::size_t size);

private:
	std::uint64_t
	valid_bits() const noexcept
	{
		return conditions_ == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << conditions_) - 1;
	}

	[[noreturn]] void throw_count_changed(std::size_t got) const;

	std::uint64_t seen_ = 0;
	std::size_t conditions_;
};

} // namespace pg_product_analytics::core
