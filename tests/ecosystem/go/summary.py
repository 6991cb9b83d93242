#!/usr/bin/env python3
"""Read `go test -json` on stdin, print its output as `go test -v` would,
then the line "go: N passed, N failed, N skipped" over the leaf tests (a
test with subtests counts as its subtests; a package that failed outside
its tests, e.g. the build, TestMain or the broker's exit status, counts as
one failure). Exits 1 when anything failed. Used by run.sh."""
import json
import sys


def main():
    results, order, pkg_failed = {}, [], False
    for line in sys.stdin:
        try:
            ev = json.loads(line)
        except ValueError:  # build errors and the like come as plain text
            sys.stdout.write(line)
            continue
        action, test = ev.get("Action"), ev.get("Test")
        if action == "output":
            sys.stdout.write(ev.get("Output", ""))
        elif test and action in ("pass", "fail", "skip"):
            if test not in results:
                order.append(test)
            results[test] = action
        elif not test and action == "fail":
            pkg_failed = True
    leaf = [t for t in order if not any(n.startswith(t + "/") for n in results)]
    count = {a: sum(1 for t in leaf if results[t] == a) for a in ("pass", "fail", "skip")}
    if count["fail"]:
        print("go: failed: " + " ".join(t for t in leaf if results[t] == "fail"))
    elif pkg_failed or not leaf:
        count["fail"] = 1
        print("go: the package failed outside its tests (build, TestMain or the broker's exit; see above)")
    print("go: %d passed, %d failed, %d skipped" % (count["pass"], count["fail"], count["skip"]))
    return 1 if count["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
