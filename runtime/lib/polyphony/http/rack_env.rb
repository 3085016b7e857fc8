# frozen_string_literal: true

# The Rack environment of a request (the Rack 2 / 1.3 specification): CGI
# variables from the request line and headers, rack.* entries, rack.input
# for the body and rack.hijack for taking the socket over. Built for every
# request, so the constant part is a template copied and header names are
# turned into HTTP_* keys once.
require 'uri'

module Polyphony
  module HTTP
    module RackEnv
      TEMPLATE = {
        'SCRIPT_NAME' => '',
        'rack.version' => [1, 3].freeze,
        'rack.url_scheme' => 'http',
        'rack.multithread' => false,
        'rack.multiprocess' => false,
        'rack.run_once' => false,
        'rack.hijack?' => true,
        'SERVER_SOFTWARE' => 'polyphony'
      }.freeze

      # Header name => env key. Names seen on the wire are cached up to a
      # bound, so a client sending random names cannot grow it forever.
      HEADER_KEYS = {
        'Content-Type' => 'CONTENT_TYPE', 'Content-Length' => 'CONTENT_LENGTH'
      }
      HEADER_KEYS_MAX = 1024

      module_function

      # server: the server's [host, port] (SERVER_NAME / SERVER_PORT when
      # the request has no Host); peer: the client's address.
      def build(req, input, server, peer)
        env = TEMPLATE.dup
        env['REQUEST_METHOD'] = req.method
        env['SERVER_PROTOCOL'] = env['HTTP_VERSION'] = req.version
        env['REMOTE_ADDR'] = peer
        env['rack.errors'] = $stderr
        env['rack.input'] = input
        request_target(env, req.url)
        req.headers.each { |name, value| header(env, name, value) }
        server_name(env, server)
        env
      end

      # PATH_INFO, QUERY_STRING, REQUEST_URI and REQUEST_PATH from the
      # request target: origin form (/path?query), absolute form
      # (http://host/path, as sent to proxies) or * (OPTIONS).
      def request_target(env, url)
        env['REQUEST_URI'] = url
        if url.start_with?('/')
          url = url[0, url.index('#')] if url.include?('#')
          if (q = url.index('?'))
            path = url[0, q]
            query = url[(q + 1)..]
          else
            path = url
          end
        elsif url == '*'
          path = '*'
        else
          uri = URI.parse(url)
          path = uri.path.empty? ? '/' : uri.path
          query = uri.query
          env['HTTP_HOST'] = uri.port == uri.default_port ? uri.host : "#{uri.host}:#{uri.port}"
        end
        env['PATH_INFO'] = env['REQUEST_PATH'] = path
        env['QUERY_STRING'] = query || ''
      rescue URI::InvalidURIError
        raise BadRequest, 'malformed request target'
      end

      # A header as HTTP_NAME. Names with "_" are dropped: they would be
      # indistinguishable from the same name with "-" (a header spoofing
      # trick proxies guard against). Repeated headers are joined with ", "
      # ("; " for Cookie).
      def header(env, name, value)
        key = HEADER_KEYS[name]
        unless key
          return if name.include?('_')

          key = name.casecmp?('content-type') || name.casecmp?('content-length') ? name.upcase.tr('-', '_') : "HTTP_#{name.upcase.tr('-', '_')}"
          HEADER_KEYS[name.dup.freeze] = key.freeze if HEADER_KEYS.size < HEADER_KEYS_MAX
        end
        value = value.join(key == 'HTTP_COOKIE' ? '; ' : ', ') if value.is_a?(Array)
        if (prev = env[key]) && key.start_with?('HTTP_') && key != 'HTTP_HOST'
          value = "#{prev}#{key == 'HTTP_COOKIE' ? '; ' : ', '}#{value}"
        end
        env[key] = value
      end

      # SERVER_NAME and SERVER_PORT from Host, else the listening address.
      def server_name(env, server)
        name, port = (host = env['HTTP_HOST']) ? split_host(host) : server
        env['SERVER_NAME'] = name || server[0]
        env['SERVER_PORT'] = port || server[1]
      end

      # Host values seen, split: clients send the same few again and again.
      HOSTS = {}
      HOSTS_MAX = 256

      # "name:port" or "[v6]:port" as [name, port] (nil for what is absent).
      def split_host(host)
        HOSTS[host] ||= begin
          if host.start_with?('[')
            close = host.index(']')
            name = close ? host[0..close] : host
            port = close && host[close + 1] == ':' ? host[(close + 2)..] : nil
          else
            name, port = host.split(':', 2)
          end
          HOSTS.clear if HOSTS.size >= HOSTS_MAX
          [name.to_s.empty? ? nil : name.freeze, port.to_s.empty? ? nil : port.freeze].freeze
        end
      end
    end
  end
end
