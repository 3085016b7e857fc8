# frozen_string_literal: true

# Polyphony.watch_process (Polyphony 1.6): runs a child process (a command
# with Process.spawn, or a block in a fork) and waits for it in the calling
# fiber. If the wait is interrupted (stop, cancel_after, terminate ...) the
# child gets TERM, then KILL after 5 s, and is reaped before the exception
# goes on. Returns [pid, wait status] as Backend#waitpid does.
module Polyphony
  WATCH_PROCESS_KILL_AFTER = 5

  def self.watch_process(cmd = nil, &block)
    raise ArgumentError, 'watch_process needs a command or a block' unless cmd || block

    pid = cmd ? ::Process.spawn(cmd) : Polyphony.fork(&block)
    result = Thread.current.backend.waitpid(pid)
    pid = nil
    result
  ensure
    kill_and_reap(pid) if pid
  end

  def self.kill_and_reap(pid)
    ::Process.kill('TERM', pid)
    done = move_on_after(WATCH_PROCESS_KILL_AFTER) { Thread.current.backend.waitpid(pid) }
    return if done

    ::Process.kill('KILL', pid)
    Thread.current.backend.waitpid(pid)
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  end
end
