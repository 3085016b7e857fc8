# frozen_string_literal: true

# The HTTP server's settings: where it listens, how much a request may
# carry and how long a client may take. Every limit has a default a public
# server can live with; a Rack handler option or a keyword of
# Polyphony::HTTP::Server.new overrides it.
module Polyphony
  module HTTP
    Options = Struct.new(
      :host,                # address to bind (default 0.0.0.0)
      :port,                # port to bind (0: any free port)
      :backlog,             # listen(2) backlog
      :max_header_size,     # request line and headers, bytes (431 past it)
      :max_body_size,       # request body, bytes (413 past it)
      :max_requests,        # requests per connection (nil: no limit)
      :keep_alive_timeout,  # s a kept-alive connection may stay idle
      :header_timeout,      # s from a request's first byte to its last header (408)
      :body_timeout,        # s a request body may go without a byte (408)
      :write_timeout,       # s a response write may wait for the client
      :shutdown_timeout,    # s in-flight requests get after stop
      :quiet,               # no start and stop lines on stderr
      keyword_init: true
    ) do
      def self.defaults
        new(host: '0.0.0.0', port: 9292, backlog: Socket::SOMAXCONN,
            max_header_size: 64 * 1024, max_body_size: 16 * 1024 * 1024, max_requests: nil,
            keep_alive_timeout: 20, header_timeout: 10, body_timeout: 30, write_timeout: 30,
            shutdown_timeout: 30, quiet: false)
      end

      # Defaults updated from a Hash; unknown keys raise ArgumentError, so a
      # misspelt limit is not silently ignored.
      def self.build(given = {})
        opts = defaults
        given.each do |key, value|
          raise ArgumentError, "unknown HTTP server option #{key.inspect}" unless members.include?(key.to_sym)

          opts[key.to_sym] = value
        end
        opts.validate!
      end

      def validate!
        %i[max_header_size max_body_size].each do |k|
          raise ArgumentError, "#{k} must be a positive integer" unless self[k].is_a?(Integer) && self[k].positive?
        end
        %i[keep_alive_timeout header_timeout body_timeout write_timeout shutdown_timeout].each do |k|
          raise ArgumentError, "#{k} must be a positive number of seconds" unless self[k].is_a?(Numeric) && self[k].positive?
        end
        raise ArgumentError, 'max_requests must be a positive integer or nil' unless
          max_requests.nil? || (max_requests.is_a?(Integer) && max_requests.positive?)

        self
      end
    end
  end
end
