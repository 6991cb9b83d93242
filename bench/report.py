#!/usr/bin/python3
"""Turns bench/run.py's results JSON into tables, docs/benchmarks.md and an SVG chart.

  /usr/bin/python3 bench/report.py build/bench/results.json \\
      [--md docs/benchmarks.md] [--svg docs/benchmarks-throughput.svg] [--quiet]

Prints the tables (markdown) on stdout. Every figure is the median of the
repetitions with [min-max]. The markdown keeps whatever is between the
<!-- analysis:begin --> and <!-- analysis:end --> markers of the existing
file, so the hand-written analysis survives a rerun.

Units: MB = 2^20 bytes (as `samsa perf`); the "GB" of the targets and of
CPU-s/GB is 10^9 bytes of message payload.
"""

import argparse
import html
import json
import math
import os
import re
import statistics
import sys
from pathlib import Path

SYSTEMS = ["samsa", "samsa-flush1000", "kafka", "mock", "redis", "redis-aof", "nats"]
LABEL = {
    "samsa": "Samsa",
    "samsa-flush1000": "Samsa flush 1 s",
    "kafka": "Apache Kafka",
    "mock": "rdkafka mock",
    "redis": "Redis",
    "redis-aof": "Redis AOF",
    "nats": "NATS JS",
}
COLOR = {
    "samsa": "#d62728", "samsa-flush1000": "#ff7f0e", "kafka": "#000000", "mock": "#1f77b4",
    "redis": "#2ca02c", "redis-aof": "#17becf", "nats": "#9467bd",
}
KAFKA = {"samsa", "samsa-flush1000", "kafka", "mock"}   # Kafka protocol (acks setting)


# ------------------------------------------------------------------- helpers

def agg(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return dict(med=statistics.median(v), min=min(v), max=max(v), n=len(v))


def si(x):
    """1234567 -> 1.23M; for msg/s."""
    if x is None:
        return "-"
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suf}"
    return f"{x:.3g}"


def num(x, digits=3):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def cell(a, fmt=num, spread=True):
    if a is None:
        return "-"
    s = fmt(a["med"])
    if spread and a["n"] > 1:
        s += f" [{fmt(a['min'])}–{fmt(a['max'])}]"
    return s


def md_table(header, rows):
    def esc(c):
        return str(c).replace("|", "\\|").replace("\n", " ")
    out = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(esc(c) for c in r) + " |")
    return "\n".join(out)


class Report:
    def __init__(self, doc):
        self.doc = doc
        self.res = [r for r in doc["results"] if r.get("workload") not in ("scale", "startup")]
        self.startup = {r["system"]: r for r in doc["results"] if r.get("workload") == "startup"}
        self.scale = next((r for r in doc["results"] if r.get("workload") == "scale"), None)
        present = {r["system"] for r in self.res} | set(self.startup)
        self.systems = [s for s in SYSTEMS if s in present]
        self.notes = []

    def runs(self, workload, system, **match):
        out = []
        for r in self.res:
            if r["workload"] != workload or r["system"] != system:
                continue
            if not r.get("summary") and workload != "floor":   # floor: no client summary
                continue
            if all(r.get(k) == v for k, v in match.items()):
                out.append(r)
        return out

    def failures(self, workload, system, **match):
        return [r for r in self.res if r["workload"] == workload and r["system"] == system
                and not r.get("ok") and all(r.get(k) == v for k, v in match.items())]

    def metric(self, workload, system, key, **match):
        vals = []
        for r in self.runs(workload, system, **match):
            s = r["summary"]
            if key == "bytes_per_sec":
                vals.append(s["bytes"] / s["duration_s"] if s.get("duration_s") else None)
            elif key.startswith("lat_"):
                vals.append((s.get("latency_ms") or {}).get(key[4:]))
            elif key in ("cpu_s_per_gb", "cpu_s"):
                vals.append(r.get(key))
            else:
                vals.append(s.get(key))
        return agg(vals)

    def produce_match(self, system, size, parts, acks):
        # Redis/NATS have no acks setting: their one measurement serves both rows.
        return dict(size=size, partitions=parts, acks=acks if system in KAFKA else "n/a")

    # ---------------------------------------------------------------- tables
    def t_produce(self):
        rows_msgs, rows_mb = [], []
        cfgs = [(100, 1, "1"), (100, 1, "all"), (100, 32, "1"), (100, 32, "all"),
                (1024, 1, "1"), (1024, 1, "all")]
        for size, parts, acks in cfgs:
            label = f"{size if size < 1024 else '1 KiB'}{' B' if size < 1024 else ''}, " \
                    f"{parts} part., acks={acks}"
            rm, rb = [label], [label]
            for s in self.systems:
                m = self.produce_match(s, size, parts, acks)
                a = self.metric("produce", s, "msgs_per_sec", **m)
                b = self.metric("produce", s, "mb_per_sec", **m)
                mark = "†" if s not in KAFKA and acks != "1" and a else ""
                fails = len(self.failures("produce", s, **m))
                fail = f" ({fails} failed)" if fails else ""
                rm.append(cell(a, si) + mark + fail)
                rb.append(cell(b) + mark + fail)
            for rr, key in ((rm, "msgs_per_sec"), (rb, "mb_per_sec")):
                rr.append(self.ratio("produce", key, ("samsa", self.produce_match("samsa", size, parts, acks)),
                                     ("kafka", self.produce_match("kafka", size, parts, acks))))
                rr.append(self.ratio("produce", key, ("samsa", self.produce_match("samsa", size, parts, acks)),
                                     ("mock", self.produce_match("mock", size, parts, acks))))
                rr.append(self.ratio("produce", key,
                                     ("samsa-flush1000", self.produce_match("samsa-flush1000", size, parts, acks)),
                                     ("redis-aof", self.produce_match("redis-aof", size, parts, acks))))
            rows_msgs.append(rm)
            rows_mb.append(rb)
        hdr = ["workload"] + [LABEL[s] for s in self.systems] + ["Samsa / Kafka", "Samsa / mock",
                                                               "Samsa flush 1 s / Redis AOF"]
        return (md_table(hdr, rows_msgs), md_table(hdr, rows_mb))

    def ratio(self, workload, key, a, b):
        x = self.metric(workload, a[0], key, **a[1])
        y = self.metric(workload, b[0], key, **b[1])
        return f"{x['med'] / y['med']:.2f}×" if x and y and y["med"] else "-"

    def t_consume(self):
        rows = []
        for size in (100, 1024):
            for key, unit in (("msgs_per_sec", "msg/s"), ("mb_per_sec", "MB/s")):
                row = [f"{'100 B' if size == 100 else '1 KiB'} ({unit})"]
                for s in self.systems:
                    if s == "samsa-flush1000":
                        continue
                    a = self.metric("consume", s, key, size=size)
                    row.append(cell(a, si if key == "msgs_per_sec" else num))
                row.append(self.ratio("consume", key, ("samsa", dict(size=size)), ("kafka", dict(size=size))))
                row.append(self.ratio("consume", key, ("samsa", dict(size=size)), ("mock", dict(size=size))))
                rows.append(row)
            row = [f"{'100 B' if size == 100 else '1 KiB'}: messages read"]
            for s in self.systems:
                if s == "samsa-flush1000":
                    continue
                a = self.metric("consume", s, "messages", size=size)
                row.append(f"{a['med']:,.0f}" if a else "-")
            rows.append(row + ["", ""])
        hdr = ["workload"] + [LABEL[s] for s in self.systems if s != "samsa-flush1000"] + ["Samsa / Kafka",
                                                                                      "Samsa / mock"]
        return md_table(hdr, rows)

    def t_e2e(self):
        rows = []
        for s in self.systems:
            for label in ("1000", "50% peak"):
                rs = self.runs("e2e", s, rate_label=label)
                fails = self.failures("e2e", s, rate_label=label)
                if not rs and not fails:
                    continue
                rate = (rs or fails)[0]["rate"]
                missing = [r["summary"].get("missing", 0) for r in rs if r["summary"].get("missing")]
                row = [LABEL[s], f"{rate:,} msg/s" + (" (50% peak)" if label != "1000" else "")]
                for p in ("p50", "p99", "p99_9", "max"):
                    row.append(cell(self.metric("e2e", s, "lat_" + p, rate_label=label)))
                note = []
                if fails:
                    note.append(f"{len(fails)} run(s) failed: {fails[0].get('error', '')[:80]}")
                if missing:
                    note.append(f"missing msgs: {max(missing):,}")
                row.append("; ".join(note))
                rows.append(row)
        return md_table(["system", "rate", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "notes"], rows)

    def t_stalls(self):
        """The machine's own stalls (bench/stall_probe.c, every server idle)."""
        rs = self.runs("stalls", "machine")
        if not rs:
            return None
        secs = rs[0]["summary"]["duration_s"]
        rows = [["wake-ups more than 1 ms late, per second (all CPUs)",
                 cell(self.metric("stalls", "machine", "stalls_per_s"))],
                ["longest stall (ms)", cell(self.metric("stalls", "machine", "max_stall_ms"))]]
        ncpu = len(rs[0]["summary"]["cpus"])
        for c in range(ncpu):
            per = [r["summary"]["cpus"][c] for r in rs if len(r["summary"]["cpus"]) > c]
            rows.append([f"CPU {c}: stalls over 1 ms / p99.9 lateness (ms)",
                         f"{cell(agg([x['stalls'] for x in per]))} / "
                         f"{cell(agg([(x.get('late_ms') or {}).get('p99_9') for x in per]))}"])
        busy = {}
        for r in rs:
            for k, v in (r.get("kernel_threads_cpu_s") or {}).items():
                busy[k] = busy.get(k, 0.0) + v
        top = ", ".join(f"{k} {v / len(rs):.3f} s" for k, v in sorted(busy.items(), key=lambda kv: -kv[1])[:4])
        rows.append(["kernel threads that ran meanwhile (CPU s per run)", top or "none measurable"])
        return (f"A thread pinned to each CPU sleeps 200 µs at a time for {secs:.0f} s while every "
                "server is idle (`bench/stall_probe`); a wake-up more than 1 ms late means the CPU was "
                "taken by something else (a kernel thread, or the hypervisor, which no process shows). "
                "Any message crossing that CPU then waits as long.\n\n"
                + md_table(["figure", "machine, no load"], rows))

    def eff_ingest(self, s, memory="fresh"):
        if s in KAFKA:
            return self.metric("efficiency", s, "cpu_s_per_gb", size=1024, memory=memory)
        if memory != "fresh":
            return None
        return self.metric("produce", s, "cpu_s_per_gb", size=1024, partitions=1, acks="n/a")

    def sys_share(self, workload, system, **match):
        """Kernel share of the server's CPU time over these runs (from the tick counts)."""
        rs = self.runs(workload, system, **match)
        tot = sum(r.get("cpu_s_ticks") or 0 for r in rs)
        sy = sum(r.get("cpu_sys_s_ticks") or 0 for r in rs)
        return f" ({100 * sy / tot:.0f}% sys)" if tot > 0 and any("cpu_sys_s_ticks" in r for r in rs) else ""

    def t_eff(self):
        rows = []
        for s in self.systems:
            ing = (self.sys_share("efficiency", s, size=1024, memory="fresh") if s in KAFKA else
                   self.sys_share("produce", s, size=1024, partitions=1, acks="n/a"))
            backed = self.eff_ingest(s, "backed")
            row = [LABEL[s], cell(self.eff_ingest(s)) + ing,
                   cell(backed) + self.sys_share("efficiency", s, size=1024, memory="backed") if backed else "-",
                   cell(self.metric("produce", s, "cpu_s_per_gb", **self.produce_match(s, 100, 1, "1")))]
            if s == "samsa-flush1000":
                row += ["-", "-"]
            else:
                row += [cell(self.metric("consume", s, "cpu_s_per_gb", size=100))
                        + self.sys_share("consume", s, size=100),
                        cell(self.metric("consume", s, "cpu_s_per_gb", size=1024))
                        + self.sys_share("consume", s, size=1024)]
            rows.append(row)
        floor = self.metric("floor", "kernel", "cpu_s_per_gb", memory="fresh")
        if floor is not None:
            rows.append(["page-cache write floor (64 KiB write(2)s to a new file, same file "
                         "system, no broker)", cell(floor),
                         cell(self.metric("floor", "kernel", "cpu_s_per_gb", memory="backed")), "-", "-", "-"])
        return md_table(["system", "ingest 1 KiB, 64 KiB batches, fresh memory",
                         "the same, backed memory", "ingest 100 B, acks=1",
                         "consume 100 B", "consume 1 KiB"], rows)

    # ------------------------------------------------------- Samsa against Kafka
    def startup_figures(self, system):
        r = self.startup.get(system)
        if not r:
            return None
        return dict(idle=agg([i["rss_kb"] / 1024 for i in r.get("idle", []) if i.get("rss_kb")]),
                    threads=agg([i.get("threads") for i in r.get("idle", [])]),
                    start=agg([c.get("metadata_ms") for c in r.get("clean", [])]),
                    answer=agg([c.get("answer_ms") for c in r.get("clean", [])]),
                    shutdown=agg([c.get("shutdown_before_s") for c in r.get("clean", [])]),
                    loaded=agg([c["rss_kb"] / 1024 for c in r.get("clean", []) if c.get("rss_kb")]),
                    parts=r.get("partitions"), fill=r.get("fill_messages"), error=r.get("error"),
                    command=r.get("command"))

    def t_startup(self):
        fs = {s: self.startup_figures(s) for s in ("samsa", "kafka")}
        if not any(fs.values()):
            return None
        parts = next((f["parts"] for f in fs.values() if f), None)

        def row(label, key, fmt=num):
            a, b = (fs[s][key] if fs[s] else None for s in ("samsa", "kafka"))
            r = f"{a['med'] / b['med']:.3g}×" if a and b and b["med"] else "-"
            return [label, cell(a, fmt), cell(b, fmt), r]
        rows = [row("idle RSS, empty broker, 2 s after it answers (MB)", "idle"),
                row("threads, idle", "threads"),
                row(f"start-up after clean shutdown, {parts:,} partitions with data: process start to "
                    "Metadata with a leader for every partition (ms)", "start"),
                row("... process start to the first Metadata answer (ms)", "answer"),
                row(f"clean shutdown, {parts:,} partitions with data (s)", "shutdown"),
                row(f"RSS 1 s after that start-up (MB)", "loaded")]
        for s in ("samsa", "kafka"):
            if fs[s] and fs[s]["error"]:
                rows.append([f"{LABEL[s]} failed", fs[s]["error"][:200], "", ""])
        return md_table(["figure", "Samsa", "Apache Kafka", "Samsa / Kafka"], rows)

    def t_perftest(self):
        if not any(r["workload"].startswith("perftest") for r in self.res):
            return None
        rows = []
        for size in (100, 1024):
            sz = "100 B" if size == 100 else "1 KiB"
            for wl, key, label, fmt in (
                    ("perftest-produce", "msgs_per_sec", f"kafka-producer-perf-test {sz}: records/s", si),
                    ("perftest-produce", "mb_per_sec", f"kafka-producer-perf-test {sz}: MB/s", num),
                    ("perftest-produce", "lat_p50", f"kafka-producer-perf-test {sz}: latency p50 (ms)", num),
                    ("perftest-produce", "lat_p99", f"kafka-producer-perf-test {sz}: latency p99 (ms)", num),
                    ("perftest-produce", "cpu_s_per_gb", f"kafka-producer-perf-test {sz}: broker CPU-s/GB", num),
                    ("perftest-consume", "msgs_per_sec", f"kafka-consumer-perf-test {sz}: records/s (fetch)", si),
                    ("perftest-consume", "mb_per_sec", f"kafka-consumer-perf-test {sz}: MB/s (fetch)", num)):
                a, b = (self.metric(wl, s, key, size=size) for s in ("samsa", "kafka"))
                fails = sum(len(self.failures(wl, s, size=size)) for s in ("samsa", "kafka"))
                rows.append([label + (f" ({fails} failed)" if fails else ""), cell(a, fmt), cell(b, fmt),
                             f"{a['med'] / b['med']:.2f}×" if a and b and b["med"] else "-"])
        return md_table(["figure", "Samsa", "Apache Kafka", "Samsa / Kafka"], rows)

    def scale_figures(self):
        sc = self.scale
        if not sc:
            return None
        f = {}
        many = sc.get("many") or {}
        runs = many.get("runs") or []
        f["target_parts"] = many.get("target_partitions")
        f["created"] = many.get("created_partitions")
        f["visible"] = many.get("visible_partitions")
        f["visible_all"] = many.get("visible_all_topics") or 0
        f["create_s"] = many.get("create_s")
        f["create_error"] = many.get("create_error")
        spread = many.get("spread_runs") or []
        f["max_open_files"] = many.get("max_open_files")
        f["spread_thr"] = agg([r["msgs_per_sec"] for r in spread if r.get("messages")])
        f["spread_fds"] = agg([r["peak_fds"] for r in spread if r.get("peak_fds")])
        f["spread_rss"] = agg([r["peak_rss_kb"] / 1024 for r in spread if r.get("peak_rss_kb")])
        f["thr"] = agg([r["msgs_per_sec"] for r in runs if r.get("messages")])
        f["thr_mb"] = agg([r["mb_per_sec"] for r in runs if r.get("messages")])
        f["peak_rss"] = agg([r["peak_rss_kb"] / 1024 for r in runs if r.get("peak_rss_kb")])
        f["peak_fds"] = agg([r["peak_fds"] for r in runs if r.get("peak_fds")])
        f["after_create"] = many.get("after_create") or {}
        f["with_data"] = many.get("partitions_with_data")
        f["processes"] = runs[0]["processes"] if runs else None
        f["run_errors"] = [e for r in runs for e in r.get("errors", [])][:3]
        f["broker_errors"] = many.get("broker_errors") or []
        f["alive"] = many.get("alive")
        f["cmd"] = runs[0]["cmd"] if runs else None
        st = sc.get("startup") or {}
        f["st_parts"] = st.get("partitions")
        f["st_with_data"] = st.get("partitions_with_data")
        f["st_bytes"] = st.get("fill_bytes")
        f["clean"] = agg([r.get("startup_ms") for r in st.get("clean", [])])
        f["clean_accept"] = agg([r.get("accept_ms") for r in st.get("clean", [])])
        f["kill9"] = agg([r.get("startup_ms") for r in st.get("kill9", [])])
        f["kill9_accept"] = agg([r.get("accept_ms") for r in st.get("kill9", [])])
        f["idle_loaded"] = agg([r["idle_rss_kb"] / 1024 for r in st.get("clean", []) if r.get("idle_rss_kb")])
        f["fds_loaded"] = agg([r.get("fds") for r in st.get("clean", [])])
        f["idle_empty"] = agg([i["VmRSS"] / 1024 for i in sc.get("idle_empty", []) if i.get("VmRSS")])
        f["shutdown"] = agg([r.get("shutdown_before_s") for r in st.get("clean", [])])
        f["st_error"] = st.get("create_error")
        return f

    def t_scale(self):
        f = self.scale_figures()
        if not f:
            return "(not run)"
        ref = self.metric("produce", "samsa", "msgs_per_sec", size=100, partitions=32, acks="1")
        ratio = f["thr"]["med"] / ref["med"] if f["thr"] and ref else None
        rows = [
            ["partitions requested / created / in Metadata per topic / in an all-topics Metadata",
             f"{f['target_parts']:,} / {f['created']:,} / {f['visible']:,} / {f['visible_all']:,}"],
            ["topic creation time", f"{f['create_s']} s"],
            ["topic creation stopped by", f["create_error"] or "-"],
            ["broker after creation: RSS / open fds",
             f"{f['after_create'].get('VmRSS', 0) / 1024:.1f} MB / {f['after_create'].get('fds', '-')}"],
            ["samsa.max.open.files of this broker", f"{f['max_open_files']:,}" if f["max_open_files"] else "default"],
            [f"produce, 100 B, acks=1, all partitions, client's sticky partitioner ({f['processes']} producer process(es))",
             (cell(f["thr"], si) + " msg/s, " + cell(f["thr_mb"]) + " MB/s") if f["thr"] else "no data"],
            ["... vs Samsa's 32-partition figure", f"{ratio:.2f}×" if ratio else "-"],
            ["produce, every message to a random partition (sticky.partitioning.linger.ms=0: batches of ~1 message)",
             (cell(f["spread_thr"], si) + " msg/s") if f["spread_thr"] else "-"],
            ["... peak RSS (MB) / peak open fds in those runs",
             f"{cell(f['spread_rss'])} / {cell(f['spread_fds'])}" if f["spread_fds"] else "-"],
            ["partitions that received data", f"{f['with_data']:,}" if f["with_data"] is not None else "-"],
            ["broker peak RSS during the run (MB)", cell(f["peak_rss"])],
            ["broker peak open fds during the run", cell(f["peak_fds"])],
            [f"start-up after clean shutdown, {f['st_parts']:,} partitions with data (ms)",
             cell(f["clean"]) + f" (port accepting: {cell(f['clean_accept'])})"],
            [f"start-up after kill -9, {f['st_parts']:,} partitions (ms)",
             cell(f["kill9"]) + f" (port accepting: {cell(f['kill9_accept'])})"],
            [f"clean shutdown time, {f['st_parts']:,} partitions with data (s)", cell(f["shutdown"])],
            [f"idle RSS, {f['st_parts']:,} partitions loaded (MB)", cell(f["idle_loaded"])],
            [f"open fds, {f['st_parts']:,} partitions loaded", cell(f["fds_loaded"])],
            ["idle RSS, empty broker (MB)", cell(f["idle_empty"])],
        ]
        if f["run_errors"]:
            rows.append(["producer errors", "; ".join(f["run_errors"])])
        if f["broker_errors"]:
            rows.append(["broker ERROR lines", "<br>".join(html.escape(e) for e in f["broker_errors"][:3])])
        if f["alive"] is False:
            rows.append(["broker state", "exited during the scale test"])
        return md_table(["figure", "Samsa"], rows)

    # --------------------------------------------------------------- targets
    def targets_kafka(self):
        """Issue 15's targets: Samsa against Apache Kafka in the same run.
        Returns (rows, met, measured)."""
        T = []

        def ratio_row(name, a, b, target, detail, higher=True, shown=None):
            if not a or not b or not b["med"]:
                T.append([name, "-", f"{'≥' if higher else '≤'} {shown or target}", "n/a", detail])
                return
            r = a["med"] / b["med"]
            met = r >= target if higher else r <= target
            miss = "" if met else (f"short by {target / r:.2f}×" if higher and r > 0 else
                                   f"{r / target:.2f}× the target" if not higher else "short")
            T.append([name, f"{r:.3g}×", f"{'≥' if higher else '≤'} {shown or f'{target}×'}",
                      "yes" if met else "**no**", "; ".join(x for x in (detail, miss) if x)])

        def abs_row(name, a, target, unit, detail=""):
            if not a:
                T.append([name, "-", f"≤ {target} {unit}", "n/a", detail])
                return
            met = a["med"] <= target
            T.append([name, f"{a['med']:.3f} {unit}", f"≤ {target} {unit}", "yes" if met else "**no**",
                      "; ".join(x for x in (detail, "" if met else f"{a['med'] / target:.2f}× the target")
                                if x)])

        def both(a, b, unit, fmt=num):
            return f"Samsa {fmt(a['med']) if a else '-'} {unit}, Kafka {fmt(b['med']) if b else '-'} {unit}"

        for size, parts, acks, key in ((100, 1, "1", "msgs_per_sec"), (100, 32, "1", "msgs_per_sec"),
                                       (1024, 1, "1", "mb_per_sec"), (1024, 1, "all", "mb_per_sec")):
            a = self.metric("produce", "samsa", key, size=size, partitions=parts, acks=acks)
            b = self.metric("produce", "kafka", key, size=size, partitions=parts, acks=acks)
            unit = "msg/s" if key == "msgs_per_sec" else "MB/s"
            ratio_row(f"produce {'100 B' if size == 100 else '1 KiB'} acks={acks}, {parts} part.: Samsa / Kafka",
                      a, b, 2.0, both(a, b, unit, si if unit == "msg/s" else num))
        for size in (100, 1024):
            a, b = (self.metric("consume", x, "mb_per_sec", size=size) for x in ("samsa", "kafka"))
            ratio_row(f"consume {'100 B' if size == 100 else '1 KiB'}, 32 part.: Samsa / Kafka", a, b, 2.0,
                      both(a, b, "MB/s"))
        a, b = (self.metric("e2e", x, "lat_p99", rate_label="1000") for x in ("samsa", "kafka"))
        ratio_row("e2e latency at 1,000 msg/s, p99: Samsa / Kafka", a, b, 0.2,
                  both(a, b, "ms", lambda x: f"{x:.3f}") + "; fetch.wait.max.ms=500 (default long poll)",
                  higher=False, shown="1/5")
        for pct, lim in (("p50", 0.1), ("p99", 0.2)):
            abs_row(f"e2e latency at 1,000 msg/s, {pct}: Samsa",
                    self.metric("e2e", "samsa", "lat_" + pct, rate_label="1000"), lim, "ms",
                    "fetch.wait.max.ms=500, linger.ms=0")
        a, b = self.eff_ingest("samsa"), self.eff_ingest("kafka")
        ratio_row("broker CPU per GB ingested (1 KiB, 64 KiB batches): Samsa / Kafka", a, b, 0.5,
                  both(a, b, "CPU-s/GB") + " (fresh memory)", higher=False, shown="1/2")
        fresh = self.eff_ingest("samsa")
        floor = self.metric("floor", "kernel", "cpu_s_per_gb", memory="backed")
        abs_row("broker CPU per GB ingested, backed memory: Samsa", self.eff_ingest("samsa", "backed"),
                0.5, "CPU-s/GB",
                "; ".join(x for x in (f"fresh memory {fresh['med']:.3f} CPU-s/GB" if fresh else "",
                                      f"the kernel's own page-cache write floor with backed memory "
                                      f"{floor['med']:.3f}" if floor else "") if x))
        fa, fb = self.startup_figures("samsa"), self.startup_figures("kafka")
        a, b = (f["idle"] if f else None for f in (fa, fb))
        ratio_row("idle RSS, empty broker: Samsa / Kafka", a, b, 1 / 50, both(a, b, "MB"),
                  higher=False, shown="1/50")
        a, b = (f["start"] if f else None for f in (fa, fb))
        ratio_row(f"start-up, {(fa or fb or {}).get('parts') or 0:,} partitions with data, to Metadata "
                  "for all: Samsa / Kafka", a, b, 1 / 20, both(a, b, "ms"), higher=False, shown="1/20")
        measured = sum(1 for r in T if r[3] in ("yes", "**no**"))
        met = sum(1 for r in T if r[3] == "yes")
        return T, met, measured

    def targets(self):
        T = []

        def ratio_row(name, num_a, den_a, target, detail):
            if not num_a or not den_a:
                T.append([name, "-", f"≥ {target}×", "n/a", detail])
                return
            r = num_a["med"] / den_a["med"]
            met = r >= target
            T.append([name, f"{r:.2f}×", f"≥ {target}×", "yes" if met else "**no**",
                      detail + ("" if met else f"; short by {target / r:.2f}×")])

        def abs_row(name, a, target, unit, higher, fmt=num, detail=""):
            if not a:
                T.append([name, "-", f"{'≥' if higher else '≤'} {fmt(target)} {unit}", "n/a", detail])
                return
            v = a["med"]
            met = v >= target if higher else v <= target
            miss = "" if met else (f"short by {target / v:.2f}×" if higher and v > 0 else
                                   f"{v / target:.2f}× the target" if not higher else "")
            T.append([name, f"{fmt(v)} {unit}", f"{'≥' if higher else '≤'} {fmt(target)} {unit}",
                      "yes" if met else "**no**", "; ".join(x for x in (detail, miss) if x)])

        for parts in (1, 32):
            ratio_row(f"produce 100 B acks=1, {parts} part.: Samsa / mock",
                      self.metric("produce", "samsa", "msgs_per_sec", size=100, partitions=parts, acks="1"),
                      self.metric("produce", "mock", "msgs_per_sec", size=100, partitions=parts, acks="1"),
                      1.0, "msg/s")
        for parts in (1, 32):
            ratio_row(f"produce 100 B acks=1, {parts} part.: Samsa flush 1 s / Redis AOF everysec",
                      self.metric("produce", "samsa-flush1000", "msgs_per_sec", size=100, partitions=parts,
                                  acks="1"),
                      self.metric("produce", "redis-aof", "msgs_per_sec", size=100, partitions=parts,
                                  acks="n/a"),
                      5.0, "msg/s")
        for acks in ("1", "all"):
            a = self.metric("produce", "samsa", "bytes_per_sec", size=1024, partitions=1, acks=acks)
            abs_row(f"produce 1 KiB acks={acks}: Samsa", {**a, "med": a["med"] / 1e9} if a else None,
                    1.0, "GB/s", True, fmt=lambda x: f"{x:.2f}")
            ratio_row(f"produce 1 KiB acks={acks}: Samsa / mock",
                      self.metric("produce", "samsa", "mb_per_sec", size=1024, partitions=1, acks=acks),
                      self.metric("produce", "mock", "mb_per_sec", size=1024, partitions=1, acks=acks),
                      1.0, "MB/s")
        for size in (100, 1024):
            ratio_row(f"consume {'100 B' if size == 100 else '1 KiB'}: Samsa / mock",
                      self.metric("consume", "samsa", "mb_per_sec", size=size),
                      self.metric("consume", "mock", "mb_per_sec", size=size), 1.5,
                      "MB/s; the mock serves only what it retains (5 MiB per partition)")
        st, sm = (self.metric("stalls", "machine", k) for k in ("stalls_per_s", "max_stall_ms"))
        stall_note = (f"; the idle machine itself stalls a CPU for over 1 ms {st['med']:.1f} times a second "
                      f"(longest {sm['med']:.1f} ms; table 3)") if st and sm else ""
        for p, lim in (("p50", 0.2), ("p99", 0.5), ("p99_9", 2.0)):
            abs_row(f"e2e latency at 1,000 msg/s, {p.replace('_', '.')}: Samsa",
                    self.metric("e2e", "samsa", "lat_" + p, rate_label="1000"), lim, "ms", False,
                    fmt=lambda x: f"{x:.3f}", detail="fetch.wait.max.ms=500, linger.ms=0" + stall_note)
        floor = self.metric("floor", "kernel", "cpu_s_per_gb", memory="fresh")
        abs_row("broker CPU per GB ingested (1 KiB, 64 KiB batches): Samsa",
                self.metric("efficiency", "samsa", "cpu_s_per_gb", size=1024, memory="fresh"), 0.3,
                "CPU-s/GB", False,
                fmt=lambda x: f"{x:.3f}",
                detail=(f"the kernel alone needs {floor['med']:.3f} CPU-s/GB to put the bytes in the "
                        "page cache here (floor row of table 4)") if floor else "")
        abs_row("broker CPU per GB consumed (1 KiB): Samsa",
                self.metric("consume", "samsa", "cpu_s_per_gb", size=1024), 0.05, "CPU-s/GB", False,
                fmt=lambda x: f"{x:.3f}", detail="'near zero' read as ≤ 0.05")
        f = self.scale_figures()
        if f:
            n = f"{f['target_parts']:,} partitions"
            ref = self.metric("produce", "samsa", "msgs_per_sec", size=100, partitions=32, acks="1")
            if f["thr"] and ref:
                ratio_row(f"{n}: throughput / 32-partition figure",
                          f["thr"], ref, 0.8,
                          f"{f['created']:,} partitions created, {f['processes']} producer process(es)")
            else:
                T.append([f"{n}: throughput / 32-partition figure", "-", "≥ 0.8×", "**no**",
                          f"no throughput: {f['create_error'] or 'see the scale table'}"])
            abs_row(f"{n}: broker peak RSS", f["peak_rss"], 200, "MB", False,
                    detail=f"{f['created']:,} partitions created")
            fds = agg([x for a in (f["peak_fds"], f["spread_fds"]) if a for x in (a["max"],)])
            cap = f["max_open_files"]
            if fds and f["created"] and cap:
                met = fds["max"] <= cap + 100
                T.append([f"{n}: open fds bounded", f"{fds['max']:,.0f} fds at most "
                          f"({fds['max'] / f['created']:.2f} per partition)",
                          f"≤ samsa.max.open.files ({cap:,}) + 100", "yes" if met else "**no**",
                          f"{f['created']:,} partitions created; LRU of open segment files"])
            else:
                T.append([f"{n}: open fds bounded", "-", "≤ samsa.max.open.files + 100", "n/a", ""])
            abs_row(f"start-up after clean shutdown, {f['st_parts']:,} partitions", f["clean"], 100, "ms", False,
                    fmt=lambda x: f"{x:.1f}")
            abs_row("idle RSS (empty broker)", f["idle_empty"], 10, "MB", False, fmt=lambda x: f"{x:.1f}")
        return md_table(["target", "measured (median)", "target", "met", "detail"], T)

    # -------------------------------------------------------------------- svg
    def svg(self):
        W, H = 900, 420
        panels = [("Produce, 1 producer, 1 partition, acks=1", "produce"),
                  ("Consume, 32 partitions, from the page cache", "consume")]
        pw, ph = 380, 290
        ox = [70, 520]
        oy = 50
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
               f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
               f'<rect width="{W}" height="{H}" fill="white"/>',
               f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">'
               f'Throughput against message size (MB/s, median; bars: min–max)</text>']
        sizes = [100, 1024]
        for (title, wl), x0 in zip(panels, ox):
            series = {}
            for s in self.systems:
                if wl == "consume" and s == "samsa-flush1000":
                    continue
                pts = []
                for size in sizes:
                    m = (self.produce_match(s, size, 1, "1") if wl == "produce" else dict(size=size))
                    a = self.metric(wl, s, "mb_per_sec", **m)
                    if a:
                        pts.append((size, a))
                if pts:
                    series[s] = pts
            ymax = max([a["max"] for pts in series.values() for _, a in pts] + [1]) * 1.1
            step = nice_step(ymax / 5)
            ymax = step * (int(ymax / step) + 1)

            def X(size):
                return x0 + 40 + (pw - 80) * (0 if size == sizes[0] else 1)

            def Y(v):
                return oy + ph - ph * v / ymax
            out.append(f'<text x="{x0 + pw / 2}" y="{oy - 10}" text-anchor="middle" font-weight="bold">'
                       f'{html.escape(title)}</text>')
            out.append(f'<rect x="{x0}" y="{oy}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
            v = 0.0
            while v <= ymax + 1e-9:
                y = Y(v)
                out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + pw}" y2="{y:.1f}" stroke="#eee"/>')
                out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{v:,.0f}</text>')
                v += step
            for size in sizes:
                out.append(f'<text x="{X(size)}" y="{oy + ph + 18}" text-anchor="middle">'
                           f'{"100 B" if size == 100 else "1 KiB"}</text>')
            out.append(f'<text x="{x0 + pw / 2}" y="{oy + ph + 36}" text-anchor="middle">'
                       f'message size</text>')
            out.append(f'<text x="{x0 - 50}" y="{oy + ph / 2}" text-anchor="middle" '
                       f'transform="rotate(-90 {x0 - 50} {oy + ph / 2})">MB/s</text>')
            for s, pts in series.items():
                c = COLOR[s]
                if len(pts) > 1:
                    path = " ".join(f"{'M' if i == 0 else 'L'}{X(sz):.1f},{Y(a['med']):.1f}"
                                    for i, (sz, a) in enumerate(pts))
                    out.append(f'<path d="{path}" fill="none" stroke="{c}" stroke-width="2"/>')
                for sz, a in pts:
                    out.append(f'<line x1="{X(sz):.1f}" y1="{Y(a["min"]):.1f}" x2="{X(sz):.1f}" '
                               f'y2="{Y(a["max"]):.1f}" stroke="{c}" stroke-width="1"/>')
                    out.append(f'<circle cx="{X(sz):.1f}" cy="{Y(a["med"]):.1f}" r="4" fill="{c}">'
                               f'<title>{LABEL[s]} {sz} B: {a["med"]:.1f} MB/s</title></circle>')
        # legend
        lx, ly = 70, H - 14
        for s in self.systems:
            out.append(f'<rect x="{lx}" y="{ly - 10}" width="14" height="10" fill="{COLOR[s]}"/>')
            out.append(f'<text x="{lx + 18}" y="{ly}">{html.escape(LABEL[s])}</text>')
            lx += 30 + 7 * len(LABEL[s])
        out.append("</svg>")
        return "\n".join(out) + "\n"

    # --------------------------------------------------------------- markdown
    def summary_line(self):
        _, met, measured = self.targets_kafka()
        return (f"Targets against Apache Kafka (issue 15): {met} of {measured} met" if measured else
                "Targets against Apache Kafka (issue 15): not measured in this run")

    def tables_md(self):
        prod_msgs, prod_mb = self.t_produce()
        t15, met, measured = self.targets_kafka()
        parts = [
            f"### {self.summary_line()}\n\n"
            + md_table(["target", "measured (median)", "target", "met", "detail"], t15),
            "### Earlier targets (against the mock, Redis; absolute)\n\n" + self.targets(),
            "### 1. Produce, one producer (msg/s)\n\n" + prod_msgs,
            "### 1. Produce, one producer (MB/s)\n\n" + prod_mb
            + "\n\n† Redis and NATS have no acks setting: the acks=1 measurement is shown again.",
            "### 2. Consume from the page cache (32 partitions)\n\n" + self.t_consume(),
            "### 3. End-to-end latency (100 B, 1 partition)\n\n" + self.t_e2e()
            + ("\n\n#### The machine's own stalls\n\n" + self.t_stalls() if self.t_stalls() else ""),
            "### 4. Broker efficiency (server CPU seconds per GB of payload)\n\n" + self.t_eff(),
            "### 5. Scale (Samsa)\n\n" + self.t_scale(),
        ]
        st = self.t_startup()
        if st:
            parts.append("### 6. Start-up and idle memory, Samsa against Apache Kafka\n\n" + st)
        pt = self.t_perftest()
        if pt:
            parts.append("### 7. Kafka's own tools: kafka-producer-perf-test and kafka-consumer-perf-test\n\n"
                         + pt + "\n\nOne partition, acks=1, the tools' other defaults (producer: linger.ms=5, "
                         "batch.size=16384; consumer: a new group from the earliest offset); records/s of "
                         "the consumer exclude its group join (`fetch.nMsg.sec`). Command lines under "
                         "Commands below; `make bench-perftest` runs only this table.")
        return "\n\n".join(parts)

    def markdown(self, svg_name, analysis):
        d = self.doc
        m = d["machine"]
        cfg = d["config"]
        date = d["started"]
        quick = d.get("quick")
        head = ["# Benchmarks", ""]
        head.append(f"Generated by `{d.get('invocation', 'make bench')}` (bench/run.py, bench/report.py) "
                    f"on {date}, in {d['elapsed_s'] / 60:.1f} minutes. Every figure is the median of "
                    f"{cfg['reps']} run(s) with [min–max].")
        if quick:
            head += ["", "> **QUICK smoke run** (`BENCH_QUICK=1`): one repetition, short runs, a smaller "
                         "scale test. The figures only show that the harness works."]
        if d.get("interrupted"):
            head += ["", "> **Interrupted run**: some workloads are missing."]
        load = f"{' '.join(m.get('loadavg_start', []))} at the start, {' '.join(m.get('loadavg_end', []))} at the end"
        head += [
            "", "## How to run", "",
            "```",
            "make bench                 # everything (about 27 minutes on 2 cores); writes this file",
            "BENCH_QUICK=1 make bench   # ~10-minute smoke run of every table; report in build/bench/",
            "BENCH_ONLY=produce,e2e BENCH_SYSTEMS=samsa,kafka make bench   # a subset",
            "make bench-perftest        # only Kafka's own perf tools against Samsa and Kafka",
            "```", "",
            "`make bench` installs redis-server, nats-server, libhiredis-dev, a JRE and Maven if "
            "missing and Apache Kafka's jars (`scripts/deps.sh --bench`, "
            "tests/ecosystem/kafka/deps.sh), builds the broker, the CLI and the load generators in "
            "bench/ (`make bench-build`), then runs `bench/run.py`. Raw results: "
            "`build/bench/results.json`. See bench/README.md for the method.",
            "", "## Machine", "",
            md_table(["", ""], [
                ["CPU", f"{m.get('cpu_model')} × {m.get('cpus')} "
                        f"({'virtual machine' if m.get('hypervisor') else 'bare metal'})"],
                ["memory", f"{m.get('mem_total_mb', 0):,} MB"],
                ["OS", f"{m.get('os')}; {m.get('uname')}"],
                ["data directories", f"{d.get('tmpdir')} ({m.get('data_fs')}, {m.get('data_dev')})"],
                ["load average (1, 5, 15 min)", load],
                ["Samsa", f"git {m.get('git')}{' + uncommitted changes' if m.get('git_dirty') else ''}; "
                          f"{' '.join(m.get('cc') or [])}"],
                ["Apache Kafka", f"{m.get('kafka')}; {m.get('java')}; heap {m.get('kafka_heap')}"],
                ["Redis", m.get("redis")],
                ["NATS", m.get("nats")],
                ["date", date],
            ]),
            "", "Clients and servers share the same cores: each figure includes the load generator's "
                "own CPU use, on every system alike.",
            "", "## Results", "",
            self.tables_md(),
            "", "## Chart", "",
            f"![Throughput against message size]({svg_name})",
            "", "## Analysis", "",
            "<!-- analysis:begin -->",
            analysis.strip() if analysis and analysis.strip() else
            "_To be written by the lead: what the figures mean, why a target is missed, what to do._",
            "<!-- analysis:end -->",
            "", "## Method", "",
            METHOD.strip(),
            "", "## Commands", "",
            "Servers (ports and directories of this run):", "",
        ]
        for name, cmd in sorted(d.get("server_commands", {}).items()):
            note = " (restarted for each run with its topics as `NAME:PARTITIONS` arguments)" \
                if name == "mock" else ""
            head.append(f"- {LABEL.get(name, name)}: `{cmd}`{note}")
        sc = self.scale
        if sc:
            if sc.get("many", {}).get("broker_command"):
                head.append(f"- Samsa (scale tests, fresh data directory each): "
                            f"`{sc['many']['broker_command']}`")
        head += ["", "Clients (the first run of each workload and system; the other runs differ only "
                     "in topic names and rates):", ""]
        for c in d.get("commands", []):
            head.append(f"- {c['workload']}, {LABEL.get(c['system'], c['system'])}: `{c['cmd']}`")
        f = self.scale_figures()
        if f and f.get("cmd"):
            head.append(f"- scale, Samsa (one per topic, all at once): `{f['cmd']}`")
        return "\n".join(head) + "\n"


METHOD = """
- **Systems.** *Samsa*: `samsa-broker` with default settings; *Samsa flush 1 s*: the same with
  `log.flush.interval.ms=1000`. *Apache Kafka*: 4.4.0 from Maven Central (tests/ecosystem/kafka:
  pom.xml, deps.sh, kafka.py), one KRaft node that is broker and controller, started with
  `java -cp` on its jars after `kafka-storage format`; the broker's default settings (no fsync
  either: `log.flush.interval.messages` unset, as Samsa's default) except the internal topics'
  replication factor 1; the JVM flags of kafka-server-start.sh / kafka-run-class.sh (heap
  `-Xmx1g -Xms1g`, G1, `MaxGCPauseMillis=20`); WARN-level logging. Before its first figure it
  is warmed up (5 s of produce at each message size, one consume and 5 s of end-to-end at
  1,000 msg/s, not measured), as a JIT broker in production is: cold, it answered the first
  seconds of an end-to-end run 1-3 s late. *rdkafka mock*: librdkafka's mock cluster (`bench/mock_cluster.c`,
  librdkafka 2.0.2), a broker that does nothing but keep the last 5 MiB / 100,000 batches of each
  partition in memory (hard-coded in rdkafka_mock.c; older data is dropped, so it can only serve
  that much to a consumer). *Redis*: `redis-server` with `--save ''` and no AOF; *Redis AOF*:
  `--appendonly yes --appendfsync everysec`. *NATS JS*: `nats-server -js -sd DIR` (JetStream,
  file storage, one replica; its default sync interval applies). Data directories are on the disk
  named under Machine, never tmpfs.
- **Load generators.** Samsa, Kafka and the mock: `samsa perf` (librdkafka, default producer settings:
  linger.ms=5, batch.size 1,000,000; keyless messages, sticky partitioner). Redis:
  `bench/redis_bench.c` (hiredis; pipelined XADD with up to 1,024 commands awaiting their reply;
  XRANGE pages of 1,000 to consume; XREAD BLOCK for e2e). NATS: `bench/nats_bench.c` (its own client;
  PUB with a reply subject, up to 1,024 messages awaiting their PubAck; pull consumers with batches
  of 1,000). Payloads: the same random printable bytes for every system, 100 B or 1,024 B, no
  compression. Redis and NATS have no acks setting: a reply/PubAck is their ack, measured once and
  shown in both acks rows; 32 partitions are 32 streams there.
- **Produce**: one producer, unlimited rate, a fresh topic per run, fixed duration. Each
  repetition runs the six configurations and the systems in a different order (reversed
  configurations on odd repetitions, systems rotated by one), so no figure always follows the
  same run.
- **Consume**: a fresh 32-partition topic (32 streams) is filled once with the same number of
  messages on every system, then read to the end 3 times (first to last message). The mock holds
  only 5 MiB per partition, so it serves fewer messages (see "messages read").
- **End-to-end latency**: 100 B, 1 partition, acks=1, producer linger.ms=0, one producer and one
  consumer in one process (`samsa perf e2e`; redis_bench/nats_bench likewise); the payload carries
  the send time. Samsa uses the consumer's default long poll (fetch.wait.max.ms=500): a waiting
  fetch must be woken by the append. The mock does not wake a waiting fetch, so it runs with
  fetch.wait.max.ms=0 (the consumer polls). Redis: XREAD BLOCK; NATS: waiting pull requests. "50% peak"
  is half of the system's own median produce figure (100 B, 1 partition, acks=1). With a rate near
  saturation the latency is mostly queueing. The mock drops data beyond 5 MiB per partition, so
  at high rates its consumer can miss messages (reported as "missing"). Before each repetition of
  the e2e runs, `bench/stall_probe` measures the machine's own stalls with every server idle (one
  sleeping thread pinned to each CPU, wake-ups more than 1 ms late counted) and the CPU time of the
  kernel threads meanwhile, so the latency tails can be read against the machine's.
- **Efficiency**: CPU time of the server process before and after each run (the sum of its
  threads' on-CPU nanoseconds from /proc/PID/task/*/schedstat; utime + stime from /proc/PID/stat
  when that is clearly larger, i.e. threads exited), divided by the payload bytes moved
  (GB = 10^9 B). The ingest target
  uses a dedicated run: 1 KiB messages, `--batch-size 65536`, acks=1 (Kafka protocol); Redis/NATS
  show their 1 KiB produce runs. Child processes (Redis AOF rewrite) are not counted. Two
  memory states: *fresh*, as the machine is (on this VM free memory goes back to the host and
  every new page-cache page is faulted in again); *backed*, Samsa and Kafka only: a ballast file
  of twice the run's bytes is written and deleted just before a run of a fixed count (600,000
  messages), so the page cache is filled from pages the host still backs, as on any broker whose
  memory is full of page cache. The page-cache write floor is measured both ways too.
- **Start-up and idle memory** (Samsa and Kafka, their own instances): idle RSS 2 s after an
  empty broker first answers Metadata; then a topic of 1,000 partitions (200 in the quick run) is
  filled with 400 messages of 100 B per partition, the broker is stopped with SIGTERM (clean
  shutdown) and started again, timed from the process start until a Metadata request for the
  topic (sent over a raw socket every few ms) lists a leader for every partition.
- **Kafka's tools**: `kafka-producer-perf-test` (ProducerPerformance) and
  `kafka-consumer-perf-test` (ConsumerPerformance) of the same 4.4.0 jars, run with
  `java -Xmx512m -cp libs/*` as their scripts do, against both brokers: one partition,
  2,000,000 records of 100 B or 500,000 of 1 KiB, acks=1, `--throughput -1`; the consumer
  reads them back with a new group.
- **Scale**: a fresh Samsa broker with `samsa.max.open.files=2000` (BENCH_SCALE_MAX_OPEN_FILES,
  so the open-file LRU is at work); topics of BENCH_SCALE_TOPIC_PARTITIONS (default 10,000)
  partitions until the total is reached (so by default one topic and one producer), one
  `samsa perf produce` per topic, all at once, first with the client's default sticky
  partitioner (each batch goes to another partition; the figure compared with the 32-partition
  one), then with `sticky.partitioning.linger.ms=0` so every
  message picks a partition at random and every partition receives data. RSS and open fds are
  sampled from /proc every 250 ms. Start-up: topics with the start-up partition count are filled,
  the broker is stopped with SIGTERM (or SIGKILL after more data), then started again and timed
  until the port accepts a connection and the "started" log line appears (the figure is the later
  of the two). Idle RSS: 1 s after start.
- **Not tests.** Nothing here asserts a speed; `make test` does not run it.
"""


def nice_step(x):
    if x <= 0:
        return 1
    e = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if x <= m * e:
            return m * e
    return 10 * e


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--md")
    ap.add_argument("--svg")
    ap.add_argument("--quiet", action="store_true", help="do not print the tables")
    args = ap.parse_args(argv)
    doc = json.loads(Path(args.results).read_text())
    rep = Report(doc)
    if not args.quiet:
        print()
        print(rep.tables_md())
        print()
        print(rep.summary_line())
    if args.svg:
        Path(args.svg).parent.mkdir(parents=True, exist_ok=True)
        Path(args.svg).write_text(rep.svg())
    if args.md:
        mdp = Path(args.md)
        analysis = ""
        if mdp.exists():
            m = re.search(r"<!-- analysis:begin -->\n(.*?)<!-- analysis:end -->", mdp.read_text(), re.S)
            if m and not m.group(1).strip().startswith("_To be written by the lead"):
                analysis = m.group(1)
        svg_rel = os.path.relpath(args.svg, mdp.parent) if args.svg else "benchmarks-throughput.svg"
        mdp.parent.mkdir(parents=True, exist_ok=True)
        mdp.write_text(rep.markdown(svg_rel, analysis))
        print(f"wrote {args.md}" + (f" and {args.svg}" if args.svg else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
