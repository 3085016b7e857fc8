# frozen_string_literal: true

# polyphony/adapters/open3 and polyphony/adapters/process, both loaded by
# `require 'polyphony'`: Open3's capture methods run in the calling fiber
# with no thread (three at once finish together, a ticker fiber ticking),
# with Open3's arguments and results; Polyphony::Process.watch and
# kill_process.
require 'minitest/autorun'
require 'polyphony'
require 'tmpdir'

class AdapterOpen3Test < Minitest::Test
  def teardown
    Fiber.current.shutdown_all_children
  end

  def test_loaded_by_require_polyphony
    assert $LOADED_FEATURES.any? { |f| f.end_with?('polyphony/adapters/open3.rb') }
    assert $LOADED_FEATURES.any? { |f| f.end_with?('polyphony/adapters/process.rb') }
    assert_kind_of Module, Open3
    assert_respond_to Polyphony::Process, :watch
    assert_respond_to Polyphony::Process, :kill_process
  end

  # Each child waits until all three have started (or gives up after 10 s
  # and fails): captures run one after the other would never all succeed.
  def test_three_captures_at_once
    Dir.mktmpdir do |dir|
      marks = File.join(dir, 'started')
      script = "echo x >> #{marks}; n=0; " \
               "while [ $(wc -l < #{marks}) -lt 3 ]; do n=$((n+1)); [ $n -gt 1000 ] && exit 1; sleep 0.01; done; " \
               'echo done $0'
      ticks = 0
      ticker = spin { loop { sleep 0.01; ticks += 1 } }
      threads = Thread.list.size
      fibers = Array.new(3) { |i| spin { Open3.capture2('sh', '-c', script, "child#{i}") } }
      fibers.each { snooze }
      assert_equal threads, Thread.list.size, 'a capture started a thread'
      results = fibers.map(&:await)
      ticker.stop
      results.each_with_index do |(out, status), i|
        assert status.success?, "child #{i} did not see the others start"
        assert_equal "done child#{i}\n", out
      end
      assert_operator ticks, :>, 0, 'the ticker never ticked while the children ran'
    end
  end

  def test_capture3_separates_the_streams
    out, err, status = Open3.capture3('sh', '-c', 'echo out; echo err >&2; exit 3')
    assert_equal "out\n", out
    assert_equal "err\n", err
    assert_kind_of Process::Status, status
    assert_equal 3, status.exitstatus
  end

  def test_capture2e_merges_them
    both, status = Open3.capture2e('sh', '-c', 'echo one; echo two >&2; echo three')
    assert_equal "one\ntwo\nthree\n", both
    assert status.success?
  end

  def test_stdin_data_string_and_io
    out, = Open3.capture2('cat', stdin_data: "hello\n")
    assert_equal "hello\n", out
    big = 'abc' * 100_000 # more than a pipe holds: fed while read
    out, = Open3.capture2('cat', stdin_data: big)
    assert_equal big, out
    r, w = IO.pipe
    spin { w << 'from a pipe'; w.close }
    out, err, = Open3.capture3('cat', stdin_data: r)
    assert_equal ['from a pipe', ''], [out, err]
  end

  def test_child_not_reading_its_input
    out, status = Open3.capture2('true', stdin_data: 'x' * 1_000_000)
    assert_equal '', out
    assert status.success?
  end

  def test_env_and_spawn_options
    Dir.mktmpdir do |dir|
      out, = Open3.capture2({ 'GREETING' => 'hi' }, 'sh', '-c', 'echo $GREETING; pwd', chdir: dir)
      assert_equal "hi\n#{File.realpath(dir)}\n", out
    end
  end

  def test_binmode
    out, = Open3.capture2('printf', '\\377', binmode: true)
    assert_equal Encoding::ASCII_8BIT, out.encoding
    assert_equal "\xFF".b, out
  end

  def test_missing_command_raises_and_leaks_nothing
    fds = Dir.children('/proc/self/fd').size
    assert_raises(Errno::ENOENT) { Open3.capture2('/nonexistent/command') }
    assert_equal fds, Dir.children('/proc/self/fd').size
  end

  # Interrupted: the pipes are closed at once and the child, which then
  # ends (SIGPIPE, EOF), is reaped in the background: no zombie stays.
  def test_interrupted_capture_closes_and_reaps
    input, never_written = IO.pipe
    r, w = IO.pipe
    fds = Dir.children('/proc/self/fd').size
    v = move_on_after(0.05, with_value: :timeout) do
      Open3.capture2('sh', '-c', 'echo $$ >&3; exec cat', 3 => w, stdin_data: input)
    end
    assert_equal :timeout, v
    assert_equal fds, Dir.children('/proc/self/fd').size
    w.close
    pid = r.gets.to_i
    [r, input, never_written].each(&:close)
    assert_operator pid, :>, 0
    # (polled for up to 10 s: a busy machine may take a while to run the
    # child to its end and the waiter after it)
    assert_raises(Errno::ECHILD) do
      1000.times do
        Process.waitpid(pid, Process::WNOHANG) # raises once the detached waiter reaped it
        sleep 0.01
      end
    end
  end

  def test_process_watch_and_kill_process
    pid, status = Polyphony::Process.watch('exit 4')
    assert_kind_of Integer, pid
    assert_equal 4 << 8, status # Backend#waitpid's raw wait status, as Polyphony's
    child = Process.spawn('sleep 30')
    Polyphony::Process.kill_process(child)
    assert_raises(Errno::ESRCH) { Process.kill(0, child) }
  end
end
