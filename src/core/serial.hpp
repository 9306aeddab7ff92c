// The one serialization format of every aggregate state: a 4-byte header, then the state's fields
// in little-endian order. Readers check every length before trusting it, so corrupt or truncated
// bytes become ErrorKind::CorruptState, never a wild read.
#pragma once

#include "error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pg_product_analytics::core {

/// Throws ErrorKind::CorruptState with a message that names what was wrong.
[[noreturn]] void throw_corrupt(const char *what);

/// Identifies which state type a serialized blob holds; a blob of another type is rejected.
enum class StateTag : std::uint8_t {
	Retention = 1,
	Funnel = 2,
	SessionStats = 3,
	PeriodRetention = 4,
	Lifecycle = 5,
	ActivePeriods = 6,
	Cohort = 7,
	MinMaxBy = 8,
	FunnelReport = 9,
	ActiveUsers = 10,
	LifecycleReport = 11,
	SessionReport = 12,
	RetentionReport = 13,
	Sequence = 14,
	NextNode = 15,
	FunnelSpec = 16,
	FunnelSpecReport = 17,
};

inline constexpr std::uint8_t kFormatMagic0 = 'P';
inline constexpr std::uint8_t kFormatMagic1 = 'A';
inline constexpr std::uint8_t kFormatVersion = 1;
inline constexpr std::size_t kHeaderSize = 4;

/// Writes into a buffer the caller sized with the state's serialized_size(): no allocation here,
/// so the glue can hand out memory it owns (a bytea) and the hot path stays allocation-free.
class ByteWriter {
public:
	ByteWriter(std::uint8_t *out, std::size_t size) : out_(out), size_(size) {}

	void
	header(StateTag tag)
	{
		u8(kFormatMagic0);
		u8(kFormatMagic1);
		u8(kFormatVersion);
		u8(static_cast<std::uint8_t>(tag));
	}

	void
	u8(std::uint8_t v)
	{
		put(&v, 1);
	}

	void
	u32(std::uint32_t v)
	{
		std::uint8_t b[4];
		for (int i = 0; i < 4; i++)
			b[i] = static_cast<std::uint8_t>(v >> (8 * i));
		put(b, 4);
	}

	void
	u64(std::uint64_t v)
	{
		std::uint8_t b[8];
		for (int i = 0; i < 8; i++)
			b[i] = static_cast<std::uint8_t>(v >> (8 * i));
		put(b, 8);
	}

	/// `n` raw bytes (after their length, written by the caller).
	void
	bytes(const std::uint8_t *p, std::size_t n)
	{
		put(p, n);
	}

	/// An unsigned integer in 7-bit groups, low first (LEB128): 1 byte below 128, at most 10.
	void
	varint(std::uint64_t v)
	{
		std::uint8_t b[10];
		std::size_t n = 0;
		while (v >= 0x80) {
			b[n++] = static_cast<std::uint8_t>(v) | 0x80;
			v >>= 7;
		}
		b[n++] = static_cast<std::uint8_t>(v);
		put(b, n);
	}
	static std::size_t
	varint_size(std::uint64_t v) noexcept
	{
		std::size_t n = 1;
		while (v >= 0x80) {
			v >>= 7;
			n++;
		}
		return n;
	}
	/// A signed difference as an unsigned varint (zigzag: small magnitudes are short).
	static std::uint64_t
	zigzag(std::int64_t v) noexcept
	{
		return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
	}

	/// Throws Internal unless exactly the whole buffer was written: a wrong serialized_size() is a bug.
	void finish() const;

private:
	void
	put(const std::uint8_t *p, std::size_t n)
	{
		if (n > size_ - pos_)
			overflow();
		if (n == 0)
			return; // an empty value may have no storage (p null): memcpy must not see it
		std::memcpy(out_ + pos_, p, n);
		pos_ += n;
	}
	[[noreturn]] static void overflow();

	std::uint8_t *out_;
	std::size_t size_;
	std::size_t pos_ = 0;
};

/// Reads what ByteWriter wrote; every read past the end, bad header or trailing byte throws CorruptState.
class ByteReader {
public:
	ByteReader(const std::uint8_t *in, std::size_t size) : in_(in), size_(size) {}

	/// Checks magic, version and tag.
	void header(StateTag tag);

	std::uint8_t
	u8()
	{
		std::uint8_t v;
		get(&v, 1);
		return v;
	}

	/// The next byte, left unread (CorruptState when none is left).
	std::uint8_t
	peek_u8() const
	{
		if (pos_ >= size_)
			throw_corrupt("truncated data");
		return in_[pos_];
	}

	std::uint32_t
	u32()
	{
		std::uint8_t b[4];
		get(b, 4);
		std::uint32_t v = 0;
		for (int i = 0; i < 4; i++)
			v |= static_cast<std::uint32_t>(b[i]) << (8 * i);
		return v;
	}

	std::uint64_t
	u64()
	{
		std::uint8_t b[8];
		get(b, 8);
		std::uint64_t v = 0;
		for (int i = 0; i < 8; i++)
			v |= static_cast<std::uint64_t>(b[i]) << (8 * i);
		return v;
	}

	/// What ByteWriter::varint wrote, in its one (shortest) encoding: CorruptState for a
	/// truncated, overlong or out-of-range one.
	std::uint64_t
	varint()
	{
		std::uint64_t v = 0;
		for (unsigned shift = 0; shift < 64; shift += 7) {
			if (pos_ >= size_)
				throw_corrupt("truncated data");
			const std::uint8_t byte = in_[pos_++];
			if (shift == 63 && byte > 1)
				throw_corrupt("integer out of range");
			v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
			if ((byte & 0x80) == 0) {
				if (byte == 0 && shift > 0)
					throw_corrupt("integer not in its shortest form");
				return v;
			}
		}
		throw_corrupt("integer out of range");
	}
	static std::int64_t
	unzigzag(std::uint64_t v) noexcept
	{
		return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
	}

	/// A view of the next `n` bytes (CorruptState if fewer are left); the caller copies them.
	const std::uint8_t *
	bytes(std::size_t n)
	{
		if (n > size_ - pos_)
			throw_corrupt("truncated data");
		const std::uint8_t *p = in_ + pos_;
		pos_ += n;
		return p;
	}

	std::size_t
	remaining() const noexcept
	{
		return size_ - pos_;
	}

	/// Throws CorruptState if bytes are left over.
	void finish() const;

private:
	void
	get(std::uint8_t *p, std::size_t n)
	{
		if (n > size_ - pos_)
			throw_corrupt("truncated data");
		std::memcpy(p, in_ + pos_, n);
		pos_ += n;
	}

	const std::uint8_t *in_;
	std::size_t size_;
	std::size_t pos_ = 0;
};

} // namespace pg_product_analytics::core
