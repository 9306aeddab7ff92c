// core::UserLog and core::UserGroups, the report states' row store: grouping by user against a
// per-user reference on random input (stable, with the sorted flags), in slices of any budget;
// merging; serialization round trip and rejection of rows of unknown users.
#include "core/serial.hpp"
#include "core/user_map.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace core = pg_product_analytics::core;
using core::LogEntry;

namespace {

struct Row {
	std::uint32_t user;
	LogEntry entry;
	std::uint64_t extra;
};

std::vector<Row>
random_rows(std::mt19937_64 &rng, std::size_t users, std::size_t n)
{
	std::vector<Row> rows(n);
	std::int64_t clock = 0;
	for (auto &r : rows) {
		// Mostly in time order, as an append-only table gives them, with some late rows.
		clock += static_cast<std::int64_t>(rng() % 3);
		std::int64_t ts = rng() % 10 == 0 ? clock - static_cast<std::int64_t>(rng() % 20) : clock;
		r = Row{static_cast<std::uint32_t>(rng() % users), LogEntry{ts, rng() % 4}, rng()};
	}
	return rows;
}

void
expect_grouped(core::UserGroups &groups, const std::vector<Row> &rows, std::size_t users, bool extras)
{
	std::map<std::uint32_t, std::vector<Row>> want;
	for (const auto &r : rows)
		want[r.user].push_back(r);
	for (std::uint32_t u = 0; u < users; u++) {
		const auto &w = want[u];
		ASSERT_EQ(groups.count(u), w.size()) << u;
		bool sorted = true;
		for (std::size_t i = 0; i < w.size(); i++) {
			EXPECT_EQ(groups.rows(u)[i], w[i].entry) << u << " " << i;
			if (extras) {
				EXPECT_EQ(groups.extras(u)[i], w[i].extra) << u << " " << i;
			}
			if (i > 0 && w[i].entry < w[i - 1].entry)
				sorted = false;
		}
		EXPECT_EQ(groups.sorted(u), sorted) << u;
	}
}

} // namespace

TEST(UserLog, GroupsEachUsersRowsInArrivalOrderInSlices)
{
	std::mt19937_64 rng(7);
	for (int trial = 0; trial < 60; trial++) {
		const std::size_t users = 1 + rng() % 300;
		const bool extras = trial % 2 == 0;
		// Across several chunks of the log on some trials.
		auto rows = random_rows(rng, users, rng() % (trial % 5 == 0 ? 20000 : 500));
		core::UserLog log(std::pmr::new_delete_resource(), extras);
		for (const auto &r : rows)
			log.push(r.user, r.entry, r.extra);
		ASSERT_EQ(log.size(), rows.size());
		core::UserGroups groups(log, users, std::pmr::new_delete_resource());
		const std::size_t budget = 1 + rng() % 5000;
		int calls = 0;
		while (!groups.step(budget))
			calls++;
		EXPECT_LE(calls, 2 * static_cast<int>(rows.size() / core::UserLog::kChunkRows + 2));
		expect_grouped(groups, rows, users, extras);
	}
}

TEST(UserLog, MergeAppendsWithTheOtherReportsSlotsMapped)
{
	std::mt19937_64 rng(8);
	core::UserIndex a_users(core::UserKeyKind::Integer, std::pmr::new_delete_resource()),
	    b_users(core::UserKeyKind::Integer, std::pmr::new_delete_resource());
	core::UserLog a(std::pmr::new_delete_resource(), false), b(std::pmr::new_delete_resource(), false);
	std::map<std::int64_t, std::vector<LogEntry>> want; // by user id: a's rows, then b's
	for (int i = 0; i < 3000; i++) {
		const bool first = i < 1500;
		const std::int64_t id = static_cast<std::int64_t>(rng() % 100) * 1000;
		const LogEntry e{static_cast<std::int64_t>(rng() % 50), 0};
		(first ? a : b).push((first ? a_users : b_users).slot(id), e);
		want[id].push_back(e);
	}
	core::merge_user_log(a_users, a, b_users, b);
	core::UserGroups groups(a, a_users.size(), std::pmr::new_delete_resource());
	while (!groups.step(100)) {
	}
	ASSERT_EQ(a_users.size(), want.size());
	for (std::uint32_t u = 0; u < a_users.size(); u++) {
		const auto &w = want[a_users.int_key(u)];
		ASSERT_EQ(groups.count(u), w.size());
		for (std::size_t i = 0; i < w.size(); i++)
			EXPECT_EQ(groups.rows(u)[i], w[i]);
	}
}

TEST(UserLog, SerializationRoundTripAndRowsOfUnknownUsers)
{
	std::mt19937_64 rng(9);
	const std::size_t users = 40;
	auto rows = random_rows(rng, users, 2000);
	for (std::uint32_t u = 0; u < users; u++)
		rows.push_back(Row{u, LogEntry{1, 0}, 5}); // every user has a row
	core::UserLog log(std::pmr::new_delete_resource(), true);
	for (const auto &r : rows)
		log.push(r.user, r.entry, r.extra);
	std::vector<std::uint8_t> bytes(log.serialized_size());
	core::ByteWriter w(bytes.data(), bytes.size());
	log.serialize(w);
	w.finish();
	auto read = [&](const std::vector<std::uint8_t> &b, std::size_t n_users) {
		core::ByteReader r(b.data(), b.size());
		core::UserLog back(std::pmr::new_delete_resource(), true);
		back.deserialize(r, n_users, [](const LogEntry &e) { return e.payload < 4; });
		r.finish();
		return back;
	};
	core::UserLog back = read(bytes, users);
	core::UserGroups groups(back, users, std::pmr::new_delete_resource());
	while (!groups.step(1000)) {
	}
	expect_grouped(groups, rows, users, true);
	// Fewer users than the slots used, more users than have rows, a row failing `valid`, a cut.
	auto corrupt = [&](const std::vector<std::uint8_t> &b, std::size_t n_users) {
		try {
			read(b, n_users);
			ADD_FAILURE() << "accepted";
		} catch (const core::Error &e) {
			EXPECT_EQ(e.kind(), core::ErrorKind::CorruptState);
		}
	};
	corrupt(bytes, users - 1);
	corrupt(bytes, users + 1);
	auto bad = bytes;
	bad[8 + 1 + 1] = 9; // the first row's payload (after the count, a 1-byte slot and time varint)
	corrupt(bad, users);
	corrupt(std::vector<std::uint8_t>(bytes.begin(), bytes.end() - 1), users);
	// An integer not in its shortest form (the first slot as 0x80 0x00...) is refused too, so
	// every accepted state serializes back to the same bytes.
	auto overlong = std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 8);
	overlong.push_back(static_cast<std::uint8_t>(bytes[8] | 0x80));
	overlong.push_back(0);
	overlong.insert(overlong.end(), bytes.begin() + 9, bytes.end());
	corrupt(overlong, users);
	// Rows about in time order take a few bytes each, not 28.
	EXPECT_LT(bytes.size(), 8 + rows.size() * (3 + 2 + 8));
}

TEST(UserIndex, SlotsAreFirstAppearanceOrderWhateverTheIdRange)
{
	// Small ids (the direct array), large and negative ones (the hash map), and ids the direct
	// array comes to cover as the users grow (moved out of the map): one slot per id, in order of
	// first appearance, through serialization too.
	std::mt19937_64 rng(10);
	for (int trial = 0; trial < 20; trial++) {
		core::UserIndex index(core::UserKeyKind::Integer, std::pmr::new_delete_resource());
		std::map<std::int64_t, std::uint32_t> want;
		std::vector<std::int64_t> order;
		const int n = 1 + static_cast<int>(rng() % 60000);
		for (int i = 0; i < n; i++) {
			std::int64_t id;
			switch (rng() % 4) {
			case 0:
				id = static_cast<std::int64_t>(rng() % 1000);
				break;
			case 1:
				id = static_cast<std::int64_t>(rng() % (std::uint64_t{1} << (10 + trial)));
				break;
			case 2:
				id = -static_cast<std::int64_t>(rng() % 100000);
				break;
			default:
				id = static_cast<std::int64_t>(rng() >> 1);
				break;
			}
			auto it = want.find(id);
			const std::uint32_t got = index.slot(id);
			if (it == want.end()) {
				EXPECT_EQ(got, order.size());
				want[id] = got;
				order.push_back(id);
			} else {
				EXPECT_EQ(got, it->second) << id;
			}
		}
		ASSERT_EQ(index.size(), order.size());
		for (std::uint32_t s = 0; s < order.size(); s++) {
			EXPECT_EQ(index.int_key(s), order[s]);
			EXPECT_EQ(index.slot(order[s]), s);
		}
		std::vector<std::uint8_t> bytes(index.serialized_size());
		core::ByteWriter w(bytes.data(), bytes.size());
		index.serialize(w);
		core::ByteReader r(bytes.data(), bytes.size());
		core::UserIndex back(core::UserKeyKind::Integer, std::pmr::new_delete_resource());
		back.deserialize(r);
		for (std::uint32_t s = 0; s < order.size(); s++)
			EXPECT_EQ(back.slot(order[s]), s);
	}
}

TEST(UserRows, BatchedLookupsKeepArrivalOrderAndReadsBeforeFlushAreRefused)
{
	// Integer ids are looked up kRows at a time: after flush() the users, their slots and the
	// rows are exactly those of one lookup per row; reading before is Internal, never stale.
	std::mt19937_64 rng(11);
	for (int trial = 0; trial < 50; trial++) {
		core::UserRows rows(core::UserKeyKind::Integer, std::pmr::new_delete_resource());
		core::UserIndex want_users(core::UserKeyKind::Integer, std::pmr::new_delete_resource());
		core::UserLog want_log(std::pmr::new_delete_resource(), false);
		const std::size_t n = rng() % 100;
		for (std::size_t i = 0; i < n; i++) {
			const std::int64_t id =
			    rng() % 3 == 0 ? static_cast<std::int64_t>(rng() >> 1) : static_cast<std::int64_t>(rng() % 40);
			const LogEntry e{static_cast<std::int64_t>(rng() % 100), rng() % 7};
			rows.add(id, e);
			want_log.push(want_users.slot(id), e);
		}
		EXPECT_EQ(rows.settled(), n % core::UserBatch<LogEntry>::kRows == 0);
		if (!rows.settled()) {
			try {
				(void)rows.users();
				ADD_FAILURE() << "read before flush";
			} catch (const core::Error &e) {
				EXPECT_EQ(e.kind(), core::ErrorKind::Internal);
			}
		}
		rows.flush();
		ASSERT_EQ(rows.users(), want_users.size());
		std::vector<std::uint8_t> got(rows.serialized_size()),
		    want(want_users.serialized_size() + want_log.serialized_size());
		core::ByteWriter gw(got.data(), got.size()), ww(want.data(), want.size());
		rows.serialize(gw);
		want_users.serialize(ww);
		want_log.serialize(ww);
		EXPECT_EQ(got, want) << trial;
	}
}
