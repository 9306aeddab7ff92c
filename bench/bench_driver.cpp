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
// usage: bench_driver QUESTIONS_FILE [--conninfo S] [--reps N] [--workers 0,2] [--jit off,on] [--only PREFIX]
#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Query {
	std::string question; // "" for the floor
	std::string variant;
	std::string sql;
	std::vector<std::vector<double>> ms; // per setting
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

	std::cout << "| question | formulation |";
	for (const auto &setting : settings)
		std::cout << " " << setting.label << " ms | × floor |";
	std::cout << "\n|---|---|";
	for (size_t i = 0; i < settings.size(); i++)
		std::cout << "---:|---:|";
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
		std::cout << "\n";
	}
	std::cout << "\nMedian of " << reps << " interleaved runs per cell, after one untimed warm-up run; ratios are to "
	          << "the scan floor of the same setting, measured in the same run.\n";
	return ok ? 0 : 1;
}
