// SmallVector: a vector whose first few elements live inside the owning object. Per-user states
// keep short lists (a user's sessions, returns before a start); most users need one or two
// entries, and an allocation per user costs more than the entries themselves (its page faults show
// in the profiles). Past N elements everything moves to a vector from the state's memory resource.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <type_traits>
#include <vector>

namespace pg_product_analytics::core {

/// The first N elements inline, then all of them in one vector of at least Spill elements from
/// the memory resource (it stays there). Contiguous either way: begin() and end() are pointers.
/// T is trivially copyable (plain data).
template <class T, std::size_t N, std::size_t Spill = 4 * N>
class SmallVector {
	static_assert(std::is_trivially_copyable_v<T>, "SmallVector holds plain data");
	static_assert(N > 0 && N < 256 && Spill > N, "N inline elements, more when spilled");

public:
	explicit SmallVector(std::pmr::memory_resource *memory) : heap_(memory) {}
	SmallVector(const SmallVector &other, std::pmr::memory_resource *memory) : heap_(memory)
	{
		append(other.begin(), other.end());
	}
	SmallVector(SmallVector &&) noexcept = default;
	SmallVector &operator=(SmallVector &&) = default;
	/// No copy without a resource (a pmr vector's copy would take the default one).
	SmallVector(const SmallVector &) = delete;
	SmallVector &operator=(const SmallVector &) = delete;

	std::size_t
	size() const noexcept
	{
		return spilled_ ? heap_.size() : inline_size_;
	}
	bool
	empty() const noexcept
	{
		return size() == 0;
	}
	T *
	begin() noexcept
	{
		return spilled_ ? heap_.data() : inline_;
	}
	const T *
	begin() const noexcept
	{
		return spilled_ ? heap_.data() : inline_;
	}
	T *
	end() noexcept
	{
		return begin() + size();
	}
	const T *
	end() const noexcept
	{
		return begin() + size();
	}
	T &
	operator[](std::size_t i) noexcept
	{
		return begin()[i];
	}
	const T &
	operator[](std::size_t i) const noexcept
	{
		return begin()[i];
	}
	T &
	back() noexcept
	{
		return end()[-1];
	}
	std::pmr::memory_resource *
	resource() const noexcept
	{
		return heap_.get_allocator().resource();
	}

	void
	push_back(const T &value)
	{
		if (!spilled_) {
			if (inline_size_ < N) {
				inline_[inline_size_++] = value;
				return;
			}
			spill(inline_size_ + 1);
		}
		heap_.push_back(value);
	}
	void
	append(const T *first, const T *last)
	{
		const auto count = static_cast<std::size_t>(last - first);
		if (!spilled_ && inline_size_ + count <= N) {
			std::copy(first, last, inline_ + inline_size_);
			inline_size_ = static_cast<std::uint8_t>(inline_size_ + count);
			return;
		}
		if (!spilled_)
			spill(inline_size_ + count);
		heap_.insert(heap_.end(), first, last);
	}
	/// Room for `count` elements in all (may spill).
	void
	reserve(std::size_t count)
	{
		if (spilled_)
			heap_.reserve(count);
		else if (count > N)
			spill(count);
	}
	/// Keeps the first `count` elements, count <= size().
	void
	truncate(std::size_t count) noexcept
	{
		if (spilled_)
			heap_.resize(count);
		else
			inline_size_ = static_cast<std::uint8_t>(count);
	}
	void
	pop_back() noexcept
	{
		truncate(size() - 1);
	}
	void
	clear() noexcept
	{
		truncate(0);
	}

private:
	void
	spill(std::size_t capacity)
	{
		heap_.reserve(std::max(capacity, Spill));
		heap_.assign(inline_, inline_ + inline_size_);
		spilled_ = true;
	}

	bool spilled_ = false;
	std::uint8_t inline_size_ = 0;
	T inline_[N];
	std::pmr::vector<T> heap_;
};

} // namespace pg_product_analytics::core
