# frozen_string_literal: true

# Ops that succeed without waiting (a read of a pipe that always has bytes,
# a write with room) do not keep the other fibers from running: after a
# run of such ops on a thread, the fiber snoozes once (Polyphony does too).
require 'minitest/autorun'
require 'polyphony'

class FairnessTest < Minitest::Test
  BYTES = 60_000 # fits in a pipe, so the writer never waits

  def teardown
    Fiber.current.shutdown_all_children
  end

  # Reads one byte at a time until `done` says stop or the pipe is drained.
  def reader(r, &done)
    spin do
      n = 0
      until done.call || n == BYTES
        r.readpartial(1)
        n += 1
      end
      n
    end
  end

  def full_pipe
    r, w = IO.pipe
    w.write('x' * BYTES)
    [r, w]
  end

  def test_busy_reader_lets_runnable_fiber_run
    r, _w = full_pipe
    ran = false
    f = reader(r) { ran }
    spin { ran = true }
    n = f.await
    assert ran
    assert_operator n, :<, 1000, 'the other fiber waited for the pipe to drain'
  end

  def test_busy_reader_lets_timer_fire
    r, _w = full_pipe
    woke = false
    f = reader(r) { woke }
    spin { sleep 0.001; woke = true }
    n = f.await
    assert woke
    assert_operator n, :<, BYTES, 'the sleeper only woke once the pipe was drained'
  end

  def test_busy_writer_lets_runnable_fiber_run
    r, w = IO.pipe
    ran = false
    writer = spin do
      n = 0
      until ran || n == BYTES
        w.write('x')
        n += 1
      end
      n
    end
    spin { ran = true }
    n = writer.await
    assert ran
    assert_operator n, :<, 1000
    r.close
  end
end
