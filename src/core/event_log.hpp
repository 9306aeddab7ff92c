// The row store shared by every aggregate that needs a group's rows in time order (funnels,
// session statistics): 16-byte entries (timestamp, payload), a flag telling whether they arrived
// sorted, merge by sorted runs, sorting in slices, and one serialization.
#pragma once

#include "serial.hpp"

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <vector>

namespace pg_product_analytics::core {

/// One kept row. Rows sort by (ts, payload); what the payload means is the family's business
/// (funnels: the bit mask of matched steps).
struct LogEntry {
	std::int64_t ts;
	std::uint64_t payload;

	bool
	operator<(const LogEntry &o) const noexcept
	{
		return ts < o.ts || (ts == o.ts && payload < o.payload);
	}
	bool
	operator==(const LogEntry &o) const noexcept
	{
		return ts == o.ts && payload == o.payload;
	}
};
static_assert(sizeof(LogEntry) == 16, "16 bytes per kept row");

/// A memory resource that can resize an allocation without copying it where the allocator
/// allows (PostgreSQL: a large chunk is its own block, resized by realloc, which the C library
/// remaps rather than copies). Throws std::bad_alloc on failure, leaving `p` valid.
class ResizableResource : public std::pmr::memory_resource {
public:
	virtual void *resize(void *p, std::size_t old_bytes, std::size_t new_bytes) = 0;
};

/// A growable array of log entries over a memory resource: a vector whose growth resizes the
/// allocation in place when the resource is a ResizableResource (no copy, so no moment with the
/// old and the new array both resident), else allocates, copies and frees.
class LogBuffer {
public:
	explicit LogBuffer(std::pmr::memory_resource *memory) noexcept : memory_(memory) {}
	LogBuffer(const LogBuffer &other, std::pmr::memory_resource *memory) : memory_(memory)
	{
		append(other.begin(), other.end());
	}
	LogBuffer(LogBuffer &&other) noexcept
	    : memory_(other.memory_), data_(other.data_), size_(other.size_), capacity_(other.capacity_)
	{
		other.data_ = nullptr;
		other.size_ = other.capacity_ = 0;
	}
	LogBuffer(const LogBuffer &) = delete;
	LogBuffer &operator=(const LogBuffer &) = delete;
	/// Takes the other's memory when both use the same resource, else copies its entries.
	LogBuffer &operator=(LogBuffer &&other);
	~LogBuffer() { release(); }

	std::size_t
	size() const noexcept
	{
		return size_;
	}
	bool
	empty() const noexcept
	{
		return size_ == 0;
	}
	LogEntry *
	data() noexcept
	{
		return data_;
	}
	const LogEntry *
	data() const noexcept
	{
		return data_;
	}
	LogEntry *
	begin() noexcept
	{
		return data_;
	}
	LogEntry *
	end() noexcept
	{
		return data_ + size_;
	}
	const LogEntry *
	begin() const noexcept
	{
		return data_;
	}
	const LogEntry *
	end() const noexcept
	{
		return data_ + size_;
	}
	const LogEntry &
	operator[](std::size_t i) const noexcept
	{
		return data_[i];
	}
	const LogEntry &
	back() const noexcept
	{
		return data_[size_ - 1];
	}

	void
	push_back(const LogEntry &e)
	{
		if (size_ == capacity_)
			grow(size_ + 1);
		data_[size_++] = e;
	}
	void reserve(std::size_t n);
	void append(const LogEntry *first, const LogEntry *last);
	/// Size n; new entries are uninitialized (a scratch buffer).
	void resize_uninitialized(std::size_t n);
	void
	truncate(std::size_t n) noexcept
	{
		if (n < size_)
			size_ = n;
	}
	void
	clear() noexcept
	{
		size_ = 0;
	}
	/// Frees the memory.
	void release() noexcept;
	/// Exchanges the contents of two buffers of the same resource.
	void swap(LogBuffer &other) noexcept;

private:
	void grow(std::size_t at_least);

	std::pmr::memory_resource *memory_;
	LogEntry *data_ = nullptr;
	std::size_t size_ = 0;
	std::size_t capacity_ = 0;
};

/// Invariant: when sorted(), entries are in ascending order. Memory from the given resource.
class EventLog {
public:
	explicit EventLog(std::pmr::memory_resource *memory) : entries_(memory), buffer_(memory) {}
	EventLog(const EventLog &other, std::pmr::memory_resource *memory)
	    : entries_(other.entries_, memory), last_(other.last_), sorted_(other.sorted_),
	      times_sorted_(other.times_sorted_), buffer_(memory)
	{
	}

	void
	push(const LogEntry &e)
	{
		if (entries_.empty())
			entries_.reserve(kInitialCapacity); // most groups keep a few dozen rows: skip tiny regrowths
		else if (e < last_) {
			sorted_ = false;
			times_sorted_ = times_sorted_ && e.ts == last_.ts; // only a tie out of payload order
		}
		entries_.push_back(e);
		last_ = e;
	}
	bool
	empty() const noexcept
	{
		return entries_.empty();
	}
	/// The last entry (not empty()): a copy kept beside the vector's pointers, so a row's
	/// transition reads it without touching the entries (users interleave: the tail of a
	/// group's entries is rarely in cache; its state is).
	const LogEntry &
	last() const noexcept
	{
		return last_;
	}

	/// Empties the log, keeping its memory (a scratch log reused for many groups).
	void
	clear() noexcept
	{
		entries_.clear();
		sorted_ = times_sorted_ = true;
		reset_sort();
	}

	/// Appends another log; stays sorted (merging the two runs) when both are.
	void merge(const EventLog &other);

	/// Sorts at once and drops repeated entries: for stores of distinct values (active periods),
	/// called when they have doubled, so the work is amortized over the rows that grew them.
	void sort_unique();

	/// Sorts in slices so the caller can check for interrupts between calls, and returns true once
	/// sorted. Entries that arrived in time order with only ties out of payload order (rows of
	/// an append-only table) are put in order in place, one run of equal times at a time, about
	/// `budget` entries a call: no buffer. Otherwise each call sorts one block of `budget`
	/// entries or merges `budget` entries of a merge pass (a bottom-up merge sort through a buffer
	/// as large as the log, freed once sorted). Only reorders entries, so a final function may
	/// call it on its state.
	bool sort_step(std::size_t budget);

	const LogBuffer &
	entries() const noexcept
	{
		return entries_;
	}
	bool
	sorted() const noexcept
	{
		return sorted_;
	}

	std::size_t
	serialized_size() const noexcept
	{
		return 1 + 8 + sizeof(LogEntry) * entries_.size();
	}
	void serialize(ByteWriter &w) const;
	/// Reads what serialize() wrote: checks the count against the bytes left, and that a log that
	/// claims to be sorted is; `valid(entry)` rejects entries the family does not allow.
	template <class Valid>
	void
	deserialize(ByteReader &r, Valid valid)
	{
		std::uint8_t sorted = r.u8();
		std::uint64_t count = r.u64();
		if (sorted > 1)
			throw_corrupt("bad sorted flag");
		if (count > r.remaining() / sizeof(LogEntry))
			throw_corrupt("entry count does not match the size");
		entries_.clear();
		entries_.reserve(count);
		times_sorted_ = true;
		for (std::uint64_t i = 0; i < count; i++) {
			LogEntry e{static_cast<std::int64_t>(r.u64()), r.u64()};
			if (!valid(e))
				throw_corrupt("entry not allowed for this aggregate");
			if (sorted && !entries_.empty() && e < entries_.back())
				throw_corrupt("entries out of order");
			if (!entries_.empty() && e.ts < entries_.back().ts)
				times_sorted_ = false;
			entries_.push_back(e);
		}
		sorted_ = sorted == 1;
		sync_last();
		reset_sort();
	}

private:
	static constexpr std::size_t kInitialCapacity = 16;

	void reset_sort() noexcept;
	bool merge_step(std::size_t budget);
	void
	sync_last() noexcept
	{
		if (!entries_.empty())
			last_ = entries_.back();
	}

	LogBuffer entries_;
	LogEntry last_{0, 0}; ///< entries_.back() whenever entries_ is not empty
	bool sorted_ = true;
	bool times_sorted_ = true; ///< ts never decreases (implied by sorted_)
	bool fix_ties(std::size_t budget);
	// Sorting in slices: sorted runs of `run_` entries (0: blocks still being sorted), the next
	// position to write (or block to sort), and the read positions of the two runs being merged
	// from entries_ into buffer_ (or back when from_buffer_).
	LogBuffer buffer_;
	std::size_t run_ = 0;
	std::size_t out_ = 0;
	std::size_t left_ = 0;
	std::size_t right_ = 0;
	bool from_buffer_ = false;
};

} // namespace pg_product_analytics::core
