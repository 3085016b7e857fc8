# frozen_string_literal: true

# One client connection of the HTTP server, served by one fiber from accept
# to close: read a request, call the Rack application in this fiber, write
# the response, and again while the connection is kept alive (requests the
# client pipelined are answered in order). A request that cannot be served
# (malformed, too large, too slow) is answered with its 4xx status and the
# connection closes; a client that goes away or stalls while idle just ends
# its connection. Nothing that happens here reaches another connection.
module Polyphony
  module HTTP
    class Connection
      LINGER_TIME = 1 # s
      LINGER_BYTES = 1024 * 1024

      # The client: its IP address (REMOTE_ADDR), and with the port (the
      # fiber's tag).
      attr_reader :peer, :name

      def initialize(server, socket)
        @server = server
        @socket = socket
        @options = server.options
        @app = server.app
        @peer, @name = peer_address(socket)
        @idle = true
        @hijacked = false
        @timer = nil
        @env = nil
        @hijack_proc = -> { hijack(@env) }
      end

      # Serves the connection in the calling fiber until it closes.
      def run
        @timer = StallTimer.new
        @reader = RequestReader.new(@socket, @options, @timer)
        @writer = ResponseWriter.new(@socket, @timer, @options)
        serve_requests
      rescue Error => e
        answer_error(e)
      rescue Stalled, EOFError, IOError, SystemCallError
        nil # the client went away, stopped reading, or the server closed it
      ensure
        @socket.close unless @hijacked || @socket.closed?
      end

      # Waiting for the next request (not in the middle of one).
      def idle?
        @idle
      end

      # Closes the connection now if it waits for a request; one in the
      # middle of a request finishes it first (and then closes, the server
      # being stopped).
      def close_if_idle
        @timer&.expire if @idle
      end

      # The request body, piece by piece, for rack.input (Input): a client
      # that waits for "100 Continue" gets it at the first read.
      def body_chunk(req)
        if !@continue_sent && req.expects_continue?
          @continue_sent = true
          @writer.write_continue
        end
        @reader.body_chunk(req)
      end

      private

      def serve_requests
        served = 0
        loop do
          break unless @server.accepting?

          @idle = true
          req = @reader.next_request
          @idle = false
          break unless req

          served += 1
          keep = @server.accepting? && req.keep_alive && !req.upgrade &&
                 (@options.max_requests.nil? || served < @options.max_requests)
          break unless serve(req, keep) == true
        end
      end

      # Runs the application on req and answers it; true when the
      # connection can go on to the next request.
      def serve(req, keep)
        input = Input.new(self, req)
        env = RackEnv.build(req, input, @server.address, @peer)
        @continue_sent = false
        @env = env
        env['rack.hijack'] = @hijack_proc
        status, headers, body = call_app(env)
        return finish_hijack if @hijacked
        return false unless status

        result = @writer.write(req, status, headers, body, keep && @server.accepting?)
        return finish_hijack if result == :hijacked

        result && rest_of_body_read?(req, input)
      end

      # The application's response, or nil once an error answer was sent.
      def call_app(env)
        @app.call(env)
      rescue Error => e
        raise if @hijacked

        answer_error(e)
        nil
      rescue ClientGone
        nil
      rescue StandardError, ScriptError => e
        raise if @hijacked

        report(env, e)
        @writer.write_error(500, 'Internal Server Error')
        nil
      end

      # After the response: what the application left of the body is read
      # and dropped so that the next request can be parsed; a client still
      # waiting for "100 Continue" never sent it, so the connection closes.
      def rest_of_body_read?(req, input)
        return !req.error if req.complete?
        return false if req.error || (req.expects_continue? && !@continue_sent)

        @reader.skip_body(req)
      end

      # rack.hijack: the application takes the socket (with any bytes the
      # client sent past the request, put back for it to read).
      def hijack(env)
        @hijacked = true
        leftover = @reader.leftover
        @socket.ungetbyte(leftover) if leftover && !leftover.empty?
        env['rack.hijack_io'] = @socket
      end

      # The socket is the application's now. Fibers it spun for it (the
      # request's fiber's children) run on; this fiber waits for them, as
      # ending would end them too.
      def finish_hijack
        @hijacked = true
        Fiber.current.children.each(&:await)
        false
      end

      def answer_error(error)
        return if @hijacked

        @writer.write_error(error.status, error.message)
        linger
      rescue Stalled, IOError, SystemCallError
        nil
      end

      # Before closing after an error answer: the client may still be
      # sending (the rest of a body too large, more headers), and closing
      # with its bytes unread would reset the connection, which can destroy
      # the answer before the client reads it. So the sending side closes
      # first and what comes in is read and dropped, for LINGER_TIME and
      # LINGER_BYTES at most.
      def linger
        @socket.close_write
        left = LINGER_BYTES
        @timer.within(LINGER_TIME) do
          left -= @socket.readpartial(65_536).bytesize while left.positive?
        end
      rescue Stalled, EOFError, IOError, SystemCallError
        nil
      end

      def report(env, error)
        env['rack.errors'].write("#{error.class}: #{error.message} (#{env['REQUEST_METHOD']} #{env['REQUEST_URI']})\n" \
                                 "#{error.backtrace&.map { |l| "\t#{l}\n" }&.join}")
      rescue StandardError
        nil
      end

      def peer_address(socket)
        addr = socket.remote_address
        [addr.ip_address, addr.inspect_sockaddr]
      rescue StandardError
        %w[unknown unknown]
      end
    end
  end
end
