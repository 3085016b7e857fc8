# frozen_string_literal: true

# TCP sockets on the backend: accept and connect suspend only the calling
# fiber (reads and writes go through IO#readpartial, #write ... in C).
require 'socket'

class TCPServer
  def accept
    Thread.current.backend.accept(self, TCPSocket)
  end

  def accept_loop
    loop { yield accept }
  end
end

class TCPSocket
  class << self
    # Connects through the backend; a local address falls back to Ruby's
    # own (blocking) connect.
    def new(*args, **opts)
      return super if self != TCPSocket || args.size != 2 || !opts.empty?

      for_fd(Thread.current.backend.tcp_connect(*args))
    end

    def open(*args, **opts)
      sock = new(*args, **opts)
      return sock unless block_given?

      begin
        yield sock
      ensure
        sock.close unless sock.closed?
      end
    end
  end
end

class BasicSocket
  def recv(maxlen, flags = 0, outbuf = nil)
    return super unless flags.zero?

    data = Thread.current.backend.recv(self, nil, maxlen)
    data ||= +''
    outbuf ? outbuf.replace(data) : data
  end

  def send(mesg, flags = 0, *dest)
    return super unless dest.empty?

    Thread.current.backend.send(self, mesg, flags)
  end
end
