# frozen_string_literal: true

# Polyphony 1.6 compatibility: TLS through Polyphony::Net (tcp_listen and
# tcp_connect with secure_context:), the handshake, reads and writes of an
# SSLSocket waiting in the calling fiber (client and server in one thread,
# the client in the main fiber), and SSLServer#accept_loop going on past a
# connection whose handshake fails unless ignore_errors is false.
require 'minitest/autorun'
require 'openssl'
require 'polyphony'

class CompatTLSTest < Minitest::Test
  def server_context
    key = OpenSSL::PKey::EC.generate('prime256v1')
    name = OpenSSL::X509::Name.parse('/CN=localhost')
    cert = OpenSSL::X509::Certificate.new
    cert.version = 2
    cert.serial = 1
    cert.subject = cert.issuer = name
    cert.public_key = key
    cert.not_before = Time.now - 60
    cert.not_after = Time.now + 3600
    cert.sign(key, OpenSSL::Digest.new('SHA256'))
    OpenSSL::SSL::SSLContext.new.tap do |ctx|
      ctx.cert = cert
      ctx.key = key
    end
  end

  def client_context
    OpenSSL::SSL::SSLContext.new.tap { |ctx| ctx.verify_mode = OpenSSL::SSL::VERIFY_NONE }
  end

  def echo(conn)
    while (line = conn.gets)
      conn << line.upcase
    end
  ensure
    conn.close
  end

  # The server closes the connection after the failed handshake (a reset,
  # since our request is left unread).
  def wait_closed(sock)
    sock.read
  rescue Errno::ECONNRESET
    nil
  ensure
    sock.close
  end

  def test_listen_connect_and_talk
    server = Polyphony::Net.tcp_listen('127.0.0.1', 0, secure_context: server_context, reuse_addr: true)
    assert_kind_of OpenSSL::SSL::SSLServer, server
    port = server.to_io.addr[1]
    acceptor = spin { server.accept_loop { |conn| spin { echo(conn) } } }

    ticks = 0
    ticker = spin_loop { ticks += 1; snooze }
    client = Polyphony::Net.tcp_connect('127.0.0.1', port, secure_context: client_context)
    assert_kind_of OpenSSL::SSL::SSLSocket, client
    client << "hello\n"
    assert_equal "HELLO\n", client.gets
    client.close
    ticker.stop
    assert_operator ticks, :>, 0, 'the main fiber held the thread while waiting'
    acceptor.stop
  ensure
    server&.close
  end

  def test_accept_loop_skips_failed_handshakes_unless_told_not_to
    server = Polyphony::Net.tcp_listen('127.0.0.1', 0, secure_context: server_context)
    port = server.to_io.addr[1]
    acceptor = spin { server.accept_loop { |conn| spin { echo(conn) } } }
    plain = TCPSocket.new('127.0.0.1', port)
    plain << "GET / HTTP/1.0\r\n\r\n"
    wait_closed(plain)
    client = Polyphony::Net.tcp_connect('127.0.0.1', port, secure_context: client_context)
    client << "still there\n"
    assert_equal "STILL THERE\n", client.gets
    client.close
    acceptor.stop

    strict = spin { server.accept_loop(ignore_errors: false) { |conn| conn.close } }
    plain = TCPSocket.new('127.0.0.1', port)
    plain << "GET / HTTP/1.0\r\n\r\n"
    assert_raises(OpenSSL::SSL::SSLError) { strict.await }
    plain.close
  ensure
    server&.close
  end
end
