# frozen_string_literal: true

# The HTTP/1.1 server: a listening socket, an accept loop in the fiber that
# calls #run, and one fiber per connection (tagged "http ADDRESS:PORT", its
# client), children of that fiber. #stop, safe from a signal handler, shuts
# it down gracefully: the listening socket closes (new connections are
# refused), idle connections close, requests in flight finish and their
# connections close after the response, and whatever still runs after
# shutdown_timeout is terminated.
#
#   server = Polyphony::HTTP::Server.new(app, host: '127.0.0.1', port: 8080)
#   trap('TERM') { server.stop }
#   server.run
module Polyphony
  module HTTP
    class Server
      attr_reader :app, :options

      def initialize(app, **options)
        @app = app
        @options = Options.build(options)
        @connections = {}.compare_by_identity
        @accepting = true
        @stopping = false
        @stop_event = Polyphony::Event.new
        @listener = nil
      end

      # Binds the listening socket (run does it when not done yet); the
      # port is known from here on.
      def listen
        return self if @listener

        @listener = Polyphony::Net.tcp_listen(@options.host, @options.port,
                                              reuse_addr: true, backlog: @options.backlog)
        host = @options.host.include?(':') ? "[#{@options.host}]" : @options.host
        @address = [host, port.to_s].freeze
        self
      end

      def port
        @listener.local_address.ip_port
      end

      # [host, port] as strings: SERVER_NAME and SERVER_PORT for requests
      # that carry no Host.
      attr_reader :address

      # False once stop was called: connections finish their request and
      # close.
      def accepting?
        @accepting
      end

      # The open connections (Polyphony::HTTP::Connection).
      def connections
        @connections.keys
      end

      # Serves until #stop, then shuts down gracefully and returns.
      def run
        listen
        announce("listening on http://#{@address.join(':')} (#{Polyphony.backend} backend, pid #{::Process.pid})")
        watcher = spin('http stop') do
          @stop_event.await
          @accepting = false
          @listener.close
        end
        accept_loop
        drain
      ensure
        @accepting = false
        watcher&.stop if watcher&.alive?
        @listener.close if @listener && !@listener.closed?
      end

      # Asks the server to stop; returns at once. Safe in a trap handler,
      # from any fiber or thread, and more than once.
      def stop
        return if @stopping

        @stopping = true
        @stop_event.signal
      end

      private

      def accept_loop
        loop do
          socket = @listener.accept
          conn = Connection.new(self, socket)
          @connections[conn] = spin("http #{conn.name}") do
            conn.run
          ensure
            @connections.delete(conn)
          end
        rescue Errno::EMFILE, Errno::ENFILE, Errno::ENOBUFS, Errno::ENOMEM
          # Out of descriptors or memory: connections that end free some.
          sleep 0.01
        rescue Errno::ECONNABORTED, Errno::EPROTO
          nil # the client gave up before accept
        end
      rescue IOError, Errno::EBADF
        raise if @accepting # closed by someone else than stop
      end

      # Idle connections close now; the others get shutdown_timeout to
      # finish their request, then are terminated.
      def drain
        return announce('stopped') if @connections.empty?

        announce("stopping: #{@connections.size} connection#{'s' unless @connections.size == 1} to finish")
        @connections.each_key(&:close_if_idle)
        move_on_after(@options.shutdown_timeout) do
          @connections.values.each(&:await)
        end
        @connections.values.each(&:terminate)
        @connections.values.each(&:await)
        announce('stopped')
      end

      def announce(message)
        $stderr.puts("polyphony: #{message}") unless @options.quiet
      end
    end
  end
end
