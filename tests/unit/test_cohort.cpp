// core::CohortState (cohort_period) and core::ByImage (min_by / max_by in the core format): the
// earliest start in any order and split, parameters changing within a group, serialization round
// trip and corrupt bytes.
#include "core/cohort.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace core = pg_product_analytics::core;
using core::ByImage;
using core::CalendarKey;
using core::CohortState;
using pg_product_analytics::testing::check_corruption_rejected;
using pg_product_analytics::testing::expect_error;
using pg_product_analytics::testing::serialize;

namespace {

// The glue's part in the tests: the "period start" of ts is ts rounded down to a multiple of 7.
std::int64_t
start_of(std::int64_t ts)
{
	return ts >= 0 ? ts / 7 * 7 : -((-ts + 6) / 7 * 7);
}

void
add(CohortState &s, const CalendarKey &key, std::int64_t ts)
{
	if (s.improves(key, ts))
		s.set_first(ts, start_of(ts));
}

} // namespace

TEST(Cohort, EarliestStartInAnyOrderAndSplit)
{
	std::mt19937_64 rng(71);
	const CalendarKey key{core::PeriodUnit::Week, 1234};
	for (int trial = 0; trial < 3000; trial++) {
		std::vector<std::int64_t> rows(rng() % 20);
		for (auto &t : rows)
			t = static_cast<std::int64_t>(rng() % 1000) - 500;
		std::size_t cut = rows.empty() ? 0 : rng() % (rows.size() + 1);
		CohortState a(key), b(key);
		for (std::size_t i = 0; i < rows.size(); i++)
			add(i < cut ? a : b, key, rows[i]);
		auto bytes = serialize(b);
		a.merge(CohortState::deserialize(bytes.data(), bytes.size()));
		ASSERT_EQ(a.have(), !rows.empty());
		if (!rows.empty()) {
			ASSERT_EQ(a.period_start(), start_of(*std::min_element(rows.begin(), rows.end()))) << trial;
		}
	}
}

TEST(Cohort, PeriodOrZoneChangingWithinAGroupIsAnError)
{
	CohortState s(CalendarKey{core::PeriodUnit::Day, 5});
	add(s, CalendarKey{core::PeriodUnit::Day, 5}, 10);
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.improves(CalendarKey{core::PeriodUnit::Day, 6}, 1); });
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.improves(CalendarKey{core::PeriodUnit::Week, 5}, 1); });
	// A state of another zone (a worker that saw only other rows) cannot be merged in either.
	expect_error(core::ErrorKind::InvalidArgument, [&] {
		s.merge(CohortState(CalendarKey{core::PeriodUnit::Day, 6}));
	});
}

TEST(Cohort, SerializationRoundTripAndCorruptBytes)
{
	const CalendarKey key{core::PeriodUnit::Month, 0xfeedface};
	CohortState s(key);
	add(s, key, 100);
	auto bytes = serialize(s);
	auto back = CohortState::deserialize(bytes.data(), bytes.size());
	EXPECT_EQ(serialize(back), bytes);
	check_corruption_rejected<CohortState>(bytes, [](const CohortState &) { return true; });
	auto empty = serialize(CohortState(key));
	check_corruption_rejected<CohortState>(empty, [](const CohortState &x) { return !x.have(); });
}

TEST(MinMaxBy, ImageRoundTripAndCorruptBytes)
{
	const std::uint8_t key[] = {1, 2, 3, 4, 5, 6, 7, 8};
	const std::uint8_t value[] = {'h', 'e', 'l', 'l', 'o'};
	ByImage image;
	image.largest = true;
	image.have = true;
	image.key_type = 1184;
	image.value_type = 25;
	image.collation = 100;
	image.key = key;
	image.key_size = sizeof(key);
	image.value = value;
	image.value_size = sizeof(value);
	auto bytes = serialize(image);
	auto back = ByImage::deserialize(bytes.data(), bytes.size());
	EXPECT_TRUE(back.largest && back.have && !back.value_null);
	EXPECT_EQ(back.key_type, 1184u);
	EXPECT_EQ(back.value_type, 25u);
	EXPECT_EQ(back.collation, 100u);
	ASSERT_EQ(back.key_size, sizeof(key));
	ASSERT_EQ(back.value_size, sizeof(value));
	EXPECT_TRUE(std::equal(key, key + sizeof(key), back.key));
	EXPECT_TRUE(std::equal(value, value + sizeof(value), back.value));
	EXPECT_EQ(serialize(back), bytes);
	// Whatever a corrupted blob is accepted as, its views stay inside the blob.
	check_corruption_rejected<ByImage>(bytes, [&](const ByImage &x) {
		return (!x.have || x.key_size <= bytes.size()) && (x.value_null || x.value_size <= bytes.size());
	});
	ByImage none;
	none.key_type = none.value_type = 23;
	check_corruption_rejected<ByImage>(serialize(none), [](const ByImage &x) { return !x.have || x.key_size < 64; });
}
