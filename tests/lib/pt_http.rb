# frozen_string_literal: true

# pt_http.rb — an HTTP/1.1 client for the server tests that writes exactly
# the bytes a test gives it and reads responses with http_parser.rb's
# response parser, so tests can send what a real client would not
# (pipelined, chunked in pieces, malformed, stalled).
#
#   c = PtHttp::Client.new(port)
#   c.send_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
#   r = c.response          # PtHttp::Response: status, headers, body
#   c.closed?               # true once the server has closed its side
require 'socket'
require 'http_parser'

module PtHttp
  Response = Struct.new(:status, :headers, :body, :keep_alive) do
    # A header by name, any case.
    def [](name)
      key = headers.keys.find { |k| k.casecmp?(name) }
      key && headers[key]
    end
  end

  class Client
    attr_reader :socket

    def initialize(port, host = '127.0.0.1')
      @socket = TCPSocket.new(host, port)
      @responses = []
      @eof = false
      @parser = HTTP::ResponseParser.new
      @parser.on_headers_complete = ->(h) { @current = Response.new(@parser.status_code, h, +'', @parser.keep_alive?) }
      @parser.on_body = ->(chunk) { @current.body << chunk }
      @parser.on_message_complete = -> { @responses << @current }
    end

    def send_raw(*parts)
      parts.each { |p| @socket.write(p) }
      self
    end

    # GET path (keep-alive).
    def get(path, headers = {})
      send_raw(request_head('GET', path, headers))
      response
    end

    def request_head(method, path, headers = {})
      headers = { 'Host' => 'test' }.merge(headers)
      lines = ["#{method} #{path} HTTP/1.1"] + headers.map { |k, v| "#{k}: #{v}" }
      "#{lines.join("\r\n")}\r\n\r\n"
    end

    # The next response, reading as needed; nil if the server closes first.
    def response
      until (r = @responses.shift)
        return nil unless fill
      end
      r
    end

    # Reads until the server closes; true when it did (with nothing more
    # than what `response` would parse).
    def closed?
      nil while fill
      @eof
    end

    # Everything the server sends until it closes, unparsed.
    def read_all_raw
      data = +''
      loop { data << @socket.readpartial(65_536) }
    rescue EOFError, Errno::ECONNRESET
      data
    end

    def close
      @socket.close unless @socket.closed?
    end

    private

    def fill
      return false if @eof

      @parser << @socket.readpartial(65_536)
      true
    rescue EOFError, Errno::ECONNRESET
      @eof = true
      false
    end
  end
end
