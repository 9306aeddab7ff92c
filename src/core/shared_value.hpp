// A parsed parameter a state points to instead of copying it per group: a sequence pattern, a
// funnel's options. Either the caller keeps it for longer than the state (the glue's call-site
// copy, kept for the query: `shared`), or the state owns a copy in its memory resource.
#pragma once

#include <memory_resource>
#include <new>
#include <utility>

namespace pg_product_analytics::core {

template <class T>
class SharedValue {
public:
	/// Points to `value` when `shared`, else copies it into `memory` (may throw bad_alloc).
	SharedValue(const T &value, bool shared, std::pmr::memory_resource *memory)
	    : memory_(memory), value_(shared ? &value : copy_of(value, memory)), owned_(!shared)
	{
	}
	/// Shares what `other` shares, copies what it owns.
	SharedValue(const SharedValue &other, std::pmr::memory_resource *memory)
	    : SharedValue(*other.value_, !other.owned_, memory)
	{
	}
	SharedValue(SharedValue &&other) noexcept
	    : memory_(other.memory_), value_(other.value_), owned_(std::exchange(other.owned_, false))
	{
	}
	SharedValue(const SharedValue &) = delete;
	SharedValue &operator=(const SharedValue &) = delete;
	SharedValue &operator=(SharedValue &&) = delete;
	~SharedValue()
	{
		if (owned_) {
			value_->~T();
			memory_->deallocate(const_cast<T *>(value_), sizeof(T), alignof(T));
		}
	}

	const T &
	operator*() const noexcept
	{
		return *value_;
	}
	const T *
	operator->() const noexcept
	{
		return value_;
	}
	const T *
	get() const noexcept
	{
		return value_;
	}
	/// Whether it points to the caller's value (kept for longer than the state) rather than a copy.
	bool
	shared() const noexcept
	{
		return !owned_;
	}

private:
	static const T *
	copy_of(const T &value, std::pmr::memory_resource *memory)
	{
		void *p = memory->allocate(sizeof(T), alignof(T));
		return new (p) T(value);
	}

	std::pmr::memory_resource *memory_;
	const T *value_;
	bool owned_;
};

} // namespace pg_product_analytics::core
