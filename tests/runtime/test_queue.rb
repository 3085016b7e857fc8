# frozen_string_literal: true

# Polyphony::Queue: FIFO order, shift waiting while empty, push waiting while
# a bounded queue is full (and both taking turns on it), closing, the
# non-blocking shift, interrupted waiters, and the helpers.
require 'minitest/autorun'
require 'polyphony'

class QueueTest < Minitest::Test
  def test_fifo_order
    q = Polyphony::Queue.new
    q << 1 << 2
    q.push(3)
    assert_equal 3, q.size
    assert_equal [1, 2, 3], [q.shift, q.shift, q.pop]
    assert_predicate q, :empty?
  end

  def test_shift_waits_for_push
    q = Polyphony::Queue.new
    got = []
    consumer = spin { 3.times { got << q.shift } }
    snooze
    assert_equal [], got
    assert_predicate q, :pending?
    q << :a << :b << :c
    consumer.await
    assert_equal %i[a b c], got
  end

  def test_capacity_makes_push_wait
    q = Polyphony::Queue.new(2)
    assert_equal 2, q.capacity
    assert_equal 2, q.capped?
    pushed = []
    producer = spin do
      5.times do |i|
        q << i
        pushed << i
      end
    end
    10.times { snooze }
    assert_equal [0, 1], pushed
    assert_equal 2, q.size
    assert_equal 0, q.shift
    10.times { snooze }
    assert_equal [0, 1, 2], pushed
    assert_equal [1, 2, 3, 4], Array.new(4) { q.shift }
    producer.await
    assert_equal [0, 1, 2, 3, 4], pushed
  end

  # As in Polyphony: push and shift on a bounded queue yield once even when
  # they need not wait, so a producer and a consumer take turns instead of
  # one running until the queue is full or empty.
  def test_bounded_queue_producer_and_consumer_take_turns
    q = Polyphony::Queue.new(3)
    log = []
    producer = spin do
      (1..4).each { |i| q << i; log << :"p#{i}" }
      q << :stop
    end
    snooze
    consumer = spin do
      while (i = q.shift) != :stop
        log << :"s#{i}"
      end
    end
    Fiber.await(producer, consumer)
    assert_equal %i[p1 p2 s1 p3 s2 p4 s3 s4], log
  end

  def test_unbounded_push_and_shift_do_not_yield
    q = Polyphony::Queue.new
    other = spin { :ran }
    q << 1
    assert_equal 1, q.shift
    assert_equal :runnable, other.state
  end

  def test_nonblocking_shift
    q = Polyphony::Queue.new
    assert_raises(ThreadError) { q.shift(true) }
    assert_raises(ThreadError) { q.pop(true) }
    q << 7 << 8
    assert_equal 7, q.deq(true)
    assert_equal 8, q.shift(false)
  end

  def test_close
    q = Polyphony::Queue.new
    refute_predicate q, :closed?
    waiter = spin { q.shift }
    snooze
    q.close
    assert_predicate q, :closed?
    assert_nil waiter.await
    assert_raises(ClosedQueueError) { q << 1 }
    assert_raises(ClosedQueueError) { q.shift }
    assert_raises(ThreadError) { q.shift(true) }

    q = Polyphony::Queue.new
    q << 42 << 43
    q.close
    assert_equal 42, q.shift
    assert_equal 43, q.shift(true)
    assert_raises(ClosedQueueError) { q.shift }
  end

  def test_close_wakes_a_blocked_pusher_with_an_error
    q = Polyphony::Queue.new(1)
    q << 1
    pusher = spin { q << 2 }
    snooze
    q.close
    assert_raises(ClosedQueueError) { pusher.await }
  end

  def test_bounded_queue_between_many_fibers
    q = Polyphony::Queue.new(3)
    producers = Array.new(4) { |p| spin { 25.times { |i| q << [p, i] } } }
    got = []
    consumer = spin { 100.times { got << q.shift; assert q.size <= 3 } }
    consumer.await
    producers.each(&:await)
    assert_equal 100, got.size
    4.times { |p| assert_equal (0...25).to_a, got.select { |x| x[0] == p }.map(&:last) }
  end

  def test_interrupted_waiter_passes_item_on
    q = Polyphony::Queue.new
    got = []
    f1 = spin { got << [:f1, q.shift] }
    f2 = spin { got << [:f2, q.shift] }
    snooze
    q << :x
    f1.raise(RuntimeError, 'go away')
    assert_raises(RuntimeError) { f1.await }
    f2.await
    assert_equal [[:f2, :x]], got
  end

  # A waiter resumed by something else than a push waits again, and is not
  # woken twice: every item reaches a fiber that waits for one.
  def test_spurious_resume_of_a_waiter
    q = Polyphony::Queue.new
    got = []
    f1 = spin { got << [:f1, q.shift] }
    snooze
    f1.schedule(:spurious)
    snooze
    assert f1.alive?
    assert_equal 1, q.num_waiting
    f2 = spin { got << [:f2, q.shift] }
    snooze
    q << :a << :b
    [f1, f2].each(&:await)
    assert_equal [[:f1, :a], [:f2, :b]], got
    refute_predicate q, :pending?
  end

  def test_move_on_after_shift
    q = Polyphony::Queue.new
    v = move_on_after(0.02, with_value: :timeout) { q.shift }
    assert_equal :timeout, v
    refute_predicate q, :pending?
    q << 1
    assert_equal 1, q.shift
  end

  def test_shift_all_delete_clear_unshift
    q = Polyphony::Queue.new
    q << 1 << 2 << 3
    q.unshift(0)
    q.delete(2)
    assert_equal [0, 1, 3], q.shift_all
    assert_predicate q, :empty?
    q << 4 << 5
    items = []
    q.shift_each { |x| items << x }
    assert_equal [4, 5], items
    q << 6
    q.clear
    assert_equal 0, q.size
  end

  def test_cap_wakes_pushers
    q = Polyphony::Queue.new(1)
    q << 1
    f = spin { q << 2 }
    snooze
    assert_equal 1, q.size
    q.cap(nil)
    f.await
    assert_equal [1, 2], q.shift_all
    assert_nil q.capped?
  end

  def test_cross_thread_push
    q = Polyphony::Queue.new
    t = Thread.new { 3.times { |i| q << i } }
    assert_equal [0, 1, 2], Array.new(3) { q.shift }
    t.join
  end
end
