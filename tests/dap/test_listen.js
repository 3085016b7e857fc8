// tests/dap/test_listen.js — `polytrace dap --listen`: DebugClient connects
// to a TCP port (port 0: the adapter picks one and prints it), runs a
// session, disconnects, and a second editor is served after it; a Unix
// socket path (mode 0600) works the same; non-loopback addresses are
// refused; SIGTERM ends the server.
'use strict';

const { describe, it } = require('node:test');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { DebugClient } = require('@vscode/debugadapter-testsupport');
const {
  assert, POLYTRACE, TMP, TIMEOUT, env, fixture, frame,
} = require('./lib');

// Starts `polytrace dap --listen addr`; resolves with the process and the
// address it reports ("polytrace dap: listening on ADDR" on stderr).
function server(addr) {
  const p = spawn(POLYTRACE, ['dap', '--listen', addr], { env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise((resolve) => p.on('exit', (code, sig) => resolve({ code, sig, err })));
  const listening = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "listening" line: ${err}`)), TIMEOUT);
    p.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (\S+)\n/.exec(err);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    p.on('exit', () => { clearTimeout(t); reject(new Error(`exited: ${err}`)); });
  });
  listening.catch(() => {}); // a test that expects a refusal does not wait for it
  return { p, exited, listening };
}

// One DAP request over a plain socket; the response.
function ask(sock, req) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d) => {
      buf += d;
      const m = /Content-Length: (\d+)\r\n\r\n/.exec(buf);
      if (m && buf.length >= m.index + m[0].length + Number(m[1])) {
        sock.off('data', onData);
        resolve(JSON.parse(buf.slice(m.index + m[0].length, m.index + m[0].length + Number(m[1]))));
      }
    };
    sock.on('data', onData);
    sock.on('error', reject);
    sock.write(frame(req));
  });
}

describe('dap --listen', () => {
  it('serves DebugClient on a TCP port, one editor after another', async () => {
    const s = server('127.0.0.1:0');
    const addr = await s.listening;
    const port = Number(addr.split(':').pop());
    assert.ok(port > 0, addr);
    for (let round = 0; round < 2; round++) {
      const dc = new DebugClient(POLYTRACE, 'dap', 'polytrace');
      dc.defaultTimeout = TIMEOUT;
      await dc.start(port);
      const done = Promise.all([dc.waitForEvent('exited'), dc.waitForEvent('terminated')]);
      await Promise.all([dc.configurationSequence(), dc.launch({ program: fixture('counting.rb') })]);
      const [exited] = await done;
      assert.equal(exited.body.exitCode, 0);
      await dc.disconnectRequest({});
      dc._socket.end();
    }
    s.p.kill('SIGTERM');
    const end = await s.exited;
    assert.equal(end.sig, null, 'ends by itself on SIGTERM');
  });

  it('serves on a Unix socket of mode 0600, removed at the end', async () => {
    const sockPath = path.join(TMP, 'dap.sock');
    const s = server(sockPath);
    assert.equal(await s.listening, sockPath);
    assert.equal(fs.statSync(sockPath).mode & 0o777, 0o600);
    const c = net.connect(sockPath);
    const r = await ask(c, { seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'x' } });
    assert.equal(r.success, true);
    assert.equal(r.body.supportsConfigurationDoneRequest, true);
    c.end();
    s.p.kill('SIGTERM');
    await s.exited;
    assert.equal(fs.existsSync(sockPath), false);
  });

  it('refuses addresses others can reach, and says what it takes', async () => {
    let s = server('0.0.0.0:0');
    let end = await s.exited;
    assert.notEqual(end.code, 0);
    assert.match(end.err, /only loopback addresses/);
    s = server('nonsense');
    end = await s.exited;
    assert.equal(end.code, 2);
    assert.match(end.err, /HOST:PORT or a socket path/);
  });
});
