#!/usr/bin/env python3
"""Checks that every SQL example in README.md and docs/*.md runs in a regression test.

An example is a ```sql block. It must appear, with its output, verbatim (trailing whitespace aside)
in one of the pg_regress expected outputs (expected/*.out), which `make installcheck` compares with
what the server really prints. Prints one line per example and a closing "N passed, N failed".
"""
import glob
import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def normalize(text):
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


expected = {p: normalize(open(p).read()) for p in glob.glob(os.path.join(root, "expected", "*.out"))}
passed = failed = 0
for doc in [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md"))):
    text = open(doc).read()
    for m in re.finditer(r"```sql\n(.*?)```", text, re.S):
        block = normalize(m.group(1))
        line = text.count("\n", 0, m.start()) + 1
        where = next((os.path.basename(p) for p, out in expected.items() if block in out), None)
        name = f"{os.path.relpath(doc, root)}:{line}"
        if where:
            passed += 1
            print(f"ok      {name} (expected/{where})")
        else:
            failed += 1
            print(f"FAILED  {name}: not found in any expected/*.out")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
