// kafkajs 2.2.4 against the broker: admin (create/metadata/list/delete
// topics), producer with gzip and no compression, offsets via
// fetchTopicOffsets and fetchTopicOffsetsByTimestamp. Data is read back with
// kcat (kafkajs' consumer needs consumer groups, not in this issue).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { Broker, kcatConsume, waitUntil } from '../harness.mjs';

const { Kafka, CompressionTypes, logLevel } = kafkajs;

let broker;
let kafka;
const logs = [];

before(async () => {
  broker = await new Broker().start();
  kafka = new Kafka({
    clientId: 'samsa-it-kafkajs',
    brokers: [broker.bootstrap],
    connectionTimeout: 5000,
    requestTimeout: 15000,
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log }) => logs.push({ level, ...log }),
  });
});

after(async () => {
  try {
    await broker.stop();
    broker.cleanup();
  } catch (e) {
    console.error(`broker log ${broker.logPath}:\n${broker.logTail(100)}`);
    throw e;
  }
});

// On failure show what kafkajs logged and the broker log tail.
async function withDiagnostics(fn) {
  const mark = logs.length;
  try {
    await fn();
  } catch (e) {
    const recent = logs.slice(mark).map((l) => `${l.level} ${l.message} ${l.error || ''}`).join('\n');
    e.message += `\n-- kafkajs log --\n${recent}\n-- broker log --\n${broker.logTail(60)}`;
    throw e;
  }
}

test('admin createTopics, fetchTopicMetadata, listTopics, deleteTopics', () => withDiagnostics(async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topic = 'kafkajs-admin';
    assert.equal(await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1,
        configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
      waitForLeaders: true,
    }), true);
    // creating it again reports "already exists" (false), not an error
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] }), false);

    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(md.topics.length, 1);
    const parts = [...md.topics[0].partitions].sort((a, b) => a.partitionId - b.partitionId);
    assert.deepEqual(parts.map((p) => [p.partitionId, p.leader, p.replicas, p.isr, p.partitionErrorCode]),
      [[0, 0, [0], [0], 0], [1, 0, [0], [0], 0], [2, 0, [0], [0], 0]]);
    assert.ok((await admin.listTopics()).includes(topic));

    const cluster = await admin.describeCluster();
    assert.deepEqual(cluster.brokers.map((b) => [b.nodeId, b.host, b.port]), [[0, '127.0.0.1', broker.port]]);
    assert.equal(cluster.controller, 0);

    await admin.deleteTopics({ topics: [topic], timeout: 10000 });
    await waitUntil(async () => !(await admin.listTopics()).includes(topic), 10000, 'topic deleted');
  } finally {
    await admin.disconnect();
  }
}));

for (const [name, compression] of [['none', CompressionTypes.None], ['gzip', CompressionTypes.GZIP]]) {
  test(`producer ${name}: acknowledged offsets, content via kcat, fetchTopicOffsets`, () => withDiagnostics(async () => {
    const topic = `kafkajs-produce-${name}`;
    const admin = kafka.admin();
    const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
    await admin.connect();
    await producer.connect();
    try {
      assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }), true);
      const sent = { 0: [], 1: [], 2: [] };
      for (let round = 0; round < 5; round++) {
        const messages = [];
        for (let i = 0; i < 30; i++) {
          const n = round * 30 + i;
          const m = { key: `key-${n}`, value: `value-${n}-${'z'.repeat(n % 50)}`, partition: n % 3,
                      timestamp: String(1700000000000 + n) };
          messages.push(m);
          sent[m.partition].push(m);
        }
        const res = await producer.send({ topic, messages, acks: -1, compression });
        for (const r of res) assert.equal(r.errorCode, 0);
      }
      for (const p of [0, 1, 2]) {
        const got = kcatConsume(broker.bootstrap, topic, p);
        assert.deepEqual(got, sent[p].map((m, i) => ({ offset: i, key: m.key, value: m.value,
                                                       timestamp: Number(m.timestamp) })));
      }
      const offs = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition);
      assert.deepEqual(offs.map((o) => [o.partition, o.low, o.high, o.offset]),
        [[0, '0', '50', '50'], [1, '0', '50', '50'], [2, '0', '50', '50']]);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  }));
}

test('fetchTopicOffsetsByTimestamp', () => withDiagnostics(async () => {
  const topic = 'kafkajs-by-time';
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await admin.connect();
  await producer.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const base = 1700000000000;
    // partition 0: timestamps base, base+1000, ..., base+9000; partition 1 empty
    for (let i = 0; i < 10; i++) {
      await producer.send({ topic, acks: -1,
        messages: [{ value: `t${i}`, partition: 0, timestamp: String(base + i * 1000) }] });
    }
    const q = async (ts) => Object.fromEntries(
      (await admin.fetchTopicOffsetsByTimestamp(topic, ts)).map((o) => [o.partition, o.offset]));
    assert.deepEqual(await q(base + 3500), { 0: '4', 1: '0' });
    assert.deepEqual(await q(base), { 0: '0', 1: '0' });
    assert.deepEqual(await q(base + 9000), { 0: '9', 1: '0' });
    // after the last timestamp kafkajs falls back to the high watermark
    assert.deepEqual(await q(base + 60000), { 0: '10', 1: '0' });
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
}));
