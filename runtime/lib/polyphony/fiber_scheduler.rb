# frozen_string_literal: true

# The Ruby half of Polyphony::Scheduler, Ruby's Fiber::Scheduler interface
# on the runtime (the hooks that wait are C: fiber_scheduler.c).
module Polyphony
  class Scheduler
    # Names are resolved on a pool thread while the calling fiber waits: the
    # addresses as strings, nil when there are none (Ruby then raises
    # SocketError).
    def address_resolve(hostname)
      host = hostname.sub(/%.*\z/, '') # an IPv6 zone is not the resolver's
      Polyphony::ThreadPool.process { Addrinfo.getaddrinfo(host, nil) }.map(&:ip_address).uniq
    rescue SocketError
      nil
    end

    # Timeout.timeout under a scheduler: the block runs in the calling fiber
    # under cancel_after, raising exception_class with the message in time.
    def timeout_after(duration, exception_class, *exception_arguments, &block)
      cancel_after(duration, with_exception: [exception_class, *exception_arguments]) { block.call(duration) }
    end

    # Fiber.schedule { }: a fiber spun from the calling one and started at
    # once; the caller goes on when it first waits.
    def fiber(*args, &block)
      fiber = spin { block.call(*args) }
      __run_now__(fiber)
    end

    # Ruby calls close when the thread's block has returned, and for the
    # main thread before the at_exit handlers, after which it drops the
    # scheduler. Polyphony ends the main fiber's children last, in its own
    # at_exit handler (polyphony.rb), and the at_exit handlers may wait on
    # anything: so the main thread's scheduler is set again as the first
    # at_exit handler to run (the one registered last). Other threads end in
    # polyphony/thread_end.rb.
    def close
      return unless Thread.current == Thread.main

      scheduler = self
      at_exit { Fiber.set_scheduler(scheduler) if Fiber.scheduler.nil? }
    end
  end
end

module Polyphony
  # IO#read_nonblock (and its orig_ alias) never waits: under a scheduler
  # Ruby 3.1 reads through its io_read as sysread does, which would wait
  # for the fd.
  module ReadNonblock
    def read_nonblock(*args, **kw)
      Polyphony.__read_no_wait { super }
    end

    def orig_read_nonblock(*args, **kw)
      Polyphony.__read_no_wait { super }
    end
  end
end

class ::IO
  prepend Polyphony::ReadNonblock
end
