# frozen_string_literal: true

# tests/tracer/test_runtime.rb — the tracer with the fiber runtime: fibers
# and what they wait on, 10,000 fibers, the fiber lock while stepping and
# the event loop suspended while stopped (scripts/runtime_fibers.rb).
require 'minitest/autorun'
require 'pt_wire'

class TestRuntime < Minitest::Test
  SCRIPT = File.join(__dir__, 'scripts', 'runtime_fibers.rb')

  def self.runtime?
    env = PtWire::Debuggee.ruby_env.merge('RUBYOPT' => '')
    @runtime = system(env, RbConfig.ruby, '-rpolyphony', '-e', 'exit(defined?(Polyphony::C_API) ? 0 : 1)',
                      out: File::NULL, err: File::NULL) if @runtime.nil?
    @runtime
  end

  def setup
    skip 'the runtime does not publish Polyphony::C_API yet' unless self.class.runtime?
  end

  def teardown
    @d&.close
  end

  # A program of 10,000 fibers may take more than the usual 10 s to reach its
  # first stop on a loaded machine; the test times the request, not the start.
  def launch(*args, timeout: 60)
    @d = PtWire::Debuggee.new(SCRIPT, *args, nonstop: true)
    @c = @d.conn
    stop = @c.wait_event(:stopped, timeout: timeout)
    assert_equal %w[call main], stop.values_at('reason', 'tag')
    stop
  end

  def resume(type)
    assert_equal :ok, @c.request(type)['type']
    @c.wait_event(:stopped)
  end

  def test_fibers_and_what_they_wait_on
    launch
    r = @c.request(:fibers, limit: 0)
    by_tag = r['fibers'].to_h { |f| [f['tag'], f] }
    assert_equal 4, r['total']
    assert_equal [1, 'running'], by_tag['main'].values_at('id', 'state')
    assert_equal %w[waiting sleep], by_tag['sleeper'].values_at('state', 'wait_op')
    assert_in_delta 1.0, by_tag['sleeper']['wait_timeout'], 0.5
    assert_equal %w[waiting receive], by_tag['receiver'].values_at('state', 'wait_op')
    assert_equal 'runnable', by_tag['counter']['state']
    assert_equal 1, by_tag['receiver']['parent']
    assert_equal SCRIPT, by_tag['receiver']['file']
    info = @c.request(:switch, fiber: by_tag['sleeper']['id'])
    assert_equal [:fiber_info, 'sleeper'], [info['type'], info['fiber']['tag']]
    bt = @c.request(:backtrace, fiber: by_tag['sleeper']['id'])
    assert(bt['frames'].any? { |f| f['file'] == SCRIPT && f['line'] == 9 }, bt.inspect)
    err = @c.request(:eval, fiber: by_tag['sleeper']['id'], expr: 'start')
    assert_equal PtWire::ERR[:eval], err['code'], 'eval in a fiber other than the stopped one is refused'
  end

  # What the answer costs is the program's CPU time: the wall clock of a
  # loaded machine stretches it (the request's own deadline bounds that).
  def test_ten_thousand_fibers_answer_fast
    launch('10000')
    cpu = PtProc.cpu_seconds(@d.pid)
    r = @c.request(:fibers, limit: 200)
    took = PtProc.cpu_seconds(@d.pid) - cpu
    assert_equal 200, r['fibers'].size
    assert_equal 10_004, r['total']
    assert_operator took, :<, 1.0, 'CPU seconds the program spent answering'
  end

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # The sleeper's time left to sleep, by the runtime's clock.
  def sleeper_left
    @c.request(:fibers)['fibers'].find { |f| f['tag'] == 'sleeper' }['wait_timeout']
  end

  def test_fiber_lock_while_stepping_and_loop_suspended_while_stopped
    launch
    count = @c.request(:eval, expr: '$count')['text']
    assert_equal count, @c.request(:eval, expr: 'sleep 0.05; $count', timeout: 5)['text'],
                 'print may wait through the runtime; other fibers stay locked out'
    # Time at the prompt must not count against the sleeper's timer.
    sleep 2 # rubocop:disable Style/Sleep -- the time spent stopped is what is measured
    assert_equal 18, resume(:step)['line']
    assert_equal 19, resume(:skip)['line'] # $resumed is set
    seen = now
    left = sleeper_left
    assert_operator left, :>, 0.5, 'the sleeper still has most of its second: the stop did not count'
    assert_equal count, @c.request(:eval, expr: '$count')['text'], 'only the stepped fiber ran'
    assert_equal :ok, @c.request(:set, name: 'fiberlock', value: 'off')['type']
    # The program's stops after $resumed, as long as they at least lasted:
    # from the stop received here to the request that ends it sent.
    stopped = now - seen
    assert_equal 20, resume(:skip)['line']
    seen = now
    assert_operator @c.request(:eval, expr: '$count')['text'].to_i, :>, count.to_i, 'fiberlock off: all ran'
    stopped += now - seen
    assert_equal :ok, @c.request(:continue)['type']
    @d.wait(10)
    m = @d.stdout.match(/after=([\d.]+) slept=([\d.]+)/)
    refute_nil m, @d.stdout
    after, slept = m.captures.map(&:to_f)
    # From $resumed to the sleeper's wake-up the program ran for what was
    # left of its sleep (at least `left`), plus the stops, plus how late the
    # machine let it wake; stopped counts no more than the stops lasted.
    running = after - stopped
    why = format('slept %.3f s in all; %.3f s after $resumed, %.3f s of it stopped; %.3f s left at the stop',
                 slept, after, stopped, left)
    assert_operator running, :>=, left - 0.001, "it slept no less than it had left: #{why}"
    assert_operator running, :<, left + 1.0, "nor much more: #{why}"
    assert_operator slept, :>, 2.5, 'and its sleep spanned the stop'
  end

  OPS = File.join(__dir__, 'scripts', 'runtime_ops.rb')

  def test_switch_then_step_stops_in_that_fiber_and_trace_ops
    @d = PtWire::Debuggee.new(OPS, nonstop: true)
    @c = @d.conn
    assert_equal 'call', @c.wait_event(:stopped)['reason']
    reader = @c.request(:fibers)['fibers'].find { |f| f['tag'] == 'reader' }
    assert_equal %w[read waiting], reader.values_at('wait_op', 'state')
    assert_equal :ok, @c.request(:trace_ops, on: true, fiber: reader['id'])['type']
    assert_equal reader['id'], @c.request(:switch, fiber: reader['id'])['fiber']['id']
    stop = resume(:step)
    assert_equal [reader['id'], 7], stop.values_at('fiber', 'line'), 'the next line the reader runs'
    ops = @c.seen.select { |m| m['type'] == :op }
    refute_empty ops
    assert(ops.all? { |o| o['fiber'] == reader['id'] }, 'only the traced fiber')
    assert(ops.any? { |o| o.values_at('phase', 'op') == %w[complete read] && o['result'].positive? }, ops.inspect)
    assert_equal :ok, @c.request(:trace_ops, on: false)['type']
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal 0, @c.wait_event(:exited)['status']
    late = @c.seen.drop(@c.seen.index(stop) + 1)
    assert_empty late.select { |m| m['type'] == :op }, 'trace ops off: no more op events'
    assert_match(/got="line 2\\n"/, @d.stdout.tap { @d.wait })
  end

  OPS_IDLE = File.join(__dir__, 'scripts', 'runtime_ops_idle.rb')

  # Op events are sent in batches; a batch still goes out when the program
  # then waits in its loop, not when the program ends or stops next.
  def test_op_events_arrive_while_the_program_waits
    @d = PtWire::Debuggee.new(OPS_IDLE, nonstop: true)
    @c = @d.conn
    assert_equal 'call', @c.wait_event(:stopped)['reason']
    assert_equal :ok, @c.request(:trace_ops, on: true, fiber: 0)['type']
    assert_equal :ok, @c.request(:continue)['type']
    ops = []
    ops << @c.wait_event(:op) until ops.count { |o| o['phase'] == 'complete' } >= 2
    assert_equal [%w[submit write 10], %w[complete write 10], %w[submit read 10], %w[complete read 10]],
                 ops.map { |o| [o['phase'], o['op'], o['len'].to_s] }
    assert_equal [10, 10], ops.select { |o| o['phase'] == 'complete' }.map { |o| o['result'] }
    assert_empty @c.seen.select { |m| m['type'] == :exited }, 'the program still waits'
  end

  OPS_FLOOD = File.join(__dir__, 'scripts', 'runtime_ops_flood.rb')

  # A controller that does not read the op trace never holds the program
  # up: the tracer keeps a bounded queue, drops the events beyond it,
  # counts them and tells the controller how many in their place; the
  # session goes on. Not one byte is read here until the program has done
  # all its ops (its stdout says so); then every event it made is either
  # received or counted as dropped.
  def test_op_trace_drops_and_counts_for_a_controller_that_does_not_read
    @d = PtWire::Debuggee.new(OPS_FLOOD, '40000', nonstop: true)
    @c = @d.conn
    assert_equal 'call', @c.wait_event(:stopped)['reason']
    assert_equal :ok, @c.request(:trace_ops, on: true, fiber: 0)['type']
    assert_equal :ok, @c.request(:continue)['type']
    @d.wait_stdout(/^flooded$/, 120)
    stop = @c.wait_event(:stopped, timeout: 30)
    assert_equal 'call', stop['reason'], 'the second breakpoint call'
    made = Integer(@c.request(:eval, expr: '$ops')['text'])
    msgs = @c.seen
    ops = msgs.count { |m| m['type'] == :op }
    notices = msgs.select { |m| m['type'] == :output && m['text'].include?('op events dropped') }
    refute_empty notices, 'the controller is told that events were dropped'
    dropped = notices.sum { |m| Integer(m['text'][/(\d+) op events dropped/, 1]) }
    assert_operator dropped, :>, 0
    assert_operator ops, :>, 0
    assert_equal made, ops + dropped, 'every event the program made is received or counted as dropped'
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal 0, @c.wait_event(:exited)['status'], 'the session went on to the end'
    assert_match(/done/, @d.stdout.tap { @d.wait })
  end

  # The same flood, but then the program goes idle for good (its loop waits
  # with nothing due) while the tracer still holds op events the socket did
  # not take. Once the controller reads, the rest must come without the
  # program doing anything more: every event up to the last, and the count
  # of those dropped, which comes last. Then a pause checks the total.
  def test_op_trace_backlog_goes_out_while_the_program_stays_idle
    @d = PtWire::Debuggee.new(OPS_FLOOD, '40000', 'idle', nonstop: true)
    @c = @d.conn
    assert_equal 'call', @c.wait_event(:stopped)['reason']
    assert_equal :ok, @c.request(:trace_ops, on: true, fiber: 0)['type']
    assert_equal :ok, @c.request(:continue)['type']
    @d.wait_stdout(/^flooded$/, 120)
    @d.wait_idle(30)
    notice = nil
    until notice
      msg = @c.wait_event(:output, timeout: 30)
      refute_nil msg, 'the notice of the dropped op events comes while the program stays idle'
      notice = msg if msg['text'].include?('op events dropped')
    end
    dropped = Integer(notice['text'][/(\d+) op events dropped/, 1])
    assert_operator dropped, :>, 0
    assert_equal :ok, @c.request(:pause)['type']
    assert_equal 'pause', @c.wait_event(:stopped, timeout: 30)['reason']
    made = Integer(@c.request(:eval, expr: '$ops')['text'])
    msgs = @c.seen
    ops = msgs.count { |m| m['type'] == :op }
    dropped = msgs.select { |m| m['type'] == :output && m['text'].include?('op events dropped') }
                  .sum { |m| Integer(m['text'][/(\d+) op events dropped/, 1]) }
    assert_operator ops, :>, 0
    assert_equal made, ops + dropped, 'every event the program made is received or counted as dropped'
  end

  IDLE = File.join(__dir__, 'scripts', 'runtime_idle.rb')

  def test_pause_and_attach_while_idle_in_the_event_loop
    @d = PtWire::Debuggee.new(IDLE, nonstop: true)
    @c = @d.conn
    @d.wait_stdout(/ready/)
    @d.wait_idle
    assert_equal :ok, @c.request(:pause)['type']
    stop = @c.wait_event(:stopped, timeout: 5)
    assert_equal ['pause', IDLE], stop.values_at('reason', 'file')
    assert_includes [3, 6], stop['line'], 'where a fiber waits (either fiber may be current)'
    assert_equal :ok, @c.request(:detach)['type']
    @c.close
    # Attach again by signal; the program is still idle in the loop.
    @c = @d.attach
    assert @d.hello['attached']
    assert_equal 'attach', @c.read['reason']
    dump = @c.request(:dump)['fibers']
    sleeper = dump.find { |f| f['info']['tag'] == 'sleeper' }
    assert_equal 'sleep', sleeper['info']['wait_op']
    assert(sleeper['frames'].any? { |f| f['file'] == IDLE && f['line'] == 3 }, sleeper.inspect)
    assert_equal :ok, @c.request(:kill)['type']
    assert_equal 'KILL', Signal.signame(@d.wait.termsig)
  end

  PLAIN_WAIT = File.join(__dir__, 'scripts', 'runtime_plain_wait.rb')

  # Where the runtime cannot hand the loop's wait to a live fiber, a stop
  # made in it is in the fiber that ended: still named by its number, said
  # to have finished, listed, and every request on it answered.
  def test_a_stop_in_a_fiber_that_ended_is_one_the_user_can_act_on
    @d = PtWire::Debuggee.new(PLAIN_WAIT, nonstop: true)
    @c = @d.conn
    @d.wait_stdout(/ready/)
    @d.wait_idle
    assert_equal :ok, @c.request(:pause)['type']
    stop = @c.wait_event(:stopped, timeout: 5)
    assert_equal %w[pause short], stop.values_at('reason', 'tag'), stop.inspect
    assert_match(/\Afiber #{stop['fiber']} has finished: stopped in what runs after its end/, stop['note'])
    frames = @c.request(:backtrace, fiber: stop['fiber'])
    assert_equal :frames, frames['type'], frames.inspect
    listed = @c.request(:fibers)['fibers'].find { |f| f['id'] == stop['fiber'] }
    assert_equal %w[short ending], listed&.values_at('tag', 'state'), 'the stopped fiber is listed'
    assert_equal :fiber_info, @c.request(:switch, fiber: stop['fiber'])['type']
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal :ok, @c.request(:pause)['type']
    again = @c.wait_event(:stopped, timeout: 5)
    assert_equal stop['fiber'], again['fiber'], 'the same number, the same fiber'
    assert_equal :ok, @c.request(:kill)['type']
    assert_equal 'KILL', Signal.signame(@d.wait.termsig)
  end

  THREE = File.join(__dir__, 'scripts', 'runtime_three.rb')

  def test_skip_and_up_stay_in_a_spun_fiber_while_others_run
    @d = PtWire::Debuggee.new(THREE)
    @c = @d.conn
    assert_equal 'entry', @c.read['reason']
    bp = @c.request(:break, file: THREE, line: 4)['bp']
    stop = resume(:continue)
    assert_equal %w[f1 4], [stop['tag'], stop['line'].to_s]
    @c.request(:delete, bp: bp['id'])
    assert_equal ['f1', 6, 'return', '4'], resume(:up).values_at('tag', 'line', 'reason', 'value')
    assert_equal ['f1', 10], resume(:skip).values_at('tag', 'line')
    # Every fiber runs between the snoozes; skip still stays in f1.
    assert_equal :ok, @c.request(:set, name: 'fiberlock', value: 'off')['type']
    assert_equal ['f1', 11], resume(:skip).values_at('tag', 'line')
    assert_equal ['f1', 12], resume(:skip).values_at('tag', 'line')
    assert_equal ['f1', 13], resume(:skip).values_at('tag', 'line')
    after = resume(:skip)
    refute_equal 'f1', after['tag'], 'f1 ended: the next line of any fiber'
    assert_equal :ok, @c.request(:continue)['type']
    assert_equal 0, @c.wait_event(:exited)['status']
    assert_equal "done\n", @d.stdout.tap { @d.wait }
  end
end
