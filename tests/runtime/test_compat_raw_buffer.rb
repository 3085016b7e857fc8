# frozen_string_literal: true

# Polyphony 1.6 compatibility: raw buffers — Polyphony.__with_raw_buffer__
# lends a buffer under an Integer handle that IO#read / #readpartial /
# #write / #<<, BasicSocket#recv / #send and the Backend's read, recv, write
# and send take in place of a String; get/set/size; a handle that is not a
# live buffer is refused by the raw-buffer functions and written as the
# number it is.
require 'minitest/autorun'
require 'socket'
require 'polyphony'

class CompatRawBufferTest < Minitest::Test
  def test_with_get_set_size
    result = Polyphony.__with_raw_buffer__(16) do |b|
      assert_kind_of Integer, b
      assert_equal 16, Polyphony.__raw_buffer_size__(b)
      assert_raises(RuntimeError) { Polyphony.__raw_buffer_set__(b, '*' * 17) }
      Polyphony.__raw_buffer_set__(b, 'foobar')
      assert_equal 6, Polyphony.__raw_buffer_size__(b)
      assert_equal 'foobar', Polyphony.__raw_buffer_get__(b)
      assert_equal 'foo', Polyphony.__raw_buffer_get__(b, 3)
      Polyphony.__raw_buffer_set__(b, '')
      assert_equal '', Polyphony.__raw_buffer_get__(b)
      # the capacity stays: a shorter set does not shrink what fits
      Polyphony.__raw_buffer_set__(b, '0123456789abcdef')
      assert_equal '0123456789abcdef', Polyphony.__raw_buffer_get__(b)
      :done
    end
    assert_equal :done, result
  end

  def test_handle_dies_with_its_block
    handle = Polyphony.__with_raw_buffer__(8) { |b| b }
    assert_raises(ArgumentError) { Polyphony.__raw_buffer_size__(handle) }
    assert_raises(ArgumentError) { Polyphony.__raw_buffer_get__(12_345) }
    assert_raises(ArgumentError) { Polyphony.__with_raw_buffer__(-1) { flunk } }
  end

  def test_write_and_read_through_io
    i, o = IO.pipe
    Polyphony.__with_raw_buffer__(64) do |b|
      Polyphony.__raw_buffer_set__(b, 'foobar')
      o << b
      o.write(b, '!')
      # an Integer that is not a live buffer is written as Ruby writes it
      o << 42
      o.close
    end
    assert_equal 'foobarfoobar!42', i.read

    i, o = IO.pipe
    o << ('*' * 65)
    o.close
    Polyphony.__with_raw_buffer__(64) do |b|
      assert_equal 64, i.read(64, b)
      assert_equal '*' * 64, Polyphony.__raw_buffer_get__(b)
      assert_equal 1, i.read(64, b)
      assert_equal 64, Polyphony.__raw_buffer_size__(b)
      assert_equal '*', Polyphony.__raw_buffer_get__(b, 1)
      assert_nil i.read(64, b)
    end
  end

  def test_readpartial_waits_in_the_fiber
    i, o = IO.pipe
    Polyphony.__with_raw_buffer__(8) do |b|
      writer = spin { o << 'abcdefghij' }
      assert_equal 8, i.readpartial(100, b)
      assert_equal 'abcdefgh', Polyphony.__raw_buffer_get__(b)
      writer.await
      o.close
      assert_equal 2, i.readpartial(100, b)
      assert_equal 'ijcdefgh', Polyphony.__raw_buffer_get__(b)
      assert_nil i.readpartial(100, b, 0, false)
      assert_raises(EOFError) { i.readpartial(100, b) }
    end
  end

  def test_socket_send_and_recv
    server = TCPServer.new('127.0.0.1', 0)
    client = TCPSocket.new('127.0.0.1', server.addr[1])
    conn = server.accept
    Polyphony.__with_raw_buffer__(64) do |b|
      Polyphony.__raw_buffer_set__(b, 'foo')
      client.send(b, 0)
      client << b
      client.close
      got = +''
      while (n = conn.recv(64, 0, b))
        got << Polyphony.__raw_buffer_get__(b, n)
      end
      assert_equal 'foofoo', got
    end
  ensure
    [server, conn].each { |s| s&.close }
  end

  def test_backend_ops
    i, o = IO.pipe
    Polyphony.__with_raw_buffer__(16) do |b|
      Polyphony.__raw_buffer_set__(b, 'hello')
      assert_equal 5, Polyphony.backend_write(o, b)
      o.close
      assert_equal 5, Polyphony.backend_read(i, b, 16, true, 0)
      assert_equal 'hello', Polyphony.__raw_buffer_get__(b, 5)
      assert_nil Polyphony.backend_read(i, b, 16, false, 0)
    end
  end
end
