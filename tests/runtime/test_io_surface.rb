# frozen_string_literal: true

# The I/O surface on pipes and files: read to EOF, read(n), gets with
# buffering, eof?, IO.foreach, readpartial, write and <<, all without
# blocking the other fibers.
require 'minitest/autorun'
require 'tempfile'
require 'polyphony'

class IOSurfaceTest < Minitest::Test
  def setup
    @r, @w = IO.pipe
  end

  def teardown
    [@r, @w].each { |io| io.close unless io.closed? }
  end

  def test_read_to_eof_while_writer_fiber_runs
    writer = spin do
      5.times do |i|
        @w << "chunk#{i};"
        snooze
      end
      @w.close
    end
    assert_equal (0...5).map { |i| "chunk#{i};" }.join, @r.read
    writer.await
  end

  def test_read_with_length
    @w << 'hello world'
    assert_equal 'hello', @r.read(5)
    @w.close
    assert_equal ' world', @r.read(100)
    assert_nil @r.read(1)
    assert_equal '', @r.read
  end

  def test_gets_buffers_lines
    @w << "one\ntwo\nthr"
    assert_equal "one\n", @r.gets
    assert_equal "two\n", @r.gets
    spin { @w << "ee\n"; @w.close }
    assert_equal "three\n", @r.gets
    assert_nil @r.gets
  end

  def test_gets_then_read_keeps_order
    @w << "line\nrest of it"
    @w.close
    assert_equal "line\n", @r.gets
    assert_equal 'rest of it', @r.read
  end

  def test_eof
    @w << 'x'
    refute_predicate @r, :eof?
    assert_equal 'x', @r.readpartial(10)
    @w.close
    assert_predicate @r, :eof?
  end

  def test_eof_waits_in_fiber
    ticks = 0
    ticker = spin { loop { ticks += 1; snooze } }
    spin { snooze until ticks > 5; @w << 'y' }
    refute_predicate @r, :eof?
    assert_operator ticks, :>, 5
    ticker.stop
  end

  def test_readpartial_and_eof_error
    @w << 'abc'
    assert_equal 'ab', @r.readpartial(2)
    assert_equal 'c', @r.readpartial(10)
    @w.close
    assert_raises(EOFError) { @r.readpartial(10) }
  end

  def test_readpartial_waits_without_blocking_others
    other_ran = false
    spin { other_ran = true; @w << 'late' }
    assert_equal 'late', @r.readpartial(10)
    assert other_ran
  end

  def test_write_and_shovel
    assert_equal 5, @w.write('hello')
    @w << ' ' << 'world'
    @w.close
    assert_equal 'hello world', @r.read
  end

  def test_large_write_with_concurrent_reader
    data = 'z' * 1_000_000
    reader = spin { @r.read }
    @w.write(data)
    @w.close
    assert_equal data.bytesize, reader.await.bytesize
  end

  def test_io_foreach
    Tempfile.create('io_surface') do |f|
      f.write("a\nb\nc\n")
      f.flush
      assert_equal ["a\n", "b\n", "c\n"], IO.foreach(f.path).to_a
      lines = []
      IO.foreach(f.path) { |l| lines << l.chomp }
      assert_equal %w[a b c], lines
    end
  end

  def test_read_loop_yields_every_chunk
    spin do
      3.times { |i| @w << "#{i}|"; snooze }
      @w.close
    end
    chunks = []
    @r.read_loop { |data| chunks << data }
    assert_equal '0|1|2|', chunks.join
  end

  def test_gets_loop_yields_lines
    spin do
      @w << "a\nb"
      snooze
      @w << "\nc\n"
      @w.close
    end
    lines = []
    @r.gets_loop { |l| lines << l }
    assert_equal %W[a\n b\n c\n], lines
  end

  def test_gets_loop_chomp_separator_and_last_line
    @w << "a;b;c"
    @w.close
    parts = []
    @r.gets_loop(';', chomp: true) { |p| parts << p }
    assert_equal %w[a b c], parts
  end

  def test_gets_loop_leaves_rest_for_read
    @w << "first\nsecond\nthird"
    @w.close
    @r.gets_loop { |l| break l }
    assert_equal "second\nthird", @r.read
  end

  def test_process_waitpid
    pid = Process.spawn('true')
    assert_equal pid, Process.waitpid(pid)
    assert_predicate $?, :success?
  end
end
