# frozen_string_literal: true

# A thread that ends while some of its fibers still wait in ops: its ops are
# cancelled and their completions awaited when the thread ends, so the
# kernel never completes one later into memory that GC has freed (io_uring
# writes a recv's bytes into the fiber's buffer; libev keeps watchers in
# its loop). The bytes the cancelled ops did not take stay readable.
require 'minitest/autorun'
require 'polyphony'
require 'socket'

class ThreadEndOpsTest < Minitest::Test
  def ended_thread_with_waiting_fibers(ios, how)
    ready = Thread::Queue.new
    th = Thread.new do
      ios.each { |io| spin { io.readpartial(100) } }
      spin { sleep 10 }
      sleep 0.02 # the fibers' ops reach the kernel (io_uring submits on poll)
      ready << :waiting
      case how
      when :end then nil
      when :raise then raise 'thread fails'
      when :sleep then sleep 10
      end
    end
    th.report_on_exception = false
    ready.pop
    th.kill if how == :sleep
    begin
      th.join
    rescue RuntimeError
      nil
    end
    th
  end

  def check_after_end(how)
    socks = Array.new(3) { UNIXSocket.pair }
    pipes = Array.new(2) { IO.pipe }
    th = ended_thread_with_waiting_fibers(socks.map(&:first) + pipes.map(&:first), how)
    if (n = th.backend.uring_inflight_count)
      assert_equal 0, n, 'ops left in the ring of an ended thread'
    end
    GC.start
    socks.each { |_, w| w.write('data') }
    pipes.each { |_, w| w.write('data') }
    GC.start
    sleep 0.05
    GC.start
    (socks.map(&:first) + pipes.map(&:first)).each do |r|
      assert_equal 'data', r.read_nonblock(100), 'a cancelled op took the bytes'
    end
  end

  def test_thread_ends_normally
    check_after_end(:end)
  end

  def test_thread_ends_with_exception
    check_after_end(:raise)
  end

  def test_thread_killed_while_main_fiber_sleeps
    check_after_end(:sleep)
  end
end
