# frozen_string_literal: true

# Polyphony.backend_* (Polyphony 1.6): each calls the op of the same name on
# the current thread's backend. A Polyphony::Pipe passed as an IO stands for
# its read end, or its write end where the op writes.
module Polyphony
  # op => positions of the arguments that are written to.
  BACKEND_OPS = {
    accept: [], accept_loop: [], chain: [], connect: [], double_splice: [1],
    feed_loop: [], read: [], read_loop: [], recv: [], recv_loop: [],
    recv_feed_loop: [], send: [0], sendv: [0], sleep: [], splice: [1],
    tee: [1], timeout: [], timer_loop: [], wait_event: [], waitpid: [],
    write: [0]
  }.freeze

  BACKEND_OPS.each do |op, write_args|
    define_singleton_method(:"backend_#{op}") do |*args, **opts, &block|
      args = args.each_with_index.map do |a, i|
        a.is_a?(Polyphony::Pipe) ? a.__io_end__(write_args.include?(i)) : a
      end
      Thread.current.backend.__send__(op, *args, **opts, &block)
    end
  end

  # wait_io(io, write): the end waited on depends on `write`.
  def self.backend_wait_io(io, write)
    io = io.__io_end__(write) if io.is_a?(Polyphony::Pipe)
    Thread.current.backend.wait_io(io, write)
  end
end
