# frozen_string_literal: true

# Polyphony 1.6 compatibility, Fiber#supervise: the block (or on_done /
# on_error) gets each supervised fiber's end, exceptions included, without
# the exception being raised in the supervisor; restart: :always / true /
# :on_error; the fibers move under the supervisor, and fibers it spins or
# that are attached to it later are supervised too; it returns once nothing
# could end another supervised fiber (where Polyphony's never returns).
require 'minitest/autorun'
require 'polyphony'

class CompatSuperviseTest < Minitest::Test
  def teardown
    Fiber.current.shutdown_all_children
  end

  def test_block_gets_each_end_and_fibers_move_under_the_supervisor
    log = []
    f1 = spin(:f1) { receive }
    f2 = spin(:f2) { receive }
    supervisor = spin(:supervisor) { supervise(f1, f2) { |f, r| log << [f.tag, r] } }
    snooze
    assert_equal [supervisor, supervisor], [f1.parent, f2.parent]
    f1 << 'foo'
    f1.await
    snooze
    assert_equal [[:f1, 'foo']], log
    f2 << 'bar'
    f2.await
    assert_equal [[:f1, 'foo'], [:f2, 'bar']], log
  end

  def test_on_done_and_on_error
    done = []
    errors = []
    f1 = spin(:f1) { receive }
    f2 = spin(:f2) { receive }
    spin { supervise(f1, f2, on_done: ->(f, r) { done << [f.tag, r] }) }
    f3 = spin(:f3) { receive }
    f4 = spin(:f4) { receive }
    spin { supervise(f3, f4, on_error: ->(f, r) { errors << [f.tag, r.message] }) }
    snooze
    f1 << 1
    f2.raise(RuntimeError, 'two')
    f3 << 3
    f4.raise(RuntimeError, 'four')
    5.times { snooze }
    assert_equal [:f1, 1], done[0]
    assert_equal :f2, done[1][0]
    assert_kind_of RuntimeError, done[1][1]
    assert_equal [[:f4, 'four']], errors
  end

  def test_restart_always_and_true_and_on_error
    [[:always, %w[ok boom]], [true, %w[ok boom]], [:on_error, %w[boom]]].each do |restart, restarted_after|
      runs = []
      worker = spin(:worker) do
        msg = receive
        runs << msg
        raise msg if msg == 'boom'

        msg
      end
      supervisor = spin { supervise(worker, restart: restart) }
      snooze
      worker << 'ok'
      3.times { snooze }
      current = supervisor.children.first
      assert_equal (restarted_after.include?('ok') ? 1 : 0), supervisor.children.size, restart.inspect
      next unless current

      refute_same worker, current
      assert_equal :worker, current.tag
      current << 'boom'
      3.times { snooze }
      assert_equal 1, supervisor.children.size, restart.inspect
      refute_same current, supervisor.children.first
      supervisor.terminate
      supervisor.await
    end
  end

  def test_on_error_restart
    runs = []
    worker = spin(:w) { runs << receive; raise 'failed' if runs.size == 1; :ok }
    supervisor = spin { supervise(worker, restart: :on_error) }
    snooze
    worker << :a
    3.times { snooze }
    assert_equal 1, supervisor.children.size
    supervisor.children.first << :b
    3.times { snooze }
    assert_equal %i[a b], runs
    assert_equal 0, supervisor.children.size
  end

  def test_fibers_spun_or_attached_later_are_supervised
    log = []
    supervisor = spin { supervise { |f, r| log << [f, r] } }
    snooze
    a = supervisor.spin { snooze; :a }
    b = spin { snooze; :b }
    b.attach_to(supervisor)
    Fiber.await(a, b)
    snooze
    assert_equal [[a, :a], [b, :b]], log
  end

  def test_exception_is_not_raised_in_the_supervisor
    worker = spin { snooze; raise 'worker failed' }
    result = nil
    supervisor = spin { supervise(worker) { |_f, r| result = r }; :supervise_returned }
    assert_equal :supervise_returned, supervisor.await
    assert_equal 'worker failed', result.message
  end

  def test_returns_when_nothing_is_left
    spin { snooze; :a }
    spin { sleep 0.01; :b }
    results = []
    assert_same Fiber.current, supervise { |_f, r| results << r }
    assert_equal %i[a b], results
  end
end
