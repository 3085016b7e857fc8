# frozen_string_literal: true

# tests/tracer/test_breakpoint_tty.rb — Kernel#breakpoint on a terminal with
# no controller: the tracer listens as for attach and starts
# `polytrace attach PID` (build/bin next to the .so) on the same terminal.
# That controller is not the program's child: once it ends (detach) it is
# gone from /proc, not a zombie the program would hold until it exits.
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

  # Processes whose parent is pid, as [pid, state] from /proc.
  def children_of(pid)
    Dir['/proc/[0-9]*/stat'].filter_map do |f|
      fields = File.read(f)[/\) (.*)/, 1]&.split
      [File.basename(File.dirname(f)).to_i, fields[0]] if fields && fields[1].to_i == pid
    rescue Errno::ENOENT, Errno::ESRCH
      nil
    end
  end

  def controller_of(pid)
    Dir['/proc/[0-9]*/cmdline'].find do |f|
      File.read(f) == "polytrace\0attach\0#{pid}\0"
    rescue Errno::ENOENT, Errno::ESRCH
      false
    end&.then { |f| File.basename(File.dirname(f)).to_i }
  end

  def wait_for(what, timeout = 10)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    until yield
      flunk "timed out waiting until #{what}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      sleep 0.02 # polling /proc: there is no event to await
    end
  end

  def test_detached_controller_leaves_no_zombie
    skip 'no polytrace controller built' unless File.executable?(POLYTRACE)
    Dir.mktmpdir('pt-tty') do |dir|
      done = File.join(dir, 'done')
      File.chmod(0o700, dir)
      env = PtWire::Debuggee.ruby_env('XDG_RUNTIME_DIR' => dir)
      @screen = +''
      PTY.spawn(env, RbConfig.ruby, SCRIPT, done, 'bp') do |r, w, pid|
        expect(r, /\(polytrace\)/)
        ctl = controller_of(pid)
        refute_nil ctl, 'polytrace attach runs'
        refute_includes children_of(pid).map(&:first), ctl, 'the controller is not the program\'s child'
        w.write("detach\n")
        expect(r, /Detached from process #{pid}/)
        wait_for('the controller is gone') { !File.exist?("/proc/#{ctl}") }
        assert_empty children_of(pid).select { |_, state| state == 'Z' }, 'no zombie child'
        assert_nil Process.wait(pid, Process::WNOHANG), 'the program runs on'
        File.write(done, '')
        expect(r, /finished/)
        _, status = Process.wait2(pid)
        assert_equal 0, status.exitstatus
      ensure
        Process.kill('KILL', pid) rescue nil # rubocop:disable Style/RescueModifier
      end
    end
  end
end
