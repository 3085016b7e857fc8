// tests/dap/test_remote.js — the adapter attaching over TCP ("connect"):
// a program started with `polytrace --listen --nonstop` is reached with
// the token it printed, its fibers are threads as for any attach (its
// forked children are not followed, and a followFork says so; terminate,
// which would signal a pid of another host, is refused), and it runs on
// after disconnect; a wrong or missing token is refused with the
// reason, the program untouched.
'use strict';

const { describe, it, afterEach } = require('node:test');
const { spawn } = require('node:child_process');
const {
  assert, client, finish, attach, message, fixture, env, reports, POLYTRACE, TIMEOUT,
} = require('./lib');

describe('attach over TCP', () => {
  let dc = null;
  const cleanups = [];
  afterEach(async () => {
    await finish(dc);
    dc = null;
    while (cleanups.length) cleanups.pop()();
  });

  // service.rb under `polytrace --listen`: its address and token from
  // its stderr, its "ready" report.
  async function listening() {
    const rep = reports();
    cleanups.push(() => rep.close());
    await rep.ready;
    const prog = spawn(POLYTRACE, ['--listen', '127.0.0.1:0', '--nonstop', 'ruby', fixture('service.rb'), rep.path],
      { env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise((resolve) => prog.on('exit', (code, sig) => resolve({ code, sig })));
    cleanups.push(() => prog.kill('SIGKILL'));
    let err = '';
    const banner = new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no banner: ${err}`)), TIMEOUT);
      prog.stderr.on('data', (d) => {
        err += d;
        const addr = err.match(/listens for a debugger on (127\.0\.0\.1:\d+)/);
        const token = err.match(/^polytrace: token: ([0-9a-f]{64})$/m);
        if (addr && token) {
          clearTimeout(t);
          resolve({ addr: addr[1], token: token[1] });
        }
      });
    });
    const { addr, token } = await banner;
    assert.equal(await rep.next(), `ready ${prog.pid}`);
    return { rep, prog, exited, addr, token, stderr: () => err };
  }

  it('connects with the token, shows the fibers, and the program runs on after disconnect', async () => {
    const { rep, exited, addr, token } = await listening();
    dc = await client();
    const stopped = await attach(dc, { connect: addr, token, stopOnEntry: true, followFork: 'all' });
    assert.equal(stopped.body.reason, 'entry');
    const names = (await dc.threadsRequest()).body.threads.map((t) => t.name);
    assert.ok(names.some((n) => / ticker /.test(n)), names.join(', '));
    // Its children would wait on sockets of its own host: said, not done.
    await message(dc, (m) => m.event === 'output' &&
      /followFork does not apply over TCP \(connect\): forked children run free/.test(m.body.output), 'the followFork note');
    // A pid of another host is nothing to signal here.
    await assert.rejects(dc.terminateRequest({}), /cannot signal a program on another host/);
    await dc.disconnectRequest({});
    rep.send('finish');
    assert.match(await rep.next(), /^done \d+$/);
    assert.deepEqual(await exited, { code: 0, sig: null });
  });

  it('a wrong or missing token is refused, the program untouched', async () => {
    const { rep, exited, addr, stderr } = await listening();
    dc = await client();
    await dc.initializeRequest();
    await assert.rejects(dc.attachRequest({ connect: addr, token: 'not-the-right-token-at-all' }),
      /cannot attach: .*refused the token \(authentication failed\)/);
    await assert.rejects(dc.attachRequest({ connect: addr }), /needs "token" .* or "tokenFile"/);
    assert.match(stderr(), /refused a debugger connection .*\(1 of 5 failed\)/);
    rep.send('finish');
    assert.match(await rep.next(), /^done \d+$/);
    assert.deepEqual(await exited, { code: 0, sig: null });
  });
});
