// tests/dap/test_breakpoints.js — what stops the program, through
// DebugClient: a conditional breakpoint, a hit condition, a logpoint (output,
// no stop), an exception breakpoint with exceptionInfo, a breakpoint set
// while the program runs, and refusals that say why.
'use strict';

const { describe, it, beforeEach, afterEach } = require('node:test');
const {
  assert, client, finish, launch, nextEvent, stopAfter, topFrame, locals, fixture, line,
} = require('./lib');

const COUNTING = 'counting.rb';

describe('breakpoints', () => {
  let dc;
  beforeEach(async () => { dc = await client(); });
  afterEach(async () => { await finish(dc); });

  // Sets breakpoints at @add of counting.rb while stopped on entry.
  async function atAdd(bps) {
    await launch(dc, COUNTING, { stopOnEntry: true });
    const r = await dc.setBreakpointsRequest({
      source: { path: fixture(COUNTING) },
      breakpoints: bps.map((b) => ({ line: line(COUNTING, 'add'), ...b })),
    });
    return r.body.breakpoints;
  }

  // Continues until the program ends; the values of i at each stop.
  async function stopsUntilEnd() {
    const seen = [];
    for (;;) {
      const next = nextEvent(dc, ['stopped', 'terminated']);
      await dc.continueRequest({ threadId: 1 });
      const ev = await next;
      if (ev.event === 'terminated') return seen;
      const v = await locals(dc, (await topFrame(dc, ev.body.threadId)).id);
      seen.push(v.i.value);
    }
  }

  it('a condition stops only when it holds', async () => {
    const [bp] = await atAdd([{ condition: 'i == 3' }]);
    assert.equal(bp.verified, true);
    assert.deepEqual(await stopsUntilEnd(), ['3']);
  });

  it('a hit condition picks the hits that stop', async () => {
    await atAdd([{ hitCondition: '>= 4' }]);
    assert.deepEqual(await stopsUntilEnd(), ['3', '4']);
  });

  it('a bad hit condition is refused with the reason', async () => {
    const [bp] = await atAdd([{ hitCondition: 'sometimes' }]);
    assert.equal(bp.verified, false);
    assert.match(bp.message, /hit condition 'sometimes'/);
  });

  it('a logpoint prints its message and never stops', async () => {
    const logs = [];
    dc.on('output', (e) => { if (e.body.category === 'console' && /^i=/.test(e.body.output)) logs.push(e.body.output); });
    await atAdd([{ logMessage: 'i={i} total={total}', condition: 'i.even?' }]);
    assert.deepEqual(await stopsUntilEnd(), [], 'no stop');
    assert.deepEqual(logs, ['i=0 total=0\n', 'i=2 total=1\n', 'i=4 total=6\n']);
  });

  it('an exception breakpoint stops where the exception is raised', async () => {
    await launch(dc, 'raises.rb', { stopOnEntry: true });
    const r = await dc.setExceptionBreakpointsRequest({
      filters: [], filterOptions: [{ filterId: 'classes', condition: 'KeyError' }],
    });
    assert.deepEqual(r.body.breakpoints, [{ verified: true }]);
    const s = await stopAfter(dc, dc.continueRequest({ threadId: 1 }));
    assert.equal(s.body.reason, 'exception');
    assert.match(s.body.text, /^KeyError: key not found: :b/);
    const threads = (await dc.threadsRequest()).body.threads;
    assert.match(threads.find((t) => t.id === s.body.threadId).name, / fetcher /);
    assert.equal((await topFrame(dc, s.body.threadId)).line, line('raises.rb', 'raise'));
    const info = await dc.exceptionInfoRequest({ threadId: s.body.threadId });
    assert.equal(info.body.exceptionId, 'KeyError');
    assert.match(info.body.description, /key not found/);
    assert.equal(info.body.breakMode, 'always');
  });

  it('the raise filter catches any exception; a bad class is refused', async () => {
    await launch(dc, 'raises.rb', { stopOnEntry: true });
    const bad = await dc.setExceptionBreakpointsRequest({
      filters: [], filterOptions: [{ filterId: 'classes', condition: 'not a class' }],
    });
    assert.equal(bad.body.breakpoints[0].verified, false);
    assert.ok(bad.body.breakpoints[0].message);
    await dc.setExceptionBreakpointsRequest({ filters: ['raise'] });
    const s = await stopAfter(dc, dc.continueRequest({ threadId: 1 }));
    assert.equal(s.body.reason, 'exception');
  });

  it('breakpoints set while the program runs take effect', async () => {
    const looping = dc.waitForEvent('output');
    await launch(dc, 'forever.rb');
    await looping; // "looping": the spinner runs
    // Awaited from before the request: the stop can come in the same read
    // as the response, before a waiter set up afterwards would listen.
    const stopped = dc.waitForEvent('stopped');
    const set = await dc.setBreakpointsRequest({
      source: { path: fixture('forever.rb') }, breakpoints: [{ line: line('forever.rb', 'loop') }],
    });
    assert.equal(set.body.breakpoints[0].verified, true);
    const s = await stopped;
    assert.equal(s.body.reason, 'breakpoint', 'the quiet pause for setting it is not shown');
    const threads = (await dc.threadsRequest()).body.threads;
    assert.match(threads.find((t) => t.id === s.body.threadId).name, / spinner /);
  });

  it('breakpointLocations: the lines where code starts', async () => {
    await launch(dc, COUNTING, { stopOnEntry: true });
    const r = await dc.send('breakpointLocations', { source: { path: fixture(COUNTING) }, line: 1, endLine: 12 });
    const lines = r.body.breakpoints.map((b) => b.line);
    assert.ok(lines.includes(line(COUNTING, 'inner')), lines.join(' '));
    for (const no of [1, 2, 3, 7]) assert.ok(!lines.includes(no), `line ${no} has no code: ${lines.join(' ')}`);
    // A file not loaded: every line asked about (nothing known to say otherwise).
    const other = await dc.send('breakpointLocations', { source: { path: fixture('raises.rb') }, line: 3, endLine: 4 });
    assert.deepEqual(other.body.breakpoints, [{ line: 3 }, { line: 4 }]);
  });

  it('a function breakpoint for a method that does not exist stays unverified', async () => {
    await launch(dc, COUNTING, { stopOnEntry: true });
    const r = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'Nope#never' }, { name: '' }] });
    assert.equal(r.body.breakpoints[0].verified, false);
    assert.match(r.body.breakpoints[0].message, /pending/);
    assert.equal(r.body.breakpoints[1].verified, false);
  });
});
