# frozen_string_literal: true

# Kernel#`, Kernel#system and Process.detach (Polyphony 1.6 makes them
# fiber-aware): the command's output is read and the child awaited through
# the backend, so only the calling fiber waits. Results and $? are Ruby's;
# Ruby's own versions stay as orig_backtick / orig_system.
#
# As in Polyphony, output goes where the program's $stdout and $stderr are:
# when one of them has been replaced (a StringIO, a file), the command's
# stdout (system) or stderr (both) is piped into it. When they are the
# process's own, the child writes to them directly, so a command on a
# terminal still sees the terminal (Polyphony pipes it always).
#
# Process.detach(pid) returns a fiber (not a thread) whose value is the
# child's Process::Status; it answers pid.
module Polyphony
  module KernelProcess
    # Is io the process's own stream fd (not replaced by the program)?
    def self.own_stream?(io, fd)
      io.respond_to?(:fileno) && io.fileno == fd
    rescue IOError, NotImplementedError
      false
    end

    # Copies everything read from r into dest, in a child fiber.
    def self.copier(r, dest)
      spin do
        while (data = r.readpartial(8192, +'', 0, false))
          dest << data
        end
      ensure
        r.close
      end
    end

    def self.run(args, opts)
      copiers = []
      { out: [$stdout, 1], err: [$stderr, 2] }.each do |key, (dest, fd)|
        next if opts.key?(key) || own_stream?(dest, fd)

        r, w = IO.pipe
        opts = opts.merge(key => w)
        copiers << [copier(r, dest), w]
      end
      pid = ::Process.spawn(*args, **opts)
      copiers.each { |_, w| w.close }
      ::Process.wait(pid)
      copiers.each { |f, _| f.await }
      $?
    ensure
      copiers&.each do |f, w|
        w.close unless w.closed?
        f.stop if f.alive?
      end
    end
  end
end

module Kernel
  alias orig_backtick `
  alias orig_system system

  def `(cmd)
    return IO.popen(cmd, &:read) if Polyphony::KernelProcess.own_stream?($stderr, 2)

    r, w = IO.pipe
    errors = Polyphony::KernelProcess.copier(r, $stderr)
    out = IO.popen(cmd, err: w) do |io|
      w.close
      io.read
    end
    errors.await
    out
  ensure
    w&.close unless w&.closed?
  end

  def system(*args, exception: false, **opts)
    status = begin
      Polyphony::KernelProcess.run(args, opts)
    rescue SystemCallError
      raise if exception

      return nil
    end
    if exception && !status.success?
      how = status.exited? ? "exit #{status.exitstatus}" : "signal #{status.termsig}"
      raise RuntimeError, "Command failed with #{how}: #{args.grep(String).join(' ')}"
    end

    status.success?
  end
  private :`, :system, :orig_backtick, :orig_system
end

module Process
  class << self
    alias orig_detach detach

    def detach(pid)
      fiber = spin { ::Process.wait2(pid).last }
      fiber.define_singleton_method(:pid) { pid }
      fiber
    end
  end
end
