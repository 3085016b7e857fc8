# frozen_string_literal: true

# Socket read loops (Polyphony 1.6): BasicSocket#recv_loop yields each
# message received until the peer closes, and #feed_loop passes them to a
# receiver (a parser, say), both through the backend's recv.
require 'socket'

class ::BasicSocket
  def recv_loop(maxlen = 8192, &block)
    Polyphony.backend_recv_loop(self, maxlen, &block)
  end

  def feed_loop(receiver, method = :call, &block)
    Polyphony.backend_recv_feed_loop(self, receiver, method, &block)
  end
end
