# frozen_string_literal: true

# io/console on the runtime: terminal reads wait in the calling fiber.
# IO#raw, #noecho and #cooked only change the terminal's mode around their
# block, whose reads (getc, gets, readpartial ...) are the runtime's own;
# IO#getch is raw mode around getc, and IO#wait_readable is the runtime's.
# Two of io/console's methods read in C without asking Ruby, which would
# block the thread and every fiber on it, and are redone here on the
# runtime's reads:
#
# - getpass reads its line with noecho and the runtime's gets;
# - getch with `min: 0` (return what is there, or nil when `time` runs out)
#   waits for the terminal in the fiber, up to `time` seconds, where the
#   terminal driver would otherwise time the read out and the runtime,
#   which waits for readiness first, would wait for a key forever.
require 'io/console'

module Polyphony
  module IOConsole
    def getch(min: nil, time: nil, intr: nil)
      return super unless min&.zero?

      raw(min: 0, time: time, intr: intr) { wait_readable(time || 0) ? getc : nil }
    end

    # Reads a line without echo (the prompt, if any, on stderr for $stdin,
    # else on this IO's writing side), then writes the newline the user's
    # Enter did not show. The line comes back without its newline.
    def getpass(prompt = nil)
      out = getpass_output
      out.write(prompt) if prompt
      begin
        line = noecho(&:gets)
      ensure
        out.write("\n")
      end
      line&.chomp
    end

    private

    def getpass_output
      equal?($stdin) ? $stderr : self
    end
  end
end

class ::IO
  prepend Polyphony::IOConsole
end
