"""kafka-delete-records (with its JSON file), kafka-get-offsets (latest and
earliest) and kafka-log-dirs (--describe, its JSON) against one Samsa
broker, on a topic with known contents."""

import json

import pytest
from conftest import make_topic, produce_values, unique
from tools import kt


@pytest.mark.tool("kafka-delete-records", "kafka-get-offsets", "kafka-log-dirs")
def test_delete_records_get_offsets_log_dirs(samsa, request, tmp_path):
    bs = samsa.bootstrap
    t = make_topic(samsa, unique(request), partitions=2)
    size = {0: produce_values(samsa, t, 0, ["a", "b", "c"]),
            1: produce_values(samsa, t, 1, ["d"] * 5) + produce_values(samsa, t, 1, ["e"])}

    spec = tmp_path / "delete.json"
    spec.write_text(json.dumps({"version": 1, "partitions": [
        {"topic": t, "partition": 0, "offset": 2}]}))
    out = kt("kafka-delete-records", "--bootstrap-server", bs, "--offset-json-file", spec).stdout
    assert f"partition: {t}-0\tlow_watermark: 2" in out.splitlines(), out

    out = kt("kafka-get-offsets", "--bootstrap-server", bs, "--topic", t).stdout
    assert sorted(out.split()) == [f"{t}:0:3", f"{t}:1:6"], out
    out = kt("kafka-get-offsets", "--bootstrap-server", bs, "--topic", t, "--time",
             "earliest").stdout
    assert sorted(out.split()) == [f"{t}:0:2", f"{t}:1:0"], out

    out = kt("kafka-log-dirs", "--bootstrap-server", bs, "--describe", "--topic-list", t).stdout
    doc = json.loads(next(ln for ln in out.splitlines() if ln.startswith("{")))
    assert doc["version"] == 1 and [b["broker"] for b in doc["brokers"]] == [0], doc
    (d,) = doc["brokers"][0]["logDirs"]
    assert d["error"] is None and d["logDir"] == str(samsa.logdir), doc
    # DeleteRecords moves the log start; the active segment stays whole
    assert sorted((p["partition"], p["size"], p["offsetLag"], p["isFuture"])
                  for p in d["partitions"]) == \
        [(f"{t}-0", size[0], 0, False), (f"{t}-1", size[1], 0, False)], doc
