# frozen_string_literal: true

# A DNS server on the runtime: the handler block answers each query (a
# Polyphony::DNS::Transaction) in a fiber of its own, so a handler that
# waits (a database, an upstream lookup) holds up no other client. UDP and
# TCP on the same port: one fiber receives datagrams, one accepts
# connections, and each TCP connection has a fiber answering its queries in
# turn. Undecodable datagrams are dropped; a query the server cannot take
# (not a QUERY, not exactly one question) is answered NOTIMP or FORMERR; a
# handler that raises is answered SERVFAIL (and reported on stderr).
#
#   server = Polyphony::DNS::Server.new { |t| t.answer('10.0.0.1') if t.type == :A }
#   server.listen(port: 5353)            # serves until server.stop
module Polyphony
  module DNS
    class Server
      # Queries answered at once over UDP; past it the server waits for
      # one to finish before it reads the next datagram (the kernel queues
      # or drops the rest, as it does for any busy UDP server).
      MAX_IN_FLIGHT = 1000
      TCP_IDLE_TIMEOUT = 10 # s a TCP client may keep an idle connection
      TCP_MAX_MESSAGE = 65_535

      def initialize(&handler)
        raise ArgumentError, 'Polyphony::DNS::Server.new needs a block' unless handler

        @handler = handler
        @in_flight = 0
        @slot_freed = Polyphony::Event.new
        @stop_event = Polyphony::Event.new
        @stopping = false
      end

      # Binds UDP and TCP on host:port (port 0: a free port, the same for
      # both); the port is known from here on.
      def bind(host: '127.0.0.1', port: 53)
        return self if @udp

        family = IPAddr.new(host).ipv6? ? Socket::AF_INET6 : Socket::AF_INET
        5.times do
          udp = UDPSocket.new(family)
          udp.bind(host, port)
          begin
            @tcp = TCPServer.new(host, udp.local_address.ip_port)
            @udp = udp
            return self
          rescue Errno::EADDRINUSE
            udp.close
            raise unless port.zero? # a free UDP port may be taken for TCP
          end
        end
        raise Errno::EADDRINUSE, "no port free for both UDP and TCP on #{host}"
      end

      def port
        @udp.local_address.ip_port
      end

      # Serves until #stop (binding first unless #bind was called).
      def listen(host: '127.0.0.1', port: 53)
        bind(host: host, port: port)
        watcher = spin('dns stop') do
          @stop_event.await
          [@udp, @tcp].each { |s| s.close unless s.closed? }
        end
        loops = [spin('dns udp') { serve_udp }, spin('dns tcp') { serve_tcp }]
        Fiber.await(*loops)
        self
      ensure
        watcher&.stop if watcher&.alive?
        [@udp, @tcp].each { |s| s.close if s && !s.closed? }
      end

      # Asks the server to stop; returns at once. Safe in a trap handler,
      # from any fiber, and more than once.
      def stop
        return if @stopping

        @stopping = true
        @stop_event.signal
      end

      private

      def serve_udp
        loop do
          await_slot
          data, addr = @udp.recvfrom(TCP_MAX_MESSAGE)
          client = [addr[3], addr[1]]
          @in_flight += 1
          spin do
            reply = respond(data, client, :udp)
            @udp.send(reply, 0, *client) if reply
          rescue IOError, SystemCallError
            nil # the socket closed, or the client is unreachable
          ensure
            @in_flight -= 1
            @slot_freed.signal
          end
        end
      rescue IOError, Errno::EBADF
        raise unless @stopping
      end

      def await_slot
        @slot_freed.await while @in_flight >= MAX_IN_FLIGHT
      end

      def serve_tcp
        loop do
          conn = @tcp.accept
          spin("dns tcp #{conn.remote_address.inspect_sockaddr}") { serve_tcp_connection(conn) }
        end
      rescue IOError, Errno::EBADF
        raise unless @stopping
      end

      # Queries on one connection, answered in turn, until the client
      # closes or stays idle past TCP_IDLE_TIMEOUT.
      def serve_tcp_connection(conn)
        client = [conn.remote_address.ip_address, conn.remote_address.ip_port]
        loop do
          len = move_on_after(TCP_IDLE_TIMEOUT) { conn.read(2) }&.unpack1('n')
          break unless len

          data = move_on_after(TCP_IDLE_TIMEOUT) { conn.read(len) }
          break unless data && data.bytesize == len

          reply = respond(data, client, :tcp)
          conn.write([reply.bytesize].pack('n'), reply) if reply
        end
      rescue IOError, SystemCallError
        nil
      ensure
        conn.close unless conn.closed?
      end

      # The encoded response to a datagram or TCP message; nil for
      # something that is not a query (dropped).
      def respond(data, client, protocol)
        query = Resolv::DNS::Message.decode(data)
        return nil if query.qr == 1

        t = Transaction.new(query, client, protocol)
        if query.opcode != Resolv::DNS::OpCode::Query
          t.rcode = :NotImp
        elsif query.question.size != 1
          t.rcode = :FormErr
        else
          run_handler(t)
        end
        t.encode
      rescue Resolv::DNS::DecodeError
        nil
      end

      def run_handler(transaction)
        @handler.call(transaction)
      rescue StandardError, ScriptError => e
        $stderr.puts("polyphony/dns: the handler raised #{e.class}: #{e.message} " \
                     "(#{transaction.name} #{transaction.type}); answered SERVFAIL")
        transaction.clear!.fail!
      end
    end
  end
end
