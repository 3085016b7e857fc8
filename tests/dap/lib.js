// tests/dap/lib.js — what the DAP tests share: a DebugClient (the VS Code
// team's, from @vscode/debugadapter-testsupport) running `polytrace dap`
// from the build tree with a private socket directory, fixture paths and
// their marked lines ("# @name"), every message the adapter sent (to see
// answers DebugClient itself ignores), and a Unix socket a debuggee
// reports to, so that a test waits on events, never on time.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

const ROOT = process.env.PT_ROOT || path.resolve(__dirname, '../..');
const BUILD = process.env.PT_BUILD || path.join(ROOT, 'build');
const POLYTRACE = path.join(BUILD, 'bin', 'polytrace');
const FIXTURES = path.join(__dirname, 'fixtures');
// Ruby and the tracer can be slow to start on a loaded machine.
const TIMEOUT = 30000;

// A private directory (mode 0700) for sockets and reports, per test file.
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-dap-'));
fs.chmodSync(TMP, 0o700);
process.on('exit', () => fs.rmSync(TMP, { recursive: true, force: true }));

// The environment the adapter and debuggees run with.
function env(extra = {}) {
  return {
    ...process.env,
    PATH: `${path.join(BUILD, 'bin')}:${process.env.PATH || '/usr/bin:/bin'}`,
    RUBYLIB: [path.join(BUILD, 'lib'), process.env.RUBYLIB].filter(Boolean).join(':'),
    XDG_RUNTIME_DIR: TMP,
    ...extra,
  };
}

function fixture(name) {
  return path.join(FIXTURES, name);
}

// The line of `# @mark` in a fixture.
function line(name, mark) {
  const lines = fs.readFileSync(fixture(name), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(`# @${mark}`));
  assert.notEqual(i, -1, `no @${mark} in ${name}`);
  return i + 1;
}

// A started DebugClient on `polytrace dap ARGS...`; dc.messages holds every
// message received, dc.adapter is the adapter process.
async function client(args = ['dap']) {
  // DebugClient spawns "runtime executable": polytrace and its first word.
  const dc = new DebugClient(POLYTRACE, args[0], 'polytrace', { env: env() }, !!process.env.PT_DAP_STDERR);
  dc.defaultTimeout = TIMEOUT;
  dc.messages = [];
  dc.waiters = [];
  const dispatch = dc.dispatch.bind(dc);
  dc.dispatch = (body) => {
    const m = JSON.parse(body);
    dc.messages.push(m);
    dc.waiters = dc.waiters.filter((w) => !w(m));
    dispatch(body);
  };
  await dc.start();
  dc.adapter = dc._adapterProcess;
  // After a disconnect the adapter is gone; DebugClient.stop() still writes.
  dc.adapter.stdin.on('error', () => {});
  dc.exited = new Promise((resolve) => dc.adapter.on('exit', (code, sig) => resolve({ code, sig })));
  dc.adapter.on('exit', () => { dc.gone = true; });
  return dc;
}

// Ends a test's session: disconnect (the adapter then exits), or just make
// sure the adapter is gone if it already left.
async function finish(dc) {
  if (!dc) return;
  if (!dc.gone) {
    await Promise.race([dc.disconnectRequest({}).catch(() => {}), dc.exited]);
  }
  if (!dc.gone) dc.adapter.kill('SIGKILL');
  await dc.exited;
}

// Launches program (a fixture name) and waits for the first stopped event
// (stopOnEntry), or just for the configuration to be done.
async function launch(dc, name, args = {}) {
  const waits = [dc.configurationSequence(), dc.launch({ program: fixture(name), ...args })];
  if (args.stopOnEntry) waits.push(dc.waitForEvent('stopped'));
  const [, , stopped] = await Promise.all(waits);
  return stopped;
}

// Attaches (args: pid or socket) and waits for the first stopped event
// when stopOnEntry.
async function attach(dc, args) {
  const init = await dc.initializeRequest();
  // As DebugClient's own launch() does: configurationDone is supported.
  dc._supportsConfigurationDoneRequest = !!init.body.supportsConfigurationDoneRequest;
  const waits = [dc.configurationSequence(), dc.attachRequest(args)];
  if (args.stopOnEntry) waits.push(dc.waitForEvent('stopped'));
  const [, , stopped] = await Promise.all(waits);
  return stopped;
}

// The first of several events (its name in .event); unlike racing
// waitForEvent calls, it leaves no timer behind for the others.
function nextEvent(dc, names, timeout = TIMEOUT) {
  return new Promise((resolve, reject) => {
    const handlers = {};
    const done = (fn) => {
      clearTimeout(t);
      for (const n of names) dc.removeListener(n, handlers[n]);
      fn();
    };
    const t = setTimeout(() => done(() => reject(new Error(`no ${names.join(' or ')} event`))), timeout);
    for (const n of names) {
      handlers[n] = (e) => done(() => resolve(e));
      dc.once(n, handlers[n]);
    }
  });
}

// Sends a request and waits for the stopped event that follows it.
async function stopAfter(dc, request) {
  const [, stopped] = await Promise.all([request, dc.waitForEvent('stopped')]);
  return stopped;
}

// The top frame of a thread.
async function topFrame(dc, threadId) {
  const st = await dc.stackTraceRequest({ threadId, startFrame: 0, levels: 1 });
  assert.ok(st.body.stackFrames.length > 0, 'a stopped fiber has frames');
  return st.body.stackFrames[0];
}

// name => variable, for a variablesReference.
async function vars(dc, variablesReference) {
  const r = await dc.variablesRequest({ variablesReference });
  return Object.fromEntries(r.body.variables.map((v) => [v.name, v]));
}

// The locals of a frame.
async function locals(dc, frameId) {
  const sc = await dc.scopesRequest({ frameId });
  const scope = sc.body.scopes.find((s) => s.name === 'Locals');
  assert.ok(scope && scope.variablesReference > 0, 'a Locals scope');
  return vars(dc, scope.variablesReference);
}

// A Unix socket debuggees write one line to (`report PATH` in a fixture);
// next() resolves with the next line received.
function reports() {
  const sock = path.join(TMP, `report-${process.pid}-${Math.random().toString(36).slice(2)}.sock`);
  const lines = [];
  const waiters = [];
  const conns = [];
  const server = net.createServer((c) => {
    conns.push(c);
    let buf = '';
    c.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const l = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const w = waiters.shift();
        if (w) w(l);
        else lines.push(l);
      }
    });
  });
  const ready = new Promise((resolve) => server.listen(sock, resolve));
  return {
    path: sock,
    ready,
    next(timeout = TIMEOUT) {
      if (lines.length) return Promise.resolve(lines.shift());
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no report from the program')), timeout);
        waiters.push((l) => { clearTimeout(t); resolve(l); });
      });
    },
    // A line to the program (on the latest connection).
    send(text) { conns[conns.length - 1].write(`${text}\n`); },
    close() {
      conns.forEach((c) => c.destroy());
      server.close();
    },
  };
}

// The first message (already received or to come) that pred accepts.
function message(dc, pred, what, timeout = TIMEOUT) {
  const seen = dc.messages.find(pred);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${what} within ${timeout} ms`)), timeout);
    dc.waiters.push((m) => {
      if (!pred(m)) return false;
      clearTimeout(t);
      resolve(m);
      return true;
    });
  });
}

// The adapter's answer to a request DebugClient does not track (request_seq).
function answerTo(dc, seq, timeout = TIMEOUT) {
  return message(dc, (m) => m.type === 'response' && m.request_seq === seq, `response to ${seq}`, timeout);
}

// Writes raw bytes to the adapter, as a broken client would.
function writeRaw(dc, text) {
  dc.adapter.stdin.write(text);
}

// One framed message from an object or a raw body string.
function frame(body) {
  const s = typeof body === 'string' ? body : JSON.stringify(body);
  return `Content-Length: ${Buffer.byteLength(s)}\r\n\r\n${s}`;
}

module.exports = {
  assert, client, finish, launch, attach, nextEvent, stopAfter, topFrame, vars, locals, fixture, line, env, reports,
  message, answerTo, writeRaw, frame, POLYTRACE, TMP, TIMEOUT,
};
