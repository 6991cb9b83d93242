"""Differential scenarios: CreateTopics, DeleteTopics, CreatePartitions."""

import pytest

import oracle as O


def create(o, topics, v=None, validate_only=False):
    v = v or o.newest(O.CREATE_TOPICS)
    return o.call(O.CREATE_TOPICS, v, {"topics": topics, "timeout_ms": 30000,
                                       "validate_only": validate_only})


def topic(name, partitions=1, rf=1, configs=None, assignments=None):
    return {"name": name, "num_partitions": partitions, "replication_factor": rf,
            "assignments": assignments or [],
            "configs": [{"name": k, "value": v} for k, v in (configs or {}).items()]}


@pytest.mark.parametrize("v", ["newest", 4, 2])
def test_create_topics_valid(o, v):
    v = o.newest(O.CREATE_TOPICS) if v == "newest" else v
    create(o, [topic(o.name(), 3, configs={"retention.ms": "3600000",
                                           "cleanup.policy": "delete"})], v)


def test_create_topics_defaults(o):
    """-1 partitions and replication factor: the broker's defaults."""
    create(o, [topic(o.name(), -1, -1)])


@pytest.mark.parametrize("name", ["bad/name", "..", ".", "", "x" * 250, "a b"],
                         ids=["slash", "dotdot", "dot", "empty", "too_long", "space"])
def test_create_topics_bad_name(o, name):
    create(o, [topic(name)])


def test_create_topics_rf_too_large(o):
    create(o, [topic(o.name(), 1, 3)])


def test_create_topics_zero_partitions(o):
    create(o, [topic(o.name(), 0)])


def test_create_topics_unknown_config(o):
    create(o, [topic(o.name(), configs={"no.such.config": "1"})])


def test_create_topics_bad_config_value(o):
    create(o, [topic(o.name(), configs={"retention.ms": "abc"})])


def test_create_topics_bad_config_enum(o):
    create(o, [topic(o.name(), configs={"cleanup.policy": "sometimes"})])


def test_create_topics_already_exists(o):
    t = o.create_topic(o.name())
    create(o, [topic(t)])


def test_create_topics_duplicate_in_request(o):
    t = o.name()
    create(o, [topic(t), topic(t)])


def test_create_topics_validate_only(o):
    t = o.name()
    create(o, [topic(t, 2, configs={"segment.bytes": "1048576"})], validate_only=True)
    o.call(O.METADATA, 9, {"topics": [{"name": t}], "allow_auto_topic_creation": False})


def test_create_topics_manual_assignment(o):
    create(o, [topic(o.name(), -1, -1, assignments=[
        {"partition_index": 0, "broker_ids": [0]}, {"partition_index": 1, "broker_ids": [0]}])])


def test_create_topics_assignment_unknown_broker(o):
    create(o, [topic(o.name(), -1, -1, assignments=[
        {"partition_index": 0, "broker_ids": [7]}])])


def test_delete_topics_unknown(o):
    o.call(O.DELETE_TOPICS, o.newest(O.DELETE_TOPICS),
           {"topics": [{"name": o.name()}], "topic_names": [o.name()], "timeout_ms": 30000})


def test_delete_topics_existing(o):
    t = o.create_topic(o.name())
    v = o.newest(O.DELETE_TOPICS)
    o.call(O.DELETE_TOPICS, v, {"topics": [{"name": t}], "topic_names": [t],
                                "timeout_ms": 30000})
    for side in o.sides():
        O.wait_until(lambda: side.call(O.METADATA, 9, {"topics": [{"name": t}],
                                                       "allow_auto_topic_creation": False})
                     ["topics"][0]["error_code"] == 3, desc=f"{side.name}: {t} gone")
    o.call(O.METADATA, 9, {"topics": [{"name": t}], "allow_auto_topic_creation": False})


def test_delete_topics_v1(o):
    t = o.create_topic(o.name())
    o.call(O.DELETE_TOPICS, 1, {"topic_names": [t, t + "-nope"], "timeout_ms": 30000})


@pytest.mark.parametrize("count", [1, 2, 4], ids=["fewer", "same", "more"])
def test_create_partitions(o, count):
    t = o.create_topic(o.name(), partitions=2)
    o.call(O.CREATE_PARTITIONS, o.newest(O.CREATE_PARTITIONS), {
        "topics": [{"name": t, "count": count, "assignments": None}],
        "timeout_ms": 30000, "validate_only": False})
    want = max(count, 2)
    for side in o.sides():   # KRaft Kafka adds the partitions asynchronously
        O.wait_until(lambda: len(side.call(O.METADATA, 9, {"topics": [{"name": t}]})
                                 ["topics"][0]["partitions"]) == want,
                     desc=f"{side.name}: {t} has {want} partitions")
    o.call(O.METADATA, 9, {"topics": [{"name": t}], "allow_auto_topic_creation": False})


def test_create_partitions_validate_only(o):
    t = o.create_topic(o.name())
    o.call(O.CREATE_PARTITIONS, o.newest(O.CREATE_PARTITIONS), {
        "topics": [{"name": t, "count": 3, "assignments": None}],
        "timeout_ms": 30000, "validate_only": True})
    o.call(O.METADATA, 9, {"topics": [{"name": t}], "allow_auto_topic_creation": False})


def test_create_partitions_unknown_topic(o):
    o.call(O.CREATE_PARTITIONS, o.newest(O.CREATE_PARTITIONS), {
        "topics": [{"name": o.name(), "count": 3, "assignments": None}],
        "timeout_ms": 30000, "validate_only": False})


def test_create_partitions_duplicate_topic(o):
    t = o.create_topic(o.name())
    o.call(O.CREATE_PARTITIONS, o.newest(O.CREATE_PARTITIONS), {
        "topics": [{"name": t, "count": 3, "assignments": None},
                   {"name": t, "count": 4, "assignments": None}],
        "timeout_ms": 30000, "validate_only": False})
