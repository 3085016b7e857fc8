# frozen_string_literal: true

# Exception.__disable_sanitized_backtrace__ (Polyphony 1.6). Polyphony can
# strip its own frames from backtraces and its test suite turns that off;
# this runtime never rewrites backtraces, so the flag is only recorded.
class ::Exception
  class << self
    attr_accessor :__disable_sanitized_backtrace__
  end
end
