"""The workload of a cluster fault run and its history.

* Producers: `n_producers` idempotent confluent-kafka producers
  (enable.idempotence, acks=all) on their own threads, producer k sending
  b"p<k>-<seq:09d>" (a unique id) to partition seq % partitions, at a fixed
  pace. Every send, acknowledgement (partition, offset, monotonic time) and
  delivery error is recorded.
* Consumers: `n_consumers` members of one consumer group, subscribed to the
  topic, each recording every delivery (partition, offset, value, time) and
  committing its position synchronously after each batch it handled; each
  commit that succeeded is recorded.
* Offsets poller: a consumer of the same group that never joins it reads the
  committed offsets (OffsetFetch) every `poll_interval` seconds; every
  answer is recorded, so checks.py can see an offset go backwards.

The threads only append to their own lists (each under its own lock) and
never assert: checks.py judges the history after the run. Times are
time.monotonic(), the clock faults.py stamps its events with.
"""
import logging
import os
import threading
import time

import confluent_kafka as ck

from cluster import SeqProducer

PRODUCER_CONF = {
    "enable.idempotence": True, "acks": "all", "linger.ms": 2,
    # Longer than any outage a fault makes, so no message times out: a
    # message that is never acknowledged is then a finding, not noise.
    # socket.timeout.ms is librdkafka's default (60 s), longer than any
    # cut: a request to a broker cut off by a partition gets its answer
    # (NOT_LEADER_OR_FOLLOWER, C38) once the link is back.  A shorter one
    # times the request out locally, and librdkafka 2.0 must then count the
    # batch "possibly written" and fails fatally ("sequence
    # desynchronization") when the next batch reaches the new leader, which
    # answers OUT_OF_ORDER_SEQUENCE_NUMBER there as Kafka's would.
    "message.timeout.ms": 300000, "socket.timeout.ms": 60000,
    "topic.metadata.refresh.interval.ms": 1000, "retry.backoff.ms": 50,
    "reconnect.backoff.max.ms": 1000, "log_level": 2,
}
CONSUMER_CONF = {
    "enable.auto.commit": False, "auto.offset.reset": "earliest",
    "session.timeout.ms": 10000, "heartbeat.interval.ms": 1000,
    "socket.timeout.ms": 10000, "topic.metadata.refresh.interval.ms": 1000,
    "reconnect.backoff.max.ms": 1000, "enable.partition.eof": False, "log_level": 2,
}


def value_of(k, seq):
    return b"p%d-%09d" % (k, seq)


def parse_value(v):
    """(producer index, seq) of a workload value, or None when it is not one."""
    try:
        tag, seq = v.split(b"-", 1)
        if tag[:1] != b"p" or len(seq) != 9:
            return None
        return int(tag[1:]), int(seq)
    except (ValueError, AttributeError):
        return None


class Producer(SeqProducer):
    """SeqProducer (cluster.py) spreading its ids over the partitions and
    recording the partition of each acknowledgement."""

    def __init__(self, k, bootstrap, topic, partitions, interval):
        conf = dict(PRODUCER_CONF)
        # SAMSA_TORTURE_RDKAFKA_DEBUG=eos,msg,... : librdkafka's debug log of
        # each producer into $SAMSA_TORTURE_RDKAFKA_LOG-p<k> (default /tmp/...)
        dbg = os.environ.get("SAMSA_TORTURE_RDKAFKA_DEBUG")
        if dbg:
            lg = logging.getLogger(f"torture.rdkafka.p{k}")
            path = os.environ.get("SAMSA_TORTURE_RDKAFKA_LOG", "/tmp/samsa-torture-rdkafka") + f"-p{k}.log"
            h = logging.FileHandler(path, mode="w")
            h.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
            lg.addHandler(h)
            lg.setLevel(logging.DEBUG)
            lg.propagate = False
            conf.update({"debug": dbg, "log_level": 7, "logger": lg})
        super().__init__(bootstrap, topic, interval=interval, tag=f"p{k}", **conf)
        self.k, self.partitions = k, partitions
        self.acked = []                 # (seq, partition, offset, t)
        self.errors = []                # (seq, str(err), t)
        self.lock = self._lock

    def value(self, seq):
        return value_of(self.k, seq)

    def partition_of(self, seq):
        return seq % self.partitions

    def _on_delivery(self, err, msg):
        t = time.monotonic()
        seq = parse_value(msg.value())[1]
        with self.lock:
            if err is None:
                self.acked.append((seq, msg.partition(), msg.offset(), t))
            else:
                self.errors.append((seq, str(err), t))
                if err.fatal():
                    self.fatal = str(err)

    def stop(self, timeout):
        """Stop sending; the number of messages still undelivered after a
        flush of timeout seconds."""
        self._stop.set()
        self._thread.join(30)
        if self.fatal is not None and not isinstance(self.fatal, str):
            self.fatal = str(self.fatal)    # raised from poll() (cluster.SeqProducer)
        return self.producer.flush(timeout)


class Member:
    """One consumer of the group."""

    def __init__(self, k, bootstrap, topic, group):
        self.k, self.topic = k, topic
        self.c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                              "client.id": f"torture-c{k}", **CONSUMER_CONF})
        self.deliveries = []            # (partition, offset, value, t)
        self.commits = []               # (t, {partition: offset}) that succeeded
        self.commit_errors = 0
        self.errors = []                # consumer error events (str)
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"torture-c{k}", daemon=True)

    def _run(self):
        self.c.subscribe([self.topic])
        while not self._stop.is_set():
            got = self.c.consume(num_messages=500, timeout=0.2)
            t = time.monotonic()
            batch = []
            for m in got:
                if m.error():
                    if m.error().code() != ck.KafkaError._PARTITION_EOF:
                        with self.lock:
                            self.errors.append(str(m.error()))
                    continue
                batch.append((m.partition(), m.offset(), m.value(), t))
            if not batch:
                continue
            with self.lock:
                self.deliveries.extend(batch)
            try:
                done = self.c.commit(asynchronous=False)
            except ck.KafkaException:
                with self.lock:
                    self.commit_errors += 1
                continue
            ok = {tp.partition: tp.offset for tp in done or [] if tp.error is None and tp.offset >= 0}
            with self.lock:
                self.commits.append((time.monotonic(), ok))

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(60)
        self.c.close()


class OffsetsPoller:
    """Reads the group's committed offsets without joining the group."""

    def __init__(self, bootstrap, topic, partitions, group, interval):
        self.topic, self.partitions, self.interval = topic, partitions, interval
        self.c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                              "client.id": "torture-offsets", **CONSUMER_CONF})
        self.samples = []               # (t, {partition: committed offset})
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="torture-offsets", daemon=True)

    def sample(self):
        tps = [ck.TopicPartition(self.topic, p) for p in range(self.partitions)]
        try:
            got = self.c.committed(tps, timeout=10)
        except ck.KafkaException:
            self.failures += 1
            return None
        s = {tp.partition: tp.offset for tp in got if tp.error is None and tp.offset >= 0}
        self.samples.append((time.monotonic(), s))
        return s

    def _run(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(60)
        self.sample()                   # the final committed offsets
        self.c.close()


class Workload:
    def __init__(self, bootstrap, topic, partitions, n_producers=3, n_consumers=2,
                 interval=0.005, group="torture-group", poll_interval=0.5):
        self.topic, self.partitions, self.group = topic, partitions, group
        self.producers = [Producer(k, bootstrap, topic, partitions, interval)
                          for k in range(n_producers)]
        self.members = [Member(k, bootstrap, topic, group) for k in range(n_consumers)]
        self.poller = OffsetsPoller(bootstrap, topic, partitions, group, poll_interval)

    def start(self):
        for x in self.producers + self.members + [self.poller]:
            x.start()

    def n_acked(self):
        return sum(len(p.acked) for p in self.producers)

    def acked_everywhere_after(self, t):
        """True when every partition has an acknowledgement later than t."""
        last = {}
        for p in self.producers:
            with p.lock:
                for _, part, _, ta in p.acked[-4 * self.partitions:]:
                    last[part] = max(last.get(part, 0), ta)
        return len(last) == self.partitions and min(last.values()) > t

    def fatal(self):
        return [f"producer {p.k}: {p.fatal}" for p in self.producers if p.fatal]

    def ack_times(self, partition=None):
        """Sorted acknowledgement times (of one partition, or all)."""
        out = []
        for p in self.producers:
            with p.lock:
                out += [t for _, part, _, t in p.acked if partition is None or part == partition]
        return sorted(out)

    def stop_producers(self, timeout):
        return {p.k: p.stop(timeout) for p in self.producers}

    def stop_consumers(self):
        for m in self.members:
            m.stop()
        self.poller.stop()
