# frozen_string_literal: true

# tests/tracer/test_diagnostics.rb — the diagnostics with the tracer loaded
# and no controller: POLYTRACE_HOG=50ms reports each fiber that computes
# 200 ms without yielding on stderr, where it was, and the program carries
# on; a process stopped mid-run is no hog; a bad POLYTRACE_HOG is refused
# with a warning; a deadlock's Polyphony::Deadlock names fibers as the
# debugger does.
require 'minitest/autorun'
require 'open3'
require 'rbconfig'
require 'pt_wire'

class TestDiagnostics < Minitest::Test
  HOGS = File.expand_path('../e2e/fixtures/hogs.rb', __dir__)
  BUSY = File.readlines(HOGS).index { |l| l.include?('# @busy') } + 1

  def run_traced(*args, env: {})
    full = PtWire::Debuggee.ruby_env.merge('RUBYOPT' => '-rpolytrace').merge(env)
    Open3.capture3(full, RbConfig.ruby, *args, stdin_data: '')
  end

  def test_polytrace_hog_reports_on_stderr
    out, err, st = run_traced(HOGS, env: { 'POLYTRACE_HOG' => '50ms' })
    assert st.success?, err
    assert_match(/hogs done/, out)
    lines = err.lines.grep(/hog:/)
    assert_equal 2, lines.size, err
    lines.each do |line|
      m = /\Apolytrace: hog: fiber (\d+) \(worker\) ran (\d+) ms without yielding \(over 50 ms\), at (\S+):(\d+) in Object#crunch$/.match(line)
      assert m, line
      assert_operator m[2].to_i, :>=, 195
      assert_equal [HOGS, BUSY], [File.expand_path(m[3]), m[4].to_i]
    end
    assert_equal 1, lines.map { |l| l[/fiber \d+/] }.uniq.size, 'the same fiber both times'
  end

  # A run that the system kept off the CPU is no hog, even when the
  # watchdog was kept off the CPU with it and first sees the run late: here
  # the whole process is stopped (SIGSTOP, a helper sends SIGCONT 1.5 s
  # later) a few milliseconds into the main fiber's run, while a timer
  # waits. The watchdog looks every 250 ms, so it usually first sees that
  # run after the stop, 1.5 s of wall time old but with a few ms of CPU.
  def test_a_stopped_process_is_no_hog
    out, err, st = run_traced('-e', <<~RUBY, env: { 'POLYTRACE_HOG' => '1s' })
      require 'polyphony'
      spin { sleep 5 }
      snooze
      helper = Process.spawn('sh', '-c', "sleep 1.5; kill -CONT \#{Process.pid}")
      Process.kill(:STOP, Process.pid)
      Process.wait(helper)
      puts 'done'
    RUBY
    assert st.success?, err
    assert_equal "done\n", out
    refute_match(/hog:/, err)
  end

  def test_bad_polytrace_hog
    out, err, st = run_traced(HOGS, env: { 'POLYTRACE_HOG' => 'soon' })
    assert st.success?, err
    assert_match(/hogs done/, out)
    assert_match(/polytrace: POLYTRACE_HOG=soon is not a duration .*; hog detection stays off/, err)
    refute_match(/hog: fiber/, err)
  end

  def test_deadlock_names_fibers_as_the_debugger_does
    _, err, st = run_traced('-e', <<~RUBY)
      require 'polyphony'
      consumer = spin(:consumer) { receive }
      consumer.await
    RUBY
    refute st.success?
    assert_match(/deadlock: no fiber can ever run again .*\(Polyphony::Deadlock\)/, err)
    assert_match(/^  fiber 1 \(main\) at -e:3:in `await': awaits fiber 2 \(consumer\)$/, err)
    assert_match(/^  fiber 2 \(consumer\) at -e:2(:in `receive')?: waits in receive/, err)
  end
end
