# frozen_string_literal: true

# test_sinatra_pg.rb — examples/sinatra_pg debugged as its README says,
# against a real PostgreSQL started by the test run: `polytrace rackup -s
# polyphony config.ru`, a breakpoint in a route stops in the fiber serving
# that request (tagged with the client's address), `fibers` shows one fiber
# per open connection, `skip` runs the query in that fiber, `continue` lets
# the response go, and SIGTERM stops the server gracefully.

require 'minitest/autorun'
require 'pty_session'
require 'pt_servers'
require 'pt_http'

PtServers.ensure_running(:postgres)

class TestSinatraPg < Minitest::Test
  DIR = File.join(PtySession::ROOT, 'examples', 'sinatra_pg')
  APP = File.join(DIR, 'app.rb')
  QUERY_LINE = E2E.line_of(APP, 'WHERE id = $1')

  def setup
    # A database of its own: the example creates its table there.
    @db = "sinatra_pg_#{Process.pid}_#{name}"[0, 63]
    admin { |c| c.exec("CREATE DATABASE #{@db}") }
    p = PtServers.pg_params
    @env = { 'DATABASE_URL' => "postgres://#{p[:user]}@#{p[:host]}:#{p[:port]}/#{@db}" }
  end

  def teardown
    @clients&.each { |c| c.socket.close rescue nil } # rubocop:disable Style/RescueModifier
    @s&.close
    if @server
      Process.kill('KILL', @server) rescue nil # rubocop:disable Style/RescueModifier
      Process.wait(@server) rescue nil # rubocop:disable Style/RescueModifier
    end
    admin { |c| c.exec("DROP DATABASE IF EXISTS #{@db} WITH (FORCE)") }
  end

  def start_under_polytrace
    @s = PtySession.polytrace('rackup', '-s', 'polyphony', '-p', '0', File.join(DIR, 'config.ru'), env: @env)
    @s.expect(/\(entry\)/, timeout: 30)
    @s.prompt
  end

  def admin(&block)
    require 'pg'
    conn = PG.connect(**PtServers.pg_params)
    block.call(conn)
  ensure
    conn&.close
  end

  def client
    (@clients ||= []) << PtHttp::Client.new(@port)
    @clients.last
  end

  def post_item(conn, name)
    body = "name=#{name}"
    conn.send_raw(conn.request_head('POST', '/items', 'Content-Type' => 'application/x-www-form-urlencoded',
                                                      'Content-Length' => body.bytesize), body)
    conn.response
  end

  def test_breakpoint_in_a_route_stops_in_the_requests_fiber
    start_under_polytrace
    assert_match(/Breakpoint 1 at .*app\.rb:#{QUERY_LINE}/, @s.command("break #{APP}:#{QUERY_LINE}"))
    @s.send_line('c')
    @port = Integer(@s.expect(%r{polyphony: listening on http://127\.0\.0\.1:(\d+) }, timeout: 30)[1])

    # A connection that wrote an item and stays open, one that never sent
    # anything, and the one whose request reaches the breakpoint.
    writer = client
    created = post_item(writer, 'apple')
    assert_equal 201, created.status, created.body
    id = created.body[/"id":"(\d+)"/, 1]
    client
    reader = client
    reader.send_raw(reader.request_head('GET', "/items/#{id}"))
    reader_port = reader.socket.local_address.ip_port

    @s.expect(/Stopped in fiber (\d+) \(http 127\.0\.0\.1:#{reader_port}\) at .*app\.rb:#{QUERY_LINE} .*\(breakpoint 1\)/,
              timeout: 30)
    @s.prompt
    fibers = @s.command('fibers')
    conns = fibers.scan(/^\*? +\d+ +http 127\.0\.0\.1:(\d+) /).flatten.map(&:to_i)
    assert_equal 3, conns.size, "one fiber per open connection:\n#{fibers}"
    [writer, reader].each { |c| assert_includes conns, c.socket.local_address.ip_port }
    assert_match(/^\* +\d+ +http 127\.0\.0\.1:#{reader_port} +running +\S*app\.rb:#{QUERY_LINE}/, fibers)
    assert_equal "\"#{id}\"\n", @s.command('p params[:id]')
    pid = Integer(@s.command('p Process.pid'))

    # The query runs in this fiber; the stop after it is in the same one.
    assert_match(/Stopped in fiber \d+ \(http 127\.0\.0\.1:#{reader_port}\) at .*app\.rb:#{QUERY_LINE + 1} /,
                 @s.command('skip', timeout: 30))
    assert_equal "\"apple\"\n", @s.command("p item['name']")

    @s.command('delete 1')
    @s.send_line('c')
    got = reader.response
    assert_equal 200, got.status
    assert_match(/"name":"apple"/, got.body)
    # The other connections are still served.
    assert_equal 200, writer.get('/').status

    Process.kill('TERM', pid)
    @s.expect('polyphony: stopped', timeout: 30)
    @s.expect('program exited with status 0', timeout: 30)
    assert_equal 0, @s.wait_exit(timeout: 30).exitstatus
  end

  # Without the debugger: a request waiting on a slow query leaves the
  # other connections served (each waits in its own fiber).
  def test_a_slow_query_holds_up_nothing_else
    r, w = IO.pipe
    @server = Process.spawn(@env, 'rackup', '-s', 'polyphony', '-p', '0', File.join(DIR, 'config.ru'),
                            out: w, err: w, in: File::NULL)
    w.close
    @port = Integer(E2E.wait_until(timeout: 60, what: 'the server listening') do
      (line = r.gets) or flunk('the server ended before listening')
      line[%r{polyphony: listening on http://127\.0\.0\.1:(\d+) }, 1]
    end)
    slow = client
    slow.send_raw(slow.request_head('GET', '/slow?seconds=10'))
    # Once PostgreSQL runs the slow query, other requests come and go.
    E2E.wait_until(timeout: 30, what: 'the slow query running') { slow_queries.any? }
    other = client
    assert_equal 201, post_item(other, 'pear').status
    got = other.get('/')
    assert_equal 200, got.status
    assert_match(/"items":1/, got.body)
    assert_equal 1, slow_queries.size, 'the slow query was still running meanwhile'
    # Cancelled, the slow request is answered (an error), nothing lost.
    admin { |c| c.exec("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'") }
    assert_equal 500, slow.response.status
    assert_equal 200, other.get('/items').status
    Process.kill('TERM', @server)
    assert_equal 0, Process.wait2(@server)[1].exitstatus
    @server = nil
  ensure
    r&.close
  end

  def slow_queries
    admin do |c|
      c.exec_params("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state = 'active' " \
                    "AND query LIKE 'SELECT pg_sleep%'", [@db]).to_a
    end
  end
end
