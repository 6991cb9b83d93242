"""Broker process contract: config errors exit non-zero naming the key
(with a suggestion for typos), unimplemented real Kafka keys only warn, a
second broker on the same log dir fails fast naming it, SIGTERM/SIGINT exit 0
and write the clean-shutdown marker, properties file + --override precedence."""

import re
import signal

import confluent_kafka as ck
import pytest
from confluent_kafka.admin import ConfigResource

from conftest import (BROKER_BIN, admin, consumer, free_port, port_open, produce_all,
                      producer, run_broker_expect_exit, unique_topic, watermarks)


def base_argv(tmp_path, **extra):
    ov = {"listeners": f"PLAINTEXT://127.0.0.1:{free_port()}",
          "log.dirs": str(tmp_path / "data"), "node.id": "0", **extra}
    argv = [BROKER_BIN]
    for k, v in ov.items():
        argv += ["--override", f"{k}={v}"]
    return argv


@pytest.mark.parametrize("key,value", [
    ("num.partitions", "abc"),
    ("log.segment.bytes", "-5"),
    ("message.max.bytes", "99999999999999999999"),
    ("auto.create.topics.enable", "maybe"),
    ("log.retention.check.interval.ms", "1.5"),
])
def test_bad_value_exits_naming_key(tmp_path, key, value):
    rc, out = run_broker_expect_exit(base_argv(tmp_path, **{key: value}))
    assert rc != 0, out
    assert key in out, f"output does not name {key}:\n{out}"


def test_typo_suggests_key(tmp_path):
    rc, out = run_broker_expect_exit(base_argv(tmp_path, **{"log.retention.hourz": "5"}))
    assert rc != 0, out
    assert "log.retention.hourz" in out
    assert re.search(r"(?i)did you mean.*log\.retention\.hours", out), out
    rc, out = run_broker_expect_exit(base_argv(tmp_path, **{"num.partition": "3"}))
    assert rc != 0, out
    assert re.search(r"(?i)did you mean.*num\.partitions", out), out


def test_error_is_one_line(tmp_path):
    rc, out = run_broker_expect_exit(base_argv(tmp_path, **{"num.partitions": "abc"}))
    assert rc != 0
    lines = [ln for ln in out.splitlines() if "num.partitions" in ln]
    assert len(lines) == 1, out


def test_bad_listener_and_missing_config_file(tmp_path):
    rc, out = run_broker_expect_exit(base_argv(tmp_path, listeners="NOPE://127.0.0.1:x"))
    assert rc != 0 and "listeners" in out, out
    missing = tmp_path / "nope.properties"
    rc, out = run_broker_expect_exit([BROKER_BIN, str(missing)])
    assert rc != 0 and str(missing) in out, out
    rc, out = run_broker_expect_exit([BROKER_BIN, "--override", "no-equals-sign"])
    assert rc != 0 and "no-equals-sign" in out, out


def test_unimplemented_real_kafka_key_only_warns(broker_factory):
    b = broker_factory({"replication.quota.window.num": 11})
    assert b.running()
    warn = [ln for ln in b.log_text().splitlines()
            if "replication.quota.window.num" in ln and re.search(r"\bWARN(ING)?\b", ln)]
    assert warn, f"no warning naming replication.quota.window.num:\n{b.log_tail()}"
    produce_all(producer(b.bootstrap), "still-works", [dict(value=b"x")])


def test_second_broker_same_dir_fails_fast(broker, tmp_path):
    argv = [BROKER_BIN, "--override", f"listeners=PLAINTEXT://127.0.0.1:{free_port()}",
            "--override", f"log.dirs={broker.logdir}", "--override", "node.id=0"]
    rc, out = run_broker_expect_exit(argv, timeout=10)
    assert rc != 0, out
    assert str(broker.logdir) in out, f"message does not name {broker.logdir}:\n{out}"
    # the first broker is unaffected
    assert broker.running()
    produce_all(producer(broker.bootstrap), "first-still-serving", [dict(value=b"x")])


def test_port_in_use_fails(broker, tmp_path):
    argv = [BROKER_BIN, "--override", f"listeners=PLAINTEXT://127.0.0.1:{broker.port}",
            "--override", f"log.dirs={tmp_path / 'other'}", "--override", "node.id=0"]
    rc, out = run_broker_expect_exit(argv, timeout=10)
    assert rc != 0, out
    assert str(broker.port) in out, out
    assert broker.running()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_clean_shutdown(broker, request, sig):
    t = unique_topic(request)
    produce_all(producer(broker.bootstrap), t, [dict(value=b"%d" % i) for i in range(10)])
    marker = broker.logdir / ".kafka_cleanshutdown"
    broker.stop(sig=sig)  # asserts exit code 0 within the stop timeout
    assert marker.exists(), f"{marker} not written on {sig.name}"
    assert not port_open(broker.port)
    broker.start()
    assert watermarks(broker.bootstrap, t, 0) == (0, 10)


def test_shutdown_with_connected_idle_and_busy_clients(broker, request):
    """SIGTERM while a consumer is parked in a long poll and a producer is
    connected still exits 0 promptly."""
    t = unique_topic(request)
    p = producer(broker.bootstrap)
    produce_all(p, t, [dict(value=b"x")])  # p stays connected
    c = consumer(broker.bootstrap, **{"fetch.wait.max.ms": 30000, "socket.timeout.ms": 60000})
    c.assign([ck.TopicPartition(t, 0, 1)])
    c.consume(num_messages=1, timeout=0.5)
    try:
        broker.stop(timeout=10)
    finally:
        c.close()
        p.purge()


def test_properties_file_and_override_precedence(broker_factory, tmp_path, request):
    port, datadir = free_port(), tmp_path / "from-file"
    props = tmp_path / "server.properties"
    props.write_text(
        "# comment line\n"
        "! bang comment\n"
        f"listeners=PLAINTEXT://127.0.0.1:{port}\n"
        f"log.dirs = {datadir}\n"
        "node.id=0\n"
        "num.partitions=2\n"
        "log.retention.hours : 100\n"
        "\n")
    b = broker_factory({"num.partitions": 3}, config_file=props, port=port, logdir=datadir,
                       base_overrides=False)
    t = unique_topic(request)
    produce_all(producer(b.bootstrap), t, [dict(value=b"x")])
    md = admin(b.bootstrap).list_topics(t, timeout=10).topics[t]
    assert len(md.partitions) == 3, "--override must win over the properties file"
    assert (datadir / f"{t}-0").is_dir()
    res = ConfigResource(ConfigResource.Type.BROKER, "0")
    a = admin(b.bootstrap)  # keep the client alive while its future is pending
    cfg = a.describe_configs([res])[res].result(15)
    assert cfg["log.retention.hours"].value == "100"
