# frozen_string_literal: true

# What Linux says of a thread in /proc, for tests that wait until a program
# is idle in its event loop: a thread's state has no event to wait on, so
# the callers poll it. And the CPU time a process has used, for tests that
# bound what a request costs: unlike the wall clock, a loaded machine does
# not stretch it.
require 'etc'
require 'rbconfig'

module PtProc
  # The system calls the runtime's event loop sleeps in: epoll_wait,
  # epoll_pwait, epoll_pwait2 (libev) and io_uring_enter; not poll, which a
  # stopped program's tracer waits in.
  LOOP_WAITS = { 'x86_64' => [232, 281, 441, 426], 'aarch64' => [22, 441, 426] }
               .fetch(RbConfig::CONFIG['host_cpu'])

  module_function

  # Thread tid of process pid (its main thread by default): its state letter
  # ('S' asleep, 'R' running ...), its voluntary context switches, and the
  # number of the system call it is in.
  def thread(pid, tid = pid)
    task = "/proc/#{pid}/task/#{tid}"
    stat = File.read("#{task}/stat")
    switches = File.read("#{task}/status")[/^voluntary_ctxt_switches:\s*(\d+)/, 1].to_i
    [stat[stat.rindex(')') + 2], switches, File.read("#{task}/syscall").split.first.to_i]
  end

  # Seconds of CPU time (user and system, all threads) process pid has
  # used so far, to the kernel's clock tick (10 ms).
  def cpu_seconds(pid)
    stat = File.read("/proc/#{pid}/stat")
    utime, stime = stat[stat.rindex(')') + 2..].split.values_at(11, 12).map(&:to_i)
    (utime + stime).fdiv(TICKS)
  end

  TICKS = Etc.sysconf(Etc::SC_CLK_TCK)
end
