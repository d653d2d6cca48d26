// Starts `privet serve` on a free port with a fresh data directory and the example
// manifests, and talks to its JSON API as the operator would.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The `privet` binary: `PRIVET_BIN` (set by crates/privet/tests/browser.rs), else target/debug. */
export function privetBin() {
  const bin = process.env.PRIVET_BIN || path.join(ROOT, 'target', 'debug', 'privet');
  if (!fs.existsSync(bin)) {
    throw new Error(`no privet binary at ${bin}: run \`cargo build -p privet\` or set PRIVET_BIN`);
  }
  return bin;
}

function freePort() {
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Server {
  /** Starts a server; resolves once `/healthz` answers. */
  static async start() {
    const bin = privetBin();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'privet-browser-'));
    const data = path.join(dir, 'data');
    const manifests = path.join(ROOT, 'examples', 'manifests');
    const adminKey = execFileSync(bin, ['key', 'create', '--data', data, '--role', 'admin'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    if (!/^\S+$/.test(adminKey)) throw new Error(`privet key create printed ${JSON.stringify(adminKey)}`);

    let lastError;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const log = fs.openSync(path.join(dir, 'server.log'), 'a');
      const child = spawn(
        bin,
        ['serve', '--data', data, '--manifests', manifests, '--listen', `127.0.0.1:${port}`],
        { stdio: ['ignore', log, log], env: { ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG || 'warn' } },
      );
      fs.closeSync(log);
      const server = new Server(child, `http://127.0.0.1:${port}`, dir, adminKey);
      try {
        await server.waitHealthy();
        return server;
      } catch (e) {
        lastError = e;
        await server.stop({ keep: true });
      }
    }
    throw new Error(`privet serve did not become healthy: ${lastError}\n${Server.tail(dir)}`);
  }

  constructor(child, url, dir, adminKey) {
    this.child = child;
    this.url = url;
    this.dir = dir;
    this.adminKey = adminKey;
    this.exited = null;
    child.on('exit', (code, signal) => {
      this.exited = { code, signal };
    });
  }

  static tail(dir) {
    try {
      const text = fs.readFileSync(path.join(dir, 'server.log'), 'utf8');
      return `--- server log (last 40 lines) ---\n${text.split('\n').slice(-40).join('\n')}`;
    } catch {
      return '(no server log)';
    }
  }

  log() {
    return Server.tail(this.dir);
  }

  async waitHealthy(timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`privet serve exited (${JSON.stringify(this.exited)})`);
      try {
        const r = await fetch(`${this.url}/healthz`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error('timed out waiting for /healthz');
  }

  async stop({ keep = false } = {}) {
    if (!this.exited) {
      const done = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    }
    if (!keep && !process.env.PRIVET_KEEP_DATA) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** A JSON API call; `token` defaults to the admin key. Throws unless the status is `expect`. */
  async api(method, route, body, { token = this.adminKey, expect = [200, 201], raw = false } = {}) {
    const headers = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(`${this.url}${route}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    const ok = Array.isArray(expect) ? expect.includes(r.status) : r.status === expect;
    if (!ok) throw new Error(`${method} ${route} → ${r.status}: ${text}`);
    if (raw) return { status: r.status, text };
    return text ? JSON.parse(text) : null;
  }
}
