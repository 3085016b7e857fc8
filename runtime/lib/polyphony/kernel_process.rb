# frozen_string_literal: true

# Kernel#` and Kernel#system (Polyphony 1.6 makes them fiber-aware): the
# command's output is read and the child awaited through the backend, so
# only the calling fiber waits. Results and $? are Ruby's; Ruby's own
# versions stay as orig_backtick / orig_system.
module Kernel
  alias orig_backtick `
  alias orig_system system

  def `(cmd)
    IO.popen(cmd, &:read)
  end

  def system(*args, exception: false, **opts)
    pid = begin
      Process.spawn(*args, **opts)
    rescue SystemCallError
      raise if exception

      return nil
    end
    Process.wait(pid)
    if exception && !$?.success?
      how = $?.exited? ? "exit #{$?.exitstatus}" : "signal #{$?.termsig}"
      raise RuntimeError, "Command failed with #{how}: #{args.grep(String).join(' ')}"
    end

    $?.success?
  end
  private :`, :system, :orig_backtick, :orig_system
end
