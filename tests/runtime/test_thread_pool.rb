# frozen_string_literal: true

# Polyphony::ThreadPool: blocking work on OS threads while the caller waits
# and other fibers run; errors re-raised in the caller; and 256 fibers that
# each receive a message, do blocking work through the pool and reply.
require 'minitest/autorun'
# Digest::SHA256 is loaded here, not on first use: its lazy load races when
# several threads touch it at once ("cannot be directly inherited").
require 'digest/sha2'
require 'polyphony'

class ThreadPoolTest < Minitest::Test
  def test_process_returns_value_from_another_thread
    pool = Polyphony::ThreadPool.new(2)
    caller_thread = Thread.current
    thread, value = pool.process { [Thread.current, 6 * 7] }
    refute_equal caller_thread, thread
    assert_equal 42, value
  ensure
    pool&.stop
  end

  def test_other_fibers_run_while_waiting
    pool = Polyphony::ThreadPool.new(1)
    r, w = IO.pipe
    ticks = 0
    ticker = spin { loop { ticks += 1; snooze } }
    # The worker blocks the OS thread in a raw read until a fiber writes.
    writer = spin { snooze until ticks > 10; w << 'x' }
    got = pool.process { r.sysread(1) }
    assert_equal 'x', got
    assert_operator ticks, :>, 0
    writer.await
    ticker.stop
  ensure
    pool&.stop
  end

  def test_error_reraised_in_caller
    pool = Polyphony::ThreadPool.new(1)
    err = assert_raises(ZeroDivisionError) { pool.process { 1 / 0 } }
    assert_kind_of ZeroDivisionError, err
    assert_equal 3, pool.process { 3 }
  ensure
    pool&.stop
  end

  def test_default_pool
    assert_equal :ok, Polyphony::ThreadPool.process { :ok }
  end

  def test_256_fibers_receive_work_reply
    pool = Polyphony::ThreadPool.new(4)
    main = Fiber.current
    workers = Array.new(256) do |i|
      spin do
        n = receive
        digest = pool.process { Digest::SHA256.hexdigest("msg-#{n}") }
        main << [i, n, digest]
      end
    end
    workers.each_with_index { |f, i| f << i * 3 }
    replies = Array.new(256) { receive }
    workers.each(&:await)
    assert_equal (0...256).to_a, replies.map(&:first).sort
    replies.each do |i, n, digest|
      assert_equal i * 3, n
      assert_equal Digest::SHA256.hexdigest("msg-#{n}"), digest
    end
  ensure
    pool&.stop
  end

  # Busy from the moment work is queued (a pool thread may not have it yet).
  def test_busy_while_work_is_queued_or_running
    pool = Polyphony::ThreadPool.new(1)
    refute_predicate pool, :busy?
    gate = Thread::Queue.new
    f = spin { pool.process { gate.pop } }
    snooze
    assert_predicate pool, :busy?
    gate << :go
    f.await
    refute_predicate pool, :busy?
    pool.cast { gate.pop }
    assert_predicate pool, :busy?
    gate << :go
  ensure
    pool&.stop
  end
end
