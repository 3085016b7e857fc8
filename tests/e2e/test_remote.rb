# frozen_string_literal: true

# test_remote.rb — debugging over TCP: a program started with `polytrace
# --listen` (or with POLYTRACE_LISTEN set by hand) waits for `polytrace
# connect` with the token it printed, and is debugged end to end over
# 127.0.0.1; a wrong token, a missing one, a replayed handshake and garbage
# are refused while the program goes on serving, and the fifth failure
# closes the port; TLS with a self-signed certificate made here (pause,
# Ctrl-C and kill through it); forked children run free over TCP; a
# non-loopback address needs --listen-any.

require 'minitest/autorun'
require 'open3'
require 'openssl'
require 'socket'
require 'tmpdir'
require 'pty_session'
require 'pt_wire'

class TestRemote < Minitest::Test
  FIX = E2E.fixture('remote_echo.rb')

  # A program listening for a debugger: its stderr says where and the token.
  class Listening
    attr_reader :pid, :addr, :token, :err

    def initialize(argv, env: {}, chdir: Dir.pwd)
      err_r, err_w = IO.pipe
      @pid = Process.spawn(env, *argv, out: File::NULL, err: err_w, in: File::NULL, chdir: chdir)
      err_w.close
      @err = +''
      @mutex = Mutex.new
      @grew = ConditionVariable.new
      @reader = Thread.new do
        loop do
          chunk = err_r.readpartial(4096)
          @mutex.synchronize do
            @err << chunk
            @grew.broadcast
          end
        end
      rescue EOFError, IOError
        @mutex.synchronize { @grew.broadcast }
      end
    end

    def wait_err(pattern, timeout = 20)
      deadline = E2E.now + timeout
      @mutex.synchronize do
        until (m = @err.match(pattern))
          left = deadline - E2E.now
          raise "stderr never matched #{pattern.inspect}: #{@err.inspect}" if left <= 0

          @grew.wait(@mutex, left)
        end
        m
      end
    end

    def wait_banner
      @addr = wait_err(/listens for a debugger on (127\.0\.0\.1:\d+)/)[1]
      wait_err(/connect with: .*\n/)
      @token = @err[/^polytrace: token: (\h+)$/, 1]
      self
    end

    def port
      Integer(@addr.split(':').last)
    end

    # Exit status, waiting at most timeout seconds.
    def wait(timeout = 20)
      E2E.wait_until(timeout: timeout, what: "process #{@pid} to exit") do
        _, @status = Process.wait2(@pid, Process::WNOHANG) unless @status
        @status
      end
    end

    def close
      unless @status
        Process.kill('KILL', @pid)
        Process.wait(@pid)
      end
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    ensure
      @reader.join(5)
    end
  end

  def setup
    @dir = Dir.mktmpdir('pt_remote')
    @port_file = File.join(@dir, 'port')
    @sessions = []
  end

  def teardown
    @sessions.each(&:close)
    @prog&.close
    FileUtils.rm_rf(@dir)
  end

  def polytrace_listen(*opts)
    @prog = Listening.new(['polytrace', '--listen', '127.0.0.1:0', *opts, 'ruby', FIX, @port_file])
  end

  def connect(*args, env: {}, chdir: PtySession::ROOT)
    s = PtySession.polytrace('connect', *args, env: env, chdir: chdir)
    @sessions << s
    s
  end

  def echo_port
    E2E.wait_until(timeout: 30, what: 'the port file') { File.exist?(@port_file) }
    Integer(File.read(@port_file))
  end

  # One line through the program's echo server: it is alive and serving.
  def echo(text)
    c = TCPSocket.new('127.0.0.1', echo_port)
    c.write("#{text}\n")
    raise "no answer to #{text}" unless IO.select([c], nil, nil, 20)

    c.gets
  ensure
    c&.close
  end

  def quit_program
    c = TCPSocket.new('127.0.0.1', echo_port)
    c.write("quit\n")
    c.close
  end

  # A raw TCP connection to the tracer: [socket, its challenge].
  def raw_challenge
    s = TCPSocket.new('127.0.0.1', @prog.port)
    ch = +''
    while ch.bytesize < 40
      raise 'no challenge' unless IO.select([s], nil, nil, 10)

      ch << s.readpartial(40 - ch.bytesize)
    end
    assert_equal "PTAUTH1\n", ch[0, 8]
    [s, ch]
  end

  def answer(token, challenge)
    OpenSSL::HMAC.digest('SHA256', token, "polytrace auth 1\n#{challenge[8, 32]}")
  end

  # The tracer's answer to a refused connection: ERROR AUTH, then the end.
  def assert_refused(sock)
    conn = PtWire::Conn.new(sock)
    msg = conn.read
    assert_equal :error, msg['type']
    assert_equal PtWire::ERR[:auth], msg['code']
    assert_equal 'authentication failed', msg['message']
    assert_nil conn.read
  ensure
    sock.close
  end

  def token_file(mode = 0o600, text = 'a-token-only-we-know-0123456789')
    path = File.join(@dir, "token#{mode.to_s(8)}")
    File.write(path, "#{text}\n")
    File.chmod(mode, path)
    path
  end

  def test_launch_listen_connect_debug_detach_and_connect_again
    # The program runs in a directory of its own; where polytrace runs, a
    # file of the same name says something else: what is listed and where
    # breakpoints go is the program's file, not ours.
    prog_dir = File.join(@dir, 'prog')
    here = File.join(@dir, 'here')
    FileUtils.mkdir_p([prog_dir, here])
    FileUtils.cp(FIX, prog_dir)
    File.write(File.join(here, 'remote_echo.rb'), "# not the program\n" * 40)
    @prog = Listening.new(['polytrace', '--listen', '127.0.0.1:0', 'ruby', 'remote_echo.rb', @port_file],
                          chdir: prog_dir)
    @prog.wait_banner
    assert_match(/\A\h{64}\z/, @prog.token)
    assert_match("connect with: POLYTRACE_TOKEN=<token> polytrace connect #{@prog.addr}", @prog.err)
    # Nothing of the program ran: it waits for us before its first line.
    refute File.exist?(@port_file)

    s = connect(@prog.addr, env: { 'POLYTRACE_TOKEN' => @prog.token }, chdir: here)
    s.expect("Connected to process #{@prog.pid} on #{@prog.addr}.", timeout: 20)
    s.expect(/Stopped in fiber 1 at .*remote_echo.rb:\d+ in <main> \(entry\)/)
    s.prompt
    assert_match(/require 'polyphony'/, s.command('list 7'))
    refute_match(/not the program/, s.transcript)
    line = E2E.line_of(FIX, '@handler')
    assert_match(/Breakpoint 1 at .*remote_echo.rb:#{line}/, s.command("break remote_echo.rb:#{line}"))
    assert_match(/not followed over TCP/, s.command('set follow-fork all'))
    s.send_line('c')

    c = TCPSocket.new('127.0.0.1', echo_port)
    c.write("one\n")
    s.expect(/Stopped in fiber \d+ at .*remote_echo.rb:#{line} in Object#handle \(breakpoint 1\)/, timeout: 20)
    s.prompt
    assert_equal "\"one\\n\"", s.command('p line').strip
    s.command('delete 1')
    s.send_line('c')
    assert_equal "echo 1: one\n", c.gets
    c.close
    s.send_line('detach')
    s.expect("Detached from process #{@prog.pid}.")
    assert_equal 0, s.wait_exit.exitstatus
    assert_equal "echo 2: two\n", echo('two')

    # The port stays open: the running program stops where it is.
    s = connect(@prog.addr, env: { 'POLYTRACE_TOKEN' => @prog.token }, chdir: here)
    s.expect(/Stopped in fiber \d+ .* \(attach\)/, timeout: 20)
    s.prompt
    s.command("break remote_echo.rb:#{line}")
    s.send_line('c')
    answer = Thread.new { echo('three') }
    s.expect(/Stopped in fiber \d+ at .*remote_echo.rb:#{line} in Object#handle \(breakpoint 2\)/, timeout: 20)
    s.prompt
    assert_equal '3', s.command('p $answered').strip
    s.command('delete 2')
    s.send_line('c')
    assert_equal "echo 3: three\n", answer.value
    quit_program
    s.expect('program exited with status 0', timeout: 20)
    assert_equal 0, s.wait_exit.exitstatus
    assert_equal 0, @prog.wait.exitstatus
  end

  def test_refusals_leave_the_program_alone
    tokf = token_file
    env = PtWire::Debuggee.ruby_env('POLYTRACE_LISTEN' => '127.0.0.1:0', 'POLYTRACE_TOKEN_FILE' => tokf,
                                    'POLYTRACE_NONSTOP' => '1')
    @prog = Listening.new([RbConfig.ruby, FIX, @port_file], env: env).wait_banner
    assert_nil @prog.token, 'a token from a file is not printed'
    assert_match("connect with: polytrace connect --token-file #{tokf} #{@prog.addr}", @prog.err)
    assert_equal "echo 1: a\n", echo('a')

    # A wrong token.
    s = connect(@prog.addr, env: { 'POLYTRACE_TOKEN' => 'not-the-token-0123456789' })
    s.expect("polytrace: #{@prog.addr} refused the token (authentication failed)", timeout: 20)
    assert_equal 1, s.wait_exit.exitstatus
    @prog.wait_err(/refused a debugger connection from 127\.0\.0\.1:\d+: wrong answer .*\(1 of 5 failed\)/)
    assert_equal "echo 2: b\n", echo('b')

    # No token: polytrace asks for one and refuses an empty answer; a
    # client that skips the challenge and says hello is refused.
    s = connect(@prog.addr, env: { 'POLYTRACE_TOKEN' => nil })
    s.expect("Token for #{@prog.addr}: ", timeout: 20)
    s.send_line('')
    s.expect('polytrace: a token is 16 to 256 printable characters')
    assert_equal 1, s.wait_exit.exitstatus
    sock, = raw_challenge
    sock.write(MessagePack.pack('type' => PtWire::TYPES[:hello], 'version' => PtWire::VERSION,
                                'pid' => Process.pid, 'ruby_version' => '', 'backend' => '',
                                'argv' => [], 'program' => '', 'attached' => true))
    assert_refused(sock)
    @prog.wait_err(/\(2 of 5 failed\)/)
    assert_equal "echo 3: c\n", echo('c')

    # A replay: an answer that was good for one challenge, sent to another.
    token = File.read(tokf).chomp
    first, ch1 = raw_challenge
    good = answer(token, ch1)
    first.write(good)
    hello = PtWire::Conn.new(first).read
    assert_equal :hello, hello['type']
    assert_equal @prog.pid, hello['pid']
    first.close # authenticated, then gone before its hello: not a failure
    second, ch2 = raw_challenge
    refute_equal ch1, ch2
    second.write(good)
    assert_refused(second)
    @prog.wait_err(/\(3 of 5 failed\)/)

    # Garbage.
    sock, = raw_challenge
    sock.write(Random.new(7).bytes(64))
    assert_refused(sock)
    @prog.wait_err(/\(4 of 5 failed\)/)
    assert_equal "echo 4: d\n", echo('d')

    # A token file others may read is refused by polytrace itself.
    s = connect('--token-file', token_file(0o644), @prog.addr)
    s.expect(/polytrace: the token file .* must be yours and readable by you only/, timeout: 20)
    assert_equal 1, s.wait_exit.exitstatus

    # The right token still works.
    s = connect('--token-file', tokf, @prog.addr)
    s.expect(/Stopped in fiber \d+ .* \(attach\)/, timeout: 20)
    s.prompt
    s.send_line('detach')
    assert_equal 0, s.wait_exit.exitstatus
    assert_equal "echo 5: e\n", echo('e')
    quit_program
    assert_equal 0, @prog.wait.exitstatus
  end

  def test_fifth_failure_closes_the_port
    polytrace_listen('--nonstop').wait_banner
    5.times do |i|
      sock, = raw_challenge
      sock.write("\0" * 32)
      assert_refused(sock)
      @prog.wait_err(/\(#{i + 1} of 5 failed\)/)
    end
    @prog.wait_err(/5 failed authentications: no longer listening on #{Regexp.escape(@prog.addr)}/)
    assert_raises(Errno::ECONNREFUSED) { TCPSocket.new('127.0.0.1', @prog.port) }
    assert_equal "echo 1: still here\n", echo('still here')
    quit_program
    assert_equal 0, @prog.wait.exitstatus
  end

  def test_tls_with_a_self_signed_certificate
    cert = File.join(@dir, 'cert.pem')
    key = File.join(@dir, 'key.pem')
    out, st = Open3.capture2e('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
                              '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
                              '-addext', 'subjectAltName=IP:127.0.0.1')
    assert st.success?, out
    polytrace_listen('--tls-cert', cert, '--tls-key', key, '--nonstop').wait_banner
    assert_match(/listens for a debugger on #{Regexp.escape(@prog.addr)} \(TLS\)/, @prog.err)
    env = { 'POLYTRACE_TOKEN' => @prog.token }

    # Checked against the system's authorities, a self-signed certificate
    # is refused; without --tls nothing is said before TLS.
    s = connect('--tls', @prog.addr, env: env)
    s.expect(/polytrace: TLS: the server's certificate is refused: self[- ]signed certificate/, timeout: 20)
    assert_equal 1, s.wait_exit.exitstatus
    s = connect(@prog.addr, env: env)
    s.expect(/polytrace: the connection closed before authentication/, timeout: 30)
    assert_equal 1, s.wait_exit.exitstatus
    assert_equal "echo 1: x\n", echo('x')

    s = connect('--tls', '--tls-ca', cert, @prog.addr, env: env)
    s.expect("Connected to process #{@prog.pid} on #{@prog.addr} (TLS).", timeout: 20)
    s.expect(/\(attach\)/)
    s.prompt
    line = E2E.line_of(FIX, '@handler')
    s.command("break remote_echo.rb:#{line}")
    s.send_line('c')
    answer = Thread.new { echo('y') }
    s.expect(/Stopped in fiber \d+ at .*remote_echo.rb:#{line} in Object#handle \(breakpoint 1\)/, timeout: 20)
    s.prompt
    assert_equal "\"y\\n\"", s.command('p line').strip
    assert_equal '2', s.command('p $answered').strip
    s.command('delete 1')
    s.send_line('c')
    assert_equal "echo 2: y\n", answer.value
    # pause and Ctrl-C reach it while it runs; kill ends it.
    s.prompt
    s.send_line('pause')
    s.expect(/Stopped in fiber \d+.*\(pause\)/, timeout: 20)
    s.prompt
    s.send_line('c')
    s.prompt
    s.send_raw("\x03")
    s.expect(/Stopped in fiber \d+.*\(pause\)/, timeout: 20)
    s.prompt
    s.send_line('kill')
    s.expect("Killed process #{@prog.pid}.")
    assert_equal 0, s.wait_exit.exitstatus
    assert_equal 9, @prog.wait.termsig
  end

  def test_forked_children_run_free_over_tcp
    forks = E2E.fixture('forks.rb')
    @prog = Listening.new(['polytrace', '--listen', '127.0.0.1:0', 'ruby', forks, '2']).wait_banner
    s = connect(@prog.addr, env: { 'POLYTRACE_TOKEN' => @prog.token })
    s.expect(/\(entry\)/, timeout: 20)
    s.prompt
    line = E2E.line_of(forks, '@child')
    s.command("break forks.rb:#{line}")
    s.send_line('c')
    s.expect('program exited with status 0', timeout: 30)
    assert_equal 0, s.wait_exit.exitstatus
    refute_match(/New process|Stopped in fiber \d+ at .*forks.rb:#{line}/, s.transcript)
    assert_equal 0, @prog.wait.exitstatus
    refute_match(/did not take it on/, @prog.err)
  end

  def test_a_non_loopback_address_needs_listen_any
    _, err, st = Open3.capture3('polytrace', '--listen', '0.0.0.0:0', 'ruby', FIX, @port_file)
    assert_equal 1, st.exitstatus
    assert_match(/polytrace: 0\.0\.0\.0:0 is not a loopback address: .*--listen-any/, err)
    refute File.exist?(@port_file)

    @prog = Listening.new(['polytrace', '--listen', '0.0.0.0:0', '--listen-any', '--nonstop', 'ruby', FIX,
                           @port_file])
    @prog.wait_err(/warning: 0\.0\.0\.0:\d+ is not only a loopback address: anyone who can reach it and has the token can run any code as process #{@prog.pid}, and the session is not encrypted/)
    assert_equal "echo 1: z\n", echo('z')
    quit_program
    assert_equal 0, @prog.wait.exitstatus
  end

  def test_usage_errors
    [
      [%w[connect], "'connect' needs HOST:PORT"],
      [%w[connect --tls-ca x 127.0.0.1:1], '--tls-ca goes with --tls'],
      [%w[--listen 127.0.0.1:0 --detach --nonstop ruby x.rb], '--listen and --detach do not go together'],
      [%w[--token-file f ruby x.rb], 'go with --listen HOST:PORT'],
      [%w[--listen 127.0.0.1:0 --tls-cert c ruby x.rb], 'TLS needs both --tls-cert and --tls-key'],
      [%w[--listen 127.0.0.1:0 attach 1], '--listen and its options are for launching a program']
    ].each do |argv, msg|
      _, err, st = Open3.capture3('polytrace', *argv)
      assert_equal 2, st.exitstatus, argv.inspect
      assert_includes err, msg
    end
    _, err, st = Open3.capture3('polytrace', '--listen', 'nowhere', 'ruby', FIX)
    assert_equal 1, st.exitstatus
    assert_includes err, "'nowhere' is not HOST:PORT"
  end
end
