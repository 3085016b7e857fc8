# frozen_string_literal: true

# Writes a Rack response ([status, headers, body]) on a connection: the
# status line and headers, then the body framed so the connection can carry
# another request — by the Content-Length the application gave, one counted
# from an Array body, or chunked transfer coding for a body that streams
# (each part is written as the body yields it, waiting in this connection's
# fiber while the client reads, so a slow client holds up no one else). An
# HTTP/1.0 client without a length gets the body up to the close. HEAD and
# 1xx/204/304 responses have no body. A `rack.hijack` header (partial
# hijack) gets the socket after the headers. Every write waits at most
# write_timeout.
require 'rack/utils'

module Polyphony
  module HTTP
    class ResponseWriter
      NO_BODY = Rack::Utils::STATUS_WITH_NO_ENTITY_BODY
      # A response this size or smaller goes out in one write.
      COALESCE = 64 * 1024
      CRLF = "\r\n"
      LAST_CHUNK = "0\r\n\r\n"

      STATUS_LINES = Hash.new do |h, status|
        reason = Rack::Utils::HTTP_STATUS_CODES[status] || 'Unknown'
        line = "HTTP/1.1 #{status} #{reason}\r\n".freeze
        h[status] = line if status.between?(100, 999)
        line
      end

      def initialize(socket, timer, options)
        @socket = socket
        @timer = timer
        @options = options
      end

      # Writes the response to req. keep_alive: whether the server would
      # carry on with this connection; returns whether it can (the
      # response may say otherwise, or need the close to end its body).
      # Calls body.close, as Rack requires, however it ends.
      def write(req, status, headers, body, keep_alive)
        status = status.to_i
        head = +STATUS_LINES[status] # a copy (the lines are frozen): cheaper than String.new(capacity:)
        length, chunked_by_app, connection, hijack = add_headers(head, headers)
        keep_alive &&= !(connection && connection.casecmp('close')&.zero?)
        frame = framing(req, status, length, chunked_by_app, hijack, body)
        case frame
        when :counted then head << "Content-Length: #{length = body.sum(&:bytesize)}\r\n"
        when :chunked then head << "Transfer-Encoding: chunked\r\n"
        when :to_close then keep_alive = false
        end
        if !keep_alive && !connection
          head << "Connection: close\r\n"
        elsif keep_alive && req.version == 'HTTP/1.0' && !connection
          head << "Connection: keep-alive\r\n"
        end
        head << CRLF
        write_body(head, frame, body, length, hijack)
        hijack ? :hijacked : keep_alive
      ensure
        body.close if body.respond_to?(:close)
      end

      # A response the server makes itself (an HTTP::Error, a 500): plain
      # text, and the connection closes after it.
      def write_error(status, message)
        text = "#{message}\n"
        write_all("#{STATUS_LINES[status]}Content-Type: text/plain\r\nContent-Length: #{text.bytesize}\r\n" \
                  "Connection: close\r\n\r\n#{text}")
      end

      # "HTTP/1.1 100 Continue": the client may send the body now.
      def write_continue
        write_all("HTTP/1.1 100 Continue\r\n\r\n")
      end

      private

      # Copies the application's headers into head (a value with newlines
      # is several headers, as Rack 2 has it) and notes the ones framing
      # depends on (names compared in ASCII case: casecmp, as the request
      # reader does).
      def add_headers(head, headers)
        length = chunked = connection = hijack = nil
        headers.each do |name, value|
          if name.start_with?('rack.')
            hijack = value if name == 'rack.hijack'
            next
          end
          case name.bytesize
          when 14 then length = value.to_i if name.casecmp('Content-Length')&.zero?
          when 17 then chunked = true if name.casecmp('Transfer-Encoding')&.zero?
          when 10 then connection = value if name.casecmp('Connection')&.zero?
          end
          value = value.to_s
          if value.include?("\n")
            value.split("\n").each { |v| head << name << ': ' << v << CRLF }
          else
            head << name << ': ' << value << CRLF
          end
        end
        [length, chunked, connection, hijack]
      end

      def framing(req, status, length, chunked_by_app, hijack, body)
        return :hijack if hijack
        return :none if NO_BODY[status] || req.method == 'HEAD'
        return :as_given if length || chunked_by_app
        return :counted if body.is_a?(Array) && body.all?(String)
        return :chunked if req.version == 'HTTP/1.1'

        :to_close
      end

      def write_body(head, frame, body, length, hijack)
        case frame
        when :none
          write_all(head)
        when :hijack
          write_all(head)
          hijack.call(@socket)
        when :chunked
          write_chunked(head, body)
        else
          if body.is_a?(Array) && length && length <= COALESCE
            body.each { |part| head << part }
            write_all(head)
          else
            write_all(head)
            body.each { |part| write_all(part) unless part.empty? }
          end
        end
      end

      # Each part as one chunk, written as the body yields it; the head goes
      # out with the first part.
      def write_chunked(head, body)
        body.each do |part|
          next if part.empty?

          size = "#{part.bytesize.to_s(16)}\r\n"
          if head
            write_all(head, size, part, CRLF)
            head = nil
          else
            write_all(size, part, CRLF)
          end
        end
        head ? write_all(head, LAST_CHUNK) : write_all(LAST_CHUNK)
      end

      def write_all(*parts)
        @timer.within(@options.write_timeout) { @socket.write(*parts) }
      end
    end
  end
end
