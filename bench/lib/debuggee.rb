# frozen_string_literal: true

# bench/lib/debuggee.rb — what every benchmark client (PtClient for
# PolyTrace, LineClient's rdbg and byebug clients) does with the program it
# debugs: wait for its end with a deadline, or kill it. An including class
# sets @pid and defines close (closes its sockets, removes its files).

module Bench
  # Raised by a client whose program or debugger did not behave.
  class ClientFailure < StandardError; end

  module Debuggee
    attr_reader :pid

    # Waits for the program; returns its Process::Status.
    def finish(timeout = 120)
      deadline = now + timeout
      loop do
        _, status = Process.wait2(@pid, Process::WNOHANG)
        return status if status

        if now > deadline
          kill
          raise ClientFailure, "program did not finish within #{timeout}s"
        end
        sleep 0.01
      end
    ensure
      @drain&.join(2)
      close
    end

    def kill
      Process.kill('KILL', @pid)
      Process.wait(@pid)
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    end

    private

    def now
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
