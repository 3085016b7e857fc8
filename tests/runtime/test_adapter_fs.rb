# frozen_string_literal: true

# polyphony/adapters/fs: File.stat and IO.read (a whole file by name) run
# on a pool thread while the calling fiber waits (spun, and the main one),
# with Ruby's results and errors; Ruby's own stay as orig_stat, orig_read.
require 'minitest/autorun'
require 'polyphony'
require 'polyphony/adapters/fs'
require 'tmpdir'
require 'pt_ticker'

class AdapterFsTest < Minitest::Test
  include PtTicker

  def setup
    @dir = Dir.mktmpdir('pt-fs')
    @path = File.join(@dir, 'file')
    File.write(@path, "line 1\nline 2\n")
  end

  def teardown
    Fiber.current.shutdown_all_children
    FileUtils.rm_rf(@dir)
  end

  def test_stat_and_read
    %i[spun main].each do |how|
      st = ticking_in(how) { File.stat(@path) }
      assert_equal 14, st.size
      assert st.file?
      assert_equal "line 1\nline 2\n", ticking_in(how) { IO.read(@path) }
      assert_equal 'line', ticking_in(how) { IO.read(@path, 4) }
      assert_equal '2', ticking_in(how) { IO.read(@path, 1, 12) }
      assert_equal Encoding::ASCII_8BIT, ticking_in(how) { IO.read(@path, mode: 'rb') }.encoding
      assert_raises(Errno::ENOENT) { ticking_in(how) { File.stat(File.join(@dir, 'missing')) } }
    end
    assert_equal File.orig_stat(@path).ino, File.stat(@path).ino
    assert_equal IO.orig_read(@path), IO.read(@path)
  end
end
