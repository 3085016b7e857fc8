# frozen_string_literal: true

# Signals and Thread#raise reach a thread waiting in the event loop: the
# blocking wait gives up the GVL with an unblocking function that wakes it.
require 'minitest/autorun'
require 'polyphony'

class SignalsTest < Minitest::Test
  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def teardown
    Fiber.current.shutdown_all_children
  end

  # Sends SIGINT once the main fiber is waiting (the pipe says so).
  def interrupt_when_ready(ready)
    Thread.new do
      IO.select([ready])
      Process.kill('INT', Process.pid)
    end
  end

  def test_sigint_raises_interrupt_in_sleeping_main_fiber
    r, w = IO.pipe
    t = interrupt_when_ready(r)
    spin { w << 'x' } # runs once the main fiber sleeps
    t0 = now
    assert_raises(Interrupt) { sleep 30 }
    assert_operator now - t0, :<, 20 # the signal, not the end of the sleep
    t.join
  end

  def test_sigint_while_main_awaits_a_child
    r, w = IO.pipe
    t = interrupt_when_ready(r)
    child = spin { w << 'x'; sleep 5 }
    assert_raises(Interrupt) { child.await }
    t.join
  end

  def test_thread_raise_reaches_waiting_thread
    started = Queue.new
    th = Thread.new do
      started << true
      sleep 5
      :not_interrupted
    rescue IOError => e
      e.message
    end
    started.pop
    Thread.pass until th.status == 'sleep'
    th.raise(IOError, 'stop waiting')
    assert_equal 'stop waiting', th.value
  end

  def test_masked_interrupts_do_not_block_the_loop
    r, w = IO.pipe
    spin { w << 'x' }
    Thread.handle_interrupt(Object => :never) do
      assert_equal 'x', r.read(1)
      sleep 0.01
    end
    pass
  end
end
