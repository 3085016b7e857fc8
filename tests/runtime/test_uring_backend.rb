# frozen_string_literal: true

# The io_uring backend's own promises (run under both backends; the parts
# that only make sense on io_uring skip elsewhere): a full submission queue
# is submitted and retried, an op cancelled by its fiber gives its buffer
# back untouched, SIGINT reaches a process blocked in the kernel wait
# promptly, waitpid through a pidfd, and run-time choice with a fallback.
require 'minitest/autorun'
require 'rbconfig'
require 'polyphony'

class UringBackendTest < Minitest::Test
  BACKEND = (ENV['POLYPHONY_BACKEND'] || 'io_uring').to_sym

  def child_env(extra = {})
    { 'RUBYLIB' => ENV['RUBYLIB'] }.merge(extra)
  end

  def run_child(code, env = {})
    r, w = IO.pipe
    er, ew = IO.pipe
    pid = Process.spawn(child_env(env), RbConfig.ruby, '-rpolyphony', '-e', code,
                        out: w, err: ew, in: File::NULL)
    w.close
    ew.close
    out = r.read
    err = er.read
    Process.waitpid(pid)
    [out, err, $?]
  ensure
    [r, er].each { |io| io&.close unless io&.closed? }
  end

  def test_backend_is_the_one_asked_for
    assert_equal BACKEND, Polyphony.backend
    assert_equal BACKEND, Thread.current.backend.kind
  end

  # 10,000 fibers each with a read pending on one pipe: on io_uring that is
  # far more SQEs than the 256-entry ring holds before any poll.
  def test_ten_thousand_pending_reads
    r, w = IO.pipe
    n = 10_000
    fibers = Array.new(n) { spin { r.readpartial(1) } }
    snooze
    w << ('a' * n)
    results = fibers.map(&:await)
    assert_equal n, results.size
    assert(results.all? { |s| s == 'a' })
  ensure
    r&.close
    w&.close
  end

  # The same with a 16-entry ring (POLYPHONY_URING_ENTRIES): the submission
  # queue fills up between polls, is submitted and the op retried.
  def test_full_submission_queue_is_submitted_and_retried
    skip 'io_uring only' unless BACKEND == :io_uring

    code = 'r, w = IO.pipe; f = Array.new(10_000) { spin { r.readpartial(1) } }; snooze; ' \
           'w << ("a" * 10_000); ok = f.map(&:await).all?("a"); ' \
           'print ok, " ", Thread.current.backend.uring_queue_full_count'
    out, err, status = run_child(code, 'POLYPHONY_BACKEND' => 'io_uring', 'POLYPHONY_URING_ENTRIES' => '16')
    assert status.success?, err
    ok, full = out.split
    assert_equal 'true', ok
    assert_operator full.to_i, :>, 0
  end

  # A read cancelled by move_on_after must not consume what is written later.
  def test_cancelled_read_leaves_data
    r, w = IO.pipe
    v = move_on_after(0.02, with_value: :moved_on) { r.readpartial(100) }
    assert_equal :moved_on, v
    w << 'later'
    assert_equal 'later', r.readpartial(100)
  ensure
    r&.close
    w&.close
  end

  def test_stopped_cancelled_or_terminated_fiber_read_is_cancelled
    r, w = IO.pipe
    %i[stop cancel terminate].each do |how|
      reader = spin { r.readpartial(100) }
      snooze
      reader.__send__(how)
      begin
        reader.await
      rescue Polyphony::Cancel
        nil
      end
      refute_predicate reader, :alive?
      w << how.to_s
      assert_equal how.to_s, r.readpartial(100)
    end
  ensure
    r&.close
    w&.close
  end

  # A thread killed while its fiber waits in a read: the read is cancelled
  # before the stack unwinds, so it neither touches freed memory nor takes
  # the data written afterwards.
  def test_killed_thread_read_is_cancelled
    r, w = IO.pipe
    waiting = Thread::Queue.new
    t = Thread.new do
      spin { waiting << true }
      r.readpartial(10)
    end
    waiting.pop
    Thread.pass until t.status == 'sleep'
    t.kill
    t.join
    w << 'after'
    assert_equal 'after', r.readpartial(10)
  ensure
    r&.close
    w&.close
  end

  # The child blocks in the kernel wait (io_uring_enter is syscall 426 on
  # x86_64, epoll_wait 232/epoll_pwait 281 for libev); SIGINT must raise
  # Interrupt in its main fiber within 100 ms. It says it is ready with a
  # plain write(2): on io_uring a puts is an op whose io_uring_enter the
  # reader can catch the child in (preempted after the bytes went out),
  # and a SIGINT sent then interrupted the puts, outside the rescue.
  def test_sigint_interrupts_kernel_wait_promptly
    code = <<~RUBY
      $stdout.sync = true
      $stdout.orig_write("ready\n")
      begin
        sleep 30
        puts 'slept'
      rescue Interrupt
        puts "interrupted \#{Process.clock_gettime(Process::CLOCK_MONOTONIC)}"
      end
    RUBY
    r, w = IO.pipe
    pid = Process.spawn(child_env('POLYPHONY_BACKEND' => BACKEND.to_s), RbConfig.ruby,
                        '-rpolyphony', '-e', code, out: w, in: File::NULL)
    w.close
    assert_equal "ready\n", r.gets
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 10
    wait_syscalls = BACKEND == :io_uring ? %w[426] : %w[232 281 441]
    until in_kernel_wait?(pid, wait_syscalls)
      flunk 'child never blocked in the kernel wait' if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      Thread.pass
    end
    sent_at = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    Process.kill('INT', pid)
    line = r.gets
    assert_match(/\Ainterrupted /, line)
    delay = line.split.last.to_f - sent_at
    assert_operator delay, :<, 0.1, "Interrupt took #{(delay * 1000).round} ms"
    Process.waitpid(pid)
  ensure
    r&.close
  end

  # IO#close goes through the backend's close op when it has one (io_uring).
  def test_close_is_an_op_on_io_uring
    events = []
    tracer = Polyphony::Trace.start do |e|
      events << [e[:kind], e[:result]] if e[:op] == :close && %i[op_submit op_complete].include?(e[:kind])
    end
    r, w = IO.pipe
    fd = w.fileno
    w << 'bye'
    w.close
    Polyphony::Trace.stop(tracer)
    assert_predicate w, :closed?
    refute File.exist?("/proc/self/fd/#{fd}"), 'fd still open'
    assert_equal 'bye', r.read
    expected = BACKEND == :io_uring ? [[:op_submit, 0], [:op_complete, 0]] : []
    assert_equal expected, events
  ensure
    r&.close
  end

  # The main thread of pid sits in one of `syscalls`; where /proc/PID/syscall
  # may not be read, a sleeping state is taken for it.
  def in_kernel_wait?(pid, syscalls)
    syscalls.include?(File.read("/proc/#{pid}/syscall").split.first)
  rescue Errno::EACCES, Errno::EPERM
    File.read("/proc/#{pid}/stat").split(') ').last.start_with?('S')
  end

  def test_waitpid
    pid = Process.spawn(RbConfig.ruby, '-e', 'exit 7')
    ticks = 0
    ticker = spin { loop { ticks += 1; snooze } }
    got_pid, status = Process.wait2(pid)
    assert_equal pid, got_pid
    assert_equal 7, status.exitstatus
    ticker.stop
  end

  def test_waitpid_for_many_children
    pids = Array.new(5) { |i| Process.spawn(RbConfig.ruby, '-e', "exit #{i}") }
    fibers = pids.map { |pid| spin { Process.waitpid(pid); [pid, $?.exitstatus] } }
    assert_equal pids.each_with_index.to_a, fibers.map(&:await)
  end

  def test_env_selects_backend_in_child
    %w[libev io_uring].each do |kind|
      out, err, status = run_child('print Polyphony.backend', 'POLYPHONY_BACKEND' => kind)
      assert status.success?, err
      assert_equal kind, out
      assert_equal '', err
    end
  end

  def test_default_is_io_uring_where_allowed
    out, err, status = run_child('print Polyphony.backend', 'POLYPHONY_BACKEND' => nil)
    assert status.success?, err
    assert_equal 'io_uring', out
  end

  # A refused io_uring (simulated: POLYPHONY_FORCE_URING_FAIL=1) falls back
  # to libev with exactly one line on stderr, and I/O still works.
  def test_refused_io_uring_falls_back_to_libev
    code = 'r, w = IO.pipe; spin { w << "hi" }; print Polyphony.backend, " ", r.readpartial(10); ' \
           'Thread.new { print " ", Polyphony.backend }.join'
    [nil, 'io_uring'].each do |asked|
      out, err, status = run_child(code, 'POLYPHONY_BACKEND' => asked, 'POLYPHONY_FORCE_URING_FAIL' => '1')
      assert status.success?, err
      assert_equal 'libev hi libev', out
      lines = err.lines
      assert_equal 1, lines.size, err
      assert_match(/io_uring.*libev/, lines.first)
    end
  end

  def test_new_thread_backend_chosen_from_ruby
    kinds = %i[libev io_uring].map do |kind|
      Thread.new { Polyphony.use_backend(kind); Polyphony.backend }.value
    end
    assert_equal %i[libev io_uring], kinds
  end
  # Time spent with the loop suspended does not count towards a sleep: the
  # sleeper sleeps its time on top of the suspension, measured from inside
  # it (however late a busy machine lets it wake).
  def test_loop_suspend_pauses_timers
    now = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }
    armed_at = nil
    sleeper = spin { armed_at = now.call; sleep 0.2; now.call }
    snooze
    Polyphony.loop_suspend
    suspended_at = now.call
    IO.select(nil, nil, nil, 0.3) # the thread is busy elsewhere, as at a debugger prompt
    resumed_at = now.call
    Polyphony.loop_resume
    woke_at = sleeper.await
    assert_operator woke_at - armed_at, :>=, 0.2 + (resumed_at - suspended_at),
                    'suspended time counted towards the sleep'
  end

  # The op events the hooks see are the same on both backends.
  def test_op_events_match_across_backends
    code = <<~RUBY
      events = []
      Polyphony::Trace.start do |e|
        events << [e[:kind], e[:op], e[:len], e[:result]] if %i[op_submit op_complete].include?(e[:kind])
      end
      r, w = IO.pipe
      reader = spin { r.readpartial(10) }
      spin { w.write('hello') }
      reader.await
      move_on_after(0.01) { r.readpartial(10) }
      Polyphony::Trace.stop
      print Marshal.dump(events.sort_by(&:inspect)).unpack1('H*')
    RUBY
    runs = %w[libev io_uring].map do |kind|
      out, err, status = run_child(code, 'POLYPHONY_BACKEND' => kind)
      assert status.success?, err
      Marshal.load([out].pack('H*'))
    end
    assert_equal runs[0], runs[1]
    assert_includes runs[0], [:op_complete, :read, 10, -Errno::ECANCELED::Errno]
    assert_includes runs[0], [:op_complete, :write, 5, 5]
  end

  def test_many_threads_each_with_a_ring
    results = Array.new(4) do |i|
      Thread.new do
        r, w = IO.pipe
        spin { w << "t#{i}" }
        [Polyphony.backend, r.readpartial(10)]
      end
    end.map(&:value)
    assert_equal Array.new(4) { |i| [BACKEND, "t#{i}"] }, results
  end

  def test_wakeup_from_another_thread
    q = Polyphony::Queue.new
    waiter = spin { q.shift }
    snooze
    Thread.new { q << :woken }
    assert_equal :woken, waiter.await
  end
end
