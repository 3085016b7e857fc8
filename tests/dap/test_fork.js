// tests/dap/test_fork.js — a program that forks, through `polytrace dap`
// with the VS Code team's DebugClient: each followed child's fibers are
// threads of the one session (thread ids that name the process, names that
// start with "[pid N]"); a breakpoint on a line only the children run stops
// each child on its own thread, its frames, locals and `Process.pid` are
// the child's, continue acts on that child alone, each child's exit is told
// and its threads go, a request on a thread of a child that ended (or that
// died in the middle of one) fails with a message, and the session ends
// with the parent's exit code; followFork "parent" leaves children unseen,
// "child" keeps the child and lets the parent go; terminate ends them all;
// a parent whose connection closes long before it ends (it exec'd) does
// not keep the adapter from serving its children.
'use strict';

const { describe, it, beforeEach, afterEach } = require('node:test');
const path = require('node:path');
const {
  assert, client, finish, launch, message, fixture, line, TMP,
} = require('./lib');

const FORKS = 'forks.rb';
// Thread ids of process N >= 2 are N * 10^10 + the fiber's id.
const TID_BASE = 10000000000;

describe('a program that forks', () => {
  let dc;
  beforeEach(async () => { dc = await client(); });
  afterEach(async () => { await finish(dc); });

  // Everything the program and the adapter wrote to the debug console.
  function console(categories = ['stdout', 'console']) {
    return () => dc.messages.filter((m) => m.type === 'event' && m.event === 'output' &&
      categories.includes(m.body.category)).map((m) => m.body.output).join('');
  }

  // The first n stopped events after the entry stop (already come or to come).
  function stops(n) {
    return new Promise((resolve) => {
      const seen = [];
      const on = (e) => {
        if (e.body.reason === 'entry') return;
        seen.push(e.body);
        if (seen.length === n) {
          dc.removeListener('stopped', on);
          resolve(seen);
        }
      };
      dc.on('stopped', on);
    });
  }

  // Once the console's text (so far) matches re.
  async function until(re, what) {
    const text = console();
    await message(dc, () => re.test(text()), what);
  }

  async function stopInChildren(args = {}) {
    await launch(dc, FORKS, { stopOnEntry: true, ...args });
    const set = await dc.setBreakpointsRequest({
      source: { path: fixture(FORKS) }, breakpoints: [{ line: line(FORKS, 'child') }],
    });
    assert.equal(set.body.breakpoints[0].verified, true);
    const two = stops(2);
    await dc.continueRequest({ threadId: 1 });
    return { bp: set.body.breakpoints[0].id, stopped: await two };
  }

  it('stops each child on its own thread; frames, pid, locals are the child\'s; each exit told', async () => {
    const { bp, stopped } = await stopInChildren();
    const tids = stopped.map((s) => s.threadId);
    assert.equal(new Set(tids).size, 2, `distinct thread ids: ${tids}`);
    for (const s of stopped) {
      assert.equal(s.reason, 'breakpoint');
      assert.deepEqual(s.hitBreakpointIds, [bp]);
      assert.ok(s.threadId > TID_BASE, `a child's thread, not the parent's: ${s.threadId}`);
      assert.equal(s.allThreadsStopped, false, 'each process stops alone');
    }
    // The parent says which pids it forked; each came under the debugger.
    await until(/forked \d+\n[^]*forked \d+\n/, 'two forks');
    const pids = new Set([...console(['stdout'])().matchAll(/forked (\d+)/g)].map((m) => Number(m[1])));
    assert.equal(pids.size, 2);
    for (const pid of pids) await until(new RegExp(`New process \\d \\(pid ${pid}\\), forked by pid \\d+`), `child ${pid} announced`);

    const seen = new Map();   // tid => [pid, i]
    for (const tid of tids) {
      const st = await dc.stackTraceRequest({ threadId: tid });
      const top = st.body.stackFrames[0];
      assert.equal(top.source.path, fixture(FORKS));
      assert.equal(top.line, line(FORKS, 'child'));
      const pid = Number((await dc.evaluateRequest({ expression: 'Process.pid', frameId: top.id, context: 'watch' })).body.result);
      assert.ok(pids.has(pid), `Process.pid ${pid} is a forked child (${[...pids]})`);
      const i = (await dc.evaluateRequest({ expression: 'i', frameId: top.id, context: 'watch' })).body.result;
      seen.set(tid, [pid, i]);
    }
    assert.deepEqual([...seen.values()].map(([pid]) => pid).sort(), [...pids].sort(), 'one thread per child');
    assert.deepEqual([...seen.values()].map(([, i]) => i).sort(), ['0', '1']);

    // Every process's fibers are threads, each named by its process.
    const threads = (await dc.threadsRequest()).body.threads;
    for (const tid of tids) {
      const t = threads.find((x) => x.id === tid);
      assert.ok(t, `thread ${tid} listed: ${JSON.stringify(threads)}`);
      assert.match(t.name, new RegExp(`^\\[pid ${seen.get(tid)[0]}\\] `));
    }
    assert.ok(threads.some((t) => t.id === 1 && /^\[pid \d+\] 1 main/.test(t.name)), JSON.stringify(threads));

    // Continue one child: it alone runs, exits, and its thread goes.
    const [first, second] = tids;
    const [firstPid, firstI] = seen.get(first);
    const gone = message(dc, (m) => m.event === 'thread' && m.body.reason === 'exited' && m.body.threadId === first, 'its thread exited');
    const r = await dc.continueRequest({ threadId: first });
    assert.equal(r.body.allThreadsContinued, false, 'the other child stays stopped');
    await until(new RegExp(`process \\d \\(pid ${firstPid}\\) exited with status ${10 + Number(firstI)}`), 'the exit status');
    await gone;
    await assert.rejects(dc.stackTraceRequest({ threadId: first }), new RegExp(`process \\d \\(pid ${firstPid}\\) has ended`));
    // The other is still stopped where it was.
    const st = await dc.stackTraceRequest({ threadId: second });
    assert.equal(st.body.stackFrames[0].line, line(FORKS, 'child'));

    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: second });
    assert.equal((await exited).body.exitCode, 3, 'the parent\'s exit code');
    await message(dc, (m) => m.event === 'terminated', 'terminated');
    assert.match(console()(), /statuses \[10, 11\]/);
  });

  it('survives a child that dies in the middle of a request', async () => {
    const { stopped } = await stopInChildren();
    const [victim, other] = stopped.map((s) => s.threadId);
    const top = (await dc.stackTraceRequest({ threadId: victim })).body.stackFrames[0];
    const pid = (await dc.evaluateRequest({ expression: 'Process.pid', frameId: top.id, context: 'watch' })).body.result;
    // The child kills itself while the adapter waits for the answer.
    await assert.rejects(
      dc.evaluateRequest({ expression: 'Process.kill(:KILL, Process.pid)', frameId: top.id, context: 'repl' }),
      /ended|gone|lost/,
    );
    await until(new RegExp(`process \\d \\(pid ${pid}\\) (killed by signal|ended|exited)`), 'the killed child reported');
    await assert.rejects(dc.stackTraceRequest({ threadId: victim }), /has ended/);
    await assert.rejects(dc.continueRequest({ threadId: victim }), /has ended/);
    // The session goes on with the others.
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: other });
    assert.equal((await exited).body.exitCode, 3);
  });

  it('followFork "parent": children run free, unseen', async () => {
    await launch(dc, FORKS, { stopOnEntry: true, followFork: 'parent' });
    const set = await dc.setBreakpointsRequest({
      source: { path: fixture(FORKS) }, breakpoints: [{ line: line(FORKS, 'child') }],
    });
    assert.equal(set.body.breakpoints[0].verified, true);
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: 1 });
    assert.equal((await exited).body.exitCode, 3);
    await message(dc, (m) => m.event === 'terminated', 'terminated');
    const text = console()();
    assert.match(text, /child 0 done/);
    assert.match(text, /child 1 done/);
    assert.match(text, /statuses \[10, 11\]/);
    assert.match(text, /forked pid \d+ \(not followed: followFork is parent\)/);
    assert.doesNotMatch(text, /New process/);
    const stoppedAfterEntry = dc.messages.filter((m) => m.event === 'stopped' && m.body.reason !== 'entry');
    assert.deepEqual(stoppedAfterEntry, [], 'no stop in a child');
    assert.ok(!dc.messages.some((m) => m.event === 'thread' && m.body.threadId > TID_BASE), 'no child threads');
  });

  it('followFork "child": the parent is let go at its fork, the child stays', async () => {
    await launch(dc, FORKS, { stopOnEntry: true, followFork: 'child' });
    await dc.setBreakpointsRequest({ source: { path: fixture(FORKS) }, breakpoints: [{ line: line(FORKS, 'child') }] });
    const stopped = stops(1);
    await dc.continueRequest({ threadId: 1 });
    const [s] = await stopped;
    assert.ok(s.threadId > TID_BASE, `the child's thread: ${s.threadId}`);
    await until(/process 1 \(pid \d+\) runs on without the debugger \(follow-fork child\)/, 'the parent let go');
    await message(dc, (m) => m.event === 'thread' && m.body.reason === 'exited' && m.body.threadId === 1, 'the parent\'s thread gone');
    // One process left: its stop is the whole program's.
    const threads = (await dc.threadsRequest()).body.threads;
    assert.deepEqual(threads.map((t) => t.id), [s.threadId]);
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: s.threadId });
    assert.equal((await exited).body.exitCode, 10, 'the last process\'s exit code: process 1 was let go');
  });

  it('terminate ends every process', async () => {
    await stopInChildren();
    const exited = dc.waitForEvent('exited');
    await dc.terminateRequest({});
    assert.equal((await exited).body.exitCode, 128 + 15, 'the parent, killed by SIGTERM');
    // Each end is told, the last one's as the session's.
    const text = console()();
    assert.equal((text.match(/process \d \(pid \d+\) killed by signal SIGTERM/g) || []).length, 3, text);
  });

  it('serves the children while the parent, its connection closed, takes its time to end', async () => {
    const fifo = path.join(TMP, `word-${process.pid}-${Date.now()}`);
    await launch(dc, 'exec_parent.rb', { stopOnEntry: true, args: [fifo] });
    await dc.setBreakpointsRequest({
      source: { path: fixture('exec_parent.rb') }, breakpoints: [{ line: line('exec_parent.rb', 'child') }],
    });
    const stopped = stops(1);
    await dc.continueRequest({ threadId: 1 });
    const [s] = await stopped;
    // The parent exec'd a shell (its debugger connection closed on exec)
    // that waits for this child: the adapter must not wait for the parent.
    const top = (await dc.stackTraceRequest({ threadId: s.threadId })).body.stackFrames[0];
    assert.equal(top.line, line('exec_parent.rb', 'child'));
    assert.equal((await dc.evaluateRequest({ expression: 'word', frameId: top.id, context: 'watch' })).body.result,
      'nil');
    const exited = dc.waitForEvent('exited');
    await dc.continueRequest({ threadId: s.threadId });
    assert.equal((await exited).body.exitCode, 4, 'the shell the parent became');
    await until(/process 2 \(pid \d+\) exited with status 7/, 'the child\'s exit');
  });

  it('refuses a followFork it does not know', async () => {
    await dc.initializeRequest();
    await assert.rejects(dc.launchRequest({ program: fixture(FORKS), followFork: 'both' }),
      /followFork is all, parent or child/);
  });
});
