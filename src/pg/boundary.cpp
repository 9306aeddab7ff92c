#include "boundary.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "utils/elog.h"
#include "utils/memdebug.h"
}

namespace pg_product_analytics::pg {

void
report_error(const ErrorReport &report)
{
	const char *s = sqlstate_for(report.kind);
	// The barrier cut long texts on UTF-8 boundaries; in another server encoding, clip again to
	// whole characters of that encoding.
	auto clip = [](const char *text) {
		int n = static_cast<int>(strlen(text));
		return pg_mbcliplen(text, n, n);
	};
	ereport(ERROR,
	        (errcode(MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4])), errmsg("%.*s", clip(report.message), report.message),
	         report.detail[0] != '\0' ? errdetail("%.*s", clip(report.detail), report.detail) : 0,
	         report.hint[0] != '\0' ? errhint("%.*s", clip(report.hint), report.hint) : 0));
	pg_unreachable();
}

void *
ContextResource::do_allocate(std::size_t bytes, std::size_t alignment)
{
	// palloc'd chunks are MAXALIGN'ed; stricter alignments are not supported.
	if (alignment > MAXIMUM_ALIGNOF || bytes > MaxAllocHugeSize)
		throw std::bad_alloc();
	void *p = MemoryContextAllocExtended(context_, bytes == 0 ? 1 : bytes, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (p == nullptr)
		throw std::bad_alloc();
	return p;
}

void *
ContextResource::resize(void *p, std::size_t, std::size_t new_bytes)
{
	if (new_bytes > MaxAllocHugeSize)
		throw std::bad_alloc();
	MemoryContext context = GetMemoryChunkContext(p);
	void *q = context->methods->realloc(context, p, new_bytes);
	if (q == nullptr)
		throw std::bad_alloc(); // p is still valid, as after a failed realloc
	VALGRIND_MEMPOOL_CHANGE(context, p, q, new_bytes);
	return q;
}

void
ContextResource::do_deallocate(void *p, std::size_t, std::size_t)
{
	pfree(p);
}

bool
ContextResource::do_is_equal(const std::pmr::memory_resource &other) const noexcept
{
	auto *o = dynamic_cast<const ContextResource *>(&other);
	return o != nullptr && o->context_ == context_;
}

MemoryContext
aggregate_context(FunctionCallInfo fcinfo)
{
	MemoryContext context;
	if (!AggCheckCallContext(fcinfo, &context))
		elog(ERROR, "aggregate support function called in non-aggregate context");
	return context;
}

bytea *
make_bytea(std::size_t size, std::uint8_t **payload)
{
	bytea *b = static_cast<bytea *>(palloc(VARHDRSZ + size));
	SET_VARSIZE(b, VARHDRSZ + size);
	*payload = reinterpret_cast<std::uint8_t *>(VARDATA(b));
	return b;
}

} // namespace pg_product_analytics::pg
