// The pure half of the exception barrier: what every kind of exception becomes, and the SQLSTATEs.
#include "core/error.hpp"
#include "core/limits.hpp"
#include "pg/barrier.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

namespace core = pg_product_analytics::core;
namespace pg = pg_product_analytics::pg;

namespace {

template <class F>
pg::ErrorReport
capture_failure(F f)
{
	pg::ErrorReport report{};
	EXPECT_FALSE(pg::run_captured(f, report));
	return report;
}

} // namespace

TEST(Barrier, NormalReturnReportsNothing)
{
	pg::ErrorReport report{};
	int calls = 0;
	EXPECT_TRUE(pg::run_captured([&] { calls++; }, report));
	EXPECT_EQ(calls, 1);
}

TEST(Barrier, CoreErrorKeepsKindAndMessage)
{
	for (auto kind : {core::ErrorKind::InvalidArgument, core::ErrorKind::NullParameter, core::ErrorKind::LimitExceeded,
	                  core::ErrorKind::CorruptState, core::ErrorKind::OutOfMemory, core::ErrorKind::OutOfRange,
	                  core::ErrorKind::Internal}) {
		auto r = capture_failure([&] { throw core::Error(kind, "some message"); });
		EXPECT_EQ(r.kind, kind);
		EXPECT_STREQ(r.message, "some message");
	}
}

TEST(Barrier, BadAllocIsOutOfMemory)
{
	auto r = capture_failure([] { throw std::bad_alloc(); });
	EXPECT_EQ(r.kind, core::ErrorKind::OutOfMemory);
	EXPECT_STREQ(r.message, "out of memory");
}

TEST(Barrier, OtherExceptionsAreInternal)
{
	auto r = capture_failure([] { throw std::out_of_range("index 7"); });
	EXPECT_EQ(r.kind, core::ErrorKind::Internal);
	EXPECT_STREQ(r.message, "index 7");
	r = capture_failure([] { throw 42; });
	EXPECT_EQ(r.kind, core::ErrorKind::Internal);
	EXPECT_STREQ(r.message, "unexpected C++ exception");
}

TEST(Barrier, LongMessagesAreCutAndTerminated)
{
	std::string longer(5000, 'x');
	auto r = capture_failure([&] { throw std::runtime_error(longer); });
	EXPECT_EQ(std::strlen(r.message), sizeof(r.message) - 1);
	EXPECT_EQ(std::string(r.message), longer.substr(0, sizeof(r.message) - 1));
}

TEST(Barrier, DetailAndHintCrossTheBarrier)
{
	auto r = capture_failure(
	    [&] { throw core::Error(core::ErrorKind::InvalidArgument, "bad thing", "It was bad.", "Do it differently."); });
	EXPECT_STREQ(r.message, "bad thing");
	EXPECT_STREQ(r.detail, "It was bad.");
	EXPECT_STREQ(r.hint, "Do it differently.");
	auto plain = capture_failure([&] { throw core::Error(core::ErrorKind::InvalidArgument, "bad thing"); });
	EXPECT_STREQ(plain.detail, "");
	EXPECT_STREQ(plain.hint, "");
}

TEST(Barrier, CutsNeverSplitAMultibyteCharacter)
{
	// "é" is two bytes and "€" three in UTF-8: at every offset, the cut text is whole characters.
	for (std::size_t pad = 0; pad < 4; pad++) {
		std::string text(pad, 'a');
		while (text.size() < 3000)
			text += "é€";
		auto r = capture_failure([&] { throw core::Error(core::ErrorKind::InvalidArgument, text, text, text); });
		for (const char *cut : {r.message, r.detail, r.hint}) {
			std::string s(cut);
			EXPECT_LT(s.size(), 1024u);
			EXPECT_GT(s.size(), 500u);
			EXPECT_EQ(text.compare(0, s.size(), s), 0) << "a prefix";
			unsigned char next = static_cast<unsigned char>(text[s.size()]);
			EXPECT_NE(next & 0xC0, 0x80) << "cut inside a character at pad " << pad;
		}
	}
}

TEST(Barrier, SqlstatesAreThePromisedOnes)
{
	EXPECT_STREQ(pg::sqlstate_for(core::ErrorKind::InvalidArgument), "22023");
	EXPECT_STREQ(pg::sqlstate_for(core::ErrorKind::NullParameter), "22004");
	EXPECT_STREQ(pg::sqlstate_for(core::ErrorKind::LimitExceeded), "54000");
	EXPECT_STREQ(pg::sqlstate_for(core::ErrorKind::CorruptState), "XX001");
	EXPECT_STREQ(pg::sqlstate_for(core::ErrorKind::OutOfMemory), "53200");
	EXPECT_STREQ(pg::sqlstate_for(core::ErrorKind::OutOfRange), "22003");
	EXPECT_STREQ(pg::sqlstate_for(core::ErrorKind::Internal), "XX000");
}

TEST(Limits, ConditionCount)
{
	EXPECT_NO_THROW(core::check_condition_count(1, "step"));
	EXPECT_NO_THROW(core::check_condition_count(core::kMaxConditions, "step"));
	try {
		core::check_condition_count(0, "step");
		FAIL() << "zero accepted";
	} catch (const core::Error &e) {
		EXPECT_EQ(e.kind(), core::ErrorKind::InvalidArgument);
		EXPECT_STREQ(e.what(), "at least one step is required");
	}
	try {
		core::check_condition_count(65, "step");
		FAIL() << "65 accepted";
	} catch (const core::Error &e) {
		EXPECT_EQ(e.kind(), core::ErrorKind::LimitExceeded);
		EXPECT_STREQ(e.what(), "too many steps: 65 given, the limit is 64");
	}
}
