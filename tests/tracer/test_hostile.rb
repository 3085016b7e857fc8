# frozen_string_literal: true

# tests/tracer/test_hostile.rb — a running program under the tracer, its
# attach socket hammered by bad clients: stray SIGURGs, a burst of garbage,
# oversized headers, wrong versions and types, truncated frames, a peer that
# sends one byte at a time, connect-and-close, and 1,000 bad attaches in a
# row. The program's own progress output (a tick every 0.05 s, stamped with
# its clock) must go on during and after, every client must be answered or
# closed, and then a real attach must work at once. While a controller is
# attached, a second one is refused with the first one's pid.
require 'minitest/autorun'
require 'pt_wire'
require 'pt_hostile'

class TestHostile < Minitest::Test
  SCRIPT = File.join(__dir__, 'scripts', 'progress.rb')
  # Largest gap allowed between two ticks (20 times their period): a stop
  # for a bad client used to last 10 s each.
  MAX_GAP = 1.0

  PLAN = {
    signal_only: 30, connect_close: 30, nothing: 2, garbage: 20, random: 40, huge_array: 8,
    huge_map: 8, huge_bin: 8, huge_str: 8, wrong_type: 20, repeated: 5, wrong_version: 10,
    truncated: 14, slow: 2
  }.freeze

  def setup
    @tmp = Dir.mktmpdir('pt-hostile')
    @done = File.join(@tmp, 'done')
    @d = PtWire::Debuggee.new(SCRIPT, @done, connect: false)
    @d.wait_stdout(/ready/)
  end

  def teardown
    @d&.close
    FileUtils.rm_rf(@tmp)
  end

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # The program's ticks: [[n, its clock]].
  def ticks
    @d.stdout.scan(/^tick (\d+) ([\d.]+)$/).map { |n, t| [n.to_i, t.to_f] }
  end

  # Waits for a tick stamped after t.
  def wait_tick_after(t)
    @d.wait_stdout(/^tick \d+ ([\d.]+)$/, 10) # at least one
    deadline = now + 10
    until ticks.last[1] > t
      raise "no tick after #{t} (last #{ticks.last.inspect})" if now > deadline

      @d.wait_stdout(/^tick #{ticks.last[0] + 1} /, deadline - now)
    end
  end

  # Every gap between ticks from `from` to `to` (both on the shared
  # monotonic clock) is below MAX_GAP.
  def assert_on_time(from, to)
    wait_tick_after(to)
    stamps = ticks.map(&:last).select { |t| t >= from - MAX_GAP && t <= to + MAX_GAP }
    gaps = stamps.each_cons(2).map { |a, b| b - a }
    assert_operator stamps.size, :>=, 2, 'ticks during the window'
    assert_operator gaps.max, :<, MAX_GAP,
                    format('longest pause of the program: %.2fs over %d ticks', gaps.max, stamps.size)
  end

  # A real attach: stops with reason "attach", answers a request, detaches.
  def real_attach
    started = now
    c = @d.attach
    assert_equal [:hello, true], @d.hello.values_at('type', 'attached')
    stop = c.read
    assert_equal 'attach', stop['reason']
    assert_equal '42', c.request(:eval, expr: '6 * 7')['text']
    assert_equal :ok, c.request(:detach)['type']
    assert_nil c.read
    c.close
    now - started
  end

  def finish
    File.write(@done, '')
    st = @d.wait
    assert_equal 0, st.exitstatus, @d.stderr
    assert_match(/finished/, @d.stdout)
  end

  def test_burst_of_bad_clients_costs_no_stop
    t0 = now
    seen = PtHostile.burst(@d, PLAN)
    t1 = now
    bad = seen.reject { |_, outcomes| (outcomes - %i[error closed signalled]).empty? }
    assert_empty bad, 'every client is answered with an error or closed'
    assert_equal [:error], seen[:wrong_version].uniq, 'a wrong version gets an ERROR'
    assert_on_time(t0, t1 + 0.5)
    real_attach
    assert_on_time(now, now + 0.3)
    finish
  end

  def test_thousand_bad_attaches_then_a_real_one_at_once
    kinds = %i[garbage connect_close signal_only wrong_version truncated random]
    t0 = now
    PtHostile.burst(@d, kinds.to_h { |k| [k, 1000 / kinds.size + 1] }, threads: 4)
    t1 = now
    assert_on_time(t0, t1)
    assert_operator real_attach, :<, 3, 'the next attach works at once'
    finish
  end

  def test_second_controller_is_refused_while_one_is_attached
    first = @d.attach
    assert_equal 'attach', first.read['reason']
    sock = PtHostile.connect(@d)
    refute_nil sock, 'the second controller gets an answer'
    msg = PtHostile.read_msg(sock, MessagePack::Unpacker.new, 5)
    sock.close
    assert_equal PtWire::TYPES[:error], msg['type'], msg.inspect
    assert_equal "already attached by pid #{Process.pid}", msg['message']
    # Nothing changed for the first.
    assert_equal '42', first.request(:eval, expr: '6 * 7')['text']
    assert_equal :ok, first.request(:continue)['type']
    # The first goes away without a word (as if killed); the next attach works.
    first.close
    wait_tick_after(now)
    real_attach
    finish
  end
end
