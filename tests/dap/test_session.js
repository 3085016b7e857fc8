// tests/dap/test_session.js — a launched program through `polytrace dap`
// with the VS Code team's DebugClient: the capabilities, stop on entry, a
// breakpoint in one of three fibers (threads named by tag, its frames and
// locals, next staying in that fiber), the program's output, and the end;
// what a launch passes on (args, cwd, env).
'use strict';

const { describe, it, beforeEach, afterEach } = require('node:test');
const fs = require('node:fs');
const path = require('node:path');
const {
  assert, client, finish, launch, stopAfter, topFrame, locals, fixture, line, TMP,
} = require('./lib');

const WORKERS = 'workers.rb';

describe('a launched program', () => {
  let dc;
  beforeEach(async () => { dc = await client(); });
  afterEach(async () => { await finish(dc); });

  it('states its capabilities truthfully', async () => {
    const r = await dc.initializeRequest();
    const c = r.body;
    for (const yes of ['supportsConfigurationDoneRequest', 'supportsConditionalBreakpoints',
      'supportsHitConditionalBreakpoints', 'supportsLogPoints', 'supportsFunctionBreakpoints',
      'supportsSetVariable', 'supportsEvaluateForHovers', 'supportsExceptionInfoRequest',
      'supportsTerminateRequest', 'supportsSingleThreadExecutionRequests', 'supportsBreakpointLocationsRequest']) {
      assert.equal(c[yes], true, yes);
    }
    for (const no of ['supportsStepBack', 'supportsRestartRequest', 'supportsLoadedSourcesRequest',
      'supportsCompletionsRequest', 'supportsDataBreakpoints']) {
      assert.equal(c[no], false, no);
    }
    assert.deepEqual(c.exceptionBreakpointFilters.map((f) => f.filter), ['raise', 'standard', 'classes']);
    // What it says it does not do, it refuses.
    await assert.rejects(dc.send('loadedSources', {}), /does not support the request 'loadedSources'/);
    await assert.rejects(dc.send('completions', { text: 'x', column: 1 }), /does not support/);
  });

  it('stops on entry at the first line of the script', async () => {
    const stopped = await launch(dc, WORKERS, { stopOnEntry: true });
    assert.equal(stopped.body.reason, 'entry');
    assert.equal(stopped.body.threadId, 1);
    assert.equal(stopped.body.allThreadsStopped, true);
    const top = await topFrame(dc, 1);
    assert.equal(top.source.path, fixture(WORKERS));
    assert.equal(top.line, line(WORKERS, 'require'), 'the first line that runs');
    const th = await dc.threadsRequest();
    assert.deepEqual(th.body.threads.map((t) => t.id), [1]);
    assert.match(th.body.threads[0].name, /^1 main/);
  });

  it('stops in a worker fiber; threads, frames, locals; next stays in that fiber', async () => {
    await launch(dc, WORKERS, { stopOnEntry: true });
    const inLoop = line(WORKERS, 'in_loop');
    const set = await dc.setBreakpointsRequest({ source: { path: fixture(WORKERS) }, breakpoints: [{ line: inLoop }] });
    assert.equal(set.body.breakpoints[0].verified, true);
    assert.equal(set.body.breakpoints[0].line, inLoop);

    const started = [];
    dc.on('thread', (e) => { if (e.body.reason === 'started') started.push(e.body.threadId); });
    const stopped = await stopAfter(dc, dc.continueRequest({ threadId: 1 }));
    assert.equal(stopped.body.reason, 'breakpoint');
    assert.deepEqual(stopped.body.hitBreakpointIds, [set.body.breakpoints[0].id]);
    const tid = stopped.body.threadId;
    assert.notEqual(tid, 1, 'a worker, not the main fiber');

    const threads = (await dc.threadsRequest()).body.threads;
    const names = threads.map((t) => t.name);
    assert.equal(threads.length, 3, names.join(', '));
    assert.ok(names.some((n) => /^1 main/.test(n)), names.join(', '));
    assert.ok(names.some((n) => /^\d+ ann \(/.test(n)), names.join(', '));
    assert.ok(names.some((n) => /^\d+ bob \(/.test(n)), names.join(', '));
    const worker = threads.find((t) => t.id === tid).name.split(' ')[1];
    assert.deepEqual(started.sort(), threads.map((t) => t.id).filter((id) => id !== 1).sort(),
      'a thread event for each fiber started since the entry stop');

    const st = await dc.stackTraceRequest({ threadId: tid });
    assert.equal(st.body.stackFrames[0].line, inLoop);
    assert.match(st.body.stackFrames[0].name, /work/);
    assert.ok(st.body.stackFrames.some((f) => f.name === 'Object#work'), JSON.stringify(st.body.stackFrames));
    assert.equal(st.body.totalFrames, st.body.stackFrames.length);
    const page = await dc.stackTraceRequest({ threadId: tid, startFrame: 1, levels: 1 });
    assert.equal(page.body.stackFrames.length, 1);
    assert.equal(page.body.stackFrames[0].name, st.body.stackFrames[1].name);

    let v = await locals(dc, st.body.stackFrames[0].id);
    assert.equal(v.name.value, JSON.stringify(worker));
    assert.equal(v.i.value, '0');
    assert.equal(v.total.value, '0');
    assert.equal(v.rounds.type, 'Integer');

    // The breakpoint goes, so only stepping stops the program now.
    await dc.setBreakpointsRequest({ source: { path: fixture(WORKERS) }, breakpoints: [] });
    for (const want of [line(WORKERS, 'progress'), line(WORKERS, 'after_add'), line(WORKERS, 'sleep')]) {
      const s = await stopAfter(dc, dc.nextRequest({ threadId: tid }));
      assert.equal(s.body.reason, 'step');
      assert.equal(s.body.threadId, tid, 'next stays in the fiber');
      assert.equal((await topFrame(dc, tid)).line, want);
    }
    // Round the loop: the next iteration of the same fiber.
    await stopAfter(dc, dc.nextRequest({ threadId: tid }));
    const s = await stopAfter(dc, dc.nextRequest({ threadId: tid }));
    assert.equal(s.body.threadId, tid);
    const top = await topFrame(dc, tid);
    assert.equal(top.line, line(WORKERS, 'in_loop'));
    v = await locals(dc, top.id);
    assert.equal(v.i.value, '1', 'the loop advanced');
    assert.equal(v.total.value, '0');
  });

  it('singleThread: only the stepped fiber runs; without it the others run while it waits', async () => {
    await launch(dc, WORKERS, { stopOnEntry: true });
    await dc.setBreakpointsRequest({ source: { path: fixture(WORKERS) }, breakpoints: [{ line: line(WORKERS, 'in_loop') }] });
    const s = await stopAfter(dc, dc.continueRequest({ threadId: 1 }));
    const tid = s.body.threadId;
    await dc.setBreakpointsRequest({ source: { path: fixture(WORKERS) }, breakpoints: [] });
    const me = (await dc.threadsRequest()).body.threads.find((t) => t.id === tid).name.split(' ')[1];
    const other = me === 'ann' ? 'bob' : 'ann';
    const progress = async () => Number((await dc.evaluateRequest({ expression: `$progress['${other}']` })).body.result);
    const before = await progress();
    // Round the loop twice, over two sleeps, the other fiber held.
    for (let k = 0; k < 8; k++) {
      const st = await stopAfter(dc, dc.nextRequest({ threadId: tid, singleThread: true }));
      assert.equal(st.body.threadId, tid);
    }
    assert.equal(await progress(), before, `${other} never ran`);
    // The same steps without it: the other runs while this one sleeps.
    for (let k = 0; k < 8; k++) await stopAfter(dc, dc.nextRequest({ threadId: tid }));
    assert.ok(await progress() > before, `${other} ran meanwhile`);
  });

  it('10,000 fibers: every one a thread, and no flood of thread events', async () => {
    await launch(dc, 'many.rb', { stopOnEntry: true });
    await dc.setBreakpointsRequest({ source: { path: fixture('many.rb') }, breakpoints: [{ line: line('many.rb', 'stop') }] });
    let events = 0;
    dc.on('thread', () => { events++; });
    await stopAfter(dc, dc.continueRequest({ threadId: 1 }));
    const threads = (await dc.threadsRequest()).body.threads;
    assert.equal(threads.length, 10001);
    assert.match(threads.find((t) => t.id !== 1).name, /^\d+ w\d+ \(waiting: receive\)$/);
    assert.ok(events <= 100, `${events} thread events`);
    const ended = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: 1 });
    await ended;
  });

  it('fiberlock on (a launch argument): only the stepped fiber ever runs', async () => {
    await dc.initializeRequest();
    await assert.rejects(dc.launchRequest({ program: fixture(WORKERS), fiberlock: 'sometimes' }),
      /fiberlock is step, on or off/);
    await finish(dc);
    dc = await client();
    await launch(dc, WORKERS, { stopOnEntry: true, fiberlock: 'on' });
    await dc.setBreakpointsRequest({ source: { path: fixture(WORKERS) }, breakpoints: [{ line: line(WORKERS, 'in_loop') }] });
    const s = await stopAfter(dc, dc.continueRequest({ threadId: 1 }));
    await dc.setBreakpointsRequest({ source: { path: fixture(WORKERS) }, breakpoints: [] });
    const me = (await dc.threadsRequest()).body.threads.find((t) => t.id === s.body.threadId).name.split(' ')[1];
    const other = me === 'ann' ? 'bob' : 'ann';
    const progress = async () => Number((await dc.evaluateRequest({ expression: `$progress['${other}']` })).body.result);
    const before = await progress();
    for (let k = 0; k < 8; k++) await stopAfter(dc, dc.nextRequest({ threadId: s.body.threadId }));
    assert.equal(await progress(), before, `${other} never ran`);
  });

  it('forwards the program\'s output and ends with exited and terminated', async () => {
    const out = [];
    dc.on('output', (e) => { if (e.body.category === 'stdout') out.push(e.body.output); });
    const ended = Promise.all([dc.waitForEvent('exited'), dc.waitForEvent('terminated')]);
    await launch(dc, WORKERS);
    const [exited] = await ended;
    assert.equal(exited.body.exitCode, 0);
    const text = out.join('');
    assert.match(text, /workers started\n/);
    assert.match(text, /ann:49\n/);
    assert.match(text, /workers done 2\n$/);
  });

  it('passes args, cwd and env to the program (null removes a variable)', async () => {
    const cwd = fs.mkdtempSync(path.join(TMP, 'cwd-'));
    // The adapter inherits PT_DAP_UNSET; the launch's null takes it away.
    await finish(dc);
    process.env.PT_DAP_UNSET = 'inherited';
    try {
      dc = await client();
    } finally {
      delete process.env.PT_DAP_UNSET;
    }
    const out = [];
    dc.on('output', (e) => { if (e.body.category === 'stdout') out.push(e.body.output); });
    const ended = Promise.all([dc.waitForEvent('exited'), dc.waitForEvent('terminated')]);
    await launch(dc, 'environment.rb', {
      args: ['one', 'two words', ''], cwd, env: { PT_DAP_GREETING: 'héllo wörld', PT_DAP_UNSET: null },
    });
    const [exited] = await ended;
    assert.equal(exited.body.exitCode, 0);
    const text = out.join('');
    assert.match(text, /^args \["one", "two words", ""\]$/m);
    assert.equal(/^cwd (.*)$/m.exec(text)[1], fs.realpathSync(cwd));
    assert.match(text, /^greeting héllo wörld$/m);
    assert.match(text, /^unset absent$/m);
  });

  it('noDebug (an editor\'s "run"): the program runs, never stopped, its output comes', async () => {
    const out = [];
    let stops = 0;
    dc.on('output', (e) => { if (e.body.category === 'stdout') out.push(e.body.output); });
    dc.on('stopped', () => { stops++; });
    const ended = Promise.all([dc.waitForEvent('exited'), dc.waitForEvent('terminated')]);
    await dc.initializeRequest();
    dc._supportsConfigurationDoneRequest = true;
    // Breakpoints and a stop on entry are not honoured, and each says why.
    const configured = dc.configurationSequence();
    await dc.launchRequest({ program: fixture('counting.rb'), noDebug: true, stopOnEntry: true });
    const set = await dc.setBreakpointsRequest({ source: { path: fixture('counting.rb') },
      breakpoints: [{ line: line('counting.rb', 'add') }] });
    assert.equal(set.body.breakpoints[0].verified, false);
    assert.match(set.body.breakpoints[0].message, /without debugging \(noDebug\)/);
    await configured;
    await assert.rejects(dc.pauseRequest({ threadId: 1 }), /without debugging|no program is running/);
    const [exited] = await ended;
    assert.equal(exited.body.exitCode, 0);
    assert.equal(stops, 0, 'never stopped');
    assert.match(out.join(''), /total 10 15\n/);
  });

  it('noDebug: a Kernel#breakpoint in the program does not stop it', async () => {
    const out = [];
    const notes = [];
    let stops = 0;
    dc.on('output', (e) => (e.body.category === 'stdout' ? out : notes).push(e.body.output));
    dc.on('stopped', () => { stops++; });
    const ended = dc.waitForEvent('exited');
    await dc.initializeRequest();
    dc._supportsConfigurationDoneRequest = true;
    await Promise.all([dc.configurationSequence(),
      dc.launchRequest({ program: fixture('calls_breakpoint.rb'), noDebug: true })]);
    assert.equal((await ended).body.exitCode, 0);
    assert.equal(stops, 0, 'never stopped');
    assert.equal(out.join(''), 'after 1\n');
    assert.match(notes.join(''), /not stopping \(call\): launched without debugging/);
  });

  it('steps in and out of a method, in the stopped fiber', async () => {
    await launch(dc, 'counting.rb', { stopOnEntry: true });
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'Object#outer' }] });
    let s = await stopAfter(dc, dc.continueRequest({ threadId: 1 }));
    assert.equal(s.body.reason, 'function breakpoint');
    await stopAfter(dc, dc.nextRequest({ threadId: 1 }));          // z = 7 done
    s = await stopAfter(dc, dc.stepInRequest({ threadId: 1 }));    // into inner
    assert.equal((await topFrame(dc, 1)).line, line('counting.rb', 'inner'));
    // Out: stopped where inner returns, with the value it returns ...
    s = await stopAfter(dc, dc.stepOutRequest({ threadId: 1 }));
    assert.equal(s.body.reason, 'step');
    assert.match(s.body.description, /Returning from Object#inner/);
    assert.equal(s.body.text, '=> 14');
    assert.equal((await topFrame(dc, 1)).name, 'Object#inner');
    // ... and the next step is back in the caller.
    await stopAfter(dc, dc.nextRequest({ threadId: 1 }));
    const top = await topFrame(dc, 1);
    assert.equal(top.name, 'Object#outer', 'back in the caller');
    assert.equal(top.line, line('counting.rb', 'after_inner'));
  });
});
