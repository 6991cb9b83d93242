// kafkajs 2.2.4 over an SSL listener (issue 17): admin, producer, and the
// records read back with kcat over SSL too. Certificates come from the shared
// Python fixture (tests/integration/security.py); the broker also listens on
// PLAINTEXT, unused here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import kafkajs from 'kafkajs';
import { Broker, ROOT, freePort } from '../harness.mjs';

const { Kafka, logLevel } = kafkajs;

let broker;
let kafka;
let certDir;

before(async () => {
  broker = new Broker();
  certDir = path.join(broker.dir, 'certs');
  const py = spawnSync('/usr/bin/python3', ['-c',
    'import sys; sys.path.insert(0, sys.argv[1]); from security import Certs; Certs(sys.argv[2])',
    path.join(ROOT, 'tests', 'integration'), certDir], { encoding: 'utf8', timeout: 60000 });
  assert.equal(py.status, 0, py.stderr);
  broker.port = await freePort();
  const plain = await freePort();
  broker.overrides = {
    listeners: `SSL://127.0.0.1:${broker.port},PLAINTEXT://127.0.0.1:${plain}`,
    'ssl.keystore.location': path.join(certDir, 'broker-keystore.pem'),
    'ssl.truststore.location': path.join(certDir, 'ca.pem'),
  };
  await broker.start();
  kafka = new Kafka({
    clientId: 'samsa-it-kafkajs-tls',
    brokers: [broker.bootstrap],
    ssl: { ca: [fs.readFileSync(path.join(certDir, 'ca.pem'), 'utf8')] },
    connectionTimeout: 5000,
    requestTimeout: 15000,
    logLevel: logLevel.NOTHING,
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

test('kafkajs produces over SSL and the records read back over SSL', async () => {
  const topic = 'kafkajs-tls';
  const admin = kafka.admin();
  await admin.connect();
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }), true);
    assert.ok((await admin.listTopics()).includes(topic));
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer();
  await producer.connect();
  const messages = Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
  const r = spawnSync('kcat', ['-b', broker.bootstrap, '-X', 'security.protocol=SSL',
    '-X', `ssl.ca.location=${path.join(certDir, 'ca.pem')}`, '-t', topic, '-C', '-e',
    '-o', 'beginning', '-f', '%k=%s\n'], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.error ? `${r.error.message}` : r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter(Boolean), messages.map((m) => `${m.key}=${m.value}`));
});

test('kafkajs refuses a broker whose CA it does not trust', async () => {
  const other = new Kafka({
    clientId: 'samsa-it-kafkajs-tls-untrusting',
    brokers: [broker.bootstrap],
    ssl: { ca: [fs.readFileSync(path.join(certDir, 'ca2.pem'), 'utf8')] },
    connectionTimeout: 2000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = other.admin();
  await assert.rejects(admin.connect(), (e) => /certificate|self.signed|verify/i.test(`${e.message} ${e.cause ?? ''}`) || e.name === 'KafkaJSConnectionError');
  await admin.disconnect();
});
