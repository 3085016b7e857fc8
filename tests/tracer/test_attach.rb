# frozen_string_literal: true

# tests/tracer/test_attach.rb — the ways into a running program: attach on
# SIGURG (with dump and detach, twice), pause and Ctrl-C while running, and
# Kernel#breakpoint with and without a controller.
require 'minitest/autorun'
require 'pt_wire'

class TestAttach < Minitest::Test
  SCRIPT = File.join(__dir__, 'scripts', 'wait_for_file.rb')

  def setup
    @done = File.join(Dir.mktmpdir('pt-done'), 'done')
  end

  def teardown
    @d&.close
    FileUtils.rm_rf(File.dirname(@done))
  end

  def finish
    File.write(@done, '')
    @d.wait
  end

  # The program says "ready" once it runs.
  def wait_ready
    @d.wait_stdout(/ready/)
  end

  def test_attach_dump_detach_twice
    @d = PtWire::Debuggee.new(SCRIPT, @done, connect: false)
    wait_ready
    2.times do
      c = @d.attach
      assert_equal [:hello, true], @d.hello.values_at('type', 'attached')
      stop = c.read
      assert_equal ['attach', 1, SCRIPT], stop.values_at('reason', 'fiber', 'file')
      assert_includes 3..10, stop['line'], 'where the program was, not inside the tracer'
      dump = c.request(:dump)
      assert_equal :dump_reply, dump['type']
      main = dump['fibers'].find { |f| f['info']['id'] == 1 }
      refute_nil main
      assert(main['frames'].any? { |f| f['file'] == SCRIPT })
      assert(main['frames'].none? { |f| f['file'].include?('polytrace.rb') })
      assert_equal :ok, c.request(:detach)['type']
      assert_nil c.read
      c.close
    end
    st = finish
    assert_equal 0, st.exitstatus
    assert_match(/finished/, @d.stdout)
  end

  def test_pause_while_running
    @d = PtWire::Debuggee.new(SCRIPT, @done, nonstop: true)
    c = @d.conn
    wait_ready
    assert_equal :ok, c.request(:pause)['type']
    stop = c.wait_event(:stopped)
    assert_equal %w[pause].push(SCRIPT), stop.values_at('reason', 'file')
    File.write(@done, '')
    assert_equal :ok, c.request(:continue)['type']
    assert_equal 0, c.wait_event(:exited)['status']
    assert_match(/finished/, @d.stdout.tap { @d.wait })
  end

  def test_requests_while_running_need_a_stop
    @d = PtWire::Debuggee.new(SCRIPT, @done, nonstop: true)
    c = @d.conn
    wait_ready
    assert_equal PtWire::ERR[:not_stopped], c.request(:backtrace)['code']
    assert_equal :ok, c.request(:detach)['type']
    assert_equal 0, finish.exitstatus
  end

  def test_sigint_under_controller_is_a_pause
    @d = PtWire::Debuggee.new(SCRIPT, @done, nonstop: true)
    c = @d.conn
    wait_ready
    Process.kill('INT', @d.pid)
    stop = c.wait_event(:stopped)
    assert_equal 'pause', stop['reason']
    File.write(@done, '')
    assert_equal :ok, c.request(:continue)['type']
    assert_equal 0, c.wait_event(:exited)['status']
  end

  def test_sigint_after_detach_is_an_interrupt_again
    @d = PtWire::Debuggee.new(SCRIPT, @done, nonstop: true)
    wait_ready
    assert_equal :ok, @d.conn.request(:detach)['type']
    assert_nil @d.conn.read
    Process.kill('INT', @d.pid)
    st = @d.wait
    assert_equal 'INT', Signal.signame(st.termsig), 'an Interrupt, as without the debugger'
    refute_match(/finished/, @d.stdout)
  end

  def test_malformed_bytes_while_running
    @d = PtWire::Debuggee.new(SCRIPT, @done, nonstop: true)
    wait_ready
    @d.conn.write_raw("\xc1\xc1garbage".b)
    msg = @d.conn.read
    assert(msg.nil? || msg['type'] == :error, "error reply or close, got #{msg.inspect}")
    assert_equal 0, finish.exitstatus
    assert_match(/finished/, @d.stdout)
  end

  def test_dropped_connection_while_running
    @d = PtWire::Debuggee.new(SCRIPT, @done, nonstop: true)
    wait_ready
    @d.conn.close
    assert_equal 0, finish.exitstatus
    assert_match(/finished/, @d.stdout)
  end

  def test_kernel_breakpoint_without_terminal_carries_on
    File.write(@done, '')
    @d = PtWire::Debuggee.new(SCRIPT, @done, 'bp', connect: false)
    st = @d.wait
    assert_equal 0, st.exitstatus
    assert_match(/finished/, @d.stdout)
    line = "polytrace: breakpoint at #{SCRIPT}:5 (no debugger attached; attach with: polytrace attach #{@d.pid})\n"
    assert_equal line, @d.stderr
  end

  def test_kernel_breakpoint_with_controller_stops_at_caller
    File.write(@done, '')
    @d = PtWire::Debuggee.new(SCRIPT, @done, 'bp', nonstop: true)
    stop = @d.conn.wait_event(:stopped)
    assert_equal ['call', SCRIPT, 5], stop.values_at('reason', 'file', 'line')
    assert_equal '"bp"', @d.conn.request(:eval, expr: 'ARGV[1]')['text']
    assert_equal 'step', @d.conn.request(:step).then { @d.conn.wait_event(:stopped) }['reason']
    assert_equal :ok, @d.conn.request(:continue)['type']
    assert_equal 0, @d.conn.wait_event(:exited)['status']
  end

  def test_attach_refused_when_socket_directory_is_not_private
    @d = PtWire::Debuggee.new(SCRIPT, @done, connect: false)
    Dir.mkdir(File.join(@d.dir, 'polytrace'), 0o755)
    wait_ready
    Process.kill('URG', @d.pid)
    @d.wait_stderr(/attach refused/)
    File.write(@done, '')
    assert_equal 0, @d.wait.exitstatus
    assert_match(/finished/, @d.stdout)
    assert_equal "polytrace: attach refused: the socket directory is not private to this user\n", @d.stderr
    refute File.exist?(File.join(@d.dir, 'polytrace', "#{@d.pid}.sock"))
  end
end
