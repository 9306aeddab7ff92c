// Boundary helpers every fmgr entry point uses. Rules (see docs/architecture.md):
//  - C++ code that may throw runs only inside guard(); nothing thrown leaves it.
//  - Inside guard() no PostgreSQL function that can ereport/longjmp is called: memory comes from
//    ContextResource (which never ereports), everything else happens before or after guard().
//  - Outside guard() an entry point holds no C++ object with a destructor, so ereport(ERROR) and
//    CHECK_FOR_INTERRUPTS() are safe there.
#pragma once

#include "../core/event_log.hpp"
#include "barrier.hpp"

#include <cstddef>
#include <memory_resource>
#include <new>
#include <type_traits>
#include <utility>

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/memutils.h"
}

namespace pg_product_analytics::pg {

/// ereport(ERROR) with the SQLSTATE of the report's kind. Call it outside every catch handler.
[[noreturn]] void report_error(const ErrorReport &report);

/// Runs `f` inside the exception barrier and turns a failure into a PostgreSQL ERROR once the
/// handler and `f`'s objects are gone. `f` must not call anything that can ereport.
template <class F>
inline void
guard(F &&f)
{
	ErrorReport report;
	if (!run_captured(std::forward<F>(f), report))
		report_error(report);
}

/// A memory_resource over one PostgreSQL memory context. Never ereports: a failed or oversized
/// allocation throws std::bad_alloc, which guard() reports as ERROR 53200. Deallocation frees the
/// chunk; whatever is not freed goes when the context is reset, as for any palloc. resize() is
/// repalloc without its ereport (the context's own realloc method): a large chunk is its own
/// block, resized by the C library's realloc, which remaps rather than copies it.
class ContextResource final : public core::ResizableResource {
public:
	explicit ContextResource(MemoryContext context) noexcept : context_(context) {}

	MemoryContext
	context() const noexcept
	{
		return context_;
	}

	void *resize(void *p, std::size_t old_bytes, std::size_t new_bytes) override;

private:
	void *do_allocate(std::size_t bytes, std::size_t alignment) override;
	void do_deallocate(void *p, std::size_t bytes, std::size_t alignment) override;
	bool do_is_equal(const std::pmr::memory_resource &other) const noexcept override;

	MemoryContext context_;
};

/// Constructs a T in `context`. When T has a destructor, it is run by a reset callback of the
/// context, so the object lives exactly as long as the context's memory. Call inside guard().
template <class T, class... Args>
T *
make_in_context(MemoryContext context, Args &&...args)
{
	ContextResource resource(context);
	if constexpr (std::is_trivially_destructible_v<T>) {
		void *p = resource.allocate(sizeof(T), alignof(T));
		return new (p) T(std::forward<Args>(args)...);
	} else {
		struct Holder {
			MemoryContextCallback callback;
			T object;
		};
		void *p = resource.allocate(sizeof(Holder), alignof(Holder));
		auto *holder = static_cast<Holder *>(p);
		new (&holder->object) T(std::forward<Args>(args)...);
		holder->callback.func = [](void *arg) { static_cast<T *>(arg)->~T(); };
		holder->callback.arg = &holder->object;
		MemoryContextRegisterResetCallback(context, &holder->callback);
		return &holder->object;
	}
}

/// Constructs a T that allocates through a ContextResource of `context`, itself placed in
/// `context` beside the object so that it lives as long: `make(resource)` returns the T (built
/// with that resource). The destructor runs from a reset callback of the context. Call inside guard().
template <class T, class Make>
T *
make_in_context_with(MemoryContext context, Make &&make)
{
	struct Holder {
		MemoryContextCallback callback;
		alignas(ContextResource) unsigned char resource[sizeof(ContextResource)];
		alignas(T) unsigned char object[sizeof(T)];
	};
	ContextResource allocator(context);
	void *p = allocator.allocate(sizeof(Holder), alignof(Holder));
	auto *holder = static_cast<Holder *>(p);
	auto *resource = new (holder->resource) ContextResource(context); // trivial to destroy: never is
	T *object;
	try {
		object = new (holder->object) T(make(resource));
	} catch (...) {
		allocator.deallocate(p, sizeof(Holder), alignof(Holder));
		throw;
	}
	holder->callback.func = [](void *arg) { static_cast<T *>(arg)->~T(); };
	holder->callback.arg = object;
	MemoryContextRegisterResetCallback(context, &holder->callback);
	return object;
}

/// The aggregate memory context of an aggregate support function call (plain or window
/// aggregate); ERROR when called outside an aggregate. Call outside guard().
MemoryContext aggregate_context(FunctionCallInfo fcinfo);

/// Argument `argno`, or NULL when the call has fewer arguments (the overloads of an aggregate
/// that omit trailing optional arguments share one C function).
inline NullableDatum
optional_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_NARGS() <= argno)
		return NullableDatum{0, true};
	return fcinfo->args[argno];
}

/// A bytea of `size` payload bytes in the current memory context, and its payload pointer.
/// Call outside guard(); fill it inside.
bytea *make_bytea(std::size_t size, std::uint8_t **payload);

} // namespace pg_product_analytics::pg
