# frozen_string_literal: true

# The sockets polyphony/socket.rb leaves to Ruby (docs/io.md): UNIX servers
# accept through the backend, and UDP recvfrom waits for a datagram in the
# calling fiber only. UDP send to an address stays Ruby's own: a datagram
# socket has room at once in practice. recvmsg and sendmsg on any socket
# wait in the calling fiber. Polyphony 1.6's option setters: dont_linger,
# no_delay, reuse_addr, reuse_port.
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

class BasicSocket
  # recvmsg as Ruby's (data, sender Addrinfo, flags, controls), waiting in
  # the calling fiber.
  def recvmsg(*args, **opts)
    loop do
      result = recvmsg_nonblock(*args, **opts, exception: false)
      return result unless result == :wait_readable

      Thread.current.backend.wait_io(self, false)
    end
  end

  # sendmsg as Ruby's (the byte count), waiting in the calling fiber.
  def sendmsg(*args)
    loop do
      result = sendmsg_nonblock(*args, exception: false)
      return result unless result == :wait_writable

      Thread.current.backend.wait_io(self, true)
    end
  end
end

module Polyphony
  # Socket option setters (Polyphony 1.6); each returns the socket.
  module SocketOptions
    def dont_linger
      setsockopt(Socket::Option.linger(false, 0))
      self
    end

    def no_delay
      setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1)
      self
    end

    def reuse_addr
      setsockopt(Socket::SOL_SOCKET, Socket::SO_REUSEADDR, 1)
      self
    end

    def reuse_port
      setsockopt(Socket::SOL_SOCKET, Socket::SO_REUSEPORT, 1)
      self
    end
  end
end

class Socket
  include Polyphony::SocketOptions
end

class TCPSocket
  include Polyphony::SocketOptions
end
