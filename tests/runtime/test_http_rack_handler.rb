# frozen_string_literal: true

# The Rack handler "polyphony" from the outside, the ways people start a
# server: `rackup -s polyphony config.ru` and a Sinatra application with
# `set :server, :polyphony`, each a real process driven over TCP; SIGTERM
# stops it gracefully (the request in flight finishes, new connections are
# refused, the process exits 0). This test process does not load the
# runtime: its clients are plain Ruby.
require 'minitest/autorun'
require 'socket'
require 'timeout'
require 'pt_http'

class HTTPRackHandlerTest < Minitest::Test
  FIXTURES = File.expand_path('fixtures/http', __dir__)
  DEADLINE = 60 # s for a process to say something; generous for a loaded machine

  # A server process; its output (stdout and stderr) is read line by line.
  class ServerProcess
    attr_reader :pid, :port, :lines

    def initialize(argv, env = {})
      @out, w = IO.pipe
      @pid = Process.spawn(env, *argv, out: w, err: w, in: File::NULL)
      w.close
      @lines = []
      @port = Integer(await_line(%r{polyphony: listening on http://[^ ]+:(\d+) })[1])
    end

    # The first line (from now on or already read) matching re.
    def await_line(re)
      @lines.each { |l| (m = re.match(l)) and return m }
      Timeout.timeout(DEADLINE, RuntimeError, "no line matching #{re.inspect}; output:\n#{@lines.join}") do
        while (line = @out.gets)
          @lines << line
          (m = re.match(line)) and return m
        end
      end
      raise "process ended before a line matching #{re.inspect}; output:\n#{@lines.join}"
    end

    # Everything the process wrote (read to the end once it has exited).
    def output
      @rest ||= @out.read.to_s
      @lines.join + @rest
    end

    def signal(name)
      Process.kill(name, @pid)
    end

    # The exit status, waiting at most DEADLINE.
    def wait
      Timeout.timeout(DEADLINE) { Process.wait2(@pid)[1] }
    end

    def kill
      Process.kill('KILL', @pid)
      Process.wait(@pid)
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    end
  end

  def start(argv, env = {})
    @server = ServerProcess.new(argv, env)
  end

  def teardown
    @server&.kill
    @release&.close
  end

  def test_rackup_serves_a_config_ru_and_stops_gracefully_on_sigterm
    @release = TCPServer.new('127.0.0.1', 0)
    server = start(['rackup', '-s', 'polyphony', '-p', '0', File.join(FIXTURES, 'hello.ru')],
                   'PT_RELEASE_PORT' => @release.addr[1].to_s)
    c = PtHttp::Client.new(server.port)
    r = c.get('/one')
    assert_equal 200, r.status
    assert_match(/\Ahello \/one in http 127\.0\.0\.1:\d+\z/, r.body)
    assert_equal r.body.sub('/one', '/two'), c.get('/two').body, 'kept alive, same fiber'

    busy = PtHttp::Client.new(server.port)
    busy.send_raw(busy.request_head('GET', '/slow'))
    waiter = @release.accept # the request is in the application now
    server.signal('TERM')
    server.await_line(/polyphony: stopping: 2 connections to finish/)
    assert c.closed?, 'the idle connection is closed'
    assert_raises(Errno::ECONNREFUSED) { TCPSocket.new('127.0.0.1', server.port) }
    waiter.puts('finished')
    waiter.close
    r = busy.response
    assert_equal 'slow finished', r.body
    assert_equal 'close', r['Connection']
    status = server.wait
    assert status.success?, "exit status #{status.inspect}; output:\n#{server.output}"
    assert_match(/polyphony: stopped/, server.output)
  end

  def test_rackup_help_lists_the_server_options
    out = IO.popen(['rackup', '-s', 'polyphony', '-h'], err: %i[child out], &:read)
    assert_match(/max_body_size=BYTES/, out)
    assert_match(/header_timeout=SECONDS/, out)
  end

  def test_rackup_passes_limits_through
    server = start(['rackup', '-s', 'polyphony', '-p', '0', '-O', 'max_body_size=10',
                    File.join(FIXTURES, 'hello.ru')])
    c = PtHttp::Client.new(server.port)
    c.send_raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n")
    assert_equal 413, c.response.status
  end

  def test_sinatra_set_server_polyphony
    server = start(['ruby', File.join(FIXTURES, 'sinatra_app.rb')])
    c = PtHttp::Client.new(server.port)
    r = c.get('/hello/ann')
    assert_equal 200, r.status
    assert_match(/\Ahello ann in http 127\.0\.0\.1:\d+\z/, r.body)
    c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    assert_equal 'ABC', c.response.body
    server.signal('TERM')
    status = server.wait
    assert status.success?, "exit status #{status.inspect}; output:\n#{server.output}"
    assert_match(/with backup from Polyphony/, server.output)
  end
end
