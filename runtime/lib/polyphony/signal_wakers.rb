# frozen_string_literal: true

# Which signals have a handler that could wake a waiting fiber, for the
# deadlock detection (deadlock.c): a trap with a block or a command may
# schedule fibers, raise in one or signal an event, so while one is set the
# main thread's loop is never declared stuck. DEFAULT, IGNORE,
# SYSTEM_DEFAULT and EXIT handlers wake nobody. Only traps set from here on
# are seen: handlers installed before `require 'polyphony'` are not.
module Polyphony
  # Prepended to Signal's singleton class; Kernel#trap goes through it.
  module SignalWakers
    QUIET = ['', 'IGNORE', 'SIG_IGN', 'DEFAULT', 'SIG_DFL', 'SYSTEM_DEFAULT', 'EXIT'].freeze

    def self.number(signal)
      return signal if signal.is_a?(Integer)

      Signal.list[signal.to_s.delete_prefix('SIG')]
    end

    # A nil command ignores the signal, as 'IGNORE' does.
    def self.wakes?(handler)
      return false if handler.nil?
      return !QUIET.include?(handler.to_s) if handler.is_a?(String) || handler.is_a?(Symbol)

      true
    end

    def trap(signal, *command, &block)
      previous = super
      signo = SignalWakers.number(signal)
      handler = command.empty? ? block : command.first
      Polyphony.__signal_handler_set(signo, SignalWakers.wakes?(handler)) if signo
      previous
    end
  end
end

Signal.singleton_class.prepend(Polyphony::SignalWakers)

module Kernel
  private

  def trap(*args, &block)
    Signal.trap(*args, &block)
  end
end
