// core::RetentionState against a naive reference on random inputs, merge-split equivalence,
// serialization round trip and corrupt bytes.
#include "core/retention.hpp"
#include "state_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace core = pg_product_analytics::core;
using core::RetentionState;
using pg_product_analytics::testing::check_corruption_rejected;
using pg_product_analytics::testing::expect_error;
using pg_product_analytics::testing::serialize;

namespace {

// A row: one value per condition, 1 true, 0 false, -1 NULL (counts as false).
using Row = std::vector<int>;

std::vector<Row>
random_rows(std::mt19937_64 &rng, std::size_t conditions, std::size_t count)
{
	// A per-test density makes all-false and all-true columns both common.
	double p_true = std::uniform_real_distribution<double>(0.0, 0.3)(rng);
	std::vector<Row> rows(count, Row(conditions));
	for (auto &row : rows)
		for (auto &v : row) {
			double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
			v = u < p_true ? 1 : (u < p_true + 0.1 ? -1 : 0);
		}
	return rows;
}

std::uint64_t
mask_of(const Row &row)
{
	std::uint64_t m = 0;
	for (std::size_t i = 0; i < row.size(); i++)
		if (row[i] == 1)
			m |= std::uint64_t{1} << i;
	return m;
}

// The definition, written the obvious way.
std::vector<std::int32_t>
reference(const std::vector<Row> &rows, std::size_t conditions)
{
	auto any = [&](std::size_t k) {
		return std::any_of(rows.begin(), rows.end(), [&](const Row &r) { return r[k] == 1; });
	};
	std::vector<std::int32_t> out(conditions);
	for (std::size_t k = 0; k < conditions; k++)
		out[k] = (any(0) && any(k)) ? 1 : 0;
	return out;
}

std::vector<std::int32_t>
result_of(const RetentionState &s)
{
	std::vector<std::int32_t> out(s.conditions());
	s.result(out.data());
	return out;
}

RetentionState
state_of(const std::vector<Row> &rows, std::size_t begin, std::size_t end, std::size_t conditions)
{
	RetentionState s(conditions);
	for (std::size_t i = begin; i < end; i++)
		s.add(conditions, mask_of(rows[i]));
	return s;
}

} // namespace

TEST(Retention, MatchesReferenceOnRandomInput)
{
	std::mt19937_64 rng(1);
	for (int trial = 0; trial < 2000; trial++) {
		std::size_t n = 1 + rng() % core::kMaxConditions;
		auto rows = random_rows(rng, n, 1 + rng() % 40);
		EXPECT_EQ(result_of(state_of(rows, 0, rows.size(), n)), reference(rows, n)) << "trial " << trial;
	}
}

TEST(Retention, ClickHouseDocumentationExample)
{
	// ClickHouse docs: retention(date='2020-01-01', date='2020-01-02', date='2020-01-03') per user.
	RetentionState s(3);
	s.add(3, 0b001); // 01-01
	s.add(3, 0b100); // 01-03
	EXPECT_EQ(result_of(s), (std::vector<std::int32_t>{1, 0, 1}));
	RetentionState late(3);
	late.add(3, 0b010); // only 01-02: condition 1 never held, so nothing is retained
	EXPECT_EQ(result_of(late), (std::vector<std::int32_t>{0, 0, 0}));
}

TEST(Retention, AnySplitMergesToTheWhole)
{
	std::mt19937_64 rng(2);
	for (int trial = 0; trial < 500; trial++) {
		std::size_t n = 1 + rng() % core::kMaxConditions;
		auto rows = random_rows(rng, n, rng() % 60);
		std::shuffle(rows.begin(), rows.end(), rng);
		// Cut into random parts (some empty), merge them in random order through serialization.
		std::vector<std::size_t> cuts{0, rows.size()};
		for (int c = rng() % 6; c > 0; c--)
			cuts.push_back(rows.empty() ? 0 : rng() % (rows.size() + 1));
		std::sort(cuts.begin(), cuts.end());
		std::vector<RetentionState> parts;
		for (std::size_t i = 0; i + 1 < cuts.size(); i++)
			parts.push_back(state_of(rows, cuts[i], cuts[i + 1], n));
		std::shuffle(parts.begin(), parts.end(), rng);
		RetentionState merged(n);
		for (const auto &p : parts) {
			auto bytes = serialize(p);
			merged.merge(RetentionState::deserialize(bytes.data(), bytes.size()));
		}
		EXPECT_EQ(result_of(merged), reference(rows, n)) << "trial " << trial;
	}
}

TEST(Retention, ConditionCountIsChecked)
{
	expect_error(core::ErrorKind::InvalidArgument, [] { RetentionState s(0); });
	expect_error(core::ErrorKind::LimitExceeded, [] { RetentionState s(65); });
	RetentionState s(3);
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.add(2, 1); });
	expect_error(core::ErrorKind::InvalidArgument, [&] { s.merge(RetentionState(4)); });
}

TEST(Retention, BitsBeyondTheCountAreIgnored)
{
	RetentionState s(2);
	s.add(2, ~std::uint64_t{0});
	EXPECT_EQ(result_of(s), (std::vector<std::int32_t>{1, 1}));
	auto bytes = serialize(s);
	auto back = RetentionState::deserialize(bytes.data(), bytes.size());
	EXPECT_EQ(result_of(back), result_of(s));
}

TEST(Retention, SerializationRoundTrip)
{
	std::mt19937_64 rng(3);
	for (int trial = 0; trial < 200; trial++) {
		std::size_t n = 1 + rng() % core::kMaxConditions;
		auto rows = random_rows(rng, n, rng() % 20);
		auto s = state_of(rows, 0, rows.size(), n);
		auto bytes = serialize(s);
		ASSERT_EQ(bytes.size(), RetentionState::kSerializedSize);
		auto back = RetentionState::deserialize(bytes.data(), bytes.size());
		EXPECT_EQ(back.conditions(), n);
		EXPECT_EQ(result_of(back), result_of(s));
		EXPECT_EQ(serialize(back), bytes);
	}
}

TEST(Retention, CorruptBytesAreRejected)
{
	for (std::size_t n : {1u, 5u, 63u, 64u}) {
		RetentionState s(n);
		s.add(n, 0x5555555555555555ull);
		check_corruption_rejected<RetentionState>(serialize(s), [](const RetentionState &r) {
			// Valid: a count in range, and (through the round trip) no bit beyond it.
			if (r.conditions() < 1 || r.conditions() > core::kMaxConditions)
				return false;
			auto again = serialize(r);
			RetentionState copy = RetentionState::deserialize(again.data(), again.size());
			return copy.conditions() == r.conditions();
		});
	}
	// A count of 0 or 65, and a bit beyond the count, with an otherwise good header.
	RetentionState s(3);
	auto bytes = serialize(s);
	for (std::uint8_t bad_count : {0, 65, 255}) {
		auto b = bytes;
		b[4] = bad_count;
		expect_error(core::ErrorKind::CorruptState, [&] { RetentionState::deserialize(b.data(), b.size()); });
	}
	auto b = bytes;
	b[5] = 0x08; // bit 3 with 3 conditions
	expect_error(core::ErrorKind::CorruptState, [&] { RetentionState::deserialize(b.data(), b.size()); });
}

// retention over calendar periods: the RangeMask state (a bigint) read back as the same result as
// the written-out conditions, split anywhere and ORed; states that are not one are refused.
TEST(Retention, RangeMaskMatchesTheConditions)
{
	std::mt19937_64 rng(71);
	for (int trial = 0; trial < 3000; trial++) {
		const std::size_t periods = 1 + rng() % core::RangeMask::kMaxPeriods;
		std::vector<Row> rows(rng() % 40, Row(periods, 0));
		std::vector<std::int64_t> at(rows.size());
		for (std::size_t i = 0; i < rows.size(); i++) {
			// A row's period index from the range start: before, inside, after it.
			at[i] = static_cast<std::int64_t>(rng() % (periods + 6)) - 3;
			if (at[i] >= 0 && at[i] < static_cast<std::int64_t>(periods))
				rows[i][static_cast<std::size_t>(at[i])] = 1;
		}
		const std::size_t cut = rng() % (rows.size() + 1);
		std::uint64_t left = core::RangeMask::empty(periods), right = core::RangeMask::empty(periods);
		for (std::size_t i = 0; i < rows.size(); i++) {
			const auto k = static_cast<std::uint64_t>(at[i]);
			if (k < periods)
				(i < cut ? left : right) |= std::uint64_t{1} << k;
		}
		const std::uint64_t state = left | right;
		ASSERT_EQ(core::RangeMask::periods(state), periods);
		std::vector<std::int32_t> out(periods);
		core::retention_result(core::RangeMask::seen(state), periods, out.data());
		ASSERT_EQ(out, reference(rows, periods)) << "trial " << trial;
	}
	EXPECT_EQ(core::RangeMask::periods(0), 0u);                            // no count
	EXPECT_EQ(core::RangeMask::periods(std::uint64_t{57} << 56), 0u);      // over the limit
	EXPECT_EQ(core::RangeMask::periods((std::uint64_t{2} << 56) | 4), 0u); // a bit past the count
	EXPECT_EQ(core::RangeMask::periods(~std::uint64_t{0}), 0u);            // the sign bit
	EXPECT_EQ(core::RangeMask::periods((std::uint64_t{56} << 56) | ((std::uint64_t{1} << 56) - 1)), 56u);
}
