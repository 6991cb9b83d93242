// kafkajs 2.2.4 over SASL_PLAINTEXT (issue 17): PLAIN and SCRAM-SHA-256/512
// produce and consume (PLAIN and SCRAM-SHA-512 over SASL_SSL too, with the
// shared fixture's certificates), a wrong password refused with Kafka's message, and
// re-authentication (KIP-368): with connections.max.reauth.ms the broker
// answers a session lifetime, kafkajs re-authenticates on its connections
// before the session ends, and the broker never has to close one for an
// expired session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import kafkajs from 'kafkajs';
import { Broker, ROOT, freePort, sleep } from '../harness.mjs';

const { Kafka, logLevel } = kafkajs;
const CLI = path.resolve(process.env.SAMSA_CLI || path.join(ROOT, 'build', 'samsa'));
const REAUTH_MS = 2000;
const PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule';
const SCRAM = 'org.apache.kafka.common.security.scram.ScramLoginModule';

let broker;
let plainBs;
let sslBs;
let caPem;

before(async () => {
  broker = new Broker();
  const certDir = path.join(broker.dir, 'certs');
  const py = spawnSync('/usr/bin/python3', ['-c',
    'import sys; sys.path.insert(0, sys.argv[1]); from security import Certs; Certs(sys.argv[2])',
    path.join(ROOT, 'tests', 'integration'), certDir], { encoding: 'utf8', timeout: 60000 });
  assert.equal(py.status, 0, py.error ? `${py.error.message}` : py.stderr);
  caPem = fs.readFileSync(path.join(certDir, 'ca.pem'), 'utf8');
  broker.port = await freePort();
  const plain = await freePort();
  const ssl = await freePort();
  plainBs = `127.0.0.1:${plain}`;
  sslBs = `127.0.0.1:${ssl}`;
  broker.overrides = {
    listeners: `SASL_PLAINTEXT://127.0.0.1:${broker.port},PLAINTEXT://127.0.0.1:${plain},SASL_SSL://127.0.0.1:${ssl}`,
    'ssl.keystore.location': path.join(certDir, 'broker-keystore.pem'),
    'ssl.truststore.location': path.join(certDir, 'ca.pem'),
    'listener.name.sasl_ssl.plain.sasl.jaas.config': `${PLAIN} required user_alice="alice-secret";`,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config': `${SCRAM} required;`,
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': `${SCRAM} required;`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': `${PLAIN} required user_alice="alice-secret";`,
    'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config': `${SCRAM} required;`,
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config': `${SCRAM} required;`,
    'connections.max.reauth.ms': String(REAUTH_MS),
    'group.initial.rebalance.delay.ms': '0',
  };
  await broker.start();
  for (const [user, pw, mech] of [['carol', 'carol-256', 'SCRAM-SHA-256'], ['dave', 'dave-512', 'SCRAM-SHA-512']]) {
    const r = spawnSync(CLI, ['-b', plainBs, 'user', 'create', user, '--password', pw, '--mechanism', mech],
      { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, r.error ? `${r.error.message}` : r.stderr);
  }
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

function client(sasl, overTls = false) {
  return new Kafka({ clientId: 'samsa-it-kafkajs-sasl', brokers: [overTls ? sslBs : broker.bootstrap],
    sasl, ssl: overTls ? { ca: [caPem] } : undefined,
    connectionTimeout: 5000, requestTimeout: 15000, logLevel: logLevel.NOTHING,
    retry: { retries: 2 } });
}

async function roundTrip(kafka, topic, n, pauseMs = 0) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer();
  await producer.connect();
  const sent = Array.from({ length: n }, (_, i) => `${topic}-${i}`);
  try {
    await producer.send({ topic, acks: -1, messages: sent.slice(0, n / 2).map((value) => ({ value })) });
    if (pauseMs) await sleep(pauseMs);          // past the first session's lifetime
    await producer.send({ topic, acks: -1, messages: sent.slice(n / 2).map((value) => ({ value })) });
  } finally {
    await producer.disconnect();
  }
  const consumer = kafka.consumer({ groupId: `g-${topic}` });
  await consumer.connect();
  const got = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${got.length}/${n}`)), 30000);
      consumer.run({ eachMessage: async ({ message }) => {
        got.push(message.value.toString());
        if (got.length === n) { clearTimeout(timer); resolve(); }
      } }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  assert.deepEqual(got, sent);
}

for (const [mechanism, username, password] of [['plain', 'alice', 'alice-secret'],
  ['scram-sha-256', 'carol', 'carol-256'], ['scram-sha-512', 'dave', 'dave-512']]) {
  test(`kafkajs ${mechanism} produces and consumes`, async () => {
    await roundTrip(client({ mechanism, username, password }), `kjs-${mechanism}`, 10);
  });
}

for (const [mechanism, username, password] of [['plain', 'alice', 'alice-secret'],
  ['scram-sha-512', 'dave', 'dave-512']]) {
  test(`kafkajs ${mechanism} over SASL_SSL produces and consumes`, async () => {
    await roundTrip(client({ mechanism, username, password }, true), `kjs-ssl-${mechanism}`, 10);
  });
}

test('kafkajs re-authenticates instead of being closed for an expired session', async () => {
  await roundTrip(client({ mechanism: 'plain', username: 'alice', password: 'alice-secret' }),
    'kjs-reauth', 10, REAUTH_MS + 500);
  assert.ok(!broker.logText().includes('SASL session expired'),
    'the broker closed a kafkajs connection for an expired session');
});

test('kafkajs with a wrong password gets Kafka\'s message', async () => {
  const admin = client({ mechanism: 'plain', username: 'alice', password: 'nope' }).admin();
  await assert.rejects(admin.connect(), /Authentication failed: Invalid username or password/);
});
