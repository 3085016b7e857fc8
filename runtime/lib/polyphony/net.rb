# frozen_string_literal: true

# Polyphony::Net (Polyphony 1.6): making listening and connected sockets.
# tcp_listen(host, port, opts) gives a TCPServer (opts: reuse_addr:,
# reuse_port:, backlog:); tcp_connect(host, port) a TCPSocket connected in
# the calling fiber only. The sockets then accept/read/write through the
# backend (polyphony/socket.rb).
require 'socket'

module Polyphony
  module Net
    module_function

    def tcp_listen(host = nil, port = 0, opts = {})
      listening_socket_from_options(host, port, opts)
    end

    # Polyphony's name for the same (its tests call it with send).
    def listening_socket_from_options(host, port, opts = {})
      host ||= '0.0.0.0'
      addr = Addrinfo.tcp(host, port)
      socket = Socket.new(addr.afamily, Socket::SOCK_STREAM, 0)
      socket.setsockopt(:SOCKET, :REUSEADDR, 1) if opts[:reuse_addr]
      socket.setsockopt(:SOCKET, :REUSEPORT, 1) if opts[:reuse_port]
      socket.bind(addr)
      socket.listen(opts[:backlog] || Socket::SOMAXCONN)
      TCPServer.for_fd(socket.fileno).tap { socket.autoclose = false }
    end

    def tcp_connect(host, port, _opts = {})
      TCPSocket.new(host, port)
    end

    def unix_listen(path)
      UNIXServer.new(path)
    end

    def unix_connect(path)
      UNIXSocket.new(path)
    end
  end
end
