// libFuzzer targets: every deserializer of an aggregate state and every text parser of the core.
// One source, one binary per target: PPA_FUZZ_TARGET names the target (scripts/fuzz.sh builds
// them with clang++ -fsanitize=fuzzer,address,undefined). Properties checked on every input:
//  - a deserializer either throws core::Error of kind CorruptState or returns a state that
//    serializes back to exactly the input bytes, and that the state's own algorithms (merge,
//    sort, evaluate, result) accept without any other failure;
//  - a text parser either throws InvalidArgument or returns a value within its domain.
// Built with PPA_FUZZ_SEEDS instead, the same file is a program that writes valid
// serializations and texts as the seed corpus of each target.
#include "core/retention.hpp"
#include "core/cohort.hpp"
#include "core/error.hpp"
#include "core/funnel.hpp"
#include "core/period.hpp"
#include "core/sequence.hpp"
#include "core/session.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

namespace core = pg_product_analytics::core;

namespace {

using Bytes = std::vector<std::uint8_t>;

template <class State>
Bytes
bytes_of(const State &s)
{
	Bytes b(s.serialized_size());
	s.serialize(b.data(), b.size());
	return b;
}

void
require(bool ok, const char *what)
{
	if (!ok) {
		std::fprintf(stderr, "fuzz property violated: %s\n", what);
		std::abort();
	}
}

void
require_round_trip(const Bytes &again, const std::uint8_t *data, std::size_t size)
{
	require(again.size() == size && (size == 0 || std::memcmp(again.data(), data, size) == 0),
	        "a state does not serialize back to the bytes it was read from");
}

// Runs `f`; a core::Error must be of kind `expected` (anything else escapes and is a finding).
template <class F>
void
expect_only(core::ErrorKind expected, F f)
{
	try {
		f();
	} catch (const core::Error &e) {
		require(e.kind() == expected, "an error of an unexpected kind");
	}
}

std::pmr::memory_resource *
heap()
{
	return std::pmr::new_delete_resource();
}

void
fuzz_retention(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::RetentionState::deserialize(data, size);
		require_round_trip(bytes_of(s), data, size);
		std::int32_t out[core::kMaxConditions];
		s.result(out);
		s.merge(s);
	});
}

void
fuzz_funnel(const std::uint8_t *data, std::size_t size)
{
	bool ok = false;
	core::FunnelState s(core::FunnelOptions{0, 0, 1}, heap());
	expect_only(core::ErrorKind::CorruptState, [&] {
		s = core::FunnelState::deserialize(data, size, heap());
		ok = true;
	});
	if (!ok)
		return;
	require_round_trip(bytes_of(s), data, size);
	while (!s.sort_step(64)) {
	}
	for (bool track : {false, true}) {
		core::FunnelEvaluator ev(s.options(), track, heap());
		std::size_t pos = 0;
		while (!ev.done())
			pos = ev.process(s.events().data(), s.events().size(), pos, 1 + size % 97);
		std::int64_t chain[core::kMaxConditions];
		require(ev.chain(chain) <= s.options().steps && ev.level() <= s.options().steps, "level beyond the steps");
	}
	core::FunnelState copy(s, heap());
	copy.merge(s);
}

void
fuzz_session_stats(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::SessionStatsState::deserialize(data, size, heap());
		require_round_trip(bytes_of(s), data, size);
		while (!s.sort_step(64)) {
		}
		core::SessionStatsState copy(s, heap());
		copy.merge(s); // every session and row twice
		core::SessionStatsReader reader(s);
		try {
			while (!reader.step(50)) {
			}
			reader.result();
		} catch (const core::Error &e) {
			require(e.kind() == core::ErrorKind::OutOfRange, "session result failed other than out of range");
		}
	});
}

void
fuzz_period_retention(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::PeriodRetentionState::deserialize(data, size, heap());
		require_round_trip(bytes_of(s), data, size);
		auto r = s.result();
		require(!r.in_cohort || r.values.size() <= core::kMaxRetentionPeriods + 1, "too many result values");
		core::PeriodRetentionState copy(s, heap());
		copy.merge(s);
		copy.result();
		// Rows from the input's bytes (the bit mask of returns after the first start, the listed
		// returns, merging both): times and periods in the ranges the glue gives (timestamps
		// within PostgreSQL's range, their calendar periods, consistent with each other). One
		// state of all rows, and the rows split in two and merged either way, agree; the
		// deserialized state merges with them without error.
		const core::PeriodRetentionOptions &o = s.options();
		core::PeriodRetentionState all(o, heap()), a(o, heap()), b(o, heap());
		const std::size_t cut = size / 2;
		for (std::size_t i = 0; i + 5 <= size; i += 5) {
			std::int32_t v;
			std::memcpy(&v, data + i, 4);
			const std::int64_t ts = static_cast<std::int64_t>(v) * 1000;
			const std::int64_t period = o.rolling ? 0 : static_cast<std::int64_t>(v >> 12);
			const bool is_start = (data[i + 4] & 1) != 0, is_return = (data[i + 4] & 2) != 0;
			all.add(o, ts, period, is_start, is_return);
			(i < cut ? a : b).add(o, ts, period, is_start, is_return);
		}
		core::PeriodRetentionState ab(a, heap()), ba(b, heap());
		ab.merge(b);
		ba.merge(a);
		const auto want = all.result();
		require(ab.result().in_cohort == want.in_cohort && ab.result().values == want.values, "merge a + b");
		require(ba.result().in_cohort == want.in_cohort && ba.result().values == want.values, "merge b + a");
		const Bytes bytes = bytes_of(all);
		auto back = core::PeriodRetentionState::deserialize(bytes.data(), bytes.size(), heap());
		require(back.result().values == want.values, "round trip of added rows");
		copy.merge(all);
		copy.result();
	});
}

void
fuzz_lifecycle(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::LifecycleState::deserialize(data, size);
		require_round_trip(bytes_of(s), data, size);
		for (std::size_t k = 0; k < s.range().count; k++)
			require(static_cast<int>(s.status(k)) <= static_cast<int>(core::LifecycleStatus::Dormant), "bad status");
		s.merge(s);
	});
}

void
fuzz_active_periods(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::ActivePeriodsState::deserialize(data, size, heap());
		require_round_trip(bytes_of(s), data, size);
		core::ActivePeriodsState copy(s, heap());
		copy.merge(s);
		while (!copy.sort_step(64)) {
		}
		require(copy.count() >= 0, "negative count");
	});
}

void
fuzz_cohort(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::CohortState::deserialize(data, size);
		require_round_trip(bytes_of(s), data, size);
		s.merge(s);
	});
}

void
fuzz_min_max_by(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto image = core::ByImage::deserialize(data, size);
		auto inside = [&](const std::uint8_t *p, std::size_t n) {
			return p == nullptr || (p >= data && n <= size && p + n <= data + size);
		};
		require(inside(image.key, image.key_size) && inside(image.value, image.value_size), "view outside the input");
		require_round_trip(bytes_of(image), data, size);
	});
}

void
fuzz_funnel_report(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::FunnelReportState::deserialize(data, size, heap());
		require_round_trip(bytes_of(s), data, size);
		core::FunnelReportBuilder b(s, heap());
		while (!b.step(1 + size % 61)) {
		}
		require(b.result().size() == s.options().steps, "one row per step");
		core::FunnelReportState copy(s, heap());
		copy.merge(s);
	});
}

void
fuzz_active_users(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::ActiveUsersState::deserialize(data, size, heap());
		require_round_trip(bytes_of(s), data, size);
		try {
			core::ActiveUsersBuilder b(s, heap());
			while (!b.step(1 + size % 61)) {
			}
			b.result();
		} catch (const core::Error &e) {
			require(e.kind() == core::ErrorKind::LimitExceeded, "only a span beyond the limit may fail");
		}
		core::ActiveUsersState copy(s, heap());
		copy.merge(s);
	});
}

void
fuzz_lifecycle_report(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::LifecycleReportState::deserialize(data, size, heap());
		require_round_trip(bytes_of(s), data, size);
		core::LifecycleReportBuilder b(s, heap());
		while (!b.step(1 + size % 13)) {
		}
		require(b.result().size() == s.range().count, "one row per period");
		core::LifecycleReportState copy(s, heap());
		copy.merge(s);
	});
}

void
fuzz_session_report(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::SessionReportState::deserialize(data, size, heap());
		require_round_trip(bytes_of(s), data, size);
		core::SessionReportBuilder b(s, heap());
		while (!b.step(1 + size % 13)) {
		}
		try {
			b.result();
		} catch (const core::Error &e) {
			require(e.kind() == core::ErrorKind::OutOfRange, "session report failed other than out of range");
		}
		core::SessionReportState copy(s, heap());
		copy.merge(s);
	});
}

void
fuzz_retention_report(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::RetentionReportState::deserialize(data, size, heap());
		require_round_trip(bytes_of(s), data, size);
		core::RetentionReportBuilder b(s, heap());
		while (!b.step(1 + size % 13)) {
		}
		b.result();
		core::RetentionReportState copy(s, heap());
		copy.merge(s);
	});
}

void
fuzz_funnel_modes(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::InvalidArgument, [&] {
		std::uint32_t modes = core::parse_funnel_modes(std::string_view(reinterpret_cast<const char *>(data), size));
		core::check_funnel_options(core::FunnelOptions{0, modes, 1}); // whatever parses is valid
	});
}

void
fuzz_period_unit(const std::uint8_t *data, std::size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	core::looks_like_interval(text);
	expect_only(core::ErrorKind::InvalidArgument, [&] {
		auto unit = core::parse_period_unit(text);
		require(unit >= core::PeriodUnit::Day && unit <= core::PeriodUnit::Year, "unit out of range");
	});
}

void
fuzz_sequence(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::SequenceState::deserialize(data, size, heap());
		require_round_trip(bytes_of(s), data, size);
		while (!s.sort_step(64)) {
		}
		const auto &e = s.events();
		for (auto q : {core::SequenceQuestion::Match, core::SequenceQuestion::Count, core::SequenceQuestion::Events}) {
			core::SequenceEvaluator ev(s.pattern(), q, e.data(), e.size(), heap());
			while (!ev.step(1 + size % 97)) {
			}
			require(ev.matches() <= e.size() && ev.chain().size() <= s.pattern().elements, "answer beyond the input");
		}
		core::SequenceState copy(s, heap());
		copy.merge(s);
	});
}

void
fuzz_funnel_options(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::FunnelSpecState::deserialize(data, size, heap());
		require_round_trip(bytes_of(s), data, size);
		while (!s.sort_step(64)) {
		}
		const auto &e = s.events();
		const bool track = s.options().order != core::StepOrder::Any;
		core::FunnelPathEvaluator ev(s.options(), track, heap());
		std::size_t pos = 0;
		while (!ev.done())
			pos = ev.process(e.data(), e.size(), pos, 1 + size % 97);
		std::int64_t chain[core::kMaxConditions];
		const std::size_t n = ev.chain(chain);
		require(ev.level() >= -1 && ev.level() <= static_cast<int>(s.options().steps), "level beyond the steps");
		require(n == 0 || static_cast<int>(n) == ev.level(), "chain of another length");
		for (std::size_t i = 1; i < n; i++)
			require(chain[i - 1] <= chain[i], "chain out of order");
		core::FunnelSpecState copy(s, heap());
		copy.merge(s);
	});
}

void
fuzz_funnel_options_report(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::FunnelSpecReportState::deserialize(data, size, heap());
		require_round_trip(bytes_of(s), data, size);
		core::FunnelSpecReportBuilder report(s, heap());
		while (!report.step(1 + size % 61)) {
		}
		require(report.tally().rows().size() == s.options().steps, "one row per step");
		core::FunnelBreakdownBuilder breakdown(s, heap());
		while (!breakdown.step(1 + size % 53)) {
		}
		breakdown.result();
		if (s.options().order != core::StepOrder::Any) {
			core::FunnelTrendBuilder trend(s, heap());
			while (!trend.step(1 + size % 47)) {
			}
		}
		core::FunnelSpecReportState copy(s, heap());
		copy.merge(s);
	});
}

void
fuzz_next_node(const std::uint8_t *data, std::size_t size)
{
	expect_only(core::ErrorKind::CorruptState, [&] {
		auto s = core::NextNodeState::deserialize(data, size, heap());
		require_round_trip(bytes_of(s), data, size);
		core::NextNodeFinder f(s, heap());
		while (!f.step(1 + size % 13)) {
		}
		core::NextNodeFinder whole(s, heap());
		while (!whole.step(size + 1)) {
		}
		require(f.found() == whole.found() && f.value() == whole.value(), "the answer depends on the slices");
		core::NextNodeState copy(s, heap());
		copy.merge(s);
		core::NextNodeFinder g(copy, heap());
		while (!g.step(64)) {
		}
	});
}

// The parser either rejects (InvalidArgument, LimitExceeded) or returns a pattern that a state
// carries through serialization unchanged.
void
fuzz_sequence_pattern(const std::uint8_t *data, std::size_t size)
{
	std::string_view text(reinterpret_cast<const char *>(data), size);
	for (bool integer_time : {false, true}) {
		try {
			const core::SequencePattern p = core::parse_sequence_pattern(text, integer_time);
			core::SequenceState s(p, true, core::kMaxConditions, heap());
			const Bytes b = bytes_of(s);
			auto back = core::SequenceState::deserialize(b.data(), b.size(), heap());
			require(back.pattern() == p, "a parsed pattern does not survive serialization");
		} catch (const core::Error &e) {
			require(e.kind() == core::ErrorKind::InvalidArgument || e.kind() == core::ErrorKind::LimitExceeded,
			        "the pattern parser failed with an unexpected kind");
		}
	}
}

// ---- seeds: valid serializations and texts -------------------------------------------------------

std::vector<Bytes>
seeds(const std::string &target)
{
	std::vector<Bytes> out;
	auto text = [&](const char *t) { out.emplace_back(t, t + std::strlen(t)); };
	if (target == "retention") {
		core::RetentionState s(3);
		s.add(3, 5);
		out.push_back(bytes_of(s));
	} else if (target == "funnel") {
		for (std::uint32_t modes : {0u, 1u, 3u, 8u, 9u, 17u}) {
			core::FunnelState s(core::FunnelOptions{10, modes, 4}, heap());
			for (std::int64_t t : {1, 1, 2, 5, 5, 5, 9})
				s.add(core::FunnelOptions{10, modes, 4}, t, static_cast<std::uint64_t>(t % 16));
			out.push_back(bytes_of(s));
		}
	} else if (target == "session_stats") {
		core::SessionOptions o;
		o.gap = 5;
		o.split_days = true;
		o.day_zone = 77;
		core::SessionStatsState s(o, true, heap());
		for (std::int64_t t : {1, 3, 20, 21, 40})
			s.add(o, t, t == 21, static_cast<std::int32_t>(t / 10));
		out.push_back(bytes_of(s));
		core::SessionOptions gap_only;
		gap_only.gap = 5;
		core::SessionStatsState spans(gap_only, false, heap());
		for (std::int64_t t : {10, 12, 30, 31, 50, 4, 1})
			spans.add(gap_only, t, false, 0);
		out.push_back(bytes_of(spans));
	} else if (target == "period_retention") {
		for (bool rolling : {false, true}) {
			core::PeriodRetentionOptions o;
			o.rolling = rolling;
			o.length = rolling ? 7 : 0;
			o.periods = 4;
			o.on_or_after = true;
			o.calendar = core::CalendarKey{core::PeriodUnit::Week, rolling ? 0u : 99u};
			core::PeriodRetentionState s(o, heap());
			for (std::int64_t t : {3, 10, 12, 30, 100})
				s.add(o, t, t / 7, t == 3, true);
			out.push_back(bytes_of(s));
		}
	} else if (target == "lifecycle") {
		core::LifecycleRange range{10, 6, core::CalendarKey{core::PeriodUnit::Month, 5}};
		core::LifecycleState s(range);
		for (std::int64_t p : {8, 10, 11, 14})
			s.add(range, p);
		out.push_back(bytes_of(s));
	} else if (target == "active_periods") {
		core::CalendarKey key{core::PeriodUnit::Day, 3};
		core::ActivePeriodsState s(key, heap());
		for (std::int64_t p : {5, 3, 5, 9})
			s.add(key, p);
		out.push_back(bytes_of(s));
	} else if (target == "cohort") {
		core::CalendarKey key{core::PeriodUnit::Week, 12};
		core::CohortState s(key);
		out.push_back(bytes_of(s));
		s.set_first(100, 98);
		out.push_back(bytes_of(s));
	} else if (target == "min_max_by") {
		const std::uint8_t key[8] = {1, 0, 0, 0, 0, 0, 0, 0};
		const std::uint8_t value[9] = {0x12, 'a', 'b', 'c', 'd'};
		core::ByImage image;
		image.have = true;
		image.key_type = 20;
		image.value_type = 25;
		image.collation = 100;
		image.key = key;
		image.key_size = 8;
		image.value = value;
		image.value_size = 5;
		out.push_back(bytes_of(image));
	} else if (target == "funnel_report") {
		core::FunnelOptions o{10, 9, 3};
		for (auto kind : {core::UserKeyKind::Integer, core::UserKeyKind::Bytes}) {
			core::FunnelReportState s(o, kind, heap());
			for (std::int64_t t : {1, 2, 2, 5, 3, 8}) {
				if (kind == core::UserKeyKind::Integer)
					s.add(o, t % 3, t, static_cast<std::uint64_t>(1 + t % 7));
				else
					s.add(o, std::string_view(t % 2 ? "alice" : "bob"), t, static_cast<std::uint64_t>(1 + t % 7));
			}
			s.flush();
			out.push_back(bytes_of(s));
		}
	} else if (target == "active_users") {
		core::ActiveUsersOptions o;
		o.calendar = core::CalendarKey{core::PeriodUnit::Day, 5};
		o.windows = 2;
		o.window[0] = 1;
		o.window[1] = 7;
		core::ActiveUsersState s(o, core::UserKeyKind::Integer, "UTC", heap());
		for (std::int64_t p : {3, 1, 4, 1, 5, 9, 2, 6})
			s.add(o, p % 3, p);
		out.push_back(bytes_of(s));
	} else if (target == "lifecycle_report") {
		core::LifecycleRange range{10, 6, core::CalendarKey{core::PeriodUnit::Week, 5}};
		core::LifecycleReportState s(range, core::UserKeyKind::Integer, "Europe/Berlin", heap());
		for (std::int64_t p : {8, 10, 11, 14, 9})
			s.add(range, p % 3, p);
		out.push_back(bytes_of(s));
	} else if (target == "session_report") {
		core::SessionOptions o;
		o.gap = 5;
		o.split_days = true;
		o.day_zone = 77;
		core::SessionReportState s(o, core::UserKeyKind::Integer, heap());
		for (std::int64_t t : {1, 3, 20, 21, 40, 2})
			s.add(o, t % 2, t, t == 21, static_cast<std::int32_t>(t / 10));
		s.flush();
		out.push_back(bytes_of(s));
	} else if (target == "retention_report") {
		core::PeriodRetentionOptions o;
		o.periods = 4;
		o.on_or_after = true;
		o.has_as_of = true;
		o.as_of = 3;
		o.calendar = core::CalendarKey{core::PeriodUnit::Week, 99};
		core::RetentionReportState s(o, core::UserKeyKind::Integer, "UTC", heap());
		for (std::int64_t t : {3, 10, 12, 30, 100, 4})
			s.add(o, t % 2, t, t / 7, t % 3 == 0, true);
		out.push_back(bytes_of(s));
		// Rolling periods with a value column.
		o.rolling = true;
		o.length = 7;
		o.as_of = 50;
		o.calendar.unit = core::PeriodUnit::Day;
		const core::RetentionReportOptions valued(o, true);
		core::RetentionReportState v(valued, core::UserKeyKind::Integer, "UTC", heap());
		for (std::int64_t t : {3, 10, 12, 30, 100, 4})
			v.add(valued, t % 2, t, t, t % 3 == 0, t % 2 == 0, static_cast<double>(t) / 4);
		out.push_back(bytes_of(v));
	} else if (target == "sequence") {
		for (const char *pattern : {"(?1).*(?t<=600)(?2)", "(?1)(?2).(?t>=3)(?t<9)(?1)", "", ".*(?2)(?1)(?t==2)"}) {
			const core::SequencePattern p = core::parse_sequence_pattern(pattern, true);
			core::SequenceState s(p, true, 3, heap());
			for (std::int64_t t : {5, 1, 2, 2, 9, 700, 3})
				s.add(p, 3, t, static_cast<std::uint64_t>(t % 8));
			out.push_back(bytes_of(s));
		}
	} else if (target == "next_node") {
		for (int base = 0; base < 4; base++) {
			core::NextNodeOptions o{static_cast<core::NextDirection>(base % 2), static_cast<core::NextBase>(base), 2};
			core::NextNodeState s(o, heap());
			for (std::int64_t t : {5, 1, 2, 2, 9, 7, 3})
				s.add(o, t, t % 2 ? "signup" : "view", t % 3 != 0, static_cast<std::uint64_t>(t % 4));
			out.push_back(bytes_of(s));
		}
	} else if (target == "funnel_options" || target == "funnel_options_report") {
		for (int k = 0; k < 3; k++) {
			core::FunnelSpec spec;
			spec.steps = 3;
			spec.window = 50;
			spec.order = static_cast<core::StepOrder>(k);
			if (k != 2) {
				spec.step_window[0] = 10;
				spec.exclusions = 1;
				spec.exclude_from[0] = 1;
				spec.exclude_to[0] = 3;
				spec.rule = static_cast<core::ExclusionRule>(k);
			}
			if (target == "funnel_options") {
				core::FunnelSpecState st(spec, false, heap());
				for (std::int64_t t : {5, 1, 2, 2, 9, 30, 3})
					st.add(spec, t, static_cast<std::uint64_t>(t % 9));
				out.push_back(bytes_of(st));
			} else {
				if (k == 1) {
					spec.control = core::control_hash("b");
					spec.attribution = core::Attribution::Step;
					spec.attribution_step = 2;
				}
				const std::string_view control("b"), a("a"), b("b");
				const core::CalendarKey trend{core::PeriodUnit::Week, 7};
				core::FunnelSpecReportState st(spec, false, k != 2, k == 1 ? &control : nullptr, &trend, "UTC",
				                               core::UserKeyKind::Integer, heap());
				for (std::int64_t t : {5, 1, 2, 2, 9, 30, 3})
					st.add(spec, t % 3, t, static_cast<std::uint64_t>(t % 9), t % 2 ? &a : &b);
				st.flush();
				out.push_back(bytes_of(st));
			}
		}
	} else if (target == "sequence_pattern") {
		text("(?1).*(?t<=600)(?2)");
		text(" (?1) . .* (? t >= 1.5) (?t<2) (?64)");
		text("(?1)(?t==0.000001)(?2)(?t>99999)");
	} else if (target == "funnel_modes") {
		text("strict_order, allow_reentry");
		text("strict_once,strict_increase");
		text("strict_deduplication");
	} else if (target == "period_unit") {
		text("week");
		text("Months");
		text("7 days");
	}
	return out;
}

} // namespace

#define PPA_STRINGIFY2(x) #x
#define PPA_STRINGIFY(x) PPA_STRINGIFY2(x)
#define PPA_CONCAT2(a, b) a##b
#define PPA_CONCAT(a, b) PPA_CONCAT2(a, b)

#ifdef PPA_FUZZ_SEEDS
// Writes the seeds of target argv[1] into directory argv[2].
int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int n = 0;
	for (const auto &seed : seeds(argv[1])) {
		std::string path = std::string(argv[2]) + "/seed-" + std::to_string(n++);
		FILE *f = std::fopen(path.c_str(), "wb");
		if (f == nullptr)
			return 1;
		std::fwrite(seed.data(), 1, seed.size(), f);
		std::fclose(f);
	}
	return n > 0 ? 0 : 1;
}
#else
extern "C" int
LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	PPA_CONCAT(fuzz_, PPA_FUZZ_TARGET)(data, size);
	return 0;
}
#endif
