#!/usr/bin/python3
"""The exactly-once copier of the txn torture runner: consume-transform-produce
from IN to OUT with one transactional.id and a consumer group, each batch's
records and the consumer's offsets in one transaction. Killed with -9 and
restarted by txn_runner.py at random; a restart with the same transactional.id
fences the previous instance and aborts its open transaction. Exits 2 on a
fatal error (the runner restarts it), after an abort it rewinds to the
group's committed offsets.

    copier.py BOOTSTRAP IN OUT GROUP TRANSACTIONAL_ID
"""
import sys
import time

import confluent_kafka as ck


def log(msg):
    print(f"[copier {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def rewind(c):
    for tp in c.committed(c.assignment(), timeout=30):
        c.seek(ck.TopicPartition(tp.topic, tp.partition,
                                 tp.offset if tp.offset >= 0 else ck.OFFSET_BEGINNING))


def main():
    bs, src, dst, group, txn_id = sys.argv[1:6]
    p = ck.Producer({"bootstrap.servers": bs, "transactional.id": txn_id, "acks": "all",
                     "linger.ms": 5, "transaction.timeout.ms": 30000,
                     "message.timeout.ms": 30000, "socket.timeout.ms": 10000})
    p.init_transactions(120)
    c = ck.Consumer({"bootstrap.servers": bs, "group.id": group, "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                     "session.timeout.ms": 10000, "socket.timeout.ms": 10000})
    c.subscribe([src])
    copied = 0
    log(f"started as {txn_id}")
    while True:
        msgs = [m for m in c.consume(num_messages=50, timeout=0.5) if not m.error()]
        if not msgs:
            continue
        try:
            p.begin_transaction()
            for m in msgs:
                while True:
                    try:
                        p.produce(dst, value=m.value(), key=m.key(), partition=m.partition())
                        break
                    except BufferError:
                        p.poll(0.05)
            p.send_offsets_to_transaction(c.position(c.assignment()),
                                          c.consumer_group_metadata(), 60)
            p.commit_transaction(60)
            copied += len(msgs)
        except ck.KafkaException as e:
            err = e.args[0]
            if err.txn_requires_abort():
                log(f"abortable: {err}; abort and rewind")
                p.abort_transaction(60)
                rewind(c)
                continue
            if err.retriable():
                # the commit's outcome is unknown: retrying commit_transaction
                # is what librdkafka documents
                log(f"retriable: {err}; commit again")
                try:
                    p.commit_transaction(60)
                    copied += len(msgs)
                    continue
                except ck.KafkaException as e2:
                    log(f"commit again: {e2.args[0]}; exit")
            log(f"fatal: {err}; exit 2 after {copied} copied")
            sys.exit(2)


if __name__ == "__main__":
    main()
