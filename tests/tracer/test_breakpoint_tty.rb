# frozen_string_literal: true

# tests/tracer/test_breakpoint_tty.rb — Kernel#breakpoint on a terminal with
# no controller: the tracer listens as for attach and starts
# `polytrace attach PID` (build/bin next to the .so) on the same terminal.
require 'minitest/autorun'
require 'pty'
require 'pt_wire'

class TestBreakpointTTY < Minitest::Test
  SCRIPT = File.join(__dir__, 'scripts', 'wait_for_file.rb')
  POLYTRACE = File.join(PtWire::Debuggee::BUILD, 'bin', 'polytrace')

  # Reads from the terminal until pattern shows up (the event awaited).
  def expect(io, pattern, timeout = 15)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    until @screen.match?(pattern)
      left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
      flunk "no #{pattern.inspect} on the terminal; got:\n#{@screen}" if left <= 0
      next unless IO.select([io], nil, nil, left)

      begin
        @screen << io.readpartial(4096)
      rescue EOFError, Errno::EIO
        flunk "terminal closed before #{pattern.inspect}; got:\n#{@screen}"
      end
    end
  end

  def test_breakpoint_starts_the_debugger_on_the_terminal
    skip 'no polytrace controller built' unless File.executable?(POLYTRACE)
    Dir.mktmpdir('pt-tty') do |dir|
      done = File.join(dir, 'done')
      File.write(done, '')
      File.chmod(0o700, dir)
      env = PtWire::Debuggee.ruby_env('XDG_RUNTIME_DIR' => dir)
      @screen = +''
      PTY.spawn(env, RbConfig.ruby, SCRIPT, done, 'bp') do |r, w, pid|
        expect(r, /\(polytrace\)/)
        assert_match(/call/, @screen, 'stopped with reason "call"')
        w.write("p ARGV[1]\n")
        expect(r, /"bp"/)
        w.write("c\n")
        expect(r, /finished/)
        _, status = Process.wait2(pid)
        assert_equal 0, status.exitstatus
      ensure
        Process.kill('KILL', pid) rescue nil # rubocop:disable Style/RescueModifier
      end
    end
  end
end
