// The report layer's shared mechanism: the users of one report aggregate, each given a dense slot
// number by an open-addressing map keyed by the user id, and their kept rows in chunks carved
// from an arena. Everything comes from one memory resource (the aggregate context): a few large
// blocks, never an allocation per user or per row.
#pragma once

#include "event_log.hpp"
#include "serial.hpp"

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory_resource>
#include <string_view>
#include <utility>
#include <vector>

namespace pg_product_analytics::core {

/// A bump allocator over blocks from a memory resource; frees everything at once (destructor).
class Arena {
public:
	explicit Arena(std::pmr::memory_resource *memory) noexcept : memory_(memory) {}
	Arena(const Arena &) = delete;
	Arena &operator=(const Arena &) = delete;
	Arena(Arena &&other) noexcept;
	~Arena();

	/// `size` bytes aligned to 8.
	void *allocate(std::size_t size);
	/// Bytes taken from the resource (for SSPACE and memory reports).
	std::size_t
	reserved() const noexcept
	{
		return reserved_;
	}

private:
	struct Block {
		Block *next;
		std::size_t size;
	};
	std::pmr::memory_resource *memory_;
	Block *blocks_ = nullptr;
	std::uint8_t *next_ = nullptr;
	std::size_t left_ = 0;
	std::size_t reserved_ = 0;
};

/// How a report keys its users: 8-byte integers (smallint, integer and bigint ids), or byte
/// strings (uuid, text: compared by their bytes).
enum class UserKeyKind : std::uint8_t { Integer = 1, Bytes = 2 };

/// Users by id, each with a dense slot number 0, 1, 2, ... in order of first appearance.
class UserIndex {
public:
	UserIndex(UserKeyKind kind, std::pmr::memory_resource *memory);

	UserKeyKind
	kind() const noexcept
	{
		return kind_;
	}
	std::size_t
	size() const noexcept
	{
		return kind_ == UserKeyKind::Integer ? int_keys_.size() : byte_keys_.size();
	}
	/// The slot of the user, added when new (then slot == size() - 1 afterwards).
	std::uint32_t slot(std::int64_t id);
	std::uint32_t slot(std::string_view id);

	std::int64_t
	int_key(std::uint32_t slot) const noexcept
	{
		return int_keys_[slot];
	}
	std::string_view
	byte_key(std::uint32_t slot) const noexcept
	{
		return byte_keys_[slot];
	}

	/// Throws InvalidArgument when `other` keys users by ids of another kind (merging reports).
	void check_kind(const UserIndex &other) const;
	/// The slot here of the user in slot `slot` of `other` (added when new); check_kind first.
	std::uint32_t slot_of(const UserIndex &other, std::uint32_t slot);

	/// The kind an index serialization starts with, without consuming it (CorruptState if invalid).
	static UserKeyKind peek_kind(const ByteReader &r);

	/// Keys in slot order: kind, count, then each key (8 bytes, or length + bytes).
	std::size_t serialized_size() const noexcept;
	void serialize(ByteWriter &w) const;
	/// Reads what serialize wrote into an empty index, checking kind, counts and duplicates.
	void deserialize(ByteReader &r);

private:
	struct BytesHash {
		std::size_t
		operator()(std::string_view s) const noexcept
		{
			return std::hash<std::string_view>()(s);
		}
	};
	static constexpr std::uint32_t kMaxUsers = 0xFFFFFFF0u;

	UserKeyKind kind_;
	Arena key_bytes_; ///< byte keys' storage
	boost::unordered_flat_map<std::int64_t, std::uint32_t, boost::hash<std::int64_t>, std::equal_to<std::int64_t>,
	                          std::pmr::polymorphic_allocator<std::pair<const std::int64_t, std::uint32_t>>>
	    ints_;
	boost::unordered_flat_map<std::string_view, std::uint32_t, BytesHash, std::equal_to<std::string_view>,
	                          std::pmr::polymorphic_allocator<std::pair<const std::string_view, std::uint32_t>>>
	    bytes_;
	std::pmr::vector<std::int64_t> int_keys_;
	std::pmr::vector<std::string_view> byte_keys_;
};

/// One user's kept rows: a list of chunks from an Arena (no allocation per user), with the
/// count and whether they arrived in time order.
struct UserRows {
	struct Chunk;
	Chunk *head = nullptr;
	Chunk *tail = nullptr;
	std::uint32_t count = 0;
	bool sorted = true;
};

struct UserRows::Chunk {
	Chunk *next;
	std::uint32_t used;
	std::uint32_t capacity;
	LogEntry entries[1]; // capacity entries, allocated in place
};

/// Appends a row to a user's list; chunks double from 4 to 256 entries, so a user with n rows
/// wastes at most about n / 2 entries and a chunk header per 256.
void push_row(Arena &arena, UserRows &rows, const LogEntry &e);

/// Appends the users and rows of another report (a user in both gets the rows of both): the
/// merge of every report state that keeps rows. Throws InvalidArgument for ids of another kind.
void merge_user_rows(UserIndex &users, std::pmr::vector<UserRows> &rows, Arena &arena, const UserIndex &other_users,
                     const std::pmr::vector<UserRows> &other_rows);

/// Every user's rows in slot order: sorted flag, count, then (ts, payload) per row.
std::size_t user_rows_size(const std::pmr::vector<UserRows> &users) noexcept;
void write_user_rows(ByteWriter &w, const std::pmr::vector<UserRows> &users);
/// Reads them for `count` users (rows.size() becomes count): every user has a row, each row
/// passes `valid(entry)`, and the sorted flag matches the rows (CorruptState otherwise).
template <class Valid>
void read_user_rows(ByteReader &r, Arena &arena, std::size_t count, std::pmr::vector<UserRows> &rows, Valid valid);

/// A time zone's name as report states keep it (for the final step): at most 255 bytes, present
/// exactly when the zone identity is not 0 (CorruptState otherwise).
void write_zone_name(ByteWriter &w, std::string_view name);
std::string_view read_zone_name(ByteReader &r, std::uint64_t zone);

/// Calls f(entry) for each row of the list, in arrival order.
template <class F>
void
for_each_row(const UserRows &rows, F &&f)
{
	for (const UserRows::Chunk *c = rows.head; c != nullptr; c = c->next)
		for (std::uint32_t i = 0; i < c->used; i++)
			f(c->entries[i]);
}

template <class Valid>
void
read_user_rows(ByteReader &r, Arena &arena, std::size_t count, std::pmr::vector<UserRows> &rows, Valid valid)
{
	rows.resize(count);
	for (auto &user : rows) {
		std::uint8_t sorted = r.u8();
		std::uint64_t n = r.u64();
		if (sorted > 1 || n == 0 || n > r.remaining() / sizeof(LogEntry))
			throw_corrupt("bad row count or sorted flag");
		for (std::uint64_t i = 0; i < n; i++) {
			LogEntry e{static_cast<std::int64_t>(r.u64()), r.u64()};
			if (!valid(e))
				throw_corrupt("row not allowed for this report");
			push_row(arena, user, e);
		}
		if ((sorted == 1) != user.sorted)
			throw_corrupt("sorted flag does not match the rows");
	}
}

} // namespace pg_product_analytics::core
