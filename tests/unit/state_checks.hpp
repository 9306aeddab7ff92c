// Checks every aggregate state must pass, shared by the per-family unit tests:
// serialization round trip, and rejection (never a crash) of truncated or corrupted bytes.
#pragma once

#include "core/error.hpp"
#include "core/user_map.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory_resource>
#include <functional>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

namespace pg_product_analytics::testing {

/// A memory resource that counts what it hands out (allocations, bytes live, peak bytes live).
class CountingResource : public std::pmr::memory_resource {
public:
	std::size_t allocations = 0;
	std::size_t live = 0;
	std::size_t peak = 0;

private:
	void *
	do_allocate(std::size_t bytes, std::size_t align) override
	{
		allocations++;
		live += bytes;
		peak = std::max(peak, live);
		return std::pmr::new_delete_resource()->allocate(bytes, align);
	}
	void
	do_deallocate(void *p, std::size_t bytes, std::size_t align) override
	{
		live -= bytes;
		std::pmr::new_delete_resource()->deallocate(p, bytes, align);
	}
	bool
	do_is_equal(const std::pmr::memory_resource &other) const noexcept override
	{
		return this == &other;
	}
};

/// Serializes as the glue does: a state that batches rows (core::UserBatch) is flushed first.
template <class StateRef>
std::vector<std::uint8_t>
serialize(StateRef &&state)
{
	if constexpr (!std::is_const_v<std::remove_reference_t<StateRef>>)
		core::settle(state);
	std::vector<std::uint8_t> bytes(state.serialized_size());
	state.serialize(bytes.data(), bytes.size());
	return bytes;
}

/// Expects `f` to throw core::Error of `kind`.
template <class F>
void
expect_error(core::ErrorKind kind, F f)
{
	try {
		f();
		ADD_FAILURE() << "no error thrown";
	} catch (const core::Error &e) {
		EXPECT_EQ(e.kind(), kind) << e.what();
	}
}

/// Every strict prefix and every extension by one byte is CorruptState. Every single-byte change
/// either is rejected as CorruptState or yields a state for which `valid` holds (a flipped bit may
/// describe another valid state; what matters is that nothing invalid gets in).
template <class State>
void
check_corruption_rejected(const std::vector<std::uint8_t> &good, const std::function<bool(const State &)> &valid)
{
	for (std::size_t n = 0; n < good.size(); n++) {
		std::vector<std::uint8_t> cut(good.begin(), good.begin() + n);
		expect_error(core::ErrorKind::CorruptState, [&] { State::deserialize(cut.data(), cut.size()); });
	}
	auto longer = good;
	longer.push_back(0);
	expect_error(core::ErrorKind::CorruptState, [&] { State::deserialize(longer.data(), longer.size()); });

	std::mt19937_64 rng(7);
	for (std::size_t i = 0; i < good.size(); i++) {
		for (int trial = 0; trial < 8; trial++) {
			auto bad = good;
			bad[i] ^= static_cast<std::uint8_t>(1 + rng() % 255);
			try {
				State s = State::deserialize(bad.data(), bad.size());
				EXPECT_TRUE(valid(s)) << "accepted an invalid state after changing byte " << i;
			} catch (const core::Error &e) {
				EXPECT_EQ(e.kind(), core::ErrorKind::CorruptState) << e.what();
			}
		}
	}
	// The 4-byte header: each of magic, version and tag is checked.
	for (std::size_t i = 0; i < 4 && i < good.size(); i++) {
		auto bad = good;
		bad[i] ^= 0x80;
		expect_error(core::ErrorKind::CorruptState, [&] { State::deserialize(bad.data(), bad.size()); });
	}
}

} // namespace pg_product_analytics::testing
