# frozen_string_literal: true

# The sockets polyphony/socket.rb leaves to Ruby (docs/io.md): UNIX servers
# accept through the backend, and UDP recvfrom waits for a datagram in the
# calling fiber only. UDP send to an address stays Ruby's own: a datagram
# socket has room at once in practice.
require 'socket'

class UNIXServer
  def accept
    Thread.current.backend.accept(self, UNIXSocket)
  end

  # Accepts forever, yielding each connection; `break` or StopIteration in
  # the block ends it (Kernel#loop returns StopIteration's result).
  def accept_loop
    loop { yield accept }
  end
end

class UDPSocket
  # recvfrom(maxlen, flags = 0): [data, sender address], as Ruby's.
  def recvfrom(maxlen, flags = 0)
    loop do
      result = recvfrom_nonblock(maxlen, flags, exception: false)
      return result unless result == :wait_readable

      Thread.current.backend.wait_io(self, false)
    end
  end
end
