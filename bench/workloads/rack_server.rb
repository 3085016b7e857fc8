# frozen_string_literal: true

# One Rack application (a config.ru) served by one of three servers, for the
# web benchmark of bench/run.rb:
#
#   ruby rack_server.rb polyphony CONFIG_RU   the runtime's server (polyphony/http)
#   ruby rack_server.rb puma CONFIG_RU        Puma 5.6, one process, its default thread pool (0..5)
#   ruby rack_server.rb async CONFIG_RU       async-http 0.59 (HTTP/1), a task per connection
#
# Each listens on a free loopback port, prints "READY <port>" and serves
# until killed. None adds middleware: the application is what the
# config.ru builds. async-http serves Protocol::HTTP requests, not Rack:
# the few lines of `async_env` below turn one into a Rack environment
# (what Falcon's adapter does, which Debian does not package).
require 'rack'

mode, ru = ARGV
abort "usage: #{$PROGRAM_NAME} polyphony|puma|async CONFIG_RU" unless mode && ru

def ready(port)
  $stdout.puts "READY #{port}"
  $stdout.flush
end

case mode
when 'polyphony'
  require 'polyphony/http'
  app = Rack::Builder.parse_file(ru).first
  server = Polyphony::HTTP::Server.new(app, host: '127.0.0.1', port: 0, quiet: true)
  ready(server.listen.port)
  server.run
when 'puma'
  require 'puma'
  require 'puma/server'
  require 'puma/events'
  app = Rack::Builder.parse_file(ru).first
  server = Puma::Server.new(app, Puma::Events.null, environment: 'production')
  server.add_tcp_listener('127.0.0.1', 0)
  ready(server.connected_ports.first)
  server.run.join
when 'async'
  require 'async'
  require 'async/http/server'
  require 'async/http/endpoint'
  require 'protocol/http/body/buffered'
  require 'stringio'
  app = Rack::Builder.parse_file(ru).first
  port = Addrinfo.tcp('127.0.0.1', 0).bind { |s| s.local_address.ip_port }

  async_env = lambda do |request|
    path, query = request.path.split('?', 2)
    env = { 'REQUEST_METHOD' => request.method, 'SCRIPT_NAME' => '', 'PATH_INFO' => path,
            'QUERY_STRING' => query || '', 'SERVER_NAME' => '127.0.0.1', 'SERVER_PORT' => port.to_s,
            'SERVER_PROTOCOL' => request.version, 'rack.version' => [1, 3], 'rack.url_scheme' => 'http',
            'rack.input' => StringIO.new(request.body&.join || ''), 'rack.errors' => $stderr,
            'rack.multithread' => false, 'rack.multiprocess' => false, 'rack.run_once' => false }
    env['HTTP_HOST'] = request.authority if request.authority
    request.headers.each do |name, value|
      key = name.upcase.tr('-', '_')
      env[%w[CONTENT_TYPE CONTENT_LENGTH].include?(key) ? key : "HTTP_#{key}"] = value.to_s
    end
    env
  end

  server = Async::HTTP::Server.for(Async::HTTP::Endpoint.parse("http://127.0.0.1:#{port}"),
                                   protocol: Async::HTTP::Protocol::HTTP1) do |request|
    status, headers, body = app.call(async_env.call(request))
    parts = []
    body.each { |part| parts << part }
    body.close if body.respond_to?(:close)
    # Protocol::HTTP wants lower-case names and counts the length itself.
    fields = headers.reject { |k, _| k.casecmp?('content-length') }.map { |k, v| [k.downcase, v] }
    Protocol::HTTP::Response[status, fields, Protocol::HTTP::Body::Buffered.new(parts)]
  end
  Async do
    task = Async { server.run }
    ready(port)
    task.wait
  end
else
  abort "unknown server #{mode.inspect}"
end
