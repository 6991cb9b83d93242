// Broker process harness for the kafkajs tests (mirrors ../conftest.py):
// 127.0.0.1 on a free port, data in a fresh tmp dir, stderr to a log file,
// ready when the port accepts connections, stopped by PID (SIGTERM, then
// SIGKILL after a timeout), exit code 0 and no sanitizer report required.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..', '..');
export const BROKER_BIN = path.resolve(process.env.SAMSA_BROKER || path.join(ROOT, 'build', 'samsa-broker'));
const SANITIZER_RE = /ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer/;

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(cond, timeoutMs, desc) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${desc}`);
    await sleep(20);
  }
}

export class Broker {
  constructor(overrides = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-node-'));
    this.logdir = path.join(this.dir, 'data');
    this.overrides = overrides;
    this.proc = null;
    this.exit = null;
  }

  get bootstrap() { return `127.0.0.1:${this.port}`; }

  async start() {
    this.port = this.port || await freePort();
    this.logPath = path.join(this.dir, `broker-${this.port}.log`);
    const ov = { listeners: `PLAINTEXT://127.0.0.1:${this.port}`, 'log.dirs': this.logdir,
                 'node.id': '0', ...this.overrides };
    const args = Object.entries(ov).flatMap(([k, v]) => ['--override', `${k}=${v}`]);
    const fd = fs.openSync(this.logPath, 'a');
    this.proc = spawn(BROKER_BIN, args, { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    this.exit = new Promise((resolve) => this.proc.once('exit', (code, sig) => resolve({ code, sig })));
    let exited = null;
    this.exit.then((e) => { exited = e; });
    const deadline = Date.now() + 10000;
    while (!(await canConnect(this.port))) {
      if (exited) throw new Error(`broker exited ${JSON.stringify(exited)} before listening:\n${this.logTail()}`);
      if (Date.now() > deadline) {
        await this.stop().catch(() => {});
        throw new Error(`broker not accepting connections on ${this.bootstrap} in 10 s:\n${this.logTail()}`);
      }
      await sleep(20);
    }
    return this;
  }

  logText() { try { return fs.readFileSync(this.logPath, 'utf8'); } catch { return ''; } }
  logTail(n = 60) { return this.logText().split('\n').slice(-n).join('\n'); }

  async stop(timeoutMs = 20000) {
    if (!this.proc) return;
    const proc = this.proc;
    this.proc = null;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    let timer;
    const timeout = new Promise((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); });
    const res = await Promise.race([this.exit, timeout]);
    clearTimeout(timer);
    if (res === 'timeout') {
      proc.kill('SIGKILL');
      await this.exit;
      throw new Error(`broker pid ${proc.pid} ignored SIGTERM for ${timeoutMs} ms; killed`);
    }
    const reports = this.logText().split('\n').filter((l) => SANITIZER_RE.test(l));
    if (reports.length) throw new Error(`sanitizer report:\n${reports.slice(0, 20).join('\n')}`);
    if (res.code !== 0) throw new Error(`broker exit ${JSON.stringify(res)} after SIGTERM:\n${this.logTail()}`);
  }

  cleanup() { fs.rmSync(this.dir, { recursive: true, force: true }); }
}

// Read a partition back with kcat (kafkajs' consumer needs consumer groups).
export function kcatConsume(bootstrap, topic, partition) {
  const r = spawnSync('kcat', ['-b', bootstrap, '-t', topic, '-p', String(partition), '-C', '-e',
    '-o', 'beginning', '-f', '%o\t%k\t%s\t%T\n'], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`kcat failed (${r.status}): ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => {
    const [offset, key, value, ts] = l.split('\t');
    return { offset: Number(offset), key, value, timestamp: Number(ts) };
  });
}
