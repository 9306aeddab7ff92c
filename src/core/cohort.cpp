#include "cohort.hpp"

#include "error.hpp"

namespace pg_product_analytics::core {

void
CohortState::merge(const CohortState &other)
{
	require_same(key_, other.key_, "cohort period or time zone");
	if (other.have_ && (!have_ || other.first_ < first_))
		set_first(other.first_, other.period_start_);
}

void
CohortState::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::Cohort);
	write_calendar_key(w, key_);
	w.u8(have_ ? 1 : 0);
	w.u64(static_cast<std::uint64_t>(first_));
	w.u64(static_cast<std::uint64_t>(period_start_));
	w.finish();
}

CohortState
CohortState::deserialize(const std::uint8_t *in, std::size_t size)
{
	ByteReader r(in, size);
	r.header(StateTag::Cohort);
	CohortState state(read_calendar_key(r));
	std::uint8_t have = r.u8();
	auto first = static_cast<std::int64_t>(r.u64());
	auto start = static_cast<std::int64_t>(r.u64());
	r.finish();
	if (have > 1)
		throw_corrupt("bad flag");
	if (have == 0 && (first != 0 || start != 0))
		throw_corrupt("a first start without the flag");
	if (have == 1 && start > first)
		throw_corrupt("period starting after its first start");
	if (have == 1)
		state.set_first(first, start);
	return state;
}

std::size_t
ByImage::serialized_size() const noexcept
{
	std::size_t n = kHeaderSize + 3 + 3 * 4;
	if (have)
		n += 8 + key_size + (value_null ? 0 : 8 + value_size);
	return n;
}

void
ByImage::serialize(std::uint8_t *out, std::size_t size) const
{
	ByteWriter w(out, size);
	w.header(StateTag::MinMaxBy);
	w.u8(largest ? 1 : 0);
	w.u8(have ? 1 : 0);
	w.u8(value_null ? 1 : 0);
	w.u64(static_cast<std::uint64_t>(key_type) | static_cast<std::uint64_t>(value_type) << 32);
	w.u8(static_cast<std::uint8_t>(collation));
	w.u8(static_cast<std::uint8_t>(collation >> 8));
	w.u8(static_cast<std::uint8_t>(collation >> 16));
	w.u8(static_cast<std::uint8_t>(collation >> 24));
	if (have) {
		w.u64(key_size);
		w.bytes(key, key_size);
		if (!value_null) {
			w.u64(value_size);
			w.bytes(value, value_size);
		}
	}
	w.finish();
}

ByImage
ByImage::deserialize(const std::uint8_t *in, std::size_t size)
{
	ByteReader r(in, size);
	r.header(StateTag::MinMaxBy);
	ByImage b;
	std::uint8_t flags[3] = {r.u8(), r.u8(), r.u8()};
	for (auto f : flags)
		if (f > 1)
			throw_corrupt("bad flag");
	b.largest = flags[0] == 1;
	b.have = flags[1] == 1;
	b.value_null = flags[2] == 1;
	std::uint64_t types = r.u64();
	b.key_type = static_cast<std::uint32_t>(types);
	b.value_type = static_cast<std::uint32_t>(types >> 32);
	for (int i = 0; i < 4; i++)
		b.collation |= static_cast<std::uint32_t>(r.u8()) << (8 * i);
	if (b.key_type == 0 || b.value_type == 0)
		throw_corrupt("missing type");
	if (!b.have && b.value_null)
		throw_corrupt("a NULL value without a key");
	if (b.have) {
		b.key_size = r.u64();
		if (b.key_size > r.remaining())
			throw_corrupt("key longer than the data");
		b.key = r.bytes(b.key_size);
		if (!b.value_null) {
			b.value_size = r.u64();
			if (b.value_size > r.remaining())
				throw_corrupt("value longer than the data");
			b.value = r.bytes(b.value_size);
		}
	}
	r.finish();
	return b;
}

} // namespace pg_product_analytics::core
