// kafkajs through a leader failover in a three-broker cluster. The cluster
// (ZooKeeper + 3 brokers) is started by tests/integration/test_cluster_clients.py,
// which runs this file with SAMSA_CLUSTER_BOOTSTRAP and SAMSA_CLUSTER_TOPIC
// set, kills the partition leader once this reports acknowledgements, and
// writes "stop" on stdin when the new leader has acknowledged more. Progress
// goes to stdout as lines "SAMSA {json}". Under a plain `node --test test/`
// (scripts/integration.sh, no cluster) the test is skipped.
//
// Producer: idempotent, acks=-1, one message per send, in sequence; every
// send must succeed (kafkajs retries through the failover). Then a kafkajs
// consumer group reads the topic from the beginning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import readline from 'node:readline';
import kafkajs from 'kafkajs';
import { waitUntil } from '../harness.mjs';

const { Kafka, logLevel } = kafkajs;
const bootstrap = process.env.SAMSA_CLUSTER_BOOTSTRAP;
const topic = process.env.SAMSA_CLUSTER_TOPIC;

const report = (obj) => console.log(`SAMSA ${JSON.stringify(obj)}`);

test('kafkajs idempotent producer through a leader kill -9, then a group consumer',
  { skip: !bootstrap && 'needs a cluster: run by tests/integration/test_cluster_clients.py' },
  async () => {
    const logs = [];
    const kafka = new Kafka({
      clientId: 'samsa-it-kafkajs-cluster',
      brokers: bootstrap.split(','),
      connectionTimeout: 3000,
      requestTimeout: 10000,
      retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
      logLevel: logLevel.WARN,
      logCreator: () => ({ level, log }) => logs.push(`${level} ${log.message} ${log.error || ''}`),
    });

    let stop = false;
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', (l) => { if (l.trim() === 'stop') stop = true; });

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1,
      allowAutoTopicCreation: false });
    await producer.connect();
    const acked = [];
    try {
      for (let seq = 0; !stop; seq++) {
        await producer.send({ topic, acks: -1, messages: [{ value: `js-${seq}` }] });
        acked.push(seq);
        if (acked.length % 25 === 0) report({ acked: acked.length });
      }
    } catch (e) {
      report({ error: String(e), acked: acked.length, log: logs.slice(-30) });
      throw e;
    } finally {
      rl.close();
      await producer.disconnect();
    }
    report({ acked: acked.length, stopped: true });

    // a consumer that crashes stays down (kafkajs would restart it forever)
    const consumer = kafka.consumer({ groupId: `${topic}-js`, sessionTimeout: 10000,
      rebalanceTimeout: 10000, heartbeatInterval: 500,
      retry: { retries: 10, restartOnFailure: async () => false } });
    const seen = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => { seen.push(message.value.toString()); } });
      await waitUntil(() => seen.length >= acked.length, 30000,
        `kafkajs consumer: ${acked.length} messages (have ${seen.length})`);
    } catch (e) {
      report({ error: String(e), consumed: seen.length, log: logs.slice(-30) });
      throw e;
    } finally {
      await consumer.disconnect();
    }
    report({ consumed: seen.length });
    assert.deepEqual(seen, acked.map((s) => `js-${s}`));
  });
