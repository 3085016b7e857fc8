# frozen_string_literal: true

# `require 'polyphony/http'`: an HTTP/1.1 server for Rack applications on the
# runtime, one fiber per connection (docs/http.md). Requests are parsed by
# http_parser.rb (Debian's ruby-http-parser.rb). Rack reaches it as the
# handler "polyphony" (rack/handler/polyphony.rb): `rackup -s polyphony`,
# Sinatra's `set :server, :polyphony`.
require 'polyphony'
require 'polyphony/http/options'
require 'polyphony/http/errors'
require 'polyphony/http/stall_timer'
require 'polyphony/http/request'
require 'polyphony/http/request_reader'
require 'polyphony/http/input'
require 'polyphony/http/rack_env'
require 'polyphony/http/response_writer'
require 'polyphony/http/connection'
require 'polyphony/http/server'
