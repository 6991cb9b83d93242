#!/usr/bin/env python3
"""Read `go test -json` on stdin, print its output as `go test -v` would,
then the line "go: N passed, N failed, N skipped" over the leaf tests (a
test with subtests counts as its subtests; a package that failed outside
its tests, e.g. the build, TestMain or the broker's exit status, counts as
one failure). Exits 1 when anything failed. Used by run.sh.

A failed test's compatibility lines ($SAMSA_COMPAT_DIR/go.jsonl, written by
the tests with a generic reason) get the test's first failure message as
their reason."""
import json
import os
import re
import sys

FAIL_LINE = re.compile(r"^\s+(\w+_test\.go:\d+: .*)")


def add_reasons(path, first_error):
    """Put each failed test's first error message into its compat lines."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return
    out = []
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            out.append(line)
            continue
        if rec.get("result") == "fail" and rec.get("test") in first_error:
            rec["reason"] = first_error[rec["test"]][:300]
        out.append(json.dumps(rec, sort_keys=True))
    with open(path, "w") as f:
        f.write("\n".join(out) + ("\n" if out else ""))


def main():
    results, order, pkg_failed, first_error = {}, [], False, {}
    for line in sys.stdin:
        try:
            ev = json.loads(line)
        except ValueError:  # build errors and the like come as plain text
            sys.stdout.write(line)
            continue
        action, test = ev.get("Action"), ev.get("Test")
        if action == "output":
            text = ev.get("Output", "")
            sys.stdout.write(text)
            m = FAIL_LINE.match(text)
            if test and m and test not in first_error:
                first_error[test] = m.group(1).strip()
        elif test and action in ("pass", "fail", "skip"):
            if test not in results:
                order.append(test)
            results[test] = action
        elif not test and action == "fail":
            pkg_failed = True
    leaf = [t for t in order if not any(n.startswith(t + "/") for n in results)]
    count = {a: sum(1 for t in leaf if results[t] == a) for a in ("pass", "fail", "skip")}
    if count["fail"] and os.environ.get("SAMSA_COMPAT_DIR"):
        failed = {t: first_error.get(t, "") for t in leaf if results[t] == "fail" and first_error.get(t)}
        add_reasons(os.path.join(os.environ["SAMSA_COMPAT_DIR"], "go.jsonl"), failed)
    if count["fail"]:
        print("go: failed: " + " ".join(t for t in leaf if results[t] == "fail"))
    elif pkg_failed or not leaf:
        count["fail"] = 1
        print("go: the package failed outside its tests (build, TestMain or the broker's exit; see above)")
    print("go: %d passed, %d failed, %d skipped" % (count["pass"], count["fail"], count["skip"]))
    return 1 if count["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
