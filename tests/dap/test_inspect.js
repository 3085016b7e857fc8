// tests/dap/test_inspect.js — looking at a stopped program through
// DebugClient: evaluate in the selected frame (and in another fiber's),
// variables expanded and paged, setVariable changing what the program then
// prints, source, pause while running, threads while running.
'use strict';

const { describe, it, beforeEach, afterEach } = require('node:test');
const {
  assert, client, finish, launch, stopAfter, topFrame, vars, locals, fixture, line,
} = require('./lib');

describe('inspecting', () => {
  let dc;
  beforeEach(async () => { dc = await client(); });
  afterEach(async () => { await finish(dc); });

  async function stopAt(name, mark) {
    await launch(dc, name, { stopOnEntry: true });
    await dc.setBreakpointsRequest({ source: { path: fixture(name) }, breakpoints: [{ line: line(name, mark) }] });
    return stopAfter(dc, dc.continueRequest({ threadId: 1 }));
  }

  it('evaluates in the selected frame', async () => {
    const s = await stopAt('counting.rb', 'inner');
    const st = await dc.stackTraceRequest({ threadId: s.body.threadId });
    const [inner, outer] = st.body.stackFrames;
    assert.equal(inner.name, 'Object#inner');
    assert.equal(outer.name, 'Object#outer');
    const inOuter = await dc.evaluateRequest({ expression: 'z * 6', frameId: outer.id, context: 'repl' });
    assert.equal(inOuter.body.result, '42');
    assert.equal(inOuter.body.type, 'Integer');
    const inInner = await dc.evaluateRequest({ expression: 'x', frameId: inner.id, context: 'hover' });
    assert.equal(inInner.body.result, '7');
    await assert.rejects(dc.evaluateRequest({ expression: 'z', frameId: inner.id, context: 'watch' }),
      /NameError/, 'z is the caller\'s');
    // Without a frame: the stopped one.
    assert.equal((await dc.evaluateRequest({ expression: 'x + 1' })).body.result, '8');
    // An expandable result.
    const arr = await dc.evaluateRequest({ expression: '[x, [1, 2]]', frameId: inner.id, context: 'repl' });
    assert.equal(arr.body.indexedVariables, 2);
    const kids = await vars(dc, arr.body.variablesReference);
    assert.equal(kids['[1]'].value, '[1, 2]');
  });

  it('another fiber\'s frames are listed but have no values', async () => {
    const s = await stopAt('workers.rb', 'in_loop');
    assert.notEqual(s.body.threadId, 1);
    // The main fiber waits (a worker that has not run yet has no frames).
    const st = await dc.stackTraceRequest({ threadId: 1 });
    assert.ok(st.body.stackFrames.length > 0);
    const sc = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
    assert.equal(sc.body.scopes[0].variablesReference, 0);
    assert.match(sc.body.scopes[0].name, /not the stopped fiber/);
    await assert.rejects(dc.evaluateRequest({ expression: '1', frameId: st.body.stackFrames[0].id }),
      /not the stopped fiber/);
  });

  it('expands arrays (paged), hashes, structs and objects', async () => {
    const s = await stopAt('values.rb', 'look');
    const top = await topFrame(dc, s.body.threadId);
    const sc = await dc.scopesRequest({ frameId: top.id });
    assert.deepEqual(sc.body.scopes.map((x) => x.name), ['Locals', 'Instance variables', 'Globals']);
    assert.equal(sc.body.scopes[2].expensive, true);
    const v = await locals(dc, top.id);
    assert.deepEqual(Object.keys(v), ['self', 'list', 'table', 'pair', 'holder', 'count']);
    assert.equal(v.list.indexedVariables, 300);
    const page = await dc.variablesRequest({ variablesReference: v.list.variablesReference,
      filter: 'indexed', start: 250, count: 3 });
    assert.deepEqual(page.body.variables.map((x) => [x.name, x.value]),
      [['[250]', '251'], ['[251]', '252'], ['[252]', '253']]);
    const named = await dc.variablesRequest({ variablesReference: v.list.variablesReference, filter: 'named' });
    assert.deepEqual(named.body.variables, [], 'an array has no named children');
    const table = await vars(dc, v.table.variablesReference);
    assert.deepEqual(Object.keys(table), ['"k"', ':sym']);
    assert.equal(table[':sym'].indexedVariables, 2);
    assert.deepEqual(Object.keys(await vars(dc, v.pair.variablesReference)), ['left', 'right']);
    const holder = await vars(dc, v.holder.variablesReference);
    assert.equal(holder['@name'].value, '"holder"');
    assert.equal((await vars(dc, holder['@list'].variablesReference))['[2]'].value, '3');
    const globals = await vars(dc, sc.body.scopes[2].variablesReference);
    assert.ok('$stdout' in globals && '$PROGRAM_NAME' in globals);
  });

  it('setVariable changes what the program sees', async () => {
    const out = [];
    dc.on('output', (e) => { if (e.body.category === 'stdout') out.push(e.body.output); });
    const s = await stopAt('values.rb', 'look');
    const top = await topFrame(dc, s.body.threadId);
    const sc = await dc.scopesRequest({ frameId: top.id });
    const localsRef = sc.body.scopes[0].variablesReference;
    const set = await dc.setVariableRequest({ variablesReference: localsRef, name: 'count', value: '40 + 2' });
    assert.equal(set.body.value, '42');
    const v = await vars(dc, localsRef);
    await dc.setVariableRequest({ variablesReference: v.list.variablesReference, name: '[0]', value: '-1' });
    await dc.setVariableRequest({ variablesReference: v.table.variablesReference, name: '"k"', value: ':new' });
    await assert.rejects(dc.setVariableRequest({ variablesReference: localsRef, name: 'count', value: 'nope(' }),
      /SyntaxError/);
    const ended = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: s.body.threadId });
    await ended;
    assert.match(out.join(''), /count=42 first=-1 k=new/);
  });

  it('gives a source file\'s text', async () => {
    await launch(dc, 'counting.rb', { stopOnEntry: true });
    const r = await dc.sourceRequest({ source: { path: fixture('counting.rb') }, sourceReference: 0 });
    assert.match(r.body.content, /def outer\n/);
    await assert.rejects(dc.sourceRequest({ sourceReference: 7 }), /source references/);
  });

  it('pauses a running program; threads while running are the last stop\'s', async () => {
    const looping = dc.waitForEvent('output');
    await launch(dc, 'forever.rb');
    await looping;
    const running = await dc.threadsRequest();
    assert.ok(running.body.threads.length >= 1, 'an answer even while running');
    const s = await stopAfter(dc, dc.pauseRequest({ threadId: 1 }));
    assert.equal(s.body.reason, 'pause');
    const names = (await dc.threadsRequest()).body.threads.map((t) => t.name);
    assert.ok(names.some((n) => / spinner /.test(n)), names.join(', '));
    // And it runs again.
    const again = await stopAfter(dc, dc.continueRequest({ threadId: s.body.threadId }).then(() => dc.pauseRequest({ threadId: 1 })));
    assert.equal(again.body.reason, 'pause');
  });
});
