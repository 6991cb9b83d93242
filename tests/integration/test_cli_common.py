"""The `samsa` CLI: shared helpers (imported by the other test_cli_*.py files)
and the tests that need no data: help, usage errors, exit codes, global
options, a broker that is down, and docs that match `--help`.

Binary: $SAMSA_CLI, else build/samsa. Every test that needs a cluster starts
its own broker through conftest's broker_factory.
"""

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, free_port, port_open

CLI_BIN = os.path.abspath(os.environ.get("SAMSA_CLI") or ROOT / "build" / "samsa")

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_UNREACH, EXIT_NOTFOUND, EXIT_INTR = 0, 1, 2, 3, 4, 130

# Every leaf command, as argv words (the tree in `samsa --help`).
LEAVES = [
    ["cluster", "info"],
    ["topic", "create"], ["topic", "list"], ["topic", "describe"], ["topic", "delete"],
    ["topic", "alter-config"], ["topic", "add-partitions"],
    ["produce"], ["consume"],
    ["group", "list"], ["group", "describe"], ["group", "reset-offsets"], ["group", "delete"],
    ["txn", "list"], ["txn", "describe"],
    ["perf", "produce"], ["perf", "consume"], ["perf", "e2e"],
    ["user", "create"], ["user", "delete"], ["user", "list"],
    ["quota", "set"], ["quota", "list"], ["quota", "delete"],
    ["acl", "create"], ["acl", "list"], ["acl", "delete"],
]
GROUPS = [["cluster"], ["topic"], ["group"], ["txn"], ["perf"], ["user"], ["quota"], ["acl"]]


class Result:
    def __init__(self, argv, rc, out, err, elapsed):
        self.argv, self.rc, self.out, self.err, self.elapsed = argv, rc, out, err, elapsed

    def json(self):
        return json.loads(self.out)

    def json_lines(self):
        return [json.loads(ln) for ln in self.out.splitlines() if ln.strip()]

    def __repr__(self):
        return (f"<samsa {' '.join(self.argv[1:])} rc={self.rc} {self.elapsed:.2f}s\n"
                f"--- stdout\n{self.out[-3000:]}\n--- stderr\n{self.err[-3000:]}>")


def cli_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k != "SAMSA_BROKERS"}
    env.update(extra or {})
    return env


def run_cli(args, brokers=None, input=None, timeout=60, env=None, binary_input=False):
    argv = [CLI_BIN] + (["-b", brokers] if brokers else []) + [str(a) for a in args]
    t0 = time.monotonic()
    try:
        cp = subprocess.run(argv, input=input if binary_input or input is None else input.encode(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                            env=env or cli_env(),
                            stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"samsa {' '.join(argv[1:])} did not finish within {timeout}s\n"
                             f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}")
    return Result(argv, cp.returncode, cp.stdout.decode(errors="replace"),
                  cp.stderr.decode(errors="replace"), time.monotonic() - t0)


class Cli:
    """run_cli bound to one broker."""

    def __init__(self, broker):
        self.broker = broker
        self.bs = broker.bootstrap

    def __call__(self, *args, **kw):
        return run_cli(list(args), brokers=self.bs, **kw)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.rc == 0, r
        return r


@pytest.fixture
def cli(broker):
    assert os.access(CLI_BIN, os.X_OK), f"CLI binary {CLI_BIN} missing: run make (or set SAMSA_CLI)"
    return Cli(broker)


def one_line_error(r, *needles):
    """stderr is exactly one line and mentions every needle."""
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one error line, got {len(lines)}: {r}"
    for n in needles:
        assert n in lines[0], f"{n!r} not in {lines[0]!r}"
    return lines[0]


# --- help ---------------------------------------------------------------------------

@pytest.fixture(autouse=True, scope="module")
def _binary_present():
    assert os.access(CLI_BIN, os.X_OK), f"CLI binary {CLI_BIN} missing: run make (or set SAMSA_CLI)"


def test_root_help_lists_every_command_and_exit_codes():
    r = run_cli(["--help"])
    assert r.rc == 0, r
    for leaf in LEAVES:
        assert re.search(r"^  " + re.escape(" ".join(leaf)) + r"\b", r.out, re.M), leaf
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "130"):
        assert re.search(r"^  " + code, r.out, re.M), code
    for opt in ("--brokers", "--property", "--json", "--timeout", "--verbose", "--quiet", "--help"):
        assert opt in r.out
    assert "SAMSA_BROKERS" in r.out and "localhost:9092" in r.out


@pytest.mark.parametrize("words", LEAVES, ids=lambda w: "-".join(w))
def test_every_command_has_help_with_examples(words):
    for flag in ("--help", "-h"):
        r = run_cli(words + [flag])
        assert r.rc == 0, r
        assert r.out.startswith("Usage: samsa " + " ".join(words)), r
        examples = r.out.split("\nExamples:\n", 1)
        assert len(examples) == 2 and "samsa " + " ".join(words) in examples[1], r
        assert "Global options:" in r.out
        assert r.err == ""


@pytest.mark.parametrize("words", GROUPS, ids=lambda w: w[0])
def test_command_group_help(words):
    r = run_cli(words + ["--help"])
    assert r.rc == 0, r
    assert "Commands:" in r.out and "Examples:" in r.out
    # a group without a subcommand: help on stderr, usage exit code
    r = run_cli(words)
    assert r.rc == EXIT_USAGE and "Commands:" in r.err and r.out == ""


def test_help_anywhere_on_the_line():
    a = run_cli(["topic", "create", "--help"]).out
    assert run_cli(["--help", "topic", "create"]).out == a
    assert run_cli(["topic", "create", "x", "-p", "3", "--help"]).out == a


def test_no_arguments_prints_help_and_usage_code():
    r = run_cli([])
    assert r.rc == EXIT_USAGE
    assert "Commands:" in r.err


def test_version():
    r = run_cli(["--version"])
    assert r.rc == 0 and re.match(r"samsa \d+\.\d+\.\d+ \(librdkafka \d", r.out), r


# --- usage errors: exit 2, one line, before any connection attempt ---------------------

@pytest.mark.parametrize("args,needles", [
    (["topc", "list"], ["unknown command 'topc'", "did you mean 'topic'"]),
    (["topic", "lst"], ["unknown command 'lst'", "did you mean 'list'"]),
    (["topic", "list", "--bogus"], ["unknown option '--bogus'", "samsa topic list --help"]),
    (["topic", "create", "t", "--partitons", "3"], ["did you mean '--partitions'"]),
    (["topic", "create", "t", "-Q"], ["unknown option '-Q'"]),
    (["topic", "create"], ["missing argument NAME"]),
    (["topic", "describe", "a", "b"], ["unexpected argument 'b'"]),
    (["topic", "create", "t", "-p", "abc"], ["--partitions", "'abc' is not an integer"]),
    (["topic", "create", "t", "-p", "0"], ["--partitions"]),
    (["topic", "create", "t", "-c", "novalue"], ["KEY=VALUE"]),
    (["topic", "create", "t", "--partitions"], ["needs a value"]),
    (["topic", "alter-config", "t"], ["nothing to change"]),
    (["topic", "add-partitions", "t"], ["--total"]),
    (["produce", "t", "-z", "brotli"], ["compression 'brotli'"]),
    (["produce", "t", "-a", "2"], ["acks '2'"]),
    (["consume", "t", "-o", "middle"], ["--offset 'middle'"]),
    (["consume", "t", "-T", "yesterday-ish"], ["--timestamp", "ISO-8601"]),
    (["consume", "t", "-F", "xml"], ["--format 'xml'"]),
    (["consume", "t", "-g", "g", "-p", "0"], ["--partition cannot be used with --group"]),
    (["consume", "t", "-o", "5", "-T", "now"], ["either --offset or --timestamp"]),
    (["consume", "t", "--isolation", "dirty"], ["--isolation 'dirty'", "read_committed"]),
    (["txn", "describe"], ["missing argument ID"]),
    (["txn", "list", "extra"], ["unexpected argument 'extra'"]),
    (["group", "reset-offsets", "g", "--to-earliest"], ["missing --topic"]),
    (["group", "reset-offsets", "g", "--topic", "t"], ["exactly one of"]),
    (["group", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--to-latest"], ["exactly one of"]),
    (["group", "reset-offsets", "g", "--topic", "t", "--to-datetime", "2024-13-45"], ["--to-datetime"]),
    (["group", "reset-offsets", "g", "--topic", "t", "--to-offset", "-1"], ["--to-offset"]),
    (["perf", "produce", "t", "-s", "lots"], ["--size 'lots'"]),
    (["perf", "produce", "t", "-d", "forever"], ["--duration 'forever'"]),
    (["perf", "produce", "t", "--producers", "0"], ["--producers"]),
    (["perf", "e2e", "t", "-s", "8"], ["at least 16 bytes"]),
    (["perf", "consume", "t", "-g", "g"], ["give -n or -d"]),
    (["--timeout", "soon", "topic", "list"], ["--timeout 'soon'"]),
    (["-X", "nosuch.property=1", "topic", "list"], ["nosuch.property", "No such configuration property"]),
    (["-X", "linger.ms", "produce", "t"], ["expected KEY=VALUE"]),
    (["-X", "socket.timeout.ms=notanumber", "cluster", "info"], ["socket.timeout.ms"]),
])
def test_usage_errors(args, needles):
    # Pointed at a port nobody listens on: usage errors must come first, fast.
    r = run_cli(args, brokers=f"127.0.0.1:{free_port()}", timeout=10)
    assert r.rc == EXIT_USAGE, r
    assert r.out == "", r
    one_line_error(r, *needles)
    assert r.elapsed < 2, r


# --- a cluster that cannot be reached: exit 3 within a few seconds, one line ------------

UNREACHABLE_CMDS = [
    ["cluster", "info"],
    ["topic", "list"], ["topic", "describe", "t"], ["topic", "create", "t"], ["topic", "delete", "t"],
    ["topic", "alter-config", "t", "--set", "retention.ms=1"], ["topic", "add-partitions", "t", "-n", "2"],
    ["produce", "t"], ["consume", "t"],
    ["group", "list"], ["group", "describe", "g"], ["group", "delete", "g"],
    ["group", "reset-offsets", "g", "--topic", "t", "--to-earliest"],
    ["perf", "produce", "t", "-n", "10"], ["perf", "consume", "t"], ["perf", "e2e", "t", "-n", "10"],
]


@pytest.mark.parametrize("args", UNREACHABLE_CMDS, ids=lambda a: "-".join(a[:2]))
def test_broker_down_is_a_clear_error_within_seconds(args):
    port = free_port()
    r = run_cli(args, brokers=f"127.0.0.1:{port}", input="x\n", timeout=20)
    assert r.rc == EXIT_UNREACH, r
    line = one_line_error(r, "cannot reach the cluster", f"127.0.0.1:{port}", "Connection refused")
    assert line.startswith("samsa: error: ")
    assert r.elapsed < 5, r
    assert r.out == ""


def test_unresolvable_host():
    r = run_cli(["cluster", "info"], brokers="no-such-host.invalid:9092", timeout=20)
    assert r.rc == EXIT_UNREACH, r
    one_line_error(r, "cannot reach the cluster", "no-such-host.invalid")
    assert r.elapsed < 8, r


def test_verbose_shows_librdkafka_logs_only_with_v():
    bs = f"127.0.0.1:{free_port()}"
    quiet = run_cli(["topic", "list"], brokers=bs, timeout=20)
    loud = run_cli(["-v", "topic", "list"], brokers=bs, timeout=20)
    assert quiet.rc == loud.rc == EXIT_UNREACH
    assert len(quiet.err.splitlines()) == 1
    assert len(loud.err.splitlines()) > 2, loud
    assert re.search(r"^%\d\|", loud.err, re.M), loud      # librdkafka log lines
    assert "Connection refused" in loud.err


def test_timeout_option_bounds_the_wait(tmp_path):
    # A listener that accepts TCP but never answers: only --timeout ends it.
    import socket
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    try:
        port = srv.getsockname()[1]
        r = run_cli(["--timeout", "1.5", "topic", "list"], brokers=f"127.0.0.1:{port}", timeout=20)
        assert r.rc == EXIT_UNREACH, r
        one_line_error(r, "cannot reach the cluster")
        assert 1.2 < r.elapsed < 5, r
    finally:
        srv.close()


def test_default_brokers_come_from_env_then_localhost(broker):
    env = cli_env({"SAMSA_BROKERS": broker.bootstrap})
    r = run_cli(["cluster", "info", "--json"], env=env)
    assert r.rc == 0, r
    assert r.json()["brokers"][0]["port"] == broker.port
    # -b wins over the environment
    r = run_cli(["cluster", "info"], brokers=f"127.0.0.1:{free_port()}", env=env, timeout=20)
    assert r.rc == EXIT_UNREACH
    if not port_open(9092):
        r = run_cli(["cluster", "info"], timeout=20)
        assert r.rc == EXIT_UNREACH
        one_line_error(r, "localhost:9092")


# --- docs match --help -------------------------------------------------------------------

def _help_options(words):
    out = run_cli(words + ["--help"]).out
    body = out.split("\nOptions:\n", 1)[1].split("\nGlobal options:", 1)[0] if "\nOptions:\n" in out else ""
    return re.findall(r"--([a-z0-9-]+)", body)


def _root_help_block(text):
    m = re.search(r"^\$ samsa --help\n(.*?)^```", text, re.M | re.S)
    return m.group(1) if m else None


def test_docs_cli_md_covers_every_command_and_option():
    doc = (ROOT / "docs" / "cli.md").read_text()
    for words in LEAVES:
        assert f"samsa {' '.join(words)}" in doc, words
        for opt in _help_options(words):
            section = doc.split(f"### samsa {' '.join(words)}", 1)
            assert len(section) == 2, f"docs/cli.md has no section '### samsa {' '.join(words)}'"
            body = section[1].split("\n### ", 1)[0]
            assert f"--{opt}" in body, f"docs/cli.md section of {' '.join(words)} lacks --{opt}"
    for code in ("| 0 ", "| 1 ", "| 2 ", "| 3 ", "| 4 ", "| 130 "):
        assert code in doc, code


def test_docs_cli_md_embeds_the_current_root_help():
    doc = (ROOT / "docs" / "cli.md").read_text()
    block = _root_help_block(doc)
    assert block is not None, "docs/cli.md: no '$ samsa --help' block"
    assert block == run_cli(["--help"]).out, "docs/cli.md's `samsa --help` block is stale"


def test_readme_cli_section_matches_help():
    readme = ROOT / "README.md"
    text = readme.read_text() if readme.exists() else ""
    block = _root_help_block(text)
    if block is None:
        pytest.skip("README.md has no '$ samsa --help' block (CLI section not pasted yet)")
    assert block == run_cli(["--help"]).out, "README.md's `samsa --help` block is stale"
