# frozen_string_literal: true

# polyphony/adapters/readline (Polyphony 1.6's path): Readline.readline
# blocks its thread inside GNU readline until a line is typed, so it runs
# on a thread of its own (one, so prompts keep their order) while the
# calling fiber waits and the program's other fibers run. The prompt, the
# editing and the history are readline's as ever.
require 'polyphony'
require 'readline'

module Polyphony
  module ReadlineAdapter
    WORKER = Polyphony::ThreadPool.new(1)

    # Prepended to Readline's singleton (Readline.readline) ...
    module Readline
      def readline(*args)
        WORKER.process { super }
      end
    end

    # ... and to Readline itself, for code that includes it and calls
    # readline as its own (IRB's ReadlineInputMethod does).
    module IncludedReadline
      private

      def readline(*args)
        WORKER.process { super }
      end
    end
  end
end

Readline.singleton_class.prepend(Polyphony::ReadlineAdapter::Readline)
Readline.prepend(Polyphony::ReadlineAdapter::IncludedReadline)
