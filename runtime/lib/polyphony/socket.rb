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
    # own (blocking) connect. A host name is resolved by Addrinfo (in the
    # calling fiber: see polyphony/unhooked.rb and the scheduler's
    # address_resolve), then each address is tried in turn.
    def new(*args, **opts)
      return super if self != TCPSocket || args.size != 2 || !opts.empty?

      host, port = args
      backend = Thread.current.backend
      return for_fd(backend.tcp_connect(host, port)) unless Polyphony::Unhooked.resolver_needed?(host)

      addrs = Addrinfo.getaddrinfo(host, port, nil, :STREAM).map(&:ip_address).uniq
      addrs.each_with_index do |addr, i|
        return for_fd(backend.tcp_connect(addr, port))
      rescue SystemCallError
        raise if i == addrs.size - 1
      end
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
  # A raw buffer's handle (raw_buffer.rb) as outbuf is filled from its
  # start: the byte count, nil at EOF.
  def recv(maxlen, flags = 0, outbuf = nil)
    return super unless flags.zero?
    return Polyphony::RawBuffer.read_into(outbuf, maxlen) { |max| Thread.current.backend.recv(self, nil, max) } if Polyphony::RawBuffer.raw?(outbuf)

    data = Thread.current.backend.recv(self, nil, maxlen)
    data ||= +''
    outbuf ? outbuf.replace(data) : data
  end

  def send(mesg, flags = 0, *dest)
    return super(Polyphony::RawBuffer.written(mesg), flags, *dest) unless dest.empty?

    Thread.current.backend.send(self, mesg, flags)
  end
end
