// tests/dap/test_robust.js — the adapter when things go wrong, through
// DebugClient: attach to a running program and disconnect (it runs on), the
// adapter killed mid-session (the program carries on), malformed, unknown
// and out-of-place requests (an answer each, the session goes on), launches
// that fail, and disconnect or terminate of a launched program; attach to a
// tracer's socket.
'use strict';

const { describe, it, afterEach } = require('node:test');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const {
  assert, client, finish, launch, attach, stopAfter, topFrame, fixture, line, env, reports, answerTo,
  message, writeRaw, frame, TMP, TIMEOUT,
} = require('./lib');

describe('robustness', () => {
  let dc = null;
  const cleanups = [];
  afterEach(async () => {
    await finish(dc);
    dc = null;
    while (cleanups.length) cleanups.pop()();
  });

  // A Ruby program with the tracer loaded, reporting on a socket.
  async function service() {
    const rep = reports();
    cleanups.push(() => rep.close());
    await rep.ready;
    const prog = spawn('ruby', [fixture('service.rb'), rep.path],
      { env: env({ RUBYOPT: '-rpolytrace' }), stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise((resolve) => prog.on('exit', (code, sig) => resolve({ code, sig })));
    cleanups.push(() => prog.kill('SIGKILL'));
    assert.equal(await rep.next(), `ready ${prog.pid}`);
    return { rep, prog, exited };
  }

  // Resolves once file exists in dir (watched, not polled).
  function appears(dir, name) {
    return new Promise((resolve, reject) => {
      const file = path.join(dir, name);
      const w = fs.watch(dir, () => { if (fs.existsSync(file)) done(resolve); });
      const t = setTimeout(() => done(() => reject(new Error(`no ${file}`))), TIMEOUT);
      function done(fn) { clearTimeout(t); w.close(); fn(); }
      if (fs.existsSync(file)) done(resolve);
    });
  }

  it('attaches to a running program by pid and disconnects; the program runs on', async () => {
    const { rep, prog, exited } = await service();
    dc = await client();
    const stopped = await attach(dc, { pid: prog.pid, stopOnEntry: true });
    assert.equal(stopped.body.reason, 'entry');
    const names = (await dc.threadsRequest()).body.threads.map((t) => t.name);
    assert.ok(names.some((n) => / ticker /.test(n)), names.join(', '));
    await dc.disconnectRequest({});
    // Still running: it counts on, answers and ends well.
    rep.send('finish');
    const done = await rep.next();
    assert.match(done, /^done \d+$/);
    assert.ok(Number(done.split(' ')[1]) > 0);
    assert.deepEqual(await exited, { code: 0, sig: null });
  });

  // The main thread of pid sleeps (its state in /proc): the loop's wait.
  async function parked(pid) {
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      const stat = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] === 'S') return;
      assert.ok(Date.now() < deadline, `process ${pid} never waited`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('attached to a program idle after a fiber ended: the stop is in a live thread', async () => {
    const prog = spawn('ruby', [fixture('idle_after_end.rb')],
      { env: env({ RUBYOPT: '-rpolytrace' }), stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => prog.kill('SIGKILL'));
    await new Promise((resolve) => prog.stdout.on('data', (d) => { if (/ready/.test(d)) resolve(); }));
    await parked(prog.pid);
    dc = await client();
    const stopped = await attach(dc, { pid: prog.pid, stopOnEntry: true });
    const tid = stopped.body.threadId;
    const threads = (await dc.threadsRequest()).body.threads;
    const mine = threads.find((t) => t.id === tid);
    assert.ok(mine, `stopped thread ${tid} is one of ${threads.map((t) => `${t.id} ${t.name}`).join(', ')}`);
    assert.match(mine.name, /main/);
    assert.ok(!threads.some((t) => /starter/.test(t.name)), 'the fiber that ended is not listed');
    const top = (await dc.stackTraceRequest({ threadId: tid })).body.stackFrames
      .find((f) => f.source && /idle_after_end\.rb$/.test(f.source.path));
    assert.ok(top, 'the program\'s own frame is in the stack');
    assert.equal(top.line, line('idle_after_end.rb', 'accept'));
    await dc.disconnectRequest({});
  });

  it('an attach that cannot be done says why', async () => {
    dc = await client();
    await dc.initializeRequest();
    await assert.rejects(dc.attachRequest({ pid: 999999 }), /cannot attach: no process with id 999999/);
    await assert.rejects(dc.attachRequest({ pid: process.pid }), /process \d+ is not a Ruby process/);
    await assert.rejects(dc.attachRequest({}), /attach needs "pid"/);
  });

  it('attaches to a tracer listening on its socket; disconnect leaves it running', async () => {
    // The tracers' socket directory (XDG_RUNTIME_DIR is TMP): ours, 0700.
    const dir = path.join(TMP, 'polytrace');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { rep, prog, exited } = await service();
    const sock = `${prog.pid}.sock`;
    const listening = appears(dir, sock);
    process.kill(prog.pid, 'SIGURG');     // what opens a tracer's socket
    await listening;                      // named only once it listens
    dc = await client();
    const stopped = await attach(dc, { socket: path.join(dir, sock), stopOnEntry: true });
    assert.equal(stopped.body.reason, 'entry');
    const names = (await dc.threadsRequest()).body.threads.map((t) => t.name);
    assert.ok(names.some((n) => / ticker /.test(n)), names.join(', '));
    await dc.disconnectRequest({});
    rep.send('finish');
    assert.match(await rep.next(), /^done \d+$/);
    assert.deepEqual(await exited, { code: 0, sig: null });
  });

  it('an attach to a socket nobody listens on says why', async () => {
    dc = await client();
    await dc.initializeRequest();
    await assert.rejects(dc.attachRequest({ socket: path.join(TMP, 'nobody.sock') }),
      /cannot attach: cannot connect to .*nobody\.sock: No such file/);
  });

  it('the adapter killed mid-session: the program carries on', async () => {
    const rep = reports();
    cleanups.push(() => rep.close());
    await rep.ready;
    dc = await client();
    await launch(dc, 'carry_on.rb', { args: [rep.path], stopOnEntry: true });
    await dc.setBreakpointsRequest({ source: { path: fixture('carry_on.rb') },
      breakpoints: [{ line: line('carry_on.rb', 'stop') }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: 1 });
    assert.equal(await rep.next(), 'ready');
    rep.send('go');
    assert.equal((await stopped).body.reason, 'breakpoint');
    const gone = new Promise((resolve) => dc.adapter.on('exit', resolve));
    dc.adapter.kill('SIGKILL');
    await gone;
    dc = null;
    // It prints 200 lines to the dead adapter's pipe and still reports.
    assert.equal(await rep.next(), 'done 1');
  });

  it('answers malformed, unknown and out-of-place requests, and goes on', async () => {
    dc = await client();
    await launch(dc, 'counting.rb', { stopOnEntry: true });
    await assert.rejects(dc.send('flyToTheMoon', {}), /does not support the request 'flyToTheMoon'/);
    await assert.rejects(dc.stepBackRequest({ threadId: 1 }), /does not support the request 'stepBack'/);
    await assert.rejects(dc.stackTraceRequest({ threadId: 424242 }), /no fiber 424242/);
    await assert.rejects(dc.scopesRequest({ frameId: 9999 }), /no such frame/);
    await assert.rejects(dc.variablesRequest({ variablesReference: 9999 }), /no such variablesReference/);
    await assert.rejects(dc.launchRequest({ program: fixture('counting.rb') }), /already being debugged/);

    writeRaw(dc, frame('{"seq": 900, "type": "request", "command": '));   // not JSON
    let m = await message(dc, (x) => x.type === 'response' && !x.success && /not JSON/.test(x.message),
      'an answer to broken JSON');
    assert.equal(m.request_seq, 0);
    writeRaw(dc, frame({ seq: 901, type: 'request' }));                    // no command
    m = await answerTo(dc, 901);
    assert.equal(m.success, false);
    assert.match(m.message, /needs "type": "request" and a "command"/);
    writeRaw(dc, frame('[1, 2]'));                                         // not an object
    await message(dc, (x) => x.type === 'response' && /must be a JSON object/.test(x.message || ''),
      'an answer to a non-object');
    writeRaw(dc, 'Content-Type: text/plain\r\n\r\n');                        // no length
    await message(dc, (x) => x.type === 'response' && /without a Content-Length/.test(x.message || ''),
      'an answer to a header without a length');

    // The session is whole: it still steps.
    const s = await stopAfter(dc, dc.nextRequest({ threadId: 1 }));
    assert.equal(s.body.reason, 'step');
    assert.ok((await topFrame(dc, 1)).line > 0);
  });

  it('requests that need a program or a stop say so', async () => {
    dc = await client();
    await dc.initializeRequest();
    await assert.rejects(dc.stackTraceRequest({ threadId: 1 }), /no program yet/);
    await assert.rejects(dc.continueRequest({ threadId: 1 }), /no program yet/);
    await assert.rejects(dc.launchRequest({}), /launch needs "program"/);
    await assert.rejects(dc.launchRequest({ program: 'x.rb', args: 'not a list' }), /args must be an array/);
    const looping = dc.waitForEvent('output');
    await launch(dc, 'forever.rb');
    await looping;
    await assert.rejects(dc.stackTraceRequest({ threadId: 1 }), /the program is running/);
    await assert.rejects(dc.evaluateRequest({ expression: '1' }), /the program is running/);
  });

  it('a launch that fails passes on why', async () => {
    dc = await client();
    await dc.initializeRequest();
    const err = [];
    dc.on('output', (e) => { if (e.body.category === 'stderr') err.push(e.body.output); });
    await assert.rejects(dc.launchRequest({ program: fixture('broken.rb') }),
      /never reached its first line|tracer never connected/);
    assert.match(err.join(''), /syntax error/);
  });

  it('a launch with a missing command fails at once', async () => {
    dc = await client();
    await dc.initializeRequest();
    await assert.rejects(dc.launchRequest({ command: ['/nonexistent/prog-xyz'] }), /No such file/);
    await assert.rejects(dc.launchRequest({ program: fixture('counting.rb'), cwd: '/nonexistent/dir' }),
      /No such file/);
  });

  it('disconnect kills a launched program', async () => {
    dc = await client();
    await launch(dc, 'forever.rb', { stopOnEntry: true });
    const pid = Number((await dc.evaluateRequest({ expression: 'Process.pid', context: 'repl' })).body.result);
    assert.ok(pid > 0);
    process.kill(pid, 0);                 // there
    await dc.disconnectRequest({});
    await dc.exited;
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the program is gone (and reaped)');
  });

  it('terminate ends a launched program gracefully', async () => {
    dc = await client();
    const looping = dc.waitForEvent('output');
    await launch(dc, 'forever.rb');
    await looping;
    const ended = Promise.all([dc.waitForEvent('exited'), dc.waitForEvent('terminated')]);
    await dc.terminateRequest({});
    const [exited] = await ended;
    assert.equal(exited.body.exitCode, 128 + 15, 'SIGTERM');
  });
});
