# frozen_string_literal: true

# Timeout.timeout on the runtime's timers (Polyphony 1.6 does the same):
# the block runs in the calling fiber under cancel_after, so only that fiber
# is interrupted, with klass (default Timeout::Error) and message, and no
# helper thread or Thread#raise is involved. Ruby's own stays as
# Timeout.orig_timeout.
require 'timeout'

module ::Timeout
  class << self
    alias orig_timeout timeout
  end

  def timeout(sec, klass = nil, message = nil, &block)
    return yield(sec) if sec.nil? || sec.zero?

    exception = [klass || ::Timeout::Error, message || 'execution expired']
    cancel_after(sec, with_exception: exception) { block.call(sec) }
  end
  module_function :timeout
end
