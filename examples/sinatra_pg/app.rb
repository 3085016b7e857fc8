# frozen_string_literal: true

# A small Sinatra application on PostgreSQL, served by the runtime's HTTP
# server (one fiber per connection): the way to see PolyTrace on a real web
# service (README.md beside this file).
#
#   GET  /                  how many items there are
#   GET  /items             the 20 newest items (JSON)
#   GET  /items/:id         one item (JSON), 404 if there is none
#   POST /items  name=...   a new item (JSON, 201)
#   GET  /slow?seconds=S    a slow query (pg_sleep), S at most 10, default 1
#
#   PORT=4567 ruby examples/sinatra_pg/app.rb           or
#   rackup -s polyphony examples/sinatra_pg/config.ru
require 'json'
require 'sinatra/base'
require_relative 'db'

module SinatraPg
  class App < Sinatra::Base
    set :server, :polyphony
    set :bind, ENV.fetch('HOST', '127.0.0.1')
    set :port, Integer(ENV.fetch('PORT', '4567'))
    set :logging, true

    configure { DB.setup }

    before { content_type :json }

    get '/' do
      count = DB.query('SELECT count(*) AS n FROM items').first['n'].to_i
      { items: count, served_by: Fiber.current.tag.to_s }.to_json
    end

    get '/items' do
      DB.query('SELECT id, name, created_at FROM items ORDER BY id DESC LIMIT 20').to_json
    end

    get '/items/:id' do
      id = Integer(params[:id], exception: false) or halt 400, { error: 'id must be a number' }.to_json
      item = DB.query('SELECT id, name, created_at FROM items WHERE id = $1', id).first
      halt 404, { error: "no item #{id}" }.to_json unless item
      item.to_json
    end

    post '/items' do
      name = params[:name].to_s.strip
      halt 422, { error: 'name is required' }.to_json if name.empty?
      item = DB.query('INSERT INTO items (name) VALUES ($1) RETURNING id, name, created_at', name).first
      status 201
      item.to_json
    end

    get '/slow' do
      seconds = Float(params.fetch(:seconds, 1), exception: false)
      halt 400, { error: 'seconds must be a number from 0 to 10' }.to_json unless seconds&.between?(0, 10)
      DB.query('SELECT pg_sleep($1)', seconds)
      { slept: seconds, served_by: Fiber.current.tag.to_s }.to_json
    end
  end
end

SinatraPg::App.run! if $PROGRAM_NAME == __FILE__
