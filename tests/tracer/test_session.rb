# frozen_string_literal: true

# tests/tracer/test_session.rb — the tracer's conversation with a launching
# controller: handshake, entry stop, eval, source, backtrace, exit, and what
# happens with bad input, a detach or a controller that goes away.
require 'minitest/autorun'
require 'pt_wire'

class TestSession < Minitest::Test
  SCRIPTS = File.join(__dir__, 'scripts')
  SIMPLE = File.join(SCRIPTS, 'simple.rb')

  def teardown
    @d&.close
  end

  def launch(*args, **opts)
    @d = PtWire::Debuggee.new(SIMPLE, *args, **opts)
  end

  def test_handshake_and_entry_stop_at_first_line_of_script
    launch
    assert_equal :hello, @d.hello['type']
    assert_equal PtWire::VERSION, @d.hello['version']
    assert_equal @d.pid, @d.hello['pid']
    assert_equal SIMPLE, @d.hello['program']
    refute @d.hello['attached']
    stop = @d.conn.read
    assert_equal :stopped, stop['type']
    assert_equal 'entry', stop['reason']
    assert_equal SIMPLE, stop['file']
    assert_equal 2, stop['line'], 'first line of the script, not the tracer or rubygems'
    assert_equal 1, stop['fiber']
  end

  def test_version_mismatch_gets_error_and_program_runs_on
    launch(handshake: false)
    assert_equal :hello, @d.handshake_now(version: 99)['type']
    err = @d.conn.read
    assert_equal :error, err['type']
    assert_equal PtWire::ERR[:version], err['code']
    assert_match(/99/, err['message'])
    assert_nil @d.conn.read, 'the tracer closes after a version mismatch'
    assert_equal 0, @d.wait.exitstatus
    assert_match(/total=6/, @d.stdout)
    assert_match(/protocol version 99/, @d.stderr)
  end

  def test_controller_refusing_the_handshake
    launch(handshake: false)
    assert_equal :hello, @d.conn.read['type']
    @d.conn.send_msg(:error, id: 0, code: PtWire::ERR[:version], message: 'controller speaks 7')
    assert_nil @d.conn.read, 'the tracer closes'
    assert_equal 0, @d.wait.exitstatus
    assert_match(/total=6/, @d.stdout)
    assert_match(/refused the connection: controller speaks 7/, @d.stderr)
  end

  def test_eval_source_backtrace_and_exited
    launch('3')
    c = @d.conn
    assert_equal 'entry', c.read['reason']
    r = c.request(:break, file: SIMPLE, line: 3)
    assert_equal :breakpoint, r['type']
    refute r['bp']['pending']
    assert_equal :ok, c.request(:continue)['type']
    stop = c.wait_event(:stopped)
    assert_equal ['breakpoint', 3, r['bp']['id']], stop.values_at('reason', 'line', 'bp')
    assert_equal '0', c.request(:eval, expr: 'n')['text']
    assert_equal 'nil', c.request(:eval, expr: "ENV['POLYTRACE_SOCKET']")['text'], 'children must not connect'
    err = c.request(:eval, expr: 'raise ArgumentError, "nope"')
    assert_equal [:error, PtWire::ERR[:eval], 'ArgumentError: nope'], err.values_at('type', 'code', 'message')
    assert_equal '0', c.request(:eval, expr: 'n')['text'], 'an exception in print harms nothing'
    assert_equal '"frame 1"', c.request(:eval, frame: 1, expr: '"frame #{1}"')['text']
    cut = c.request(:eval, expr: '"x" * 10_000', limit: 100)
    assert_equal [%("#{'x' * 99}), 10_002], cut.values_at('text', 'full_len'), 'cut to the limit, whole size told'
    assert_equal [10_002, 0], c.request(:eval, expr: '"x" * 10_000').then { |v| [v['text'].size, v['full_len']] }
    huge = c.request(:eval, expr: '"x" * 20_000_000', timeout: 30)
    assert_equal [(16 * 1024 * 1024) - 65_536, 20_000_002], [huge['text'].size, huge['full_len']],
                 "no limit: the protocol's own, and the reply says so"
    long_error = c.request(:eval, expr: 'raise "y" * 1000', limit: 20)['message']
    assert_equal 'RuntimeError: yyyyyy ... (1014 bytes in all)', long_error
    bt = c.request(:backtrace)
    main = bt['frames'].index { |f| f['label'] == '<main>' }
    assert_equal '0', c.request(:eval, frame: main, expr: 'total')['text'], 'outer frame binding'
    times = bt['frames'].index { |f| f['label'] == 'times' }
    assert_equal PtWire::ERR[:eval], c.request(:eval, frame: times, expr: '1')['code'], 'a C frame'
    assert_equal :frames, bt['type']
    assert_equal [3, 'Object#double'], bt['frames'][0].values_at('line', 'label')
    assert(bt['frames'].none? { |f| f['file'].include?('polytrace.rb') })
    src = c.request(:source, file: SIMPLE, first: 2, last: 4)
    assert_equal [2, ['def double(n)', '  m = n * 2', '  m']], src.values_at('first', 'lines')
    assert_equal PtWire::ERR[:bad_location], c.request(:source, file: '/nonexistent.rb', first: 1, last: 2)['code']
    fifo = File.join(@d.dir, 'fifo')
    File.mkfifo(fifo)
    [fifo, '/dev/zero'].each do |f| # one would block the stopped program, the other never end
      assert_equal "cannot read #{f}: not a regular file", c.request(:source, file: f, first: 1, last: 2)['message']
    end
    assert_equal :ok, c.request(:delete, bp: r['bp']['id'])['type']
    assert_equal :ok, c.request(:continue)['type']
    exited = c.wait_event(:exited)
    assert_equal [3, 0], exited.values_at('status', 'signal')
    assert_equal 3, @d.wait.exitstatus
    assert_equal "total=6\nat_exit ran\n", @d.stdout, 'EXITED comes after at_exit handlers and flushed output'
  end

  def test_unknown_request_and_bad_message_get_errors
    launch
    c = @d.conn
    c.read
    c.send_msg(63, id: 7)
    err = c.reply_to(7)
    assert_equal [:error, PtWire::ERR[:unknown_type]], err.values_at('type', 'code')
    c.send_msg(:eval, id: 8, expr: 42) # wrong-typed field
    assert_equal PtWire::ERR[:bad_request], c.reply_to(8)['code']
    c.send_msg(:ok, id: 9) # a reply is not a request
    assert_equal PtWire::ERR[:bad_request], c.reply_to(9)['code']
    assert_equal PtWire::ERR[:no_fiber], c.request(:backtrace, fiber: 12_345)['code']
    assert_equal PtWire::ERR[:bad_setting], c.request(:set, name: 'fiberlock', value: 'sometimes')['code']
    assert_equal :ok, c.request(:set, name: 'fiberlock', value: 'off')['type']
    assert_equal :ok, c.request(:continue)['type']
    assert_equal 0, c.wait_event(:exited)['status']
    assert_equal 0, @d.wait.exitstatus
  end

  def test_malformed_bytes_close_cleanly_and_program_finishes
    launch
    c = @d.conn
    c.read
    c.write_raw("\xc1\xc1\xc1garbage".b) # 0xc1 is never valid msgpack
    msg = c.read
    assert(msg.nil? || msg['type'] == :error, "error reply or close, got #{msg.inspect}")
    assert_equal 0, @d.wait.exitstatus
    assert_match(/total=6/, @d.stdout)
  end

  def test_connection_dropped_while_stopped_program_finishes
    launch
    c = @d.conn
    c.read
    c.request(:break, file: SIMPLE, line: 3)
    c.close
    assert_equal 0, @d.wait.exitstatus
    assert_equal "total=6\nat_exit ran\n", @d.stdout
  end

  def test_detach_leaves_program_running
    launch
    c = @d.conn
    c.read
    c.request(:break, file: SIMPLE, line: 3)
    assert_equal :ok, c.request(:detach)['type']
    assert_nil c.read, 'closed after detach'
    assert_equal 0, @d.wait.exitstatus
    assert_equal "total=6\nat_exit ran\n", @d.stdout
  end

  def test_nonstop_runs_to_exit
    launch('5', nonstop: true)
    exited = @d.conn.wait_event(:exited)
    assert_equal 5, exited['status']
    assert(@d.conn.seen.none? { |m| m['type'] == :stopped })
    assert_equal 5, @d.wait.exitstatus
  end

  def test_kill
    launch
    c = @d.conn
    c.read
    assert_equal :ok, c.request(:kill)['type']
    st = @d.wait
    assert_equal 'KILL', Signal.signame(st.termsig)
  end

  def test_forked_child_leaves_the_connection_alone
    @d = PtWire::Debuggee.new(File.join(SCRIPTS, 'fork.rb'))
    c = @d.conn
    assert_equal 'entry', c.read['reason']
    assert_equal :ok, c.request(:continue)['type']
    assert_equal 0, c.wait_event(:exited)['status']
    assert_equal 1, c.seen.count { |m| m['type'] == :exited }, 'the child sends no EXITED'
    assert(c.seen.none? { |m| m['type'] == :stopped }, 'nor stops on our connection')
    @d.wait
    assert_match(/child done\nparent done/, @d.stdout)
    assert_match(/no debugger attached/, @d.stderr)
  end

  DIE = File.join(SCRIPTS, 'die.rb')

  def test_exited_after_uncaught_exception_and_signal
    @d = PtWire::Debuggee.new(DIE, 'raise', nonstop: true)
    assert_equal [1, 0], @d.conn.wait_event(:exited).values_at('status', 'signal')
    assert_equal 1, @d.wait.exitstatus
    assert_match(/boom/, @d.stderr)
    @d.close
    @d = PtWire::Debuggee.new(DIE, 'TERM', nonstop: true)
    assert_equal [-1, Signal.list['TERM']], @d.conn.wait_event(:exited).values_at('status', 'signal')
    assert_equal Signal.list['TERM'], @d.wait.termsig
    assert_equal "dying\n", @d.stdout
  end

  def test_breakpoint_in_another_thread
    script = File.join(SCRIPTS, 'thread.rb')
    @d = PtWire::Debuggee.new(script)
    c = @d.conn
    assert_equal 'entry', c.read['reason']
    c.request(:break, file: script, line: 4)
    assert_equal :ok, c.request(:continue)['type']
    stop = c.wait_event(:stopped)
    assert_equal [2, 4], stop.values_at('thread', 'line'), 'the second thread'
    refute_equal 1, stop['fiber']
    assert_equal '41', c.request(:eval, expr: 'x')['text']
    assert_equal :ok, c.request(:continue)['type']
    assert_equal 0, c.wait_event(:exited)['status']
    assert_equal "42\n", @d.stdout.tap { @d.wait }
  end

  def test_source_of_a_loaded_file_after_chdir
    @d = PtWire::Debuggee.new(File.join(SCRIPTS, 'chdir.rb'))
    c = @d.conn
    assert_equal 'entry', c.read['reason']
    assert_equal 3, c.request(:step).then { c.wait_event(:stopped) }['line']
    src = c.request(:source, file: 'scripts/chdir.rb', first: 3, last: 3)
    assert_equal ['x = 1'], src['lines']
  end
end
