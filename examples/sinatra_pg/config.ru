# frozen_string_literal: true

# rackup -s polyphony examples/sinatra_pg/config.ru
require_relative 'app'
run SinatraPg::App
