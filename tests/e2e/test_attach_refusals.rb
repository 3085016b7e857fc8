# frozen_string_literal: true

# test_attach_refusals.rb — `polytrace attach` on a process it must not or
# cannot bring the tracer into says why, by name, and leaves the process as
# it was: another user's Ruby (a forked child that dropped its privileges),
# a Ruby already traced by another tracer, polytrace without the capability
# ptrace needs, a Ruby stopped by job control, and a Ruby that never reaches
# a safe point (native code that never checks for interrupts).

require 'minitest/autorun'
require 'open3'
require 'tmpdir'
require 'pty_session'

class TestAttachRefusals < Minitest::Test
  POLYTRACE = PtySession::POLYTRACE
  PLAIN_ENV = { 'RUBYLIB' => nil, 'RUBYOPT' => nil }.freeze

  def setup
    @dir = Dir.mktmpdir('pt_refuse')
    @pids = []
  end

  def teardown
    @pids.each do |pid|
      Process.kill('KILL', pid)
    rescue Errno::ESRCH
      nil
    ensure
      begin
        Process.wait(pid)
      rescue Errno::ECHILD
        nil
      end
    end
    FileUtils.rm_rf(@dir)
  end

  # A plain Ruby that prints "ready" and sleeps; its output goes to a file.
  def start_ruby(code = 'sleep')
    log = File.join(@dir, "out#{@pids.size}")
    pid = Process.spawn(PLAIN_ENV, 'ruby', '-e', "$stdout.sync = true; puts :ready; #{code}",
                        out: log, err: [:child, :out], in: File::NULL)
    @pids << pid
    E2E.wait_until(what: 'ready', timeout: 20) { File.read(log).include?('ready') }
    pid
  end

  def attach(pid, *prefix)
    Open3.capture3(*prefix, POLYTRACE, 'attach', pid.to_s)
  end

  def untouched(pid)
    assert E2E.process_alive?(pid)
    status = File.read("/proc/#{pid}/status")
    assert_match(/^TracerPid:\s+0$/, status)
    refute_match(/polytrace/, File.read("/proc/#{pid}/maps"))
  end

  def test_another_users_ruby
    skip 'needs root to start a process as another user' unless Process.uid.zero?
    r, w = IO.pipe
    pid = fork do
      r.close
      Process::GID.change_privilege(65_534)
      Process::UID.change_privilege(65_534)
      exec(PLAIN_ENV, 'ruby', '-e', 'puts :ready; $stdout.flush; sleep', out: w, in: File::NULL)
    end
    @pids << pid
    w.close
    assert_equal "ready\n", r.gets
    assert_equal 65_534, File.stat("/proc/#{pid}").uid
    out, err, st = attach(pid)
    assert_equal 1, st.exitstatus
    assert_equal '', out
    assert_equal "polytrace: process #{pid} belongs to another user\n", err
    untouched(pid)
  end

  def test_already_traced
    pid = start_ruby
    # Another tracer: a Ruby that seizes the process with ptrace and waits.
    tracer = IO.popen(['ruby', '-rfiddle', '-e', <<~RUBY, pid.to_s], 'r+')
      ptrace = Fiddle::Function.new(Fiddle::Handle::DEFAULT['ptrace'],
                                    [Fiddle::TYPE_LONG, Fiddle::TYPE_INT, Fiddle::TYPE_VOIDP,
                                     Fiddle::TYPE_VOIDP], Fiddle::TYPE_LONG)
      rc = ptrace.call(0x4206, Integer(ARGV[0]), nil, nil) # PTRACE_SEIZE
      puts rc.zero? ? 'seized' : "failed \#{Fiddle.last_error}"
      $stdout.flush
      $stdin.gets
    RUBY
    @pids << tracer.pid
    assert_equal "seized\n", tracer.gets
    out, err, st = attach(pid)
    assert_equal 1, st.exitstatus
    assert_equal '', out
    assert_equal "polytrace: process #{pid} is already being traced by process #{tracer.pid} (ruby); " \
                 "only one tracer at a time\n", err
    tracer.puts 'done'
    @pids.delete(tracer.pid)
    tracer.close
    E2E.wait_until(what: 'tracer gone') { File.read("/proc/#{pid}/status") =~ /^TracerPid:\s+0$/ }
    untouched(pid)
  end

  def test_ptrace_not_permitted
    skip 'needs root to drop CAP_SYS_PTRACE from the bounding set' unless Process.uid.zero?
    pid = start_ruby
    out, err, st = attach(pid, 'setpriv', '--bounding-set=-sys_ptrace', '--inh-caps=-sys_ptrace')
    assert_equal 1, st.exitstatus
    assert_equal '', out
    assert_match(/\Apolytrace: ptrace of process #{pid} is not permitted: polytrace lacks CAP_SYS_PTRACE/, err)
    untouched(pid)
  end

  def test_stopped_by_job_control
    pid = start_ruby
    Process.kill('STOP', pid)
    E2E.wait_until(what: 'stopped') { File.read("/proc/#{pid}/stat").split[2] == 'T' }
    out, err, st = attach(pid)
    assert_equal 1, st.exitstatus
    assert_equal '', out
    assert_equal "polytrace: process #{pid} is stopped (job control); continue it first " \
                 "(kill -CONT #{pid})\n", err
    assert_equal 'T', File.read("/proc/#{pid}/stat").split[2], 'left stopped'
    Process.kill('CONT', pid)
    untouched(pid)
  end

  def test_never_at_a_safe_point
    src = File.join(@dir, 'spin.c')
    File.write(src, "void pt_spin(void) { for (;;) __asm__ volatile(\"\" ::: \"memory\"); }\n")
    so = File.join(@dir, 'spin.so')
    assert system('cc', '-shared', '-fPIC', '-O0', '-o', so, src), 'cc spin.so'
    pid = start_ruby(<<~RUBY)
      require 'fiddle'
      Fiddle::Function.new(Fiddle.dlopen(#{so.inspect})['pt_spin'], [], Fiddle::TYPE_VOID).call
    RUBY
    E2E.wait_until(what: 'spinning') { File.read("/proc/#{pid}/stat").split[2] == 'R' }
    t0 = E2E.now
    out, err, st = attach(pid)
    assert_equal 1, st.exitstatus
    assert_equal '', out
    assert_match(/\Apolytrace: process #{pid} did not reach a point where Ruby can load the tracer within 5 s/, err)
    assert_operator E2E.now - t0, :<, 15
    untouched(pid)
  end
end
