# frozen_string_literal: true

# Fiber-aware Thread#join / #await / #value (Polyphony 1.6): waiting for
# another thread suspends only the calling fiber. A short-lived helper
# thread does Ruby's blocking join and signals a Polyphony::Event the fiber
# awaits; Ruby's join then runs again, now without blocking, for the value
# or the thread's exception. The joined thread itself is left untouched.
module Polyphony
  module ThreadJoin
    RUBY_JOIN = ::Thread.instance_method(:join)

    def join(timeout = nil)
      return super(*timeout) if equal?(Thread.current) || !alive?

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
      alive? ? nil : super(0)
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
