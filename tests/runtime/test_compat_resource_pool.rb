# frozen_string_literal: true

# Polyphony 1.6 compatibility: Polyphony::ResourcePool — resources made on
# demand up to the limit, lent to one fiber at a time (others wait),
# re-entrant per fiber, discard!, fill!, a failing allocator, and method
# calls delegated to an acquired resource.
require 'minitest/autorun'
require 'polyphony'

class CompatResourcePoolTest < Minitest::Test
  def test_limit_and_waiting
    made = []
    pool = Polyphony::ResourcePool.new(limit: 2) { made << "r#{made.size}"; made.last }
    assert_equal [2, 0, 0], [pool.limit, pool.size, pool.available]
    gate = Polyphony::Event.new
    holders = Array.new(3) { |i| spin { pool.acquire { |r| gate.await if i < 2; r } } }
    snooze
    assert_equal 2, pool.size
    assert_equal 0, pool.available
    assert_predicate holders[2], :alive? # waits for a resource
    gate.signal
    snooze
    gate.signal
    assert_equal %w[r0 r1], holders.map(&:await).uniq.sort
    assert_equal 2, pool.available
    assert_equal %w[r0 r1], made
  end

  def test_single_resource_serializes
    pool = Polyphony::ResourcePool.new(limit: 1) { Object.new }
    inside = 0
    max_inside = 0
    fibers = Array.new(5) do
      spin do
        pool.acquire do
          inside += 1
          max_inside = [max_inside, inside].max
          snooze
          inside -= 1
        end
      end
    end
    Fiber.await(*fibers)
    assert_equal 1, max_inside
    assert_equal 1, pool.size
  end

  def test_reentrant
    pool = Polyphony::ResourcePool.new(limit: 1) { +'a' }
    pool.acquire do |r|
      pool.acquire { |r2| assert_same r, r2 }
    end
    assert_equal 1, pool.available
  end

  def test_discard
    n = 0
    pool = Polyphony::ResourcePool.new(limit: 1) { n += 1 }
    pool.acquire { pool.discard! }
    assert_equal [0, 0], [pool.size, pool.available]
    assert_equal 2, pool.acquire { |r| r }
  end

  def test_fill_and_preheat
    pool = Polyphony::ResourcePool.new(limit: 3) { :r }
    pool.fill!
    assert_equal [3, 3], [pool.size, pool.available]
    pool2 = Polyphony::ResourcePool.new(limit: 2) { :r }
    pool2.preheat!
    assert_equal 2, pool2.available
  end

  def test_failing_allocator
    pool = Polyphony::ResourcePool.new(limit: 2) { raise 'no' }
    assert_raises(RuntimeError) { pool.acquire {} }
    assert_equal 0, pool.size
  end

  def test_method_delegation
    pool = Polyphony::ResourcePool.new(limit: 1) { +'abc' }
    assert_respond_to pool, :upcase
    assert_equal 'ABC', pool.upcase
    assert_equal 1, pool.available
  end
end
