// kafkajs 2.2.4 transactions against the broker (issue 16): producer.transaction(),
// send, sendOffsets for a consumer group, commit and abort; read back with kcat
// read_committed and read_uncommitted, group offsets with admin.fetchOffsets;
// a zombie fenced by a second producer with the same transactionalId.
// SAMSA_TXN_BOOTSTRAP=host:port runs them against a broker already running
// (Apache Kafka 4.4 for checking the tests themselves) instead of starting one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import kafkajs from 'kafkajs';
import { Broker, waitUntil } from '../harness.mjs';

const { Kafka, logLevel } = kafkajs;
const external = process.env.SAMSA_TXN_BOOTSTRAP;
// names unique per run: an external broker keeps the topics of earlier runs
const run = external ? `-${Date.now()}` : '';

let broker;
let kafka;
let bootstrap;
const logs = [];

before(async () => {
  if (external) {
    bootstrap = external;
  } else {
    broker = await new Broker({ 'group.initial.rebalance.delay.ms': '0' }).start();
    bootstrap = broker.bootstrap;
  }
  kafka = new Kafka({
    clientId: 'samsa-it-kafkajs-txn',
    brokers: [bootstrap],
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries: 8 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log }) => logs.push({ level, ...log }),
  });
});

after(async () => {
  if (!broker) return;
  try {
    await broker.stop();
    broker.cleanup();
  } catch (e) {
    console.error(`broker log ${broker.logPath}:\n${broker.logTail(100)}`);
    throw e;
  }
});

async function withDiagnostics(fn) {
  const mark = logs.length;
  try {
    await fn();
  } catch (e) {
    const recent = logs.slice(mark).map((l) => `${l.level} ${l.message} ${l.error || ''}`).join('\n');
    e.message += `\n-- kafkajs log --\n${recent}` + (broker ? `\n-- broker log --\n${broker.logTail(60)}` : '');
    throw e;
  }
}

// Values of one partition to its end, with kcat at the given isolation level.
function kcatValues(topic, partition, isolation) {
  const r = spawnSync('kcat', ['-b', bootstrap, '-t', topic, '-p', String(partition), '-C', '-e',
    '-o', 'beginning', '-X', `isolation.level=${isolation}`, '-f', '%o\t%s\n'],
  { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`kcat failed (${r.status}): ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => {
    const [offset, value] = l.split('\t');
    return { offset: Number(offset), value };
  });
}

// Poll kcat until the partition reads as `want` (the markers are written
// after EndTxn returns, so a read right after commit could stop short at the
// last stable offset); fails with the last read.
async function expectValues(topic, isolation, want) {
  let last;
  try {
    await waitUntil(async () => {
      last = kcatValues(topic, 0, isolation);
      return JSON.stringify(last.map((m) => m.value)) === JSON.stringify(want);
    }, 30000, `${topic} ${isolation}`);
  } catch (e) {
    assert.deepEqual(last.map((m) => m.value), want, `${topic} ${isolation}`);
  }
  return last;
}

// (kafkajs' waitForLeaders gives up on Kafka's UNKNOWN_TOPIC_OR_PARTITION
// of a topic just created: wait on metadata ourselves)
async function createTopic(admin, topic, numPartitions = 1) {
  await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }], waitForLeaders: false });
  await waitUntil(async () => {
    try {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      return md.topics[0].partitions.length === numPartitions
        && md.topics[0].partitions.every((p) => p.leader >= 0);
    } catch { return false; }
  }, 30000, `leaders of ${topic}`);
}

// The group's coordinator loaded (a first group creates __consumer_offsets;
// kafkajs' sendOffsets does not retry NOT_COORDINATOR long enough for that).
async function groupReady(admin, groupId) {
  await waitUntil(async () => {
    try { await admin.describeGroups([groupId]); return true; } catch { return false; }
  }, 30000, `coordinator of ${groupId}`);
}

test('transaction: send + sendOffsets + commit, then abort; read_committed sees the committed only', { timeout: 90000 }, () => withDiagnostics(async () => {
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ transactionalId: `kjs-txn-1${run}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const topic = `kjs-txn-out${run}`;
    const input = `kjs-txn-in${run}`;
    const groupId = `kjs-txn-group${run}`;
    await createTopic(admin, topic);
    await createTopic(admin, input);
    await groupReady(admin, groupId);

    const t1 = await producer.transaction();
    await t1.send({ topic, messages: [0, 1, 2].map((i) => ({ partition: 0, value: `c${i}` })) });
    await t1.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '3' }] }] });
    await t1.commit();

    const t2 = await producer.transaction();
    await t2.send({ topic, messages: [0, 1].map((i) => ({ partition: 0, value: `a${i}` })) });
    await t2.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '9' }] }] });
    await t2.abort();

    const t3 = await producer.transaction();
    await t3.send({ topic, messages: [{ partition: 0, value: 'c3' }] });
    await t3.commit();

    const rc = await expectValues(topic, 'read_committed', ['c0', 'c1', 'c2', 'c3']);
    const ru = await expectValues(topic, 'read_uncommitted', ['c0', 'c1', 'c2', 'a0', 'a1', 'c3']);
    // c0-c2 at 0-2, marker 3, a0-a1 at 4-5, marker 6, c3 at 7, marker 8
    assert.deepEqual(ru.map((m) => m.offset), [0, 1, 2, 4, 5, 7]);
    assert.deepEqual(rc.map((m) => m.offset), [0, 1, 2, 7]);
    const hw = await admin.fetchTopicOffsets(topic);
    assert.equal(hw[0].high, '9');
    // only the committed transaction moved the group's offset
    const offs = await admin.fetchOffsets({ groupId, topics: [input] });
    assert.equal(offs[0].partitions[0].offset, '3');
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
}));

test('transaction: a second producer with the same transactionalId fences the first', { timeout: 90000 }, () => withDiagnostics(async () => {
  const admin = kafka.admin();
  await admin.connect();
  const topic = `kjs-txn-zombie${run}`;
  await createTopic(admin, topic);
  const old = kafka.producer({ transactionalId: `kjs-zombie${run}`, idempotent: true, maxInFlightRequests: 1,
    retry: { retries: 2 } });
  const neu = kafka.producer({ transactionalId: `kjs-zombie${run}`, idempotent: true, maxInFlightRequests: 1 });
  await old.connect();
  try {
    const tOld = await old.transaction();
    await tOld.send({ topic, messages: [{ partition: 0, value: 'old0' }] });
    await neu.connect();
    const tNew = await neu.transaction();      // InitProducerId: bumps the epoch, aborts old's
    await tNew.send({ topic, messages: [{ partition: 0, value: 'new0' }] });
    await tNew.commit();
    await assert.rejects(() => tOld.commit(), (e) => {
      assert.match(`${e.type || ''} ${e.name} ${e.message}`, /PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|fenced|epoch/i);
      return true;
    });
    await expectValues(topic, 'read_committed', ['new0']);
    await expectValues(topic, 'read_uncommitted', ['old0', 'new0']);
  } finally {
    await old.disconnect().catch(() => {});
    await neu.disconnect();
    await admin.disconnect();
  }
}));
