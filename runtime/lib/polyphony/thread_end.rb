# frozen_string_literal: true

# The end of a thread, however it ends (its block returns or raises, or it
# is killed): its runtime cancels the ops its fibers still wait in and waits
# for the kernel to be done with them (Thread#__rt_thread_end__, in C), so
# no op completes later into memory the GC has freed. Every Thread.new block
# is wrapped in an ensure that says so.
module Polyphony
  # Prepended to ::Thread.
  module ThreadEnd
    ruby2_keywords def initialize(*args, &block)
      raise ThreadError, 'must be called with a block' unless block

      super(*args) do |*a|
        block.call(*a)
      ensure
        Thread.current.__rt_thread_end__
      end
    end
  end
end

::Thread.prepend(Polyphony::ThreadEnd)
