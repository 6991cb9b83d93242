// kafkajs 2.2.4 consumer groups (JoinGroup v5 with KIP-394 member ids,
// SyncGroup, Heartbeat, OffsetCommit/OffsetFetch, LeaveGroup) and its group
// admin calls against the broker:
//  - three consumers of one group share a 6-partition topic: the assignments
//    are disjoint and cover every partition (also in the broker's
//    DescribeGroups), every message reaches exactly one member; a graceful
//    disconnect hands the partitions to the others well before the 30 s
//    session timeout, and later messages still arrive exactly once;
//  - a group restarted from manual commits resumes exactly after them;
//  - admin listGroups, describeGroups, fetchOffsets, setOffsets, deleteGroups
//    (NON_EMPTY_GROUP while a member exists, then deleted).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { Broker, waitUntil } from '../harness.mjs';

const { Kafka, AssignerProtocol, logLevel } = kafkajs;

let broker;
let kafka;
const logs = [];

before(async () => {
  broker = await new Broker({ 'group.initial.rebalance.delay.ms': '0',
                              'group.min.session.timeout.ms': '1000' }).start();
  kafka = new Kafka({
    clientId: 'samsa-it-kafkajs-groups',
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

const seqValue = (n) => `seq-${String(n).padStart(8, '0')}`;

// A group member that records its latest assignment and every message.
async function startMember(groupId, topic, name, opts = {}) {
  const m = { name, assignment: [], joins: 0, received: [], consumer: null };
  const { autoCommit = true, limit = Infinity, ...conf } = opts;
  m.consumer = kafka.consumer({ groupId, sessionTimeout: 30000, heartbeatInterval: 300,
                                rebalanceTimeout: 30000, maxWaitTimeInMs: 100, ...conf });
  m.consumer.on(m.consumer.events.GROUP_JOIN, (e) => {
    m.assignment = [...(e.payload.memberAssignment[topic] || [])].sort((a, b) => a - b);
    m.joins += 1;
    m.memberId = e.payload.memberId;
  });
  await m.consumer.connect();
  await m.consumer.subscribe({ topics: [topic], fromBeginning: true });
  await m.consumer.run({
    autoCommit,
    eachMessage: async ({ partition, message }) => {
      // past `limit` messages are left unprocessed (and uncommitted)
      if (m.received.length >= limit) return;
      m.received.push({ partition, offset: Number(message.offset), value: message.value.toString() });
    },
  });
  return m;
}

function balanced(members, nparts) {
  const all = members.flatMap((m) => m.assignment);
  return members.every((m) => m.assignment.length > 0) && all.length === nparts &&
    new Set(all).size === nparts;
}

function assertExactlyOnce(members, expected) {
  const seen = new Map();
  for (const m of members) {
    for (const r of m.received) {
      if (!expected.has(r.value)) continue;
      assert.equal(expected.get(r.value), r.partition, `${r.value} from partition ${r.partition}`);
      assert.ok(!seen.has(r.value), `${r.value} delivered twice (${seen.get(r.value)} and ${m.name})`);
      seen.set(r.value, m.name);
    }
  }
  const missing = [...expected.keys()].filter((v) => !seen.has(v));
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} messages never delivered`);
}

async function produceSeq(producer, topic, first, count, partitions) {
  const expected = new Map();
  const messages = [];
  for (let i = 0; i < count; i++) {
    const value = seqValue(first + i);
    const partition = partitions[i % partitions.length];
    messages.push({ value, partition });
    expected.set(value, partition);
  }
  for (let i = 0; i < messages.length; i += 500) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
  }
  return expected;
}

const countOf = (members, expected) =>
  members.reduce((n, m) => n + m.received.filter((r) => expected.has(r.value)).length, 0);

test('three kafkajs members share 6 partitions; every message exactly once; graceful leave', () => withDiagnostics(async () => {
  const topic = 'kafkajs-groups-three';
  const groupId = 'kafkajs-three';
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await admin.connect();
  await producer.connect();
  const members = [];
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
    for (const name of ['js-a', 'js-b', 'js-c']) members.push(await startMember(groupId, topic, name));
    await waitUntil(() => balanced(members, 6), 30000, '3 members owning 6 partitions');
    const joins = members.map((m) => m.joins);

    // the broker agrees
    const { groups: [desc] } = await admin.describeGroups([groupId]);
    assert.equal(desc.state, 'Stable');
    assert.equal(desc.protocolType, 'consumer');
    const byMember = Object.fromEntries(desc.members.map((d) =>
      [d.memberId, AssignerProtocol.MemberAssignment.decode(d.memberAssignment).assignment[topic]
        .slice().sort((a, b) => a - b)]));
    for (const m of members) assert.deepEqual(byMember[m.memberId], m.assignment, m.name);
    assert.deepEqual(desc.members.map((d) => d.clientId), Array(3).fill('samsa-it-kafkajs-groups'));

    const expected = await produceSeq(producer, topic, 0, 3000, [0, 1, 2, 3, 4, 5]);
    await waitUntil(() => countOf(members, expected) >= expected.size, 60000, 'all 3000 messages');
    assertExactlyOnce(members, expected);
    for (const m of members) {
      for (const r of m.received) assert.ok(m.assignment.includes(r.partition), `${m.name} read p${r.partition}`);
    }
    assert.deepEqual(members.map((m) => m.joins), joins, 'no rebalance while consuming');

    // graceful leave: the two others take over long before the 30 s session timeout
    const t0 = Date.now();
    const gone = members.pop();
    await gone.consumer.disconnect();
    await waitUntil(() => balanced(members, 6), 10000, 'two members owning all 6 partitions');
    assert.ok(Date.now() - t0 < 10000);
    const expected2 = await produceSeq(producer, topic, 10000, 600, [0, 1, 2, 3, 4, 5]);
    await waitUntil(() => countOf(members, expected2) >= expected2.size, 30000, 'after the leave');
    assertExactlyOnce(members, expected2);
  } finally {
    for (const m of members) await m.consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  }
}));

test('a kafkajs group resumes from its committed offsets', () => withDiagnostics(async () => {
  const topic = 'kafkajs-groups-resume';
  const groupId = 'kafkajs-resume';
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await admin.connect();
  await producer.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const expected = await produceSeq(producer, topic, 0, 400, [0, 1]);
    // first run: commit exactly what was processed, up to 150 messages
    const first = await startMember(groupId, topic, 'run1', { autoCommit: false, limit: 150 });
    await waitUntil(() => first.received.length >= 150, 30000, '150 messages');
    const pos = {};
    for (const r of first.received) pos[r.partition] = Math.max(pos[r.partition] ?? 0, r.offset + 1);
    await first.consumer.commitOffsets(Object.entries(pos).map(([p, o]) =>
      ({ topic, partition: Number(p), offset: String(o) })));
    await first.consumer.disconnect();
    const done = new Set(first.received.map((r) => r.value));
    assert.equal(done.size, first.received.length);

    const offs = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.deepEqual(offs[0].partitions.map((p) => [p.partition, p.offset]).sort(),
      [0, 1].map((p) => [p, String(pos[p] ?? -1)]));

    // second run: the rest, nothing committed again
    const second = await startMember(groupId, topic, 'run2');
    const rest = new Map([...expected].filter(([v]) => !done.has(v)));
    await waitUntil(() => countOf([second], rest) >= rest.size, 30000, `the remaining ${rest.size}`);
    assert.deepEqual(second.received.filter((r) => done.has(r.value)), []);
    assertExactlyOnce([second], rest);
    await second.consumer.disconnect();
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
}));

test('kafkajs admin: listGroups, describeGroups, setOffsets, fetchOffsets, deleteGroups', () => withDiagnostics(async () => {
  const topic = 'kafkajs-groups-admin';
  const admin = kafka.admin();
  await admin.connect();
  let member;
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    // setOffsets joins the (empty) group itself and commits
    await admin.setOffsets({ groupId: 'kafkajs-admin-idle', topic,
      partitions: [{ partition: 0, offset: '5' }, { partition: 1, offset: '9' }] });
    const offs = await admin.fetchOffsets({ groupId: 'kafkajs-admin-idle', topics: [topic] });
    assert.deepEqual(offs[0].partitions.map((p) => [p.partition, p.offset]).sort(), [[0, '5'], [1, '9']]);

    member = await startMember('kafkajs-admin-busy', topic, 'busy');
    await waitUntil(() => member.assignment.length === 2, 30000, 'busy member assigned');

    const { groups } = await admin.listGroups();
    const listed = Object.fromEntries(groups.map((g) => [g.groupId, g.protocolType]));
    assert.equal(listed['kafkajs-admin-idle'], 'consumer');
    assert.equal(listed['kafkajs-admin-busy'], 'consumer');

    const { groups: descs } = await admin.describeGroups(['kafkajs-admin-idle', 'kafkajs-admin-busy', 'kafkajs-nope']);
    const d = Object.fromEntries(descs.map((g) => [g.groupId, g]));
    assert.equal(d['kafkajs-admin-idle'].state, 'Empty');
    assert.deepEqual(d['kafkajs-admin-idle'].members, []);
    assert.equal(d['kafkajs-nope'].state, 'Dead');
    const busy = d['kafkajs-admin-busy'];
    assert.equal(busy.state, 'Stable');
    assert.equal(busy.members.length, 1);
    assert.equal(busy.members[0].memberId, member.memberId);
    assert.equal(busy.members[0].clientHost, '/127.0.0.1');
    assert.deepEqual(AssignerProtocol.MemberMetadata.decode(busy.members[0].memberMetadata).topics, [topic]);
    assert.deepEqual(AssignerProtocol.MemberAssignment.decode(busy.members[0].memberAssignment).assignment,
      { [topic]: [0, 1] });

    // a group with a member cannot be deleted; an idle one can
    await assert.rejects(admin.deleteGroups(['kafkajs-admin-busy']),
      (e) => e.name === 'KafkaJSDeleteGroupsError' && e.groups[0].errorCode === 68);
    const res = await admin.deleteGroups(['kafkajs-admin-idle']);
    assert.deepEqual(res.map((r) => [r.groupId, r.errorCode]), [['kafkajs-admin-idle', 0]]);
    const after = await admin.fetchOffsets({ groupId: 'kafkajs-admin-idle', topics: [topic] });
    assert.deepEqual(after[0].partitions.map((p) => p.offset), ['-1', '-1']);
    await assert.rejects(admin.deleteGroups(['kafkajs-admin-idle']),
      (e) => e.name === 'KafkaJSDeleteGroupsError' && e.groups[0].errorCode === 69);
    // still a member: busy group untouched
    const { groups: [again] } = await admin.describeGroups(['kafkajs-admin-busy']);
    assert.equal(again.state, 'Stable');
  } finally {
    if (member) await member.consumer.disconnect();
    await admin.disconnect();
  }
}));

// docs/groups.md G1 (issue 12): members that join an empty group together
// form it although the initial rebalance delay (Kafka's default 3 s,
// extended while members arrive) outlasts their 2.5 s session timeout: a
// member whose JoinGroup or SyncGroup is parked is kept alive. One member
// of each group joins but never fetches (paused), the others must receive
// every message of the partitions they were given.
test('G1: 2 and 5 kafkajs members joining together, one not fetching, form the group', () => withDiagnostics(async () => {
  const b = await new Broker({ 'group.initial.rebalance.delay.ms': '3000',
                               'group.min.session.timeout.ms': '1000' }).start();
  const k = new Kafka({ clientId: 'samsa-it-kafkajs-together', brokers: [b.bootstrap],
                        connectionTimeout: 5000, requestTimeout: 30000, logLevel: logLevel.NOTHING });
  const admin = k.admin();
  const producer = k.producer({ allowAutoTopicCreation: false });
  const consumers = [];
  try {
    await admin.connect();
    await producer.connect();
    for (const n of [2, 5]) {
      const topic = `kafkajs-together-${n}`;
      const groupId = `kafkajs-together-${n}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
      const expected = await produceSeq(producer, topic, 0, 100, [0, 1, 2, 3]);
      const mark = b.logText().length;
      const members = await Promise.all([...Array(n).keys()].map(async (i) => {
        const m = { name: `t${n}-${i}`, idle: i === 0, assignment: [], received: [] };
        m.consumer = k.consumer({ groupId, sessionTimeout: 2500, heartbeatInterval: 300,
                                  rebalanceTimeout: 30000, maxWaitTimeInMs: 100 });
        consumers.push(m.consumer);
        m.consumer.on(m.consumer.events.GROUP_JOIN, (e) => {
          m.assignment = [...(e.payload.memberAssignment[topic] || [])];
        });
        await m.consumer.connect();
        await m.consumer.subscribe({ topics: [topic], fromBeginning: true });
        await m.consumer.run({
          eachMessage: async ({ partition, message }) => {
            m.received.push({ partition, value: message.value.toString() });
          },
        });
        if (m.idle) m.consumer.pause([{ topic }]);
        return m;
      }));
      const pollers = members.filter((m) => !m.idle);
      const delivered = () => {
        const owned = new Set(pollers.flatMap((m) => m.assignment));
        const got = new Set(pollers.flatMap((m) => m.received.map((r) => r.value)));
        return owned.size > 0 && [...expected].every(([v, p]) => !owned.has(p) || got.has(v));
      };
      await waitUntil(delivered, 45000,
        `${n} members: the fetching ones receiving their partitions' messages`);
      const expired = b.logText().slice(mark).match(new RegExp(`group ${groupId}: member \\S+ left \\(session timeout`, 'g'));
      assert.equal(expired, null, `members expired while their join was parked:\n${b.logTail(40)}`);
    }
  } finally {
    for (const c of consumers) await c.disconnect();
    await producer.disconnect();
    await admin.disconnect();
    await b.stop();
    b.cleanup();
  }
}));
