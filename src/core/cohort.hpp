// The cohort family: cohort_period's state (the group's first start and the start of its calendar
// period) and the serialized form of min_by / max_by (whose values are PostgreSQL datums the glue
// compares; the core only carries their bytes). docs/cohort.md.
#pragma once

#include "period.hpp"
#include "serial.hpp"

#include <cstddef>
#include <cstdint>

namespace pg_product_analytics::core {

/// cohort_period: the earliest start time of a group and the start of its calendar period, which
/// the glue computes in the group's time zone whenever the earliest time changes (rarely: once
/// for rows in time order). Plain data, fixed size: nothing to point to, nothing to free.
class CohortState {
public:
	explicit CohortState(const CalendarKey &key) noexcept : key_(key) {}

	/// Whether ts would become the group's first start. Throws InvalidArgument when `key`
	/// (period, time zone) differs from the group's.
	bool
	improves(const CalendarKey &key, std::int64_t ts) const
	{
		require_same(key_, key, "cohort period or time zone");
		return !have_ || ts < first_;
	}
	/// Records the new first start and the start of its period (period_start <= ts).
	void
	set_first(std::int64_t ts, std::int64_t period_start) noexcept
	{
		have_ = true;
		first_ = ts;
		period_start_ = period_start;
	}
	/// The earlier first start wins. Throws InvalidArgument when the keys differ.
	void merge(const CohortState &other);

	bool
	have() const noexcept
	{
		return have_;
	}
	std::int64_t
	period_start() const noexcept
	{
		return period_start_;
	}

	static constexpr std::size_t kSerializedSize = kHeaderSize + kCalendarKeySize + 1 + 8 + 8;
	std::size_t
	serialized_size() const noexcept
	{
		return kSerializedSize;
	}
	void serialize(std::uint8_t *out, std::size_t size) const;
	/// Validates the unit, the flag, and that the period does not start after the first start.
	static CohortState deserialize(const std::uint8_t *in, std::size_t size);

private:
	CalendarKey key_;
	bool have_ = false;
	std::int64_t first_ = 0;
	std::int64_t period_start_ = 0;
};

/// min_by / max_by in the core format: the flags, the types (OIDs) and collation the glue checks,
/// and the images of the best key and value. Deserialized views point into the input bytes.
struct ByImage {
	bool largest = false;
	bool have = false;       ///< a key has been seen (else no key and no value follow)
	bool value_null = false; ///< the value at the best key is NULL (no value follows)
	std::uint32_t key_type = 0;
	std::uint32_t value_type = 0;
	std::uint32_t collation = 0;
	const std::uint8_t *key = nullptr;
	std::size_t key_size = 0;
	const std::uint8_t *value = nullptr;
	std::size_t value_size = 0;

	std::size_t serialized_size() const noexcept;
	void serialize(std::uint8_t *out, std::size_t size) const;
	/// Checks the header, flags, lengths against the bytes and that nothing is left over.
	static ByImage deserialize(const std::uint8_t *in, std::size_t size);
};

} // namespace pg_product_analytics::core
