# frozen_string_literal: true

# Polyphony 1.6 compatibility: Polyphony::Net.tcp_listen / tcp_connect
# give sockets that work through the backend, and Polyphony.watch_process
# waits for a command or a forked block, killing and reaping the child when
# the wait is interrupted.
require 'minitest/autorun'
require 'polyphony'

class CompatNetProcessTest < Minitest::Test
  def test_tcp_listen_and_connect
    server = Polyphony::Net.tcp_listen('127.0.0.1', 0, reuse_addr: true)
    port = server.local_address.ip_port
    echo = spin do
      conn = server.accept
      conn << conn.readpartial(100).upcase
      conn.close
    end
    client = Polyphony::Net.tcp_connect('127.0.0.1', port)
    client << 'hello'
    assert_equal 'HELLO', client.read
    echo.await
  ensure
    server&.close
    client&.close
  end

  def test_listening_socket_from_options
    server = Polyphony::Net.send(:listening_socket_from_options, '127.0.0.1', 0, reuse_addr: true)
    assert_kind_of TCPServer, server
    assert_equal 1, server.getsockopt(:SOCKET, :REUSEADDR).int
  ensure
    server&.close
  end

  def test_watch_process_command
    pid, code = Polyphony.watch_process('exit 7')
    assert_kind_of Integer, pid
    assert_equal 7 << 8, code
  end

  def test_watch_process_block
    _, code = Polyphony.watch_process { exit!(0) }
    assert_equal 0, code
  end

  def test_interrupted_watch_kills_child
    r, w = IO.pipe
    watcher = spin do
      Polyphony.watch_process do
        r.close
        w.orig_write("#{Process.pid}\n")
        sleep 30
      end
    end
    pid = r.gets.to_i
    assert_operator pid, :>, 0
    watcher.stop
    watcher.await
    assert_raises(Errno::ESRCH) { Process.kill(0, pid) } # killed and reaped
  ensure
    r&.close
    w&.close
  end
end
