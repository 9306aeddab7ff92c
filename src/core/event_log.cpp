#include "event_log.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>

namespace pg_product_analytics::core {

void
LogBuffer::grow(std::size_t at_least)
{
	std::size_t capacity = std::max<std::size_t>(capacity_ * 2, 16);
	if (capacity < at_least)
		capacity = at_least;
	if (capacity > SIZE_MAX / sizeof(LogEntry))
		throw std::bad_alloc();
	const std::size_t bytes = capacity * sizeof(LogEntry);
	if (data_ != nullptr) {
		if (auto *resizable = dynamic_cast<ResizableResource *>(memory_)) {
			data_ = static_cast<LogEntry *>(resizable->resize(data_, capacity_ * sizeof(LogEntry), bytes));
			capacity_ = capacity;
			return;
		}
	}
	auto *fresh = static_cast<LogEntry *>(memory_->allocate(bytes, alignof(LogEntry)));
	if (size_ > 0)
		std::memcpy(fresh, data_, size_ * sizeof(LogEntry));
	if (data_ != nullptr)
		memory_->deallocate(data_, capacity_ * sizeof(LogEntry), alignof(LogEntry));
	data_ = fresh;
	capacity_ = capacity;
}

LogBuffer &
LogBuffer::operator=(LogBuffer &&other)
{
	if (this == &other)
		return *this;
	if (memory_->is_equal(*other.memory_)) {
		release();
		swap(other);
	} else {
		clear();
		append(other.begin(), other.end());
		other.release();
	}
	return *this;
}

void
LogBuffer::reserve(std::size_t n)
{
	if (n > capacity_)
		grow(n);
}

void
LogBuffer::append(const LogEntry *first, const LogEntry *last)
{
	const auto n = static_cast<std::size_t>(last - first);
	if (n == 0)
		return;
	if (size_ + n > capacity_)
		grow(size_ + n);
	std::memcpy(data_ + size_, first, n * sizeof(LogEntry));
	size_ += n;
}

void
LogBuffer::resize_uninitialized(std::size_t n)
{
	if (n > capacity_)
		grow(n);
	size_ = n;
}

void
LogBuffer::release() noexcept
{
	if (data_ != nullptr)
		memory_->deallocate(data_, capacity_ * sizeof(LogEntry), alignof(LogEntry));
	data_ = nullptr;
	size_ = capacity_ = 0;
}

void
LogBuffer::swap(LogBuffer &other) noexcept
{
	std::swap(data_, other.data_);
	std::swap(size_, other.size_);
	std::swap(capacity_, other.capacity_);
}

void
EventLog::merge(const EventLog &other)
{
	if (other.entries_.empty())
		return;
	std::size_t middle = entries_.size();
	entries_.append(other.entries_.begin(), other.entries_.end());
	if (sorted_ && other.sorted_)
		std::inplace_merge(entries_.begin(), entries_.begin() + middle, entries_.end());
	else
		sorted_ = times_sorted_ = false;
	sync_last();
	reset_sort();
}

void
EventLog::sort_unique()
{
	if (!sorted_)
		std::sort(entries_.begin(), entries_.end());
	entries_.truncate(static_cast<std::size_t>(std::unique(entries_.begin(), entries_.end()) - entries_.begin()));
	sorted_ = times_sorted_ = true;
	sync_last();
	reset_sort();
}

void
EventLog::reset_sort() noexcept
{
	buffer_.release();
	run_ = out_ = left_ = right_ = 0;
	from_buffer_ = false;
}

bool
EventLog::sort_step(std::size_t budget)
{
	if (sorted_)
		return true;
	const std::size_t n = entries_.size();
	budget = std::max<std::size_t>(budget, 1024);
	if (times_sorted_) {
		if (!fix_ties(budget))
			return false;
	} else if (n <= budget) {
		std::sort(entries_.begin(), entries_.end());
	} else if (run_ == 0) {
		// First: sort blocks of `budget` entries, one per call.
		auto at = [&](std::size_t i) { return entries_.begin() + std::min(i, n); };
		std::sort(at(out_), at(out_ + budget));
		out_ += budget;
		if (out_ >= n) {
			buffer_.resize_uninitialized(n);
			run_ = budget;
			out_ = 0;
		}
		return false;
	} else if (!merge_step(budget)) {
		return false;
	}
	sorted_ = times_sorted_ = true;
	sync_last();
	reset_sort();
	return true;
}

// Entries in time order: sorts each run of equal times by payload, in place, from out_ on, about
// `budget` entries per call; true when the whole log is done. A run longer than `budget` (many
// rows on one timestamp) is not sorted in one call: the log goes to the general sort, in slices.
bool
EventLog::fix_ties(std::size_t budget)
{
	const std::size_t n = entries_.size();
	LogEntry *e = entries_.data();
	std::size_t done = 0;
	while (out_ < n && done < budget) {
		std::size_t end = out_ + 1;
		while (end < n && e[end].ts == e[out_].ts && end - out_ <= budget)
			end++;
		if (end - out_ > budget) {
			times_sorted_ = false;
			out_ = 0;
			return false;
		}
		if (end - out_ > 1)
			std::sort(e + out_, e + end);
		done += end - out_;
		out_ = end;
	}
	return out_ >= n;
}

// One slice of a bottom-up merge pass: merges pairs of runs of run_ entries from one vector into
// the other, `budget` entries at most; returns true when the whole log is one sorted run (in
// entries_).
bool
EventLog::merge_step(std::size_t budget)
{
	const std::size_t n = entries_.size();
	const LogEntry *from = from_buffer_ ? buffer_.data() : entries_.data();
	LogEntry *to = from_buffer_ ? entries_.data() : buffer_.data();
	for (std::size_t done = 0; done < budget && out_ < n;) {
		// The pair of runs containing out_: [start, middle) and [middle, end).
		const std::size_t start = out_ / (2 * run_) * (2 * run_);
		const std::size_t middle = std::min(start + run_, n), end = std::min(start + 2 * run_, n);
		if (out_ == start) {
			left_ = start;
			right_ = middle;
		}
		for (; out_ < end && done < budget; out_++, done++) {
			if (right_ >= end || (left_ < middle && !(from[right_] < from[left_])))
				to[out_] = from[left_++];
			else
				to[out_] = from[right_++];
		}
	}
	if (out_ < n)
		return false;
	from_buffer_ = !from_buffer_;
	out_ = 0;
	run_ *= 2;
	if (run_ < n)
		return false;
	if (from_buffer_) // the sorted entries are in the buffer
		entries_.swap(buffer_);
	return true;
}

void
EventLog::serialize(ByteWriter &w) const
{
	w.u8(sorted_ ? 1 : 0);
	w.u64(entries_.size());
	for (const auto &e : entries_) {
		w.u64(static_cast<std::uint64_t>(e.ts));
		w.u64(e.payload);
	}
}

} // namespace pg_product_analytics::core
