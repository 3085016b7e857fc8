# frozen_string_literal: true

# Polyphony::Net (Polyphony 1.6): making listening and connected sockets.
# tcp_listen(host, port, opts) gives a TCPServer (opts: reuse_addr:,
# reuse_port:, dont_linger:, backlog:), or with secure_context: (or secure:
# true) an OpenSSL::SSL::SSLServer around it (alpn_protocols: sets up
# ALPN); tcp_connect(host, port, opts) a TCPSocket connected in the calling
# fiber only, or with secure_context: / secure: an SSLSocket whose handshake
# and host check are done. The sockets then accept/read/write through the
# backend (polyphony/socket.rb, polyphony/openssl.rb).
require 'socket'

module Polyphony
  module Net
    module_function

    def tcp_listen(host = nil, port = 0, opts = {})
      socket = listening_socket_from_options(host, port, opts)
      return socket unless opts[:secure_context] || opts[:secure]

      require 'polyphony/openssl'
      context = opts[:secure_context] || OpenSSL::SSL::SSLContext.new
      setup_alpn(context, opts[:alpn_protocols]) if opts[:alpn_protocols]
      OpenSSL::SSL::SSLServer.new(socket, context)
    end

    # The protocol chosen is the first of protocols the peer offers too.
    def setup_alpn(context, protocols)
      context.alpn_protocols = protocols
      context.alpn_select_cb = ->(offered) { (protocols & offered).first }
    end

    # Polyphony's name for the same (its tests call it with send).
    def listening_socket_from_options(host, port, opts = {})
      host ||= '0.0.0.0'
      addr = Addrinfo.tcp(host, port)
      socket = Socket.new(addr.afamily, Socket::SOCK_STREAM, 0)
      socket.setsockopt(:SOCKET, :REUSEADDR, 1) if opts[:reuse_addr]
      socket.setsockopt(:SOCKET, :REUSEPORT, 1) if opts[:reuse_port]
      socket.setsockopt(Socket::Option.linger(false, 0)) if opts[:dont_linger]
      socket.bind(addr)
      socket.listen(opts[:backlog] || Socket::SOMAXCONN)
      TCPServer.for_fd(socket.fileno).tap { socket.autoclose = false }
    end

    def tcp_connect(host, port, opts = {})
      socket = TCPSocket.new(host, port)
      return socket unless opts[:secure_context] || opts[:secure]

      require 'polyphony/openssl'
      secure_socket(socket, opts[:secure_context], opts.merge(host: host))
    end

    def secure_socket(socket, context, opts)
      context ||= OpenSSL::SSL::SSLContext.new.tap(&:set_params)
      setup_alpn(context, opts[:alpn_protocols]) if opts[:alpn_protocols]
      ssl = OpenSSL::SSL::SSLSocket.new(socket, context)
      ssl.sync_close = true
      ssl.hostname = opts[:host] if opts[:host]
      begin
        ssl.connect
        ssl.post_connection_check(opts[:host]) if opts[:host] && context.verify_mode != OpenSSL::SSL::VERIFY_NONE
      rescue Exception # rubocop:disable Lint/RescueException
        ssl.close
        raise
      end
      ssl
    end

    def unix_listen(path)
      UNIXServer.new(path)
    end

    def unix_connect(path)
      UNIXSocket.new(path)
    end
  end
end
