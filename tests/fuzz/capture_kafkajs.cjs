// kafkajs traffic for tests/fuzz/capture_seeds.py: node capture_kafkajs.cjs HOST:PORT
// Admin ops, a gzip and an uncompressed producer, a group consumer with
// commits, offset admin.  Uses the integration tests' kafkajs install.
'use strict';
const path = require('node:path');
const { Kafka, CompressionTypes, logLevel } = require(
  path.join(__dirname, '..', 'integration', 'node', 'node_modules', 'kafkajs'));

const bs = process.argv[2];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const kafka = new Kafka({ clientId: 'samsa-capture-kafkajs', brokers: [bs],
    connectionTimeout: 5000, requestTimeout: 15000, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'kj-a', numPartitions: 2, replicationFactor: 1,
    configEntries: [{ name: 'retention.ms', value: '3600000' }] }], waitForLeaders: true });
  await admin.fetchTopicMetadata({ topics: ['kj-a'] });
  await admin.listTopics();
  await admin.describeConfigs({ includeSynonyms: true,
    resources: [{ type: 2, name: 'kj-a' }, { type: 4, name: '0' }] });
  await admin.alterConfigs({ resources: [{ type: 2, name: 'kj-a',
    configEntries: [{ name: 'retention.ms', value: '7200000' }] }] });
  await admin.createPartitions({ topicPartitions: [{ topic: 'kj-a', count: 3 }] });

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
    await producer.send({ topic: 'kj-a', compression, acks: -1, messages: Array.from({ length: 30 },
      (_, i) => ({ key: `k${i % 5}`, value: `kafkajs-${compression}-${i}-`.repeat(1 + (i % 4)),
        headers: { h: `${i}` }, partition: i % 3 })) });
  }
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: 'kj-group', sessionTimeout: 10000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: ['kj-a'], fromBeginning: true });
  let n = 0;
  await consumer.run({ autoCommitInterval: 200, eachMessage: async () => { n++; } });
  const deadline = Date.now() + 20000;
  while (n < 60 && Date.now() < deadline) await sleep(100);
  await sleep(600);
  await consumer.disconnect();

  await admin.fetchTopicOffsets('kj-a');
  await admin.fetchTopicOffsetsByTimestamp('kj-a', Date.now() - 60000);
  await admin.fetchOffsets({ groupId: 'kj-group', topics: ['kj-a'] });
  await admin.listGroups();
  await admin.describeGroups(['kj-group']);
  await admin.resetOffsets({ groupId: 'kj-group', topic: 'kj-a', earliest: true });
  await admin.deleteTopicRecords({ topic: 'kj-a', partitions: [{ partition: 0, offset: '1' }] });
  await admin.deleteGroups(['kj-group']);
  await admin.deleteTopics({ topics: ['kj-a'] });
  await admin.disconnect();
  console.log(`kafkajs consumed ${n}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
