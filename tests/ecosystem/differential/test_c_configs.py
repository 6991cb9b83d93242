"""Differential scenarios: DescribeConfigs, AlterConfigs, IncrementalAlterConfigs."""

import pytest

import oracle as O

TOPIC, BROKER = 2, 4
TOPIC_KEYS = ["retention.ms", "cleanup.policy", "max.message.bytes", "segment.bytes",
              "message.timestamp.type", "retention.bytes", "min.insync.replicas",
              "compression.type", "segment.ms"]
BROKER_KEYS = ["message.max.bytes", "num.partitions", "log.retention.hours",
               "auto.create.topics.enable", "default.replication.factor",
               "log.segment.bytes", "offsets.topic.num.partitions"]


def describe(o, resources, v=None, synonyms=False, docs=False):
    v = v or o.newest(O.DESCRIBE_CONFIGS)
    return o.call(O.DESCRIBE_CONFIGS, v, {
        "resources": [{"resource_type": t, "resource_name": n, "configuration_keys": k}
                      for t, n, k in resources],
        "include_synonyms": synonyms, "include_documentation": docs})


@pytest.mark.parametrize("v", ["newest", 1])
def test_describe_configs_topic_keys(o, v):
    v = o.newest(O.DESCRIBE_CONFIGS) if v == "newest" else v
    t = o.create_topic(o.name(), configs={"retention.ms": 123456})
    describe(o, [(TOPIC, t, TOPIC_KEYS)], v)


def test_describe_configs_topic_synonyms(o):
    t = o.create_topic(o.name(), configs={"retention.ms": 123456})
    describe(o, [(TOPIC, t, ["retention.ms", "cleanup.policy", "max.message.bytes"])],
             synonyms=True)


def test_describe_configs_topic_all(o):
    t = o.create_topic(o.name())
    describe(o, [(TOPIC, t, None)])


def test_describe_configs_unknown_topic(o):
    describe(o, [(TOPIC, o.name(), None)])


def test_describe_configs_unknown_key(o):
    t = o.create_topic(o.name())
    describe(o, [(TOPIC, t, ["no.such.key"])])


def test_describe_configs_broker_keys(o):
    describe(o, [(BROKER, "0", BROKER_KEYS)])


def test_describe_configs_unknown_broker(o):
    describe(o, [(BROKER, "7", ["num.partitions"])])


def test_describe_configs_bad_resource_type(o):
    describe(o, [(99, "x", None)])


def settle(o, topic, key, value):
    """KRaft Kafka applies a config change asynchronously: wait until each
    broker describes `key` as `value` before the compared describe."""
    def now(side):
        r = side.call(O.DESCRIBE_CONFIGS, 4, {"resources": [{
            "resource_type": TOPIC, "resource_name": topic, "configuration_keys": [key]}]})
        return r["results"][0]["configs"][0]["value"] if r["results"][0]["configs"] else None
    for side in o.sides():
        O.wait_until(lambda: now(side) == value, desc=f"{side.name}: {topic} {key}={value}")


def incremental(o, resources, validate_only=False):
    return o.call(O.INCREMENTAL_ALTER_CONFIGS, o.newest(O.INCREMENTAL_ALTER_CONFIGS), {
        "resources": [{"resource_type": t, "resource_name": n, "configs": [
            {"name": k, "config_operation": op, "value": val} for k, op, val in cfgs]}
            for t, n, cfgs in resources],
        "validate_only": validate_only})


SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


def test_incremental_alter_topic_set_delete(o):
    t = o.create_topic(o.name(), configs={"segment.ms": 600000})
    incremental(o, [(TOPIC, t, [("retention.ms", SET, "7200000"), ("segment.ms", DELETE, None)])])
    settle(o, t, "retention.ms", "7200000")
    settle(o, t, "segment.ms", "604800000")
    describe(o, [(TOPIC, t, ["retention.ms", "segment.ms"])])


def test_incremental_alter_topic_append_subtract(o):
    t = o.create_topic(o.name())
    incremental(o, [(TOPIC, t, [("cleanup.policy", APPEND, "compact")])])
    settle(o, t, "cleanup.policy", "delete,compact")
    describe(o, [(TOPIC, t, ["cleanup.policy"])])
    incremental(o, [(TOPIC, t, [("cleanup.policy", SUBTRACT, "delete")])])
    settle(o, t, "cleanup.policy", "compact")
    describe(o, [(TOPIC, t, ["cleanup.policy"])])


def test_incremental_alter_unknown_key(o):
    t = o.create_topic(o.name())
    incremental(o, [(TOPIC, t, [("no.such.key", SET, "1")])])


def test_incremental_alter_bad_value(o):
    t = o.create_topic(o.name())
    incremental(o, [(TOPIC, t, [("retention.ms", SET, "forever")])])


def test_incremental_alter_append_to_non_list(o):
    t = o.create_topic(o.name())
    incremental(o, [(TOPIC, t, [("retention.ms", APPEND, "5")])])


def test_incremental_alter_unknown_topic(o):
    incremental(o, [(TOPIC, o.name(), [("retention.ms", SET, "1000")])])


def test_incremental_alter_validate_only(o):
    t = o.create_topic(o.name())
    incremental(o, [(TOPIC, t, [("retention.ms", SET, "7200000")])], validate_only=True)
    describe(o, [(TOPIC, t, ["retention.ms"])])


def test_incremental_alter_broker_dynamic(o):
    incremental(o, [(BROKER, "0", [("log.cleaner.threads", SET, "1")])], validate_only=True)


def test_incremental_alter_broker_read_only(o):
    incremental(o, [(BROKER, "0", [("node.id", SET, "5")])], validate_only=True)


def test_incremental_alter_broker_unknown_key(o):
    incremental(o, [(BROKER, "0", [("no.such.key", SET, "5")])], validate_only=True)


def alter(o, resources, validate_only=False, v=None):
    return o.call(O.ALTER_CONFIGS, v or o.newest(O.ALTER_CONFIGS), {
        "resources": [{"resource_type": t, "resource_name": n, "configs": [
            {"name": k, "value": val} for k, val in cfgs]} for t, n, cfgs in resources],
        "validate_only": validate_only})


@pytest.mark.parametrize("v", ["newest", 0])
def test_alter_configs_topic(o, v):
    v = o.newest(O.ALTER_CONFIGS) if v == "newest" else v
    t = o.create_topic(o.name(), configs={"segment.ms": 600000})
    alter(o, [(TOPIC, t, [("retention.ms", "7200000")])], v=v)
    settle(o, t, "retention.ms", "7200000")
    settle(o, t, "segment.ms", "604800000")   # AlterConfigs replaces the whole set
    describe(o, [(TOPIC, t, ["retention.ms", "segment.ms"])])


def test_alter_configs_unknown_key(o):
    t = o.create_topic(o.name())
    alter(o, [(TOPIC, t, [("no.such.key", "1")])])


def test_alter_configs_bad_value(o):
    t = o.create_topic(o.name())
    alter(o, [(TOPIC, t, [("max.message.bytes", "-5x")])])


def test_alter_configs_unknown_topic(o):
    alter(o, [(TOPIC, o.name(), [("retention.ms", "1000")])])


def test_alter_configs_broker_read_only(o):
    alter(o, [(BROKER, "0", [("log.dirs", "/tmp/x")])], validate_only=True)
