# frozen_string_literal: true

# The Rack handler "polyphony": Rack finds this file when asked for the
# server by that name (`rackup -s polyphony`, Sinatra's
# `set :server, :polyphony`, Rack::Handler.get('polyphony')) and runs the
# application on Polyphony::HTTP::Server. SIGTERM and SIGINT stop it
# gracefully: requests in flight finish, new connections are refused.
# Server options (rackup's -O NAME=VALUE, or keywords) are the members of
# Polyphony::HTTP::Options: max_body_size, header_timeout, ...
require 'polyphony/http'

module Rack
  module Handler
    module Polyphony
      class << self
        # Serves app until stopped. The block, when given, gets the server
        # before it serves (its port is bound by then).
        def run(app, **options)
          server = ::Polyphony::HTTP::Server.new(app, **server_options(options))
          server.listen
          @server = server
          yield server if block_given?
          %w[TERM INT].each { |sig| trap(sig) { server.stop } }
          server.run
        ensure
          @server = nil
        end

        # What rackup calls on SIGINT.
        def shutdown
          @server&.stop
        end

        # For `rackup -s polyphony -h`.
        def valid_options
          {
            'Host=HOST' => "Hostname to listen on (default: #{default_host})",
            'Port=PORT' => 'Port to listen on (default: 9292)',
            'max_header_size=BYTES' => 'Request line and headers at most (default: 65536; 431 past it)',
            'max_body_size=BYTES' => 'Request body at most (default: 16 MiB; 413 past it)',
            'max_requests=N' => 'Requests per connection at most (default: no limit)',
            'keep_alive_timeout=SECONDS' => 'Idle time before a kept-alive connection closes (default: 20)',
            'header_timeout=SECONDS' => 'Time from a request\'s first byte to its last header (default: 10; 408)',
            'body_timeout=SECONDS' => 'Time a request body may go without a byte (default: 30; 408)',
            'write_timeout=SECONDS' => 'Time a response write may wait for the client (default: 30)',
            'shutdown_timeout=SECONDS' => 'Time requests in flight get after SIGTERM (default: 30)'
          }
        end

        private

        def default_host
          (ENV['RACK_ENV'] || 'development') == 'development' ? 'localhost' : '0.0.0.0'
        end

        # Rack's options (:Host, :Port, and many of rackup's own, ignored)
        # into the server's, values from the command line turned to numbers.
        def server_options(options)
          opts = { host: options[:Host] || default_host, port: Integer(options[:Port] || 9292) }
          opts[:host] = '127.0.0.1' if opts[:host] == 'localhost'
          ::Polyphony::HTTP::Options.members.each do |key|
            next if %i[host port].include?(key) || !options.key?(key)

            opts[key] = number(options[key])
          end
          opts[:quiet] = true if options[:Silent] || options[:quiet]
          opts
        end

        def number(value)
          return value unless value.is_a?(String)

          Integer(value, exception: false) || Float(value, exception: false) || value
        end
      end
    end

    register 'polyphony', 'Rack::Handler::Polyphony'
  end
end
