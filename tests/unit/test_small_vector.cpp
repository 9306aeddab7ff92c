// core::SmallVector, the short lists of per-user states: random operations against std::vector
// (before, at and after the spill), no allocation while the elements fit inline, and a copy into
// another memory resource.
#include "core/small_vector.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory_resource>
#include <random>
#include <vector>

namespace core = pg_product_analytics::core;
using pg_product_analytics::testing::CountingResource;

namespace {

struct Item {
	std::int64_t a;
	std::int64_t b;
};

bool
operator==(const Item &x, const Item &y)
{
	return x.a == y.a && x.b == y.b;
}

template <class V>
void
expect_same(const V &v, const std::vector<Item> &ref)
{
	ASSERT_EQ(v.size(), ref.size());
	ASSERT_EQ(v.empty(), ref.empty());
	ASSERT_EQ(static_cast<std::size_t>(v.end() - v.begin()), ref.size());
	for (std::size_t i = 0; i < ref.size(); i++)
		ASSERT_EQ(v[i], ref[i]) << i;
}

} // namespace

TEST(SmallVector, RandomOperationsMatchAVector)
{
	std::mt19937_64 rng(17);
	for (int round = 0; round < 2000; round++) {
		CountingResource memory;
		{
			core::SmallVector<Item, 2, 8> v(&memory);
			std::vector<Item> ref;
			const int steps = static_cast<int>(rng() % 40);
			for (int s = 0; s < steps; s++) {
				const auto op = rng() % 10;
				if (op < 5) {
					Item item{static_cast<std::int64_t>(rng() % 100), static_cast<std::int64_t>(rng())};
					v.push_back(item);
					ref.push_back(item);
				} else if (op == 5) {
					std::vector<Item> more(rng() % 5);
					for (auto &m : more)
						m = Item{static_cast<std::int64_t>(rng() % 100), 0};
					v.append(more.data(), more.data() + more.size());
					ref.insert(ref.end(), more.begin(), more.end());
				} else if (op == 6 && !ref.empty()) {
					v.pop_back();
					ref.pop_back();
				} else if (op == 7) {
					const std::size_t keep = ref.empty() ? 0 : rng() % (ref.size() + 1);
					v.truncate(keep);
					ref.resize(keep);
				} else if (op == 8 && !ref.empty()) {
					v.back().b = 42;
					ref.back().b = 42;
				} else if (op == 9) {
					v.reserve(rng() % 12);
				}
				expect_same(v, ref);
			}
			CountingResource other;
			core::SmallVector<Item, 2, 8> copy(v, &other);
			expect_same(copy, ref);
			EXPECT_EQ(other.allocations, ref.size() > 2 ? 1u : 0u);
			core::SmallVector<Item, 2, 8> moved(std::move(copy));
			expect_same(moved, ref);
		}
		EXPECT_EQ(memory.live, 0u);
	}
}

TEST(SmallVector, NoAllocationWhileInline)
{
	CountingResource memory;
	core::SmallVector<Item, 3, 12> v(&memory);
	for (std::int64_t i = 0; i < 3; i++)
		v.push_back(Item{i, i});
	v.truncate(1);
	const Item two[] = {{5, 5}, {6, 6}};
	v.append(two, two + 2);
	EXPECT_EQ(memory.allocations, 0u);
	EXPECT_EQ(v.size(), 3u);
	// The fourth element moves all of them into one allocation of the spill size.
	v.push_back(Item{7, 7});
	EXPECT_EQ(memory.allocations, 1u);
	EXPECT_EQ(memory.live, 12 * sizeof(Item));
	EXPECT_EQ(v[0], (Item{0, 0}));
	EXPECT_EQ(v[3], (Item{7, 7}));
	v.clear();
	EXPECT_TRUE(v.empty());
}
