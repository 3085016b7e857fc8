# frozen_string_literal: true

# Polyphony 1.6 compatibility: Kernel#` and Kernel#system wait in the
# calling fiber only, and keep Ruby's results, $?, errors and options; their
# output goes to a replaced $stdout / $stderr; Process.detach gives a fiber;
# Kernel#gets reads ARGV's files, then $stdin.
require 'stringio'
require 'tempfile'
require 'minitest/autorun'
require 'polyphony'

class CompatKernelTest < Minitest::Test
  # Runs the block while a fiber counts how often it gets to run.
  def with_ticker
    ticks = 0
    ticker = spin { loop { ticks += 1; snooze } }
    result = yield
    ticker.stop
    ticker.await
    [result, ticks]
  end

  def test_backtick_output_status_and_concurrency
    out, ticks = with_ticker { `sleep 0.02; echo hi; exit 2` }
    assert_equal "hi\n", out
    assert_equal 2, $?.exitstatus
    assert_operator ticks, :>, 1
    assert_raises(Errno::ENOENT) { `pt_no_such_command_xyz` }
  end

  def test_system_result_status_and_concurrency
    ok, ticks = with_ticker { system('sleep 0.02; exit 3') }
    assert_equal false, ok
    assert_equal 3, $?.exitstatus
    assert_operator ticks, :>, 1
    assert_equal true, system('true')
    assert_nil system('pt_no_such_command_xyz')
  end

  def test_system_env_options_and_exception
    r, w = IO.pipe
    assert system({ 'PT_X' => 'yes' }, 'echo $PT_X', out: w)
    w.close
    assert_equal "yes\n", r.read
    err = assert_raises(RuntimeError) { system('exit 4', exception: true) }
    assert_match(/exit 4/, err.message)
    assert_raises(Errno::ENOENT) { system('pt_no_such_command_xyz', exception: true) }
  end

  def test_originals_kept
    assert_equal "x\n", send(:orig_backtick, 'echo x')
    assert_equal true, send(:orig_system, 'true')
  end

  def test_output_goes_to_replaced_stdout_and_stderr
    out = StringIO.new
    err = StringIO.new
    $stdout = out
    $stderr = err
    assert_equal true, system('echo to-out; echo to-err >&2')
    assert_equal "to-out\n", out.string
    assert_equal "to-err\n", err.string
    assert_equal '', `echo only-err >&2`
    assert_equal "to-err\nonly-err\n", err.string
    assert_equal "kept\n", `echo kept`
  ensure
    $stdout = STDOUT
    $stderr = STDERR
  end

  def test_process_detach_gives_a_fiber
    pid = Process.spawn('sleep 0.02; exit 42')
    waiter, ticks = with_ticker do
      w = Process.detach(pid)
      [w, w.await]
    end
    assert_kind_of Fiber, waiter[0]
    assert_equal pid, waiter[0].pid
    status = waiter[1]
    assert_equal pid, status.pid
    assert_equal 42, status.exitstatus
    assert_operator ticks, :>, 1
  end

  def test_gets_reads_argv_files_then_stdin
    files = Array.new(2) do |i|
      Tempfile.new("argv#{i}").tap do |f|
        f.write("#{i}a\n#{i}b\n")
        f.close
      end
    end
    ARGV.replace(files.map(&:path))
    assert_equal %W[0a\n 0b\n 1a\n 1b\n], Array.new(4) { gets }
    assert_empty ARGV
    r, w = IO.pipe
    $stdin = r
    spin { w << "from stdin\n" }
    assert_equal "from stdin\n", gets
    ARGV.replace(['/nonexistent/file'])
    assert_raises(Errno::ENOENT) { gets }
  ensure
    ARGV.clear
    $stdin = STDIN
  end
end
