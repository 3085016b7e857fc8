# frozen_string_literal: true

# Polyphony.fork (Polyphony 1.6): a child process that runs the block as a
# Polyphony program of its own. In the child:
#
# - SIGTERM raises SystemExit and SIGINT raises Interrupt in the main fiber
#   (the forking fiber, now the child's main fiber), wherever it waits, so
#   its rescue and ensure clauses run; a second SIGINT ends the child at
#   once (exit!).
# - The block's end, a SystemExit or a stop of the main fiber
#   (Polyphony::MoveOn) ends the child normally: its fibers are terminated
#   and awaited, then it exits with the SystemExit's status (0 otherwise).
#   Any other exception is printed and the child exits with status 1
#   without running the parent's at_exit handlers (exit!).
#
# The parent's handlers are left alone: in the process that required the
# runtime, SIGINT and SIGTERM keep Ruby's defaults (Interrupt where the
# thread runs; SIGTERM ends the process by the signal).
module Polyphony
  module ForkedChild
    class << self
      def run(&block)
        install_signal_handlers
        status = run_block(&block)
        shut_down
        exit(status)
      end

      private

      def install_signal_handlers
        trap('SIGTERM') { Polyphony.emit_signal_exception(::SystemExit.new) }
        trap('SIGINT') do
          trap('SIGINT') { exit! }
          Polyphony.emit_signal_exception(::Interrupt.new)
        end
      end

      # The exit status.
      def run_block(&block)
        block.call
        0
      rescue SystemExit => e
        e.status
      rescue Polyphony::MoveOn
        0
      rescue Exception => e # rubocop:disable Lint/RescueException
        $stderr << e.full_message
        exit!(1)
      end

      def shut_down
        Fiber.current.shutdown_all_children
      rescue Exception => e # rubocop:disable Lint/RescueException
        $stderr << e.full_message
        exit!(1)
      end
    end
  end

  def self.fork(&block)
    Kernel.fork { ForkedChild.run(&block) }
  end
end
