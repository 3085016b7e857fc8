# frozen_string_literal: true

# The life of a thread on the runtime, as in Polyphony 1.6. Every thread's
# block is wrapped, whether the thread is made by Thread.new or by
# Thread.start / Thread.fork (which skip initialize; Ruby's own Timeout
# makes its timer thread so):
#
# - a Polyphony::Terminate or MoveOn reaching the top of the thread ends it
#   quietly, with the exception's value as the thread's value (that is how
#   Thread#kill, below, stops a thread);
# - when the block is done, normally or with an exception, the children of
#   the thread's main fiber are terminated and awaited, so their ensure
#   clauses run;
# - however it ends (a Ruby kill too), its runtime then cancels the ops its
#   fibers still wait in and waits for the kernel to be done with them
#   (Thread#__rt_thread_end__, in C), so no op completes later into memory
#   the GC has freed.
#
# Thread#kill on another thread that runs the runtime raises
# Polyphony::Terminate in its main fiber wherever it waits, instead of
# Ruby's kill, which would skip the fibers' ensure clauses. A thread that
# never used the runtime, the calling thread itself and the main thread
# (killing it ends the program) get Ruby's kill.
# Thread#inspect names where the thread's block was written, not this file.
module Polyphony
  # Prepended to ::Thread.
  module ThreadEnd
    ruby2_keywords def initialize(*args, &block)
      wrapper, @__block_location__ = ThreadEnd.wrap(block)
      super(*args, &wrapper)
    end

    # The thread's block wrapped (see above), and where it was written.
    def self.wrap(block)
      raise ThreadError, 'must be called with a block' unless block

      [proc { |*a| run(block, a) }, block.source_location&.join(':')]
    end

    def self.run(block, args)
      ended = false
      begin
        result = block.call(*args)
        ended = true
        result
      rescue Polyphony::MoveOn, Polyphony::Terminate => e
        ended = true
        e.value
      rescue Exception # rubocop:disable Lint/RescueException
        ended = true
        raise
      ensure
        main = Fiber.current
        main.shutdown_all_children if ended && Thread.current.__rt_started__? && !main.children.empty?
        Thread.current.__rt_thread_end__
      end
    end

    def kill
      return super if equal?(Thread.current) || equal?(Thread.main) || !alive? || !__rt_started__?

      main_fiber.raise(Polyphony::Terminate.new)
      self
    end
    alias terminate kill
    alias exit kill

    def inspect
      return super if equal?(Thread.main) || @__block_location__.nil?

      "#<Thread:#{object_id} #{@__block_location__} (#{status || 'dead'})>"
    end
    alias to_s inspect
  end

  # Thread.start and Thread.fork, which make a thread without calling
  # initialize: the block is wrapped all the same, so such a thread ends as
  # any other (killed, it ends quietly instead of with a
  # Polyphony::Terminate that join would raise). Prepended to Thread's
  # singleton class.
  module ThreadStart
    ruby2_keywords def start(*args, &block)
      ThreadStart.wrapped(block) { |wrapper| super(*args, &wrapper) }
    end

    ruby2_keywords def fork(*args, &block)
      ThreadStart.wrapped(block) { |wrapper| super(*args, &wrapper) }
    end

    def self.wrapped(block)
      wrapper, location = ThreadEnd.wrap(block)
      thread = yield(wrapper)
      thread.instance_variable_set(:@__block_location__, location)
      thread
    end
  end
end

::Thread.prepend(Polyphony::ThreadEnd)
::Thread.singleton_class.prepend(Polyphony::ThreadStart)
