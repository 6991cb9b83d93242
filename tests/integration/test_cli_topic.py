"""`samsa cluster info` and `samsa topic ...` against a live broker. Outcomes
are checked independently with confluent-kafka (metadata, configs,
watermarks), not only through the CLI's own output."""

import re

import pytest
from confluent_kafka.admin import ConfigResource, ConfigSource

from conftest import admin, create_topic, produce_all, producer, wait_topic, watermarks
from test_cli_common import EXIT_FAIL, EXIT_NOTFOUND, EXIT_USAGE, Cli, cli, one_line_error  # noqa: F401


def topic_configs(bs, name):
    res = ConfigResource(ConfigResource.Type.TOPIC, name)
    a = admin(bs)   # keep the handle alive until the future resolves
    fut = a.describe_configs([res], request_timeout=10)[res]
    return {k: v for k, v in fut.result(timeout=15).items()}


def overrides(bs, name):
    return {k: e.value for k, e in topic_configs(bs, name).items()
            if e.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value}


def partitions_of(bs, name):
    # all-topics metadata: asking for one topic by name would auto-create it
    md = admin(bs).list_topics(timeout=10).topics.get(name)
    return None if md is None or md.error is not None else len(md.partitions)


# --- cluster info -----------------------------------------------------------------------

def test_cluster_info(cli, broker):
    create_topic(broker.bootstrap, "ci-a", 3)
    create_topic(broker.bootstrap, "ci-b", 2)
    j = cli.ok("cluster", "info", "--json").json()
    assert j["brokers"] == [{"id": 0, "host": "127.0.0.1", "port": broker.port, "rack": None,
                             "controller": True, "drained": False}]
    assert j["controller_id"] == 0
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", j["cluster_id"]), j
    assert j["topics"] == 2 and j["partitions"] == 5 and j["internal_topics"] == 0
    assert j["under_replicated_partitions"] == 0 and j["offline_partitions"] == 0
    assert j["under_replicated"] == [] and j["offline"] == []
    human = cli.ok("cluster", "info").out
    assert f"Cluster id:                   {j['cluster_id']}" in human
    assert "Controller:                   0\n" in human and "Topics:                       2 (0 internal)" in human
    assert "Partitions:                   5\n" in human
    assert "Under-replicated partitions:  0\n" in human and "Offline partitions:           0\n" in human
    assert "Drained brokers:              0\n" in human
    assert re.search(r"^ID\s+HOST\s+PORT\s+RACK\s+CONTROLLER\s+DRAINED$", human, re.M), human
    assert re.search(rf"^\s*0\s+127\.0\.0\.1\s+{broker.port}\s+-\s+yes\s*$", human, re.M), human


def test_cluster_info_rack_and_internal_flag(cli, broker_factory):
    b = broker_factory(overrides={"broker.rack": "eu-west-1a"})
    c = Cli(b)
    create_topic(b.bootstrap, "rack-t", 1)
    c.ok("consume", "rack-t", "-g", "g-rack", "-e", "-q")   # creates __consumer_offsets
    j = c.ok("cluster", "info", "--json").json()
    assert j["brokers"][0]["rack"] == "eu-west-1a"
    # is_internal comes from the broker (Metadata v7), not from the name
    assert j["internal_topics"] == 1 and j["topics"] == 2, j
    assert re.search(rf"^\s*0\s+127\.0\.0\.1\s+{b.port}\s+eu-west-1a\s+yes\s*$",
                     c.ok("cluster", "info").out, re.M)


# --- create --------------------------------------------------------------------------------

def test_create_with_partitions_and_configs(cli, broker):
    bs = broker.bootstrap
    r = cli.ok("topic", "create", "orders", "-p", "3", "-r", "1",
               "-c", "retention.ms=86400000", "-c", "cleanup.policy=compact")
    assert r.out == "Created topic 'orders' with 3 partitions, replication factor 1.\n"
    assert partitions_of(bs, "orders") == 3
    assert overrides(bs, "orders") == {"retention.ms": "86400000", "cleanup.policy": "compact"}


def test_create_defaults_and_json(cli, broker):
    j = cli.ok("topic", "create", "plain", "--json").json()
    assert j == {"topic": "plain", "created": True, "existed": False, "dry_run": False,
                 "partitions": 1, "replication_factor": 1}
    assert partitions_of(broker.bootstrap, "plain") == 1


def test_create_replication_factor(cli, broker):
    bs = broker.bootstrap
    for flag, name in (("--replication-factor", "rf-long"), ("-r", "rf-short"), ("--replicas", "rf-alias")):
        r = cli.ok("topic", "create", name, "-p", "2", flag, "1")
        assert r.out == f"Created topic '{name}' with 2 partitions, replication factor 1.\n"
        md = admin(bs).list_topics(timeout=10).topics[name]
        assert [md.partitions[p].replicas for p in (0, 1)] == [[0], [0]]


def test_create_replication_factor_larger_than_brokers(cli, broker):
    for args in (["--replication-factor", "2"], ["-r", "3", "--dry-run"]):
        r = cli("topic", "create", "too-many", *args)
        assert r.rc == EXIT_FAIL, r
        rf = args[1]
        one_line_error(r, "cannot create topic 'too-many'",
                       f"Replication factor: {rf} larger than available brokers: 1.")
    assert partitions_of(broker.bootstrap, "too-many") is None
    r = cli("topic", "create", "zero", "--replication-factor", "0")
    assert r.rc == EXIT_USAGE
    one_line_error(r, "bad --replication-factor 0")


def test_create_existing_topic(cli, broker):
    cli.ok("topic", "create", "dup", "-p", "2")
    r = cli("topic", "create", "dup", "-p", "2")
    assert r.rc == EXIT_FAIL
    one_line_error(r, "topic 'dup' already exists")
    r = cli.ok("topic", "create", "dup", "--if-not-exists")
    assert "already exists" in r.out
    assert cli.ok("topic", "create", "dup", "--if-not-exists", "--json").json()["existed"] is True


def test_create_bad_config_value_creates_nothing(cli, broker):
    r = cli("topic", "create", "badcfg", "-c", "retention.ms=soon")
    assert r.rc == EXIT_FAIL, r
    one_line_error(r, "cannot create topic 'badcfg'", "retention.ms")
    assert partitions_of(broker.bootstrap, "badcfg") is None


def test_create_dry_run(cli, broker):
    r = cli.ok("topic", "create", "dry", "-p", "4", "--dry-run")
    assert "dry run" in r.out
    assert partitions_of(broker.bootstrap, "dry") is None
    r = cli("topic", "create", "dry", "-c", "retention.ms=soon", "--dry-run")
    assert r.rc == EXIT_FAIL


def test_create_invalid_name(cli):
    r = cli("topic", "create", "bad name!")
    assert r.rc == EXIT_FAIL, r
    one_line_error(r, "cannot create topic 'bad name!'")


# --- list ----------------------------------------------------------------------------------

def test_list(cli, broker):
    assert cli.ok("topic", "list", "--json").json() == []
    r = cli.ok("topic", "list")
    assert r.out == "" and "No topics" in r.err
    create_topic(broker.bootstrap, "beta", 2)
    create_topic(broker.bootstrap, "alpha", 12)
    j = cli.ok("topic", "list", "--json").json()
    assert [(t["topic"], t["partitions"], t["replication_factor"]) for t in j] == \
        [("alpha", 12, 1), ("beta", 2, 1)]
    lines = cli.ok("topic", "list").out.splitlines()
    assert lines[0].split() == ["TOPIC", "PARTITIONS", "REPLICATION"]
    assert [ln.split() for ln in lines[1:]] == [["alpha", "12", "1"], ["beta", "2", "1"]]
    # aligned: the numeric columns end where their headers end
    ends = {len(ln) for ln in lines}
    assert len(ends) == 1, lines


def test_list_exclude_internal(cli, broker):
    create_topic(broker.bootstrap, "user-topic", 1)
    # create an internal topic by using a consumer group
    r = cli.ok("consume", "user-topic", "-g", "g-int", "-e", "-q")
    names = [t["topic"] for t in cli.ok("topic", "list", "--json").json()]
    visible = [t["topic"] for t in cli.ok("topic", "list", "--exclude-internal", "--json").json()]
    assert visible == ["user-topic"]
    assert all(n == "user-topic" or n.startswith("__") for n in names)


# --- describe -------------------------------------------------------------------------------

def test_describe_partitions_offsets_and_configs(cli, broker):
    bs = broker.bootstrap
    create_topic(bs, "desc", 3, config={"retention.ms": "3600000"})
    produce_all(producer(bs), "desc", [{"value": b"v%d" % i, "partition": i % 3} for i in range(10)])
    j = cli.ok("topic", "describe", "desc", "--json").json()
    assert j["topic"] == "desc" and j["replication_factor"] == 1
    parts = j["partitions"]
    assert [p["partition"] for p in parts] == [0, 1, 2]
    for p in parts:
        assert p["leader"] == 0 and p["replicas"] == [0] and p["isr"] == [0] and p["error"] is None
        assert p["leader_epoch"] == 0 and p["offline_replicas"] == []
        lo, hi = watermarks(bs, "desc", p["partition"])
        assert (p["log_start_offset"], p["log_end_offset"]) == (lo, hi)
    assert [p["log_end_offset"] for p in parts] == [4, 3, 3]
    assert j["configs"] == [{"name": "retention.ms", "value": "3600000",
                             "source": "DYNAMIC_TOPIC_CONFIG", "read_only": False, "sensitive": False}]

    human = cli.ok("topic", "describe", "desc").out
    assert "Partitions:          3" in human and "Records:             10" in human
    assert re.search(r"^PARTITION\s+LEADER\s+EPOCH\s+REPLICAS\s+ISR\s+OFFLINE\s+LOG-START\s+LOG-END$",
                     human, re.M), human
    # partition, leader 0, epoch 0, replicas 0, ISR 0, no offline replica, log start 0, log end
    rows = re.findall(r"^\s+(\d+)\s+0\s+0\s+0\s+0\s+-\s+0\s+(\d+)$", human, re.M)
    assert rows == [("0", "4"), ("1", "3"), ("2", "3")], human
    assert re.search(r"^retention\.ms\s+3600000\s+topic$", human, re.M), human


def test_describe_all_configs(cli, broker):
    create_topic(broker.bootstrap, "allcfg", 1)
    j = cli.ok("topic", "describe", "allcfg", "--all-configs", "--json").json()
    names = {c["name"]: c for c in j["configs"]}
    assert "retention.ms" in names and "cleanup.policy" in names
    assert names["cleanup.policy"]["source"] != "DYNAMIC_TOPIC_CONFIG"
    human = cli.ok("topic", "describe", "allcfg").out
    assert "none set on the topic" in human


def test_describe_unknown_topic(cli, broker):
    r = cli("topic", "describe", "nope")
    assert r.rc == EXIT_NOTFOUND, r
    one_line_error(r, "topic 'nope' does not exist")
    # the lookup must not have auto-created it
    assert partitions_of(broker.bootstrap, "nope") is None


# --- delete ------------------------------------------------------------------------------------

def test_delete(cli, broker):
    bs = broker.bootstrap
    for t in ("d1", "d2", "keep"):
        create_topic(bs, t, 1)
    r = cli.ok("topic", "delete", "d1", "d2")
    assert r.out == "Deleted topic 'd1'.\nDeleted topic 'd2'.\n"
    names = set(admin(bs).list_topics(timeout=10).topics)
    assert "d1" not in names and "d2" not in names and "keep" in names


def test_delete_unknown_topic(cli, broker):
    create_topic(broker.bootstrap, "real", 1)
    r = cli("topic", "delete", "ghost")
    assert r.rc == EXIT_NOTFOUND, r
    one_line_error(r, "topic 'ghost' does not exist")
    r = cli.ok("topic", "delete", "ghost", "--if-exists")
    assert "skipped" in r.out
    j = cli("topic", "delete", "real", "ghost", "--json")
    assert j.rc == EXIT_NOTFOUND
    assert j.json() == [{"topic": "real", "deleted": True, "error": None},
                        {"topic": "ghost", "deleted": False, "error": "topic does not exist"}]


# --- alter-config ---------------------------------------------------------------------------------

def test_alter_config_set_and_delete_keeps_other_overrides(cli, broker):
    bs = broker.bootstrap
    create_topic(bs, "alt", 1, config={"retention.ms": "100000", "segment.bytes": "1048576"})
    r = cli.ok("topic", "alter-config", "alt", "--set", "retention.ms=5000", "--set", "cleanup.policy=compact")
    assert overrides(bs, "alt") == {"retention.ms": "5000", "segment.bytes": "1048576",
                                    "cleanup.policy": "compact"}
    assert re.search(r"^retention\.ms\s+100000\s+5000$", r.out, re.M), r.out
    assert re.search(r"^cleanup\.policy\s+\(default\)\s+compact$", r.out, re.M), r.out
    j = cli.ok("topic", "alter-config", "alt", "--delete", "retention.ms", "--json").json()
    assert j["changes"] == [{"name": "retention.ms", "old": "5000", "new": None}]
    assert j["overrides"] == {"segment.bytes": "1048576", "cleanup.policy": "compact"}
    assert overrides(bs, "alt") == {"segment.bytes": "1048576", "cleanup.policy": "compact"}


def test_alter_config_bad_value_changes_nothing(cli, broker):
    bs = broker.bootstrap
    create_topic(bs, "altbad", 1, config={"retention.ms": "100000"})
    r = cli("topic", "alter-config", "altbad", "--set", "retention.ms=never", "--set", "segment.bytes=2000000")
    assert r.rc == EXIT_FAIL, r
    one_line_error(r, "cannot alter configs of topic 'altbad'", "retention.ms")
    assert overrides(bs, "altbad") == {"retention.ms": "100000"}


def test_alter_config_dry_run_and_unknown(cli, broker):
    bs = broker.bootstrap
    create_topic(bs, "altdry", 1)
    r = cli.ok("topic", "alter-config", "altdry", "--set", "retention.ms=5000", "--dry-run")
    assert "dry run" in r.out
    assert overrides(bs, "altdry") == {}
    r = cli("topic", "alter-config", "ghost", "--set", "retention.ms=5000")
    assert r.rc == EXIT_NOTFOUND
    one_line_error(r, "topic 'ghost' does not exist")
    r = cli.ok("topic", "alter-config", "altdry", "--delete", "retention.ms")
    assert "nothing to delete" in r.err


# --- add-partitions ---------------------------------------------------------------------------

def test_add_partitions(cli, broker):
    bs = broker.bootstrap
    create_topic(bs, "grow", 2)
    r = cli.ok("topic", "add-partitions", "grow", "-n", "5")
    assert r.out == "Topic 'grow' now has 5 partitions (was 2).\n"
    assert partitions_of(bs, "grow") == 5
    j = cli.ok("topic", "add-partitions", "grow", "--total", "6", "--json").json()
    assert j == {"topic": "grow", "partitions": 6, "previous": 5}
    wait_topic(bs, "grow", 6)
    # the new partitions take data
    produce_all(producer(bs), "grow", [{"value": b"x", "partition": 5}])
    assert watermarks(bs, "grow", 5) == (0, 1)


def test_add_partitions_errors(cli, broker):
    create_topic(broker.bootstrap, "shrink", 4)
    r = cli("topic", "add-partitions", "shrink", "-n", "2")
    assert r.rc == EXIT_FAIL, r
    one_line_error(r, "cannot add partitions to topic 'shrink'")
    assert partitions_of(broker.bootstrap, "shrink") == 4
    r = cli("topic", "add-partitions", "ghost", "-n", "3")
    assert r.rc == EXIT_NOTFOUND
    r = cli("topic", "add-partitions", "shrink", "-n", "x")
    assert r.rc == EXIT_USAGE
