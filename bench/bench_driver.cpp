// Benchmark driver: runs every query of a questions file several times, interleaved, against the
// server of PG* / a conninfo, for each max_parallel_workers_per_gather setting, and prints a
// markdown table of median times and ratios to the scan floor measured in the same run.
//
// Questions file format (bench/questions.sql):
//   -- @floor                      the scan floor query (exactly one)
//   -- @question NAME | TITLE      starts a question
//   -- @variant NAME               a formulation of the current question; the first is the native one
// Every variant of a question must return the same rows: the driver checks it, so a plain-SQL
// formulation that computes something else fails the run instead of winning it.
//
// Settings: every combination of --workers (max_parallel_workers_per_gather) and --jit is one
// column pair of the table; each has its own floor.
//
// --only PREFIX[,PREFIX...] keeps the questions whose name starts with a PREFIX (the floor always runs).
//
// Peak memory (--memory on, the default; the server must run on this machine): each query once
// more, untimed, in a fresh backend at workers = 0 and JIT off, sampling the backend's anonymous
// resident memory (RssAnon of /proc/PID/status) every 2 ms; the column is the peak minus the
// backend's memory before the query: what the query's state and hash tables took.
//
// usage: bench_driver QUESTIONS_FILE [--conninfo S] [--reps N] [--workers 0,2] [--jit off,on] [--only PREFIX]
//                     [--memory on|off]
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Query {
	std::string question; // "" for the floor
	std::string variant;
	std::string sql;
	std::vector<std::vector<double>> ms; // per setting
	double peak_mb = -1;                 // peak memory at workers = 0, JIT off; -1: not measured
};

struct Setting {
	std::string label;
	std::vector<std::string> statements;
};

std::vector<std::string>
split(const std::string &v)
{
	std::vector<std::string> out;
	std::stringstream ss(v);
	std::string item;
	while (std::getline(ss, item, ','))
		out.push_back(item);
	return out;
}

struct Question {
	std::string name, title;
};

std::string
trim(const std::string &s)
{
	auto b = s.find_first_not_of(" \t\r\n");
	auto e = s.find_last_not_of(" \t\r\n");
	return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool
parse(const std::string &path, std::vector<Query> &queries, std::vector<Question> &questions)
{
	std::ifstream in(path);
	if (!in) {
		std::cerr << "cannot read " << path << "\n";
		return false;
	}
	std::string line, current_question;
	Query *q = nullptr;
	while (std::getline(in, line)) {
		if (line.rfind("-- @floor", 0) == 0) {
			queries.push_back({"", "floor", "", {}});
			q = &queries.back();
		} else if (line.rfind("-- @question ", 0) == 0) {
			std::string rest = line.substr(13);
			auto bar = rest.find('|');
			questions.push_back(
			    {trim(rest.substr(0, bar)), bar == std::string::npos ? "" : trim(rest.substr(bar + 1))});
			current_question = questions.back().name;
			q = nullptr;
		} else if (line.rfind("-- @variant ", 0) == 0) {
			queries.push_back({current_question, trim(line.substr(12)), "", {}});
			q = &queries.back();
		} else if (q != nullptr && line.rfind("--", 0) != 0) {
			q->sql += line + "\n";
		}
	}
	for (auto &x : queries) {
		x.sql = trim(x.sql);
		if (!x.sql.empty() && x.sql.back() == ';')
			x.sql.pop_back();
	}
	return !queries.empty() && queries.front().variant == "floor";
}

double
median(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	size_t n = v.size();
	return n == 0 ? 0 : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

std::string
result_text(const pqxx::result &r)
{
	std::string s;
	for (const auto &row : r) {
		for (const auto &f : row)
			s += (f.is_null() ? std::string("NULL") : f.c_str()) + std::string("|");
		s += "\n";
	}
	return s;
}

std::string
fmt(double v, int decimals)
{
	char buf[64];
	std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
	return buf;
}

// Kilobytes of anonymous resident memory of a process (RssAnon), or -1 when unreadable.
long
rss_anon_kb(const std::string &pid)
{
	std::ifstream in("/proc/" + pid + "/status");
	std::string line;
	while (std::getline(in, line))
		if (line.rfind("RssAnon:", 0) == 0)
			return std::atol(line.c_str() + 8);
	return -1;
}

// Runs sql once in a fresh backend (workers 0, JIT off) and returns its peak memory in MB above
// the backend's before the query, or -1 when the backend's /proc entry cannot be read.
double
peak_memory_mb(const std::string &conninfo, const std::string &sql)
{
	pqxx::connection c(conninfo);
	pqxx::nontransaction tx(c);
	tx.exec("SET max_parallel_workers_per_gather = 0");
	tx.exec("SET jit = off");
	const std::string pid = tx.exec("SELECT pg_backend_pid()")[0][0].c_str();
	const long base = rss_anon_kb(pid);
	if (base < 0)
		return -1;
	std::atomic<bool> done{false};
	std::atomic<long> peak{base};
	std::thread sampler([&] {
		while (!done.load()) {
			long now = rss_anon_kb(pid);
			if (now > peak.load())
				peak.store(now);
			std::this_thread::sleep_for(std::chrono::milliseconds(2));
		}
	});
	try {
		tx.exec(sql);
	} catch (...) {
		done = true;
		sampler.join();
		throw;
	}
	done = true;
	sampler.join();
	return static_cast<double>(peak.load() - base) / 1024.0;
}

} // namespace

int
main(int argc, char **argv)
{
	if (argc < 2) {
		std::cerr << "usage: bench_driver QUESTIONS_FILE [--conninfo S] [--reps N] [--workers 0,2] [--jit off,on] "
		             "[--only NAME]\n";
		return 2;
	}
	std::string conninfo, only;
	bool memory = true;
	int reps = 5;
	std::vector<std::string> workers{"0", "2"}, jit{"off"};
	for (int i = 2; i + 1 < argc; i += 2) {
		std::string a = argv[i], v = argv[i + 1];
		if (a == "--conninfo")
			conninfo = v;
		else if (a == "--reps")
			reps = std::max(1, std::atoi(v.c_str()));
		else if (a == "--only")
			only = v;
		else if (a == "--workers")
			workers = split(v);
		else if (a == "--jit")
			jit = split(v);
		else if (a == "--memory")
			memory = v != "off";
	}
	std::vector<Setting> settings;
	for (const auto &j : jit)
		for (const auto &w : workers)
			settings.push_back({"workers=" + w + (jit.size() > 1 ? " jit=" + j : ""),
			                    {"SET max_parallel_workers_per_gather = " + std::to_string(std::atoi(w.c_str())),
			                     std::string("SET jit = ") + (j == "on" ? "on" : "off")}});
	std::vector<Query> queries;
	std::vector<Question> questions;
	if (!parse(argv[1], queries, questions)) {
		std::cerr << "bad questions file: it must start with a -- @floor query\n";
		return 2;
	}
	if (!only.empty()) {
		// A comma-separated list of prefixes: a question runs when its name starts with one.
		std::vector<std::string> prefixes;
		for (std::size_t at = 0; at <= only.size();) {
			std::size_t comma = std::min(only.find(',', at), only.size());
			prefixes.push_back(only.substr(at, comma - at));
			at = comma + 1;
		}
		auto wanted = [&](const Query &q) {
			return q.question.empty() || std::any_of(prefixes.begin(), prefixes.end(),
			                                         [&](const std::string &p) { return q.question.rfind(p, 0) == 0; });
		};
		queries.erase(std::remove_if(queries.begin(), queries.end(), [&](const Query &q) { return !wanted(q); }),
		              queries.end());
	}
	for (auto &q : queries)
		q.ms.resize(settings.size());

	pqxx::connection c(conninfo);
	pqxx::nontransaction tx(c);
	bool ok = true;
	for (size_t wi = 0; wi < settings.size(); wi++) {
		for (const auto &statement : settings[wi].statements)
			tx.exec(statement);
		// Warm-up round (untimed), which also checks that the variants of a question agree.
		std::map<std::string, std::string> first_result;
		for (auto &q : queries) {
			std::string text = result_text(tx.exec(q.sql));
			if (q.question.empty())
				continue;
			auto it = first_result.find(q.question);
			if (it == first_result.end())
				first_result[q.question] = text;
			else if (it->second != text) {
				std::cerr << "MISMATCH: " << q.question << "/" << q.variant << " returned\n"
				          << text << "but the first variant returned\n"
				          << it->second;
				ok = false;
			}
		}
		for (int rep = 0; rep < reps; rep++)
			for (auto &q : queries) {
				auto t0 = std::chrono::steady_clock::now();
				tx.exec(q.sql);
				auto t1 = std::chrono::steady_clock::now();
				q.ms[wi].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
			}
		std::cerr << settings[wi].label << ": done\n";
	}
	if (memory) {
		for (auto &q : queries)
			q.peak_mb = peak_memory_mb(conninfo, q.sql);
		std::cerr << "peak memory: done\n";
	}

	std::cout << "| question | formulation |";
	for (const auto &setting : settings)
		std::cout << " " << setting.label << " ms | × floor |";
	if (memory)
		std::cout << " peak MB |";
	std::cout << "\n|---|---|";
	for (size_t i = 0; i < settings.size(); i++)
		std::cout << "---:|---:|";
	if (memory)
		std::cout << "---:|";
	std::cout << "\n";
	const Query &floor = queries.front();
	for (const auto &q : queries) {
		std::string title = q.question.empty() ? "scan floor (GROUP BY user_id, count(*))" : q.question;
		for (const auto &qq : questions)
			if (qq.name == q.question && !qq.title.empty())
				title = qq.title;
		std::cout << "| " << title << " | " << q.variant << " |";
		for (size_t wi = 0; wi < settings.size(); wi++) {
			double m = median(q.ms[wi]), f = median(floor.ms[wi]);
			std::cout << " " << fmt(m, 0) << " | " << fmt(f > 0 ? m / f : 0, 2) << " |";
		}
		if (memory)
			std::cout << " " << (q.peak_mb < 0 ? std::string("?") : fmt(q.peak_mb, 0)) << " |";
		std::cout << "\n";
	}
	std::cout << "\nMedian of " << reps << " interleaved runs per cell, after one untimed warm-up run; ratios are to "
	          << "the scan floor of the same setting, measured in the same run.";
	if (memory)
		std::cout << " Peak MB: the backend's anonymous resident memory during one more run in a fresh "
		          << "backend (workers = 0, JIT off), above its memory before the query.";
	std::cout << "\n";
	return ok ? 0 : 1;
}
