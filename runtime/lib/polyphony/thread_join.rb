# frozen_string_literal: true

# Fiber-aware Thread#join / #await / #value (Polyphony 1.6): waiting for
# another thread suspends only the calling fiber. A short-lived helper
# thread does Ruby's blocking join and signals a Polyphony::Event the fiber
# awaits. As in Polyphony, join and await return the thread's value (not
# the thread), raise the exception it ended with, and return nil when the
# timeout passes first. The joined thread itself is left untouched. A
# fiber Ruby calls the fiber scheduler from needs no helper thread: Ruby's
# own join waits in it (Polyphony::Scheduler#block).
module Polyphony
  module ThreadJoin
    RUBY_JOIN = ::Thread.instance_method(:join)

    RUBY_VALUE = ::Thread.instance_method(:value)

    def join(timeout = nil)
      return RUBY_VALUE.bind_call(self) unless alive?
      return super(*timeout) && RUBY_VALUE.bind_call(self) if equal?(Thread.current) || Fiber.current_scheduler

      done = Polyphony::Event.new
      target = self
      helper = Thread.new do
        RUBY_JOIN.bind_call(target, *timeout)
      rescue Exception # rubocop:disable Lint/RescueException
        nil # the joining fiber gets it from its own join below
      ensure
        done.signal
      end
      helper.report_on_exception = false
      Polyphony.__waiting_for(self) { done.await }
      alive? ? nil : RUBY_VALUE.bind_call(self)
    ensure
      helper&.kill
    end
    alias await join

    def value
      join
      super
    end
  end
end

class ::Thread
  prepend Polyphony::ThreadJoin
end
