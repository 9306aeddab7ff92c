#include "user_map.hpp"

#include "error.hpp"

#include <algorithm>
#include <cstring>

namespace pg_product_analytics::core {

namespace {
constexpr std::size_t kFirstBlock = 16 * 1024;
constexpr std::size_t kLargestBlock = 4 * 1024 * 1024;
} // namespace

Arena::Arena(Arena &&other) noexcept
    : memory_(other.memory_), blocks_(other.blocks_), next_(other.next_), left_(other.left_), reserved_(other.reserved_)
{
	other.blocks_ = nullptr;
	other.next_ = nullptr;
	other.left_ = 0;
	other.reserved_ = 0;
}

Arena::~Arena()
{
	while (blocks_ != nullptr) {
		Block *next = blocks_->next;
		memory_->deallocate(blocks_, blocks_->size, alignof(Block));
		blocks_ = next;
	}
}

void *
Arena::allocate(std::size_t size)
{
	size = (size + 7) & ~std::size_t{7};
	if (size > left_) {
		// Blocks grow with the arena (a quarter of what it holds), within bounds.
		std::size_t block = std::clamp(reserved_ / 4, kFirstBlock, kLargestBlock);
		block = std::max(block, size + sizeof(Block));
		auto *b = static_cast<Block *>(memory_->allocate(block, alignof(Block)));
		b->next = blocks_;
		b->size = block;
		blocks_ = b;
		reserved_ += block;
		next_ = reinterpret_cast<std::uint8_t *>(b) + sizeof(Block);
		left_ = block - sizeof(Block);
	}
	void *p = next_;
	next_ += size;
	left_ -= size;
	return p;
}

UserIndex::UserIndex(UserKeyKind kind, std::pmr::memory_resource *memory)
    : kind_(kind), key_bytes_(memory), ints_(memory), bytes_(memory), dense_(memory), int_keys_(memory),
      byte_keys_(memory)
{
}

std::uint32_t
UserIndex::add_int_key(std::int64_t id)
{
	auto next = static_cast<std::uint32_t>(int_keys_.size());
	if (next >= kMaxUsers)
		throw Error(ErrorKind::LimitExceeded, "too many users in one report");
	int_keys_.push_back(id);
	return next;
}

std::uint32_t
UserIndex::sparse_slot(std::int64_t id)
{
	if (id >= 0) {
		// Grow the direct array to cover the id when it stays within 8 x (users + slack), moving
		// the ids it now covers out of the hash map.
		std::size_t want = std::max<std::size_t>(dense_.size() * 2, 1024);
		while (want <= static_cast<std::uint64_t>(id))
			want *= 2;
		if (want <= 8 * (int_keys_.size() + kDenseSlack)) {
			dense_.resize(want, 0);
			boost::unordered::erase_if(ints_, [&](const auto &kv) {
				if (static_cast<std::uint64_t>(kv.first) >= want)
					return false;
				dense_[static_cast<std::size_t>(kv.first)] = kv.second + 1;
				return true;
			});
			return slot(id);
		}
	}
	auto found = ints_.find(id);
	if (found != ints_.end())
		return found->second;
	std::uint32_t next = add_int_key(id);
	ints_.emplace(id, next);
	return next;
}

std::uint32_t
UserIndex::slot(std::string_view id)
{
	auto found = bytes_.find(id);
	if (found != bytes_.end())
		return found->second;
	auto next = static_cast<std::uint32_t>(byte_keys_.size());
	if (next >= kMaxUsers)
		throw Error(ErrorKind::LimitExceeded, "too many users in one report");
	char *copy = static_cast<char *>(key_bytes_.allocate(id.size() == 0 ? 1 : id.size()));
	if (!id.empty())
		std::memcpy(copy, id.data(), id.size());
	std::string_view key(copy, id.size());
	bytes_.emplace(key, next);
	byte_keys_.push_back(key);
	return next;
}

void
UserIndex::check_kind(const UserIndex &other) const
{
	if (other.kind_ != kind_)
		throw Error(ErrorKind::InvalidArgument, "user ids of different types in one report");
}

std::uint32_t
UserIndex::slot_of(const UserIndex &other, std::uint32_t slot)
{
	return kind_ == UserKeyKind::Integer ? this->slot(other.int_keys_[slot]) : this->slot(other.byte_keys_[slot]);
}

std::vector<std::uint32_t>
UserIndex::merge(const UserIndex &other)
{
	check_kind(other);
	std::vector<std::uint32_t> slots(other.size());
	for (std::uint32_t u = 0; u < slots.size(); u++)
		slots[u] = slot_of(other, u);
	return slots;
}

UserKeyKind
UserIndex::peek_kind(const ByteReader &r)
{
	auto kind = static_cast<UserKeyKind>(r.peek_u8());
	if (kind != UserKeyKind::Integer && kind != UserKeyKind::Bytes)
		throw_corrupt("bad user id kind");
	return kind;
}

std::size_t
UserIndex::serialized_size() const noexcept
{
	std::size_t n = 1 + 8;
	if (kind_ == UserKeyKind::Integer)
		return n + 8 * int_keys_.size();
	for (auto k : byte_keys_)
		n += 8 + k.size();
	return n;
}

void
UserIndex::serialize(ByteWriter &w) const
{
	w.u8(static_cast<std::uint8_t>(kind_));
	w.u64(size());
	if (kind_ == UserKeyKind::Integer) {
		for (auto k : int_keys_)
			w.u64(static_cast<std::uint64_t>(k));
		return;
	}
	for (auto k : byte_keys_) {
		w.u64(k.size());
		w.bytes(reinterpret_cast<const std::uint8_t *>(k.data()), k.size());
	}
}

void
UserIndex::deserialize(ByteReader &r)
{
	if (r.u8() != static_cast<std::uint8_t>(kind_))
		throw_corrupt("user ids of another kind");
	std::uint64_t count = r.u64();
	if (count > r.remaining() / 8 || count >= kMaxUsers)
		throw_corrupt("user count does not match the size");
	for (std::uint64_t i = 0; i < count; i++) {
		std::size_t before = size();
		if (kind_ == UserKeyKind::Integer) {
			slot(static_cast<std::int64_t>(r.u64()));
		} else {
			std::uint64_t n = r.u64();
			if (n > r.remaining())
				throw_corrupt("user id longer than the data");
			slot(std::string_view(reinterpret_cast<const char *>(r.bytes(n)), n));
		}
		if (size() != before + 1)
			throw_corrupt("a user listed twice");
	}
}

void
throw_unsettled()
{
	throw Error(ErrorKind::Internal, "report state read with rows still batched");
}

void
write_zone_name(ByteWriter &w, std::string_view name)
{
	w.u8(static_cast<std::uint8_t>(name.size()));
	w.bytes(reinterpret_cast<const std::uint8_t *>(name.data()), name.size());
}

std::string_view
read_zone_name(ByteReader &r, std::uint64_t zone)
{
	std::size_t size = r.u8();
	const char *name = reinterpret_cast<const char *>(r.bytes(size));
	if (std::char_traits<char>::find(name, size, '\0') != nullptr || (size == 0) != (zone == 0))
		throw_corrupt("bad time zone name");
	return std::string_view(name, size);
}

// ---------------------------------------------------------------------------------------------
// UserLog, UserGroups

void
UserLog::grow()
{
	const std::size_t bytes =
	    sizeof(Chunk) + kChunkRows * (sizeof(LogEntry) + (extras_ ? 8 : 0) + sizeof(std::uint32_t));
	auto *c = static_cast<Chunk *>(arena_.allocate(bytes));
	c->next = nullptr;
	c->used = 0;
	c->pad = 0;
	if (tail_ == nullptr)
		head_ = c;
	else
		tail_->next = c;
	tail_ = c;
}

void
UserLog::append(const UserLog &other, const std::uint32_t *slot_map)
{
	other.for_each([&](std::uint32_t slot, const LogEntry &e, std::uint64_t extra) { push(slot_map[slot], e, extra); });
}

// Rows are written compactly (a parallel plan ships every worker's log to the leader): the slot,
// the time as the difference from the previous row's (rows arrive about in time order: a few
// bytes), the payload, each a varint; the extra word as 8 bytes. About 7 bytes a row instead of 20.
namespace {
// A row's time as written: its difference from the previous row's, zigzagged.
inline std::uint64_t
time_delta(std::int64_t previous, std::int64_t ts) noexcept
{
	return ByteWriter::zigzag(
	    static_cast<std::int64_t>(static_cast<std::uint64_t>(ts) - static_cast<std::uint64_t>(previous)));
}
} // namespace

std::size_t
UserLog::serialized_size() const noexcept
{
	std::size_t n = 8;
	std::int64_t previous = 0;
	for_each([&](std::uint32_t slot, const LogEntry &e, std::uint64_t) {
		n += ByteWriter::varint_size(slot) + ByteWriter::varint_size(time_delta(previous, e.ts)) +
		     ByteWriter::varint_size(e.payload) + (extras_ ? 8 : 0);
		previous = e.ts;
	});
	return n;
}

void
UserLog::serialize(ByteWriter &w) const
{
	w.u64(size_);
	std::int64_t previous = 0;
	for_each([&](std::uint32_t slot, const LogEntry &e, std::uint64_t extra) {
		w.varint(slot);
		w.varint(time_delta(previous, e.ts));
		w.varint(e.payload);
		if (extras_)
			w.u64(extra);
		previous = e.ts;
	});
}

void
merge_user_log(UserIndex &users, UserLog &log, const UserIndex &other_users, const UserLog &other_log)
{
	log.append(other_log, users.merge(other_users).data());
}

void
UserRows::merge(const UserRows &other)
{
	require_settled();
	other.require_settled();
	merge_user_log(users_, log_, other.users_, other.log_);
}

void
UserRows::serialize(ByteWriter &w) const
{
	require_settled();
	users_.serialize(w);
	log_.serialize(w);
}

UserGroups::UserGroups(const UserLog &log, std::size_t users, std::pmr::memory_resource *memory)
    : log_(log), chunk_(log.head()), offsets_(users + 1, 0, memory), next_(memory), unsorted_(users, 0, memory),
      rows_(memory), extras_(memory)
{
}

bool
UserGroups::step(std::size_t budget)
{
	std::size_t work = 0;
	while (phase_ != Phase::Done && work < budget) {
		if (chunk_ == nullptr) {
			if (phase_ == Phase::Count) {
				// Prefix sums: offsets_[u] is where user u's rows start.
				for (std::size_t u = 1; u < offsets_.size(); u++)
					offsets_[u] += offsets_[u - 1];
				next_.assign(offsets_.begin(), offsets_.end() - 1);
				rows_.resize(log_.size());
				if (log_.has_extras())
					extras_.resize(log_.size());
				work += offsets_.size();
				chunk_ = log_.head();
				phase_ = Phase::Scatter;
			} else {
				next_.clear();
				next_.shrink_to_fit();
				phase_ = Phase::Done;
			}
			continue;
		}
		const std::uint32_t *slots = log_.slots(*chunk_);
		const std::uint32_t end = chunk_->used;
		if (phase_ == Phase::Count) {
			for (std::uint32_t i = 0; i < end; i++)
				offsets_[slots[i] + 1]++;
		} else {
			const LogEntry *entries = UserLog::entries(*chunk_);
			const std::uint64_t *extra = log_.has_extras() ? log_.extra_words(*chunk_) : nullptr;
			for (std::uint32_t i = 0; i < end; i++) {
				const std::uint32_t u = slots[i];
				const std::uint64_t at = next_[u]++;
				if (at > offsets_[u] && entries[i] < rows_[at - 1])
					unsorted_[u] = 1;
				rows_[at] = entries[i];
				if (extra != nullptr)
					extras_[at] = extra[i];
			}
		}
		work += end;
		chunk_ = chunk_->next;
	}
	return phase_ == Phase::Done;
}

} // namespace pg_product_analytics::core
