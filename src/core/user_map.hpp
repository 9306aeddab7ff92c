// The report layer's shared mechanism: the users of one report aggregate, each given a dense slot
// number (UserIndex), and the rows the report keeps in one log with each row's slot (UserLog),
// grouped by user for the final step (UserGroups). Everything comes from one memory resource (the
// aggregate context): a few large blocks, never an allocation per user or per row.
#pragma once

#include "event_log.hpp"
#include "serial.hpp"

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory_resource>
#include <string_view>
#include <type_traits>
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
	/// The slot of the user, added when new (then slot == size() - 1 afterwards). Small
	/// non-negative integer ids (the common serial user id) are looked up in a direct array,
	/// one memory access; the others in the hash map.
	std::uint32_t
	slot(std::int64_t id)
	{
		if (static_cast<std::uint64_t>(id) < dense_.size()) {
			std::uint32_t &d = dense_[static_cast<std::size_t>(id)];
			if (d == 0)
				d = add_int_key(id) + 1;
			return d - 1;
		}
		return sparse_slot(id);
	}
	std::uint32_t slot(std::string_view id);
	/// Starts loading where slot(id) will look (a hint; no effect on the index).
	void
	prefetch(std::int64_t id) const noexcept
	{
		if (static_cast<std::uint64_t>(id) < dense_.size())
			__builtin_prefetch(dense_.data() + id);
	}

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
	/// Adds every user of `other` (merging reports) and returns, for each of its slots, the slot
	/// here. Throws InvalidArgument for ids of another kind.
	std::vector<std::uint32_t> merge(const UserIndex &other);

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
	/// The direct array covers ids [0, n) for n a power of two at most 8 x (users + 2^16): at most
	/// 32 bytes per user and 2 MB beyond, so sparse ids never make it large. (8, not 4: a report
	/// per group of a breakdown sees a tenth of the users over the whole id range.)
	static constexpr std::size_t kDenseSlack = std::size_t{1} << 16;
	std::uint32_t sparse_slot(std::int64_t id);
	std::uint32_t add_int_key(std::int64_t id);

	UserKeyKind kind_;
	Arena key_bytes_; ///< byte keys' storage
	boost::unordered_flat_map<std::int64_t, std::uint32_t, boost::hash<std::int64_t>, std::equal_to<std::int64_t>,
	                          std::pmr::polymorphic_allocator<std::pair<const std::int64_t, std::uint32_t>>>
	    ints_;
	boost::unordered_flat_map<std::string_view, std::uint32_t, BytesHash, std::equal_to<std::string_view>,
	                          std::pmr::polymorphic_allocator<std::pair<const std::string_view, std::uint32_t>>>
	    bytes_;
	std::pmr::vector<std::uint32_t> dense_; ///< slot + 1 of id i at [i], 0 when unseen
	std::pmr::vector<std::int64_t> int_keys_;
	std::pmr::vector<std::string_view> byte_keys_;
};

/// Rows of integer-keyed users held back until kRows of them look their users up together: users
/// arrive interleaved, so each lookup is a cache miss; prefetched one row after another and
/// resolved in a batch, the misses overlap with the rest of the rows' work instead of stalling
/// each row. A state that batches applies its rows in arrival order and calls flush() before
/// anything reads it (merge, serialize, the final step); settled() says whether it may be read.
template <class Row>
class UserBatch {
public:
	static constexpr std::size_t kRows = 16;

	/// Holds the row; when kRows are held, calls apply(slot, row) for each in arrival order.
	template <class Apply>
	void
	add(UserIndex &users, std::int64_t id, const Row &row, Apply &&apply)
	{
		users.prefetch(id);
		ids_[count_] = id;
		rows_[count_] = row;
		if (++count_ == kRows)
			flush(users, apply);
	}
	/// Applies the held rows in arrival order.
	template <class Apply>
	void
	flush(UserIndex &users, Apply &&apply)
	{
		const std::size_t n = count_;
		count_ = 0; // first: after a throw from apply the state is discarded, never read again
		for (std::size_t i = 0; i < n; i++)
			apply(users.slot(ids_[i]), rows_[i]);
	}
	bool
	settled() const noexcept
	{
		return count_ == 0;
	}

private:
	std::size_t count_ = 0;
	std::int64_t ids_[kRows];
	Row rows_[kRows];
};

/// Throws Internal: a batching state read before flush() (a bug in the caller).
[[noreturn]] void throw_unsettled();

template <class State, class = void>
struct Batches : std::false_type {
};
template <class State>
struct Batches<State, std::void_t<decltype(std::declval<State &>().flush())>> : std::true_type {
};

/// Applies the rows a state held back for its user lookups (UserBatch) when it batches, before
/// anything reads it (combine, serialize, the final step); nothing for other states. May allocate.
template <class State>
inline void
settle(State &state)
{
	if constexpr (Batches<State>::value)
		state.flush();
}

/// Every kept row of a report, in arrival order, each with its user's slot and, when the log was
/// made with extras, one more 8-byte word (a value). Appending writes sequentially to the current
/// chunk and touches no per-user memory (users arrive interleaved: a per-user list costs a cache
/// miss per row); UserGroups groups the rows by user for the final step. Chunks come from an
/// Arena; the log owns them.
class UserLog {
public:
	static constexpr std::uint32_t kChunkRows = 4096;

	UserLog(std::pmr::memory_resource *memory, bool extras) : arena_(memory), extras_(extras) {}

	void
	push(std::uint32_t slot, const LogEntry &e, std::uint64_t extra = 0)
	{
		if (tail_ == nullptr || tail_->used == kChunkRows)
			grow();
		Chunk &c = *tail_;
		entries(c)[c.used] = e;
		if (extras_)
			extra_words(c)[c.used] = extra;
		slots(c)[c.used] = slot;
		c.used++;
		size_++;
	}
	std::size_t
	size() const noexcept
	{
		return size_;
	}
	bool
	has_extras() const noexcept
	{
		return extras_;
	}
	/// Calls f(slot, entry, extra) for every row in arrival order (extra 0 without extras).
	template <class F>
	void
	for_each(F &&f) const
	{
		for (const Chunk *c = head_; c != nullptr; c = c->next)
			for (std::uint32_t i = 0; i < c->used; i++)
				f(slots(*c)[i], entries(*c)[i], extras_ ? extra_words(*c)[i] : 0);
	}
	/// Appends another log's rows, its users' slots mapped to this report's (merging reports).
	void append(const UserLog &other, const std::uint32_t *slot_map);
	/// Rows in arrival order: count, then per row the slot, the time's difference from the
	/// previous row's and the payload as varints (about 7 bytes for rows in time order), and
	/// the extra word as 8 bytes.
	std::size_t serialized_size() const noexcept;
	void serialize(ByteWriter &w) const;
	/// Reads what serialize wrote into an empty log of `users` users: every slot below `users`,
	/// each row passing `valid(entry)`, and every user with a row unless `has_row` (a vector of
	/// users' flags, or nullptr) is given: then it is set for each user with a row and the caller
	/// checks (CorruptState otherwise).
	template <class Valid>
	void deserialize(ByteReader &r, std::size_t users, Valid valid, std::vector<bool> *has_row = nullptr);

	struct Chunk {
		Chunk *next;
		std::uint32_t used;
		std::uint32_t pad;
	};
	const Chunk *
	head() const noexcept
	{
		return head_;
	}
	static const LogEntry *
	entries(const Chunk &c) noexcept
	{
		return reinterpret_cast<const LogEntry *>(&c + 1);
	}
	const std::uint64_t *
	extra_words(const Chunk &c) const noexcept
	{
		return reinterpret_cast<const std::uint64_t *>(entries(c) + kChunkRows);
	}
	const std::uint32_t *
	slots(const Chunk &c) const noexcept
	{
		return reinterpret_cast<const std::uint32_t *>(extra_words(c) + (extras_ ? kChunkRows : 0));
	}

private:
	static LogEntry *
	entries(Chunk &c) noexcept
	{
		return reinterpret_cast<LogEntry *>(&c + 1);
	}
	std::uint64_t *
	extra_words(Chunk &c) const noexcept
	{
		return reinterpret_cast<std::uint64_t *>(entries(c) + kChunkRows);
	}
	std::uint32_t *
	slots(Chunk &c) const noexcept
	{
		return reinterpret_cast<std::uint32_t *>(extra_words(c) + (extras_ ? kChunkRows : 0));
	}
	void grow();

	Arena arena_;
	bool extras_;
	Chunk *head_ = nullptr;
	Chunk *tail_ = nullptr;
	std::size_t size_ = 0;
};

/// A UserLog's rows grouped by user (a stable counting sort: each user's rows contiguous, in
/// arrival order), built resumably for a report's final step: step() does about `budget` rows of
/// work and returns true when done. Memory: 16 bytes per row (24 with extras) and 17 per user.
class UserGroups {
public:
	UserGroups(const UserLog &log, std::size_t users, std::pmr::memory_resource *memory);
	bool step(std::size_t budget);

	std::size_t
	count(std::size_t user) const noexcept
	{
		return static_cast<std::size_t>(offsets_[user + 1] - offsets_[user]);
	}
	/// The user's rows (mutable: a builder may sort them in place).
	LogEntry *
	rows(std::size_t user) noexcept
	{
		return rows_.data() + offsets_[user];
	}
	const std::uint64_t *
	extras(std::size_t user) const noexcept
	{
		return extras_.data() + offsets_[user];
	}
	/// Whether the user's rows arrived in (ts, payload) order.
	bool
	sorted(std::size_t user) const noexcept
	{
		return unsorted_[user] == 0;
	}

private:
	const UserLog &log_;
	enum class Phase : std::uint8_t { Count, Scatter, Done } phase_ = Phase::Count;
	const UserLog::Chunk *chunk_;
	std::pmr::vector<std::uint64_t> offsets_; ///< users + 1: where each user's rows start
	std::pmr::vector<std::uint64_t> next_;    ///< scatter: where each user's next row goes
	std::pmr::vector<std::uint8_t> unsorted_;
	std::pmr::vector<LogEntry> rows_;
	std::pmr::vector<std::uint64_t> extras_;
};

template <class Valid>
void
UserLog::deserialize(ByteReader &r, std::size_t users, Valid valid, std::vector<bool> *has_row)
{
	const std::uint64_t n = r.u64();
	const std::size_t row_bytes = 3 + (extras_ ? 8 : 0); // the least a row takes (see serialize)
	if (n > r.remaining() / row_bytes || (users > 0 && n == 0 && has_row == nullptr))
		throw_corrupt("bad row count");
	std::vector<bool> own;
	std::vector<bool> &seen = has_row != nullptr ? *has_row : own;
	seen.assign(users, false);
	std::size_t seen_count = 0;
	std::int64_t previous = 0;
	for (std::uint64_t i = 0; i < n; i++) {
		const std::uint64_t slot = r.varint();
		const std::int64_t delta = ByteReader::unzigzag(r.varint());
		LogEntry e{static_cast<std::int64_t>(static_cast<std::uint64_t>(previous) + static_cast<std::uint64_t>(delta)),
		           r.varint()};
		previous = e.ts;
		const std::uint64_t extra = extras_ ? r.u64() : 0;
		if (slot >= users || !valid(e))
			throw_corrupt("row not allowed for this report");
		if (!seen[slot]) {
			seen[slot] = true;
			seen_count++;
		}
		push(static_cast<std::uint32_t>(slot), e, extra);
	}
	if (seen_count != users && has_row == nullptr)
		throw_corrupt("a user without rows");
}

/// Appends the users and rows of another report (a user in both gets the rows of both): the merge
/// of every report state that keeps a UserLog. Throws InvalidArgument for ids of another kind.
void merge_user_log(UserIndex &users, UserLog &log, const UserIndex &other_users, const UserLog &other_log);

/// The users and kept rows of a report that keeps every row (funnel_report, session_report): a
/// UserIndex and a UserLog without extras, integer ids looked up in batches (UserBatch). Call
/// flush() before reading (merge, serialize, users(), log()); the readers throw Internal otherwise.
class UserRows {
public:
	UserRows(UserKeyKind kind, std::pmr::memory_resource *memory) : users_(kind, memory), log_(memory, false) {}

	template <class Key>
	void
	add(Key user, const LogEntry &e)
	{
		if constexpr (std::is_same_v<Key, std::int64_t>)
			batch_.add(users_, user, e, Append{log_});
		else
			log_.push(users_.slot(user), e);
	}
	void
	flush()
	{
		batch_.flush(users_, Append{log_});
	}
	bool
	settled() const noexcept
	{
		return batch_.settled();
	}
	UserKeyKind
	kind() const noexcept
	{
		return users_.kind();
	}
	std::size_t
	users() const
	{
		require_settled();
		return users_.size();
	}
	const UserLog &
	log() const
	{
		require_settled();
		return log_;
	}
	/// Appends the other report's users and rows (a user in both gets the rows of both).
	/// Throws InvalidArgument for ids of another kind.
	void merge(const UserRows &other);
	/// The same, each of the other's payloads passed through `payload(std::uint64_t)` (ids of a
	/// dictionary the other numbered differently).
	template <class Payload>
	void
	merge(const UserRows &other, Payload payload)
	{
		require_settled();
		other.require_settled();
		const std::vector<std::uint32_t> slots = users_.merge(other.users_);
		other.log_.for_each([&](std::uint32_t slot, const LogEntry &e, std::uint64_t extra) {
			log_.push(slots[slot], LogEntry{e.ts, payload(e.payload)}, extra);
		});
	}

	/// The index, then the log.
	std::size_t
	serialized_size() const noexcept
	{
		return users_.serialized_size() + log_.serialized_size();
	}
	void serialize(ByteWriter &w) const;
	/// Reads what serialize wrote into an empty UserRows, each row passing `valid(entry)`.
	template <class Valid>
	void
	deserialize(ByteReader &r, Valid valid)
	{
		users_.deserialize(r);
		log_.deserialize(r, users_.size(), valid);
	}
	/// The kind a serialization starts with (UserIndex::peek_kind).
	static UserKeyKind
	peek_kind(const ByteReader &r)
	{
		return UserIndex::peek_kind(r);
	}

private:
	struct Append {
		UserLog &log;
		void
		operator()(std::uint32_t slot, const LogEntry &e) const
		{
			log.push(slot, e);
		}
	};
	void
	require_settled() const
	{
		if (!settled())
			throw_unsettled();
	}

	UserIndex users_;
	UserLog log_;
	UserBatch<LogEntry> batch_;
};

/// A time zone's name as report states keep it (for the final step): at most 255 bytes, present
/// exactly when the zone identity is not 0 (CorruptState otherwise).
void write_zone_name(ByteWriter &w, std::string_view name);
std::string_view read_zone_name(ByteReader &r, std::uint64_t zone);

} // namespace pg_product_analytics::core
