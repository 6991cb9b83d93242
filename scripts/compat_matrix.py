#!/usr/bin/env python3
"""Write the client compatibility matrix (Markdown) from the ecosystem
suites' results: every $DIR/*.jsonl holds one JSON object per line,

    {"client": "kafka-clients", "lang": "Java", "version": "4.4.0",
     "feature": "produce.idempotent", "result": "pass" | "fail" | "skip",
     "test": "<the test's name>", "reason": "<why, for fail and skip>"}

Rows are features (FEATURES below gives their order and meaning; a feature
not listed there is appended under its own key), columns are clients. A
(client, feature) cell is the worst result among its tests: fail > skip >
pass. Usage: scripts/compat_matrix.py DIR > compatibility.md"""

import json
import subprocess
import sys
import time
from pathlib import Path

FEATURES = [
    ("protocol.api_versions", "every API version the client needs is served (KIP-896 minimums)"),
    ("produce", "produce, acks=1 and acks=all"),
    ("produce.idempotent", "idempotent producer"),
    ("produce.gzip", "gzip"),
    ("produce.snappy", "snappy"),
    ("produce.lz4", "lz4"),
    ("produce.zstd", "zstd"),
    ("produce.headers", "record headers"),
    ("produce.transactions", "transactional producer: commit and abort across partitions"),
    ("produce.transactions.fencing", "a zombie producer fenced by a newer one with the same transactional.id"),
    ("produce.transactions.send_offsets", "consume-transform-produce: the group's offsets in the transaction"),
    ("topic.auto_create", "a producer's metadata request creates a missing topic (auto.create.topics.enable)"),
    ("consume", "fetch from the start, to the end"),
    ("consume.seek", "manual assignment and seeks"),
    ("consume.offsets_for_times", "offsets for times (ListOffsets by timestamp)"),
    ("consume.read_committed", "read_committed: stops at the last stable offset, skips aborted records"),
    ("group.eager", "consumer group, eager assignor (range / round robin)"),
    ("group.cooperative", "consumer group, cooperative-sticky assignor"),
    ("group.static", "static membership (group.instance.id)"),
    ("group.commit", "offset commit and resume"),
    ("admin.topics", "create / list / describe / delete topics"),
    ("admin.configs", "describe / alter configs"),
    ("admin.partitions", "create partitions"),
    ("admin.groups", "list / describe / delete groups"),
    ("admin.offsets", "list / alter / delete group offsets"),
    ("admin.list_offsets", "list offsets: earliest, latest, by time, max timestamp (admin API)"),
    ("admin.delete_records", "delete records"),
    ("admin.describe_cluster", "describe cluster"),
    ("admin.log_dirs", "describe log dirs"),
    ("streams.wordcount", "Kafka Streams word count (at-least-once)"),
    ("streams.exactly_once_v2", "Kafka Streams word count, exactly-once v2 (transactions)"),
    ("tool.kafka-topics", "kafka-topics: create, list, describe, alter, delete, under-replicated"),
    ("tool.kafka-console-producer", "kafka-console-producer: keys and headers"),
    ("tool.kafka-console-consumer", "kafka-console-consumer: from beginning, max messages, group"),
    ("tool.kafka-consumer-groups", "kafka-consumer-groups: list, describe with lag, reset, delete"),
    ("tool.kafka-configs", "kafka-configs: topic, broker and cluster-default configs"),
    ("tool.kafka-producer-perf-test", "kafka-producer-perf-test"),
    ("tool.kafka-consumer-perf-test", "kafka-consumer-perf-test"),
    ("tool.kafka-get-offsets", "kafka-get-offsets: latest and earliest"),
    ("tool.kafka-delete-records", "kafka-delete-records (JSON file)"),
    ("tool.kafka-log-dirs", "kafka-log-dirs --describe (DescribeLogDirs)"),
    ("tool.kafka-reassign-partitions", "kafka-reassign-partitions: generate, execute, verify"),
    ("tool.kafka-leader-election", "kafka-leader-election: preferred"),
    ("tool.kafka-broker-api-versions", "kafka-broker-api-versions"),
    ("tool.kafka-cluster", "kafka-cluster cluster-id"),
    ("tool.kafka-groups", "kafka-groups --list"),
    ("tool.kafka-dump-log", "kafka-dump-log on Samsa's segment files (--offsets-decoder too)"),
    ("tool.kafka-metadata-quorum", "kafka-metadata-quorum (KRaft only)"),
    ("tool.kafka-features", "kafka-features (KRaft feature levels)"),
    ("tool.kafka-storage", "kafka-storage (formats KRaft log dirs)"),
    ("tool.kafka-transactions", "kafka-transactions"),
    ("tool.kafka-acls", "kafka-acls"),
    ("tool.kafka-delegation-tokens", "kafka-delegation-tokens"),
    ("tool.kafka-client-metrics", "kafka-client-metrics (KIP-714)"),
    ("tool.kafka-share-groups", "kafka-share-groups (KIP-932)"),
    ("tool.kafka-streams-groups", "kafka-streams-groups (KIP-1071)"),
]
RANK = {"pass": 0, "skip": 1, "fail": 2}
MARK = {"pass": "pass", "skip": "skip", "fail": "**FAIL**"}


def main(d):
    rows = []
    for f in sorted(Path(d).glob("*.jsonl")):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                r["suite"] = f.stem
                assert r["result"] in RANK and r["client"] and r["feature"]
            except Exception as e:
                sys.exit(f"compat_matrix: {f}:{n}: bad result line ({e}): {line[:200]}")
            rows.append(r)
    clients = []
    for r in rows:
        c = (r["client"], r.get("lang", ""), r.get("version", "?"))
        if c not in clients:
            clients.append(c)
    known = [k for k, _ in FEATURES]
    extra = sorted({r["feature"] for r in rows} - set(known))
    desc = dict(FEATURES)
    cell = {}
    for r in rows:
        key = ((r["client"], r.get("lang", ""), r.get("version", "?")), r["feature"])
        if key not in cell or RANK[r["result"]] > RANK[cell[key]["result"]]:
            cell[key] = r
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, cwd=Path(__file__).parent).stdout.strip() or "?"
    except OSError:
        rev = "?"
    out = ["# Client compatibility", "",
           f"Generated by `scripts/compat_matrix.py` from the ecosystem suites' run "
           f"(`make ecosystem-test`) at Samsa {rev} on {time.strftime('%Y-%m-%d')}. "
           "Each cell is the worst result of the tests for that client and feature; "
           "an empty cell was not tested with that client. Failures and skips are "
           "listed with their reasons below the table.", ""]
    head = ["feature"] + [f"{c} {v}" + (f" ({l})" if l else "") for c, l, v in clients]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for f in known + extra:
        if not any((c, f) in cell for c in clients):
            continue
        line = [f"`{f}` {desc.get(f, '')}".strip()]
        for c in clients:
            r = cell.get((c, f))
            line.append(MARK[r["result"]] if r else "")
        out.append("| " + " | ".join(line) + " |")
    notes = [r for r in rows if r["result"] != "pass"]
    out += ["", "## Not passing", ""]
    if not notes:
        out.append("Nothing: every test passed.")
    for r in notes:
        out.append(f"- {r['client']} {r.get('version', '?')}, `{r['feature']}` "
                   f"({r.get('test', '?')}): {r['result']}: {r.get('reason') or 'no reason given'}")
    n = {k: sum(1 for r in rows if r["result"] == k) for k in RANK}
    out += ["", f"{len(rows)} results from {len(clients)} clients: "
            f"{n['pass']} passed, {n['fail']} failed, {n['skip']} skipped.", ""]
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
