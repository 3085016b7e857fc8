# frozen_string_literal: true

# Polyphony::HTTP::Server in one process: the server runs in a fiber, the
# clients (tests/lib/pt_http.rb) in others, through the runtime's sockets.
# Keep-alive, pipelining, chunked bodies both ways, streaming to a slow
# client, rack.hijack, the limits and timeouts (each answered, each leaving
# the other connections alone), graceful stop, and Rack::Lint's view of the
# environment and responses.
require 'minitest/autorun'
require 'polyphony/http'
require 'rack'
require 'pt_http'

class HTTPServerTest < Minitest::Test
  HELLO = ->(env) { [200, { 'Content-Type' => 'text/plain' }, ["hello #{env['PATH_INFO']}"]] }

  def with_server(app, **opts)
    server = Polyphony::HTTP::Server.new(app, host: '127.0.0.1', port: 0, quiet: true, **opts)
    server.listen
    runner = spin { server.run }
    yield server, server.port
  ensure
    server&.stop
    runner&.await
  end

  def client(port)
    c = PtHttp::Client.new(port)
    (@clients ||= []) << c
    c
  end

  def teardown
    @clients&.each(&:close)
  end

  def test_keep_alive_serves_many_requests_on_one_connection
    with_server(HELLO) do |_, port|
      c = client(port)
      3.times do |i|
        r = c.get("/n#{i}")
        assert_equal 200, r.status
        assert_equal "hello /n#{i}", r.body
        assert_equal (6 + "/n#{i}".size).to_s, r['Content-Length']
        assert r.keep_alive
      end
    end
  end

  def test_pipelined_requests_are_answered_in_order
    app = lambda do |env|
      [200, {}, ["#{env['REQUEST_METHOD']} #{env['PATH_INFO']} #{env['rack.input'].read}"]]
    end
    with_server(app) do |_, port|
      c = client(port)
      c.send_raw("GET /a HTTP/1.1\r\nHost: x\r\n\r\n" \
                 "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" \
                 "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" \
                 "GET /d HTTP/1.1\r\nHost: x\r\n\r\n")
      assert_equal ['GET /a ', 'POST /b hello', 'POST /c abc', 'GET /d '], Array.new(4) { c.response.body }
    end
  end

  def test_pipelined_requests_split_anywhere
    app = ->(env) { [200, {}, ["#{env['PATH_INFO']}:#{env['rack.input'].read}"]] }
    stream = "POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" \
             "POST /2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n" \
             "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n"
    with_server(app) do |_, port|
      [1, 7, 50].each do |step|
        c = client(port)
        writer = spin do
          stream.bytes.each_slice(step) { |s| c.socket.write(s.pack('C*')); snooze }
        end
        assert_equal ['/1:abc', '/2:def', '/3:'], Array.new(3) { c.response.body }, "sent #{step} bytes at a time"
        writer.await
      end
    end
  end

  def test_chunked_request_body_arriving_in_pieces
    app = ->(env) { [200, {}, [env['rack.input'].read.reverse]] }
    with_server(app) do |_, port|
      c = client(port)
      c.send_raw("PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
      %w[hello there world].each do |part|
        snooze
        c.send_raw("#{part.size.to_s(16)}\r\n#{part}\r\n")
      end
      c.send_raw("0\r\n\r\n")
      assert_equal 'dlrowerehtolleh', c.response.body
    end
  end

  def test_rack_input_reads_lines_and_rewinds
    app = lambda do |env|
      input = env['rack.input']
      first = input.gets
      rest = input.read(3)
      input.rewind
      [200, {}, ["#{first.inspect} #{rest.inspect} #{input.read.bytesize} #{input.read(1).inspect}"]]
    end
    with_server(app) do |_, port|
      c = client(port)
      c.send_raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab\ncdefghi")
      assert_equal '"ab\n" "cde" 10 nil', c.response.body
    end
  end

  def test_streaming_body_is_sent_chunked_as_it_is_yielded
    step = Polyphony::Queue.new
    body = Enumerator.new do |y|
      3.times { |i| y << "part#{i};"; step.shift }
    end
    app = ->(_env) { [200, { 'Content-Type' => 'text/plain' }, body] }
    with_server(app) do |_, port|
      c = client(port)
      c.send_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
      # The first part arrives while the body still waits for the next.
      assert_match(/Transfer-Encoding: chunked.*\r\n\r\n6\r\npart0;\r\n\z/m, read_until(c.socket, "part0;\r\n"))
      3.times { step << :go }
      assert_match(/6\r\npart1;\r\n.*6\r\npart2;\r\n0\r\n\r\n\z/m, read_until(c.socket, "0\r\n\r\n"))
    end
  end

  def test_slow_reader_does_not_hold_up_other_connections
    part = 'x' * 65_536
    parts = 512 # 32 MiB: more than the socket buffers hold
    streamed = 0
    app = lambda do |env|
      if env['PATH_INFO'] == '/big'
        [200, {}, Enumerator.new { |y| parts.times { y << part; streamed += 1 } }]
      else
        [200, {}, ['fast']]
      end
    end
    with_server(app) do |_, port|
      slow = client(port)
      slow.send_raw("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
      assert_equal 'fast', client(port).get('/fast').body
      assert_operator streamed, :<, parts, 'the stream waits for its reader'
      r = slow.response
      assert_equal parts * part.size, r.body.bytesize
      assert_equal parts, streamed
    end
  end

  def test_full_hijack_hands_the_socket_over
    app = lambda do |env|
      io = env['rack.hijack'].call
      assert_same io, env['rack.hijack_io']
      io.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
      spin do
        while (line = io.gets)
          io.write("echo #{line}")
        end
        io.close
      end
      [-1, {}, []]
    end
    with_server(app) do |server, port|
      c = client(port)
      c.send_raw("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nfirst\n")
      head = read_until(c.socket, "\r\n\r\n")
      assert_match(/\AHTTP\/1.1 101 /, head)
      head << read_until(c.socket, "echo first\n") unless head.include?("echo first\n")
      assert head.end_with?("\r\n\r\necho first\n"), 'bytes sent after the request reach the hijacker'
      c.socket.write("second\n")
      assert_equal "echo second\n", c.socket.gets
      assert_equal 1, server.connections.size
      c.socket.close_write
      assert_nil c.socket.gets
    end
  end

  def test_partial_hijack_gets_the_socket_after_the_headers
    app = lambda do |_env|
      [200, { 'Content-Type' => 'text/plain', 'rack.hijack' => lambda { |io|
        io.write('streamed by the app')
        io.close
      } }, []]
    end
    with_server(app) do |_, port|
      c = client(port)
      c.send_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
      raw = c.read_all_raw
      assert_match(/\AHTTP\/1.1 200 OK\r\nContent-Type: text\/plain\r\n/, raw)
      assert raw.end_with?("\r\n\r\nstreamed by the app")
      refute_match(/rack\.hijack/i, raw)
    end
  end

  def test_headers_too_large_get_431_and_others_go_on
    with_server(HELLO, max_header_size: 2048) do |_, port|
      big = client(port)
      big.send_raw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: #{'a' * 4096}\r\n\r\n")
      assert_equal 'hello /ok', client(port).get('/ok').body
      assert_equal 431, big.response.status
      assert big.closed?
    end
  end

  def test_headers_too_large_arriving_slowly_get_431
    with_server(HELLO, max_header_size: 2048) do |_, port|
      c = client(port)
      c.send_raw("GET / HTTP/1.1\r\nHost: x\r\n")
      writer = spin do
        100.times do
          c.send_raw("X-Pad: #{'b' * 100}\r\n")
          snooze
        end
      rescue SystemCallError, IOError
        nil # the server closed
      end
      assert_equal 431, c.response.status
      assert c.closed?
      writer.await
    end
  end

  def test_declared_body_too_large_gets_413_without_reading_it
    called = false
    app = ->(_env) { called = true; [200, {}, ['no']] }
    with_server(app, max_body_size: 100) do |_, port|
      c = client(port)
      c.send_raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
      r = c.response
      assert_equal 413, r.status
      assert_equal 'close', r['Connection']
      assert c.closed?
      refute called
    end
  end

  def test_chunked_body_growing_too_large_gets_413
    app = ->(env) { [200, {}, [env['rack.input'].read]] }
    with_server(app, max_body_size: 100) do |_, port|
      c = client(port)
      c.send_raw("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
      4.times { c.send_raw("32\r\n#{'z' * 50}\r\n") }
      assert_equal 413, c.response.status
      assert c.closed?
    end
  end

  def test_stalled_headers_get_408_while_others_are_served
    with_server(HELLO, header_timeout: 0.3) do |_, port|
      stalled = client(port)
      stalled.send_raw("GET / HTTP/1.1\r\nHost: x\r\n")
      assert_equal 'hello /other', client(port).get('/other').body
      r = stalled.response
      assert_equal 408, r.status
      assert stalled.closed?
    end
  end

  def test_stalled_body_gets_408
    app = ->(env) { [200, {}, [env['rack.input'].read]] }
    with_server(app, body_timeout: 0.3) do |_, port|
      c = client(port)
      c.send_raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
      assert_equal 408, c.response.status
      assert c.closed?
    end
  end

  def test_idle_keep_alive_connection_closes_quietly
    with_server(HELLO, keep_alive_timeout: 0.2) do |server, port|
      c = client(port)
      assert_equal 200, c.get('/').status
      assert c.closed?, 'closed after keep_alive_timeout'
      assert_empty server.connections
    end
  end

  def test_host_missing_or_repeated_gets_400
    with_server(HELLO) do |_, port|
      c = client(port)
      c.send_raw("GET / HTTP/1.1\r\n\r\n")
      assert_equal 400, c.response.status
      c = client(port)
      c.send_raw("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n")
      assert_equal 400, c.response.status
      c = client(port)
      c.send_raw("GET / HTTP/1.0\r\n\r\n")
      assert_equal 200, c.response.status
    end
  end

  # Header names are matched in any (ASCII) case: the request's Host,
  # Content-Length and Expect, the response's Content-Length, Connection
  # and Transfer-Encoding.
  def test_header_names_in_any_case
    app = lambda do |env|
      case env['PATH_INFO']
      when '/close' then [200, { 'CONNECTION' => 'Close', 'content-length' => '2' }, ['ok']]
      when '/chunked' then [200, { 'TRANSFER-ENCODING' => 'chunked' }, ["2\r\nab\r\n0\r\n\r\n"]]
      else [200, { 'content-LENGTH' => '2' }, ["#{env['rack.input'].read.size}"[0, 2].ljust(2)]]
      end
    end
    with_server(app, max_body_size: 10) do |_, port|
      c = client(port)
      c.send_raw("GET / HTTP/1.1\r\nhOsT: a\r\n\r\n")
      assert_equal 200, c.response.status
      c.send_raw("GET / HTTP/1.1\r\nHOST: a\r\nhost: b\r\n\r\n")
      assert_equal 400, c.response.status, 'two Host headers, whatever their case'
      c = client(port)
      c.send_raw("POST / HTTP/1.1\r\nHost: a\r\nCONTENT-length: 11\r\n\r\n")
      assert_equal 413, c.response.status, 'the declared length, whatever its case'
      c = client(port)
      c.send_raw("POST / HTTP/1.1\r\nHost: a\r\nEXPECT: 200-ok\r\nContent-Length: 1\r\n\r\nx")
      assert_equal 417, c.response.status
      c = client(port)
      c.send_raw("POST / HTTP/1.1\r\nHost: a\r\neXpEcT: 100-CONTINUE\r\nContent-Length: 3\r\n\r\n")
      assert_equal 100, c.response.status
      c.send_raw('abc')
      r = c.response
      assert_equal ['3 ', '2'], [r.body, r['Content-Length']]
      assert r.keep_alive
      r = c.get('/chunked')
      assert_equal 'ab', r.body
      assert_nil r['Content-Length']
      r = c.get('/close')
      assert_equal 'ok', r.body
      refute r.keep_alive
      assert c.closed?, "the app's Connection: Close closes the connection"
    end
  end

  def test_malformed_request_gets_400
    app = ->(env) { [200, {}, [env['rack.input'].read]] }
    with_server(app) do |_, port|
      c = client(port)
      c.send_raw("GET / HTTP/1.1\r\nHost x\r\nBad Header Line\r\n\r\n")
      assert_equal 400, c.response.status
      assert c.closed?
      c2 = client(port)
      c2.send_raw("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n")
      assert_equal 400, c2.response.status
    end
  end

  def test_error_after_a_pipelined_request_answers_that_request_first
    with_server(HELLO) do |_, port|
      c = client(port)
      c.send_raw("GET /fine HTTP/1.1\r\nHost: x\r\n\r\n\x01\x02 nonsense\r\n\r\n")
      assert_equal 'hello /fine', c.response.body
      assert_equal 400, c.response.status
    end
  end

  def test_http_1_0_closes_unless_keep_alive_asked
    with_server(HELLO) do |_, port|
      c = client(port)
      c.send_raw("GET /old HTTP/1.0\r\n\r\n")
      r = c.response
      assert_equal 'hello /old', r.body
      assert c.closed?
      k = client(port)
      k.send_raw("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
      assert_equal 'keep-alive', k.response['Connection']
      k.send_raw("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
      assert_equal 'hello /b', k.response.body
    end
  end

  def test_streaming_body_to_http_1_0_ends_with_the_close
    app = ->(_env) { [200, {}, Enumerator.new { |y| y << 'a'; y << 'b' }] }
    with_server(app) do |_, port|
      c = client(port)
      c.send_raw("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
      raw = c.read_all_raw
      assert raw.end_with?("\r\n\r\nab")
      refute_match(/chunked|Content-Length/i, raw)
    end
  end

  def test_head_and_no_content_have_no_body
    app = lambda do |env|
      env['PATH_INFO'] == '/none' ? [204, {}, []] : [200, { 'Content-Length' => '5' }, ['hello']]
    end
    with_server(app) do |_, port|
      c = client(port)
      c.send_raw("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /none HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
      raw = read_until(c.socket, "\r\n\r\nhello")
      heads = raw.split("\r\n\r\n")
      assert_equal 4, heads.size, raw
      assert_match(/\AHTTP\/1.1 200 OK\r\nContent-Length: 5\z/, heads[0])
      assert_match(/\AHTTP\/1.1 204 No Content\z/, heads[1])
      assert_match(/\AHTTP\/1.1 200 OK\r\nContent-Length: 5\z/, heads[2])
      assert_equal 'hello', heads[3]
    end
  end

  def test_expect_continue_is_answered_when_the_body_is_read
    app = ->(env) { [200, {}, ["got #{env['rack.input'].read}"]] }
    with_server(app) do |_, port|
      c = client(port)
      c.send_raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
      assert_equal "HTTP/1.1 100 Continue\r\n\r\n", read_until(c.socket, "\r\n\r\n")
      c.send_raw('body')
      assert_equal 'got body', c.response.body
    end
  end

  def test_unknown_expectation_gets_417
    with_server(HELLO) do |_, port|
      c = client(port)
      c.send_raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: tea\r\n\r\n")
      assert_equal 417, c.response.status
    end
  end

  def test_application_error_gets_500_and_the_server_goes_on
    app = ->(env) { env['PATH_INFO'] == '/boom' ? raise('boom') : [200, {}, ['ok']] }
    with_server(app) do |_, port|
      errors = StringIO.new
      $stderr, saved = errors, $stderr
      begin
        r = client(port).get('/boom')
      ensure
        $stderr = saved
      end
      assert_equal 500, r.status
      assert_match(/RuntimeError: boom \(GET \/boom\)/, errors.string)
      assert_equal 'ok', client(port).get('/fine').body
    end
  end

  def test_one_fiber_per_connection
    fibers = []
    app = ->(_env) { fibers << Fiber.current; [200, {}, ['x']] }
    with_server(app) do |server, port|
      clients = Array.new(5) { client(port) }
      clients.each { |c| c.get('/') }
      clients.each { |c| c.get('/') }
      assert_equal 5, server.connections.size
      assert_equal 5, fibers.uniq.size
      assert_equal fibers.first(5), fibers.last(5), 'a connection keeps its fiber'
      fibers.uniq.each { |f| assert_match(/\Ahttp 127\.0\.0\.1:\d+\z/, f.tag.to_s) }
    end
  end

  def test_max_requests_per_connection
    with_server(HELLO, max_requests: 2) do |_, port|
      c = client(port)
      assert_nil c.get('/1')['Connection']
      assert_equal 'close', c.get('/2')['Connection']
      assert c.closed?
    end
  end

  def test_graceful_stop
    entered = Polyphony::Event.new
    release = Polyphony::Event.new
    app = lambda do |env|
      if env['PATH_INFO'] == '/slow'
        entered.signal
        release.await
      end
      [200, {}, ["done #{env['PATH_INFO']}"]]
    end
    server = Polyphony::HTTP::Server.new(app, host: '127.0.0.1', port: 0, quiet: true)
    port = server.listen.port
    runner = spin { server.run }
    idle = client(port)
    assert_equal 200, idle.get('/').status
    busy = client(port)
    busy.send_raw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    entered.await
    server.stop
    assert idle.closed?, 'an idle connection closes at once'
    assert_raises(Errno::ECONNREFUSED) { TCPSocket.new('127.0.0.1', port) }
    assert runner.alive?
    release.signal
    r = busy.response
    assert_equal 'done /slow', r.body
    assert_equal 'close', r['Connection']
    assert busy.closed?
    runner.await
    assert_empty server.connections
  end

  def test_shutdown_timeout_terminates_what_does_not_finish
    entered = Polyphony::Event.new
    app = ->(_env) { entered.signal; sleep; [200, {}, []] }
    server = Polyphony::HTTP::Server.new(app, host: '127.0.0.1', port: 0, quiet: true, shutdown_timeout: 0.2)
    port = server.listen.port
    runner = spin { server.run }
    c = client(port)
    c.send_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    entered.await
    server.stop
    runner.await
    assert c.closed?
    assert_empty server.connections
  end

  def test_rack_lint_accepts_env_and_responses
    inner = lambda do |env|
      body = env['rack.input'].read
      case env['PATH_INFO']
      when '/stream' then [200, { 'Content-Type' => 'text/plain' }, Enumerator.new { |y| y << 'a'; y << 'b' }]
      else [200, { 'Content-Type' => 'text/plain' }, ["#{env['QUERY_STRING']}|#{env['SERVER_NAME']}:#{env['SERVER_PORT']}|#{body}"]]
      end
    end
    app = Rack::Lint.new(inner)
    with_server(app) do |_, port|
      c = client(port)
      r = c.get('/q?a=1&b=2', 'Host' => 'example.test:8080')
      assert_equal 200, r.status, r.body
      c.send_raw("POST /p HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbody")
      r = c.response
      assert_equal 200, r.status, r.body
      assert_equal '|h:80|body', r.body.sub(/\A\|h:\d+/, '|h:80')
      assert_equal 'ab', c.get('/stream').body
    end
  end

  def test_env_carries_the_request
    seen = nil
    app = ->(env) { seen = env; [200, {}, []] }
    with_server(app) do |_, port|
      c = client(port)
      c.send_raw("GET /p/a%20th?x=1&y=2 HTTP/1.1\r\nHost: example.test:81\r\nX-Thing: one\r\nX-Thing: two\r\n" \
                 "Cookie: a=1\r\nCookie: b=2\r\nX_Spoof: no\r\nContent-Type: text/x\r\n\r\n")
      assert_equal 200, c.response.status
    end
    assert_equal 'GET', seen['REQUEST_METHOD']
    assert_equal '/p/a%20th', seen['PATH_INFO']
    assert_equal 'x=1&y=2', seen['QUERY_STRING']
    assert_equal '/p/a%20th?x=1&y=2', seen['REQUEST_URI']
    assert_equal 'example.test', seen['SERVER_NAME']
    assert_equal '81', seen['SERVER_PORT']
    assert_equal 'one, two', seen['HTTP_X_THING']
    assert_equal 'a=1; b=2', seen['HTTP_COOKIE']
    assert_equal 'text/x', seen['CONTENT_TYPE']
    assert_equal '127.0.0.1', seen['REMOTE_ADDR']
    assert_equal 'HTTP/1.1', seen['SERVER_PROTOCOL']
    refute seen.key?('HTTP_X_SPOOF')
  end

  private

  def read_until(socket, marker)
    data = +''
    data << socket.readpartial(65_536) until data.include?(marker)
    data
  end
end
