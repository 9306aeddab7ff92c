#!/usr/bin/env python3
"""Profiles the native variants of the benchmark questions with perf (bench/profile.sh runs it).

For each question of bench/questions.sql (or those whose name starts with one of --only's
prefixes) and each of its native variants: runs the query twice in one psql session
(max_parallel_workers_per_gather = 0, JIT off) under `perf record -a`, then splits the server
backend's samples by where they fall: PostgreSQL (scan, hash aggregation, expression evaluation,
memory contexts), our extension, the C library (memcpy, memcmp, ...) and the kernel (page
faults of growing memory), and lists the top symbols. Prints one markdown table row per variant.
Needs a running server with the benchmark data (PG* environment variables) and perf.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile


def questions(path):
    """Yields (name, title, [(label, sql)]) from the @question / @variant markers."""
    name = title = None
    variants = []
    label = None
    lines = []

    def flush_variant():
        if label is not None:
            variants.append((label, "\n".join(lines).strip()))

    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            m = re.match(r"^-- @question (\S+) \| (.*)$", line)
            if m:
                flush_variant()
                if name is not None:
                    yield name, title, variants
                name, title, variants, label, lines = m.group(1), m.group(2), [], None, []
                continue
            m = re.match(r"^-- @variant (.*)$", line)
            if m:
                flush_variant()
                label, lines = m.group(1), []
                continue
            if line.startswith("-- @"):
                flush_variant()
                label, lines = None, []
                continue
            if label is not None and not line.startswith("--"):
                lines.append(line)
    flush_variant()
    if name is not None:
        yield name, title, variants


def short(symbol):
    """A demangled C++ name without template arguments, parameters or our namespace prefixes."""
    m = re.match(r"pg_product_analytics::pg::guard<pg_product_analytics::pg::transition<pg_product_analytics::core::(\w+)",
                 symbol)
    if m:  # the barrier around a transition step: the step itself, inlined
        return f"transition ({m.group(1)})"
    out, depth = [], 0
    for ch in symbol:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    text = "".join(out)
    for prefix in ("pg_product_analytics::core::", "pg_product_analytics::pg::", "pg_product_analytics::",
                   "(anonymous namespace)::"):
        text = text.replace(prefix, "")
    return text.strip() or symbol[:40]


def profile(sql, workdir):
    """Runs `sql` twice under perf; returns [(percent, dso, symbol)] of the backend's samples."""
    script = os.path.join(workdir, "query.sql")
    data = os.path.join(workdir, "perf.data")
    with open(script, "w", encoding="utf-8") as f:
        f.write("SET max_parallel_workers_per_gather = 0;\nSET jit = off;\n")
        f.write(sql.rstrip().rstrip(";") + ";\n")
        f.write(sql.rstrip().rstrip(";") + ";\n")
    subprocess.run(["perf", "record", "-a", "-F", "1999", "-o", data, "--", "psql", "-X", "-q", "-o", os.devnull,
                    "-f", script], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    report = subprocess.run(["perf", "report", "-i", data, "--comm", "postgres", "--no-children", "--sort", "dso,sym",
                             "--percentage", "relative", "--stdio", "-g", "none"],
                            check=True, capture_output=True, text=True).stdout
    rows = []
    for line in report.splitlines():
        m = re.match(r"^\s+([\d.]+)%\s+(\S+)\s+\[.\]\s+(.*)$", line)
        if m:
            rows.append((float(m.group(1)), m.group(2), m.group(3).strip()))
    return rows


def where(dso):
    if dso.startswith("pg_product_analytics"):
        return "ours"
    if dso == "postgres":
        return "postgres"
    if dso.startswith("[kernel"):
        return "kernel"
    if dso.startswith("libc") or dso.startswith("libstdc++") or dso.startswith("libm"):
        return "libc"
    return "postgres"  # other server libraries


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("questions")
    parser.add_argument("--only", default="")
    parser.add_argument("--top", type=int, default=4)
    args = parser.parse_args()
    prefixes = [p for p in args.only.split(",") if p]
    print("| question | variant | PostgreSQL | our code | C library | kernel | top of our code | top of PostgreSQL |")
    print("|---|---|---:|---:|---:|---:|---|---|")
    with tempfile.TemporaryDirectory() as workdir:
        for name, title, variants in questions(args.questions):
            if prefixes and not any(name.startswith(p) for p in prefixes):
                continue
            for label, sql in variants:
                if not label.startswith("native"):
                    continue
                rows = profile(sql, workdir)
                total = sum(r[0] for r in rows) or 1.0
                share = {"ours": 0.0, "postgres": 0.0, "kernel": 0.0, "libc": 0.0}
                for pct, dso, _ in rows:
                    share[where(dso)] += pct
                ours = [r for r in rows if where(r[1]) == "ours"][: args.top]
                pg = [r for r in rows if where(r[1]) == "postgres"][: args.top]

                def fmt(entries):
                    return ", ".join(
                        f"{short(s) if not s.startswith('0x') else 'unresolved (static executor code)'} "
                        f"{100 * p / total:.1f}%" for p, _, s in entries)

                print(f"| {title} | {label} | {100 * share['postgres'] / total:.0f}% | "
                      f"{100 * share['ours'] / total:.0f}% | {100 * share['libc'] / total:.0f}% | "
                      f"{100 * share['kernel'] / total:.0f}% | {fmt(ours)} | {fmt(pg)} |")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
