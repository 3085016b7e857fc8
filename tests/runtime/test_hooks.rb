# frozen_string_literal: true

# Event hooks: Polyphony::Trace and Backend#trace_proc from Ruby, and the C
# table Polyphony::C_API called through its function pointers (Fiddle), as
# the tracer does: events in order with the right arguments, no re-entry.
require 'minitest/autorun'
require 'fiddle'
require 'polyphony'

class HooksTest < Minitest::Test
  def teardown
    Polyphony::Trace.stop
    Thread.current.backend.trace_proc = nil
    Fiber.current.shutdown_all_children
  end

  def record
    events = []
    tracer = Polyphony::Trace.start { |e| events << e }
    yield
    events
  ensure
    Polyphony::Trace.stop(tracer)
  end

  def test_fiber_lifecycle_events_in_order
    main = Fiber.current
    f = nil
    events = record do
      f = spin { sleep 0.01; :done }
      f.await
    end
    mine = events.select { |e| e[:fiber] == f || (e[:fiber] == main && e[:kind] != :op_submit) }
                 .map { |e| [e[:kind], e[:fiber] == f ? :f : :main, e[:op]] }
    expected = [
      [:spin, :f, nil], [:schedule, :f, nil],
      [:block, :main, :await], [:switch, :f, nil],
      [:block, :f, :sleep], [:unblock, :f, :sleep], [:schedule, :f, nil], [:switch, :f, nil],
      [:terminate, :f, nil], [:unblock, :main, :await], [:schedule, :main, nil], [:switch, :main, nil]
    ]
    assert_equal expected, mine
    spin_event = events.find { |e| e[:kind] == :spin }
    assert_equal main, spin_event[:other]
    assert_equal :done, events.find { |e| e[:kind] == :terminate }[:other]
  end

  def test_op_events
    r, w = IO.pipe
    events = record do
      w.write('hello')
      r.readpartial(100)
    end
    ops = events.select { |e| e[:kind].to_s.start_with?('op_') }
                .map { |e| [e[:kind], e[:op], e[:fd], e[:len], e[:result]] }
    assert_equal [[:op_submit, :write, w.fileno, 5, 0], [:op_complete, :write, w.fileno, 5, 5],
                  [:op_submit, :read, r.fileno, 100, 0], [:op_complete, :read, r.fileno, 100, 5]], ops
  end

  def test_hooks_do_not_reenter_and_may_do_io
    r, w = IO.pipe
    depth = 0
    max_depth = 0
    count = 0
    tracer = Polyphony::Trace.start do |_e|
      depth += 1
      max_depth = [max_depth, depth].max
      count += 1
      w.write('.') # I/O through the runtime from inside a hook
      depth -= 1
    end
    f = spin { snooze; :ok }
    f.await
    Polyphony::Trace.stop(tracer)
    assert_equal 1, max_depth
    # Events raised while a hook's own I/O waits are not delivered (no
    # re-entry), so how many arrive depends on whether that write waited.
    assert_operator count, :>=, 2
    assert_equal count, r.read_nonblock(10_000).size
  end

  def test_raising_hook_is_contained
    Polyphony::Trace.start { |_e| raise 'hook bug' }
    assert_equal :fine, spin { :fine }.await
  end

  def test_trace_proc
    calls = []
    Thread.current.backend.trace_proc = proc { |kind, fiber, _other| calls << [kind, fiber] }
    f = spin { :x }
    f.await
    Thread.current.backend.trace_proc = nil
    assert_includes calls, [:spin, f]
    assert_includes calls, [:terminate, f]
    refute Polyphony::Trace.active?
  end

  # --- the C table -----------------------------------------------------------

  PTR = Fiddle::TYPE_VOIDP
  INT = Fiddle::TYPE_INT
  MEMBERS = %i[hook_add hook_remove fiber_lock fiber_unlock fiber_lock_owner loop_suspend
               loop_resume fiber_state fiber_parent fiber_tag fiber_wait_info each_fiber
               backend_name wakeup clock_scale fiber_counters each_thread diag_set
               watchdog_arm fiber_spin_frames thread_info
               each_scheduled thread_counters uptime on_next_wait].freeze

  def api
    capsule = Polyphony::C_API
    assert capsule.frozen?
    # struct RTypedData: flags, klass, type, typed_flag, data
    data = Fiddle::Pointer.new(Fiddle.dlwrap(capsule))[32, 8].unpack1('Q')
    Fiddle::Pointer.new(data)
  end

  def fn(name, args, ret)
    table = api
    addr = table[16 + (8 * MEMBERS.index(name)), 8].unpack1('Q')
    Fiddle::Function.new(addr, args, ret)
  end

  def wrap(obj)
    Fiddle.dlwrap(obj)
  end

  def test_c_api_header
    table = api
    assert_equal 1, table[0, 4].unpack1('L')
    assert_equal 16 + (8 * MEMBERS.size), table[8, 8].unpack1('Q')
  end

  def test_c_api_introspection
    f = spin(:tagged) { suspend }
    snooze
    name = fn(:backend_name, [PTR], PTR).call(wrap(Thread.current)).to_s
    assert_equal Thread.current.backend.kind.to_s, name
    state = fn(:fiber_state, [PTR], INT)
    assert_equal 0, state.call(wrap(Fiber.current))
    assert_equal 2, state.call(wrap(f))
    parent = fn(:fiber_parent, [PTR], PTR).call(wrap(f)).to_i
    assert_equal Fiber.current, Fiddle.dlunwrap(parent)
    assert_equal :tagged, Fiddle.dlunwrap(fn(:fiber_tag, [PTR], PTR).call(wrap(f)).to_i)
    info = Fiddle::Pointer.malloc(24, Fiddle::RUBY_FREE)
    assert_equal 0, fn(:fiber_wait_info, [PTR, PTR], INT).call(wrap(f), info)
    assert_equal 'suspend', Fiddle::Pointer.new(info[0, 8].unpack1('Q')).to_s
    assert_equal(-1, info[8, 4].unpack1('l'))
    f.schedule
    f.await
    assert_equal 3, state.call(wrap(f))
  end

  # fiber_spin_frames: the spinner's frames at the spin (method entries or
  # iseqs, innermost first, with lines); fibers spun from the same frames
  # share one record; moved fibers say so; the main fiber has none.
  def spin_from_here(list)
    list << spin { suspend } # @spin_here
  end

  def spin_frames(fiber)
    frames = Fiddle::Pointer.malloc(8, Fiddle::RUBY_FREE)
    lines = Fiddle::Pointer.malloc(8, Fiddle::RUBY_FREE)
    moved = Fiddle::Pointer.malloc(4, Fiddle::RUBY_FREE)
    n = fn(:fiber_spin_frames, [PTR, PTR, PTR, PTR], INT).call(wrap(fiber), frames, lines, moved)
    line_ptr = Fiddle::Pointer.new(lines[0, 8].unpack1('Q'))
    [n, frames[0, 8].unpack1('Q'), n.positive? ? line_ptr[0, 4 * n].unpack('l*') : [], moved[0, 4].unpack1('l')]
  end

  def test_c_api_spin_frames
    here = File.readlines(__FILE__).index { |l| l.include?('# @spin_here') } + 1
    list = []
    2.times { spin_from_here(list) }
    n, site, lines, moved = spin_frames(list[0])
    assert_operator n, :>=, 3, 'spin_from_here, the block of times, this test ...'
    assert_equal here, lines[0], 'innermost: the spin call'
    assert_equal 0, moved
    assert lines.any?(&:zero?), 'Integer#times, a C method, has no line'
    assert_equal site, spin_frames(list[1])[1], 'the same frames: one shared record'
    other = spin { suspend }
    refute_equal site, spin_frames(other)[1]
    assert_equal 0, spin_frames(Fiber.current)[0], 'nobody spun the main fiber'
    GC.start
    GC.compact if GC.respond_to?(:compact)
    assert_match(/:#{here}:in `spin_from_here'/, list[1].location, 'frames survive GC and compaction')
    list[1].attach_to(other)
    assert_equal 1, spin_frames(list[1])[3], 'moved away from its spinner'
    (list + [other]).each { |f| f.schedule }
    snooze
  end

  # on_next_wait: one call, when the loop is about to wait with nothing to
  # run (a sleep), none while fibers keep running, none after it was made.
  def test_c_api_on_next_wait
    calls = []
    on_wait = Fiddle::Closure::BlockCaller.new(Fiddle::TYPE_VOID, [PTR]) { |_data| calls << Fiber.current }
    fn(:on_next_wait, [PTR, PTR], Fiddle::TYPE_VOID).call(on_wait, nil)
    3.times { snooze }
    spin { snooze }.await
    assert_empty calls, 'nothing waited yet'
    sleep 0.001
    assert_equal [Fiber.current], calls, 'in the fiber whose wait it was'
    sleep 0.001
    assert_equal 1, calls.size, 'once per request'
  end

  def test_c_api_each_fiber_parents_first
    a = spin { b = spin { suspend }; snooze; suspend; b }
    c = spin { suspend }
    snooze
    seen = []
    visit = Fiddle::Closure::BlockCaller.new(Fiddle::TYPE_VOID, [PTR, PTR]) do |fiber, _data|
      seen << Fiddle.dlunwrap(fiber.to_i)
    end
    fn(:each_fiber, [PTR, PTR, PTR], Fiddle::TYPE_VOID).call(wrap(Thread.current), visit, nil)
    assert_equal Fiber.current, seen[0]
    assert_equal [a, a.children[0], c], seen[1..]
  end

  def test_c_api_fiber_lock_and_loop_suspend
    lock = fn(:fiber_lock, [PTR, PTR], INT)
    owner = fn(:fiber_lock_owner, [PTR], PTR)
    unlock = fn(:fiber_unlock, [PTR], INT)
    ran = false
    spin { ran = true }
    assert_equal 0, lock.call(wrap(Thread.current), wrap(Fiber.current))
    assert_equal Fiber.current, Fiddle.dlunwrap(owner.call(wrap(Thread.current)).to_i)
    snooze
    refute ran
    assert_equal 0, unlock.call(wrap(Thread.current))
    snooze
    assert ran
    assert_equal 0, fn(:loop_suspend, [PTR], INT).call(wrap(Thread.current))
    assert Thread.current.backend.loop_suspended?
    assert_equal 0, fn(:loop_resume, [PTR], INT).call(wrap(Thread.current))
    refute Thread.current.backend.loop_suspended?
    fn(:wakeup, [PTR], Fiddle::TYPE_VOID).call(wrap(Thread.current))
    snooze
  end

  def test_c_api_hook
    kinds = []
    hook = Fiddle::Closure::BlockCaller.new(Fiddle::TYPE_VOID, [PTR, PTR]) do |ev, _data|
      kind = ev[0, 4].unpack1('l')
      fiber = Fiddle.dlunwrap(ev[8, 8].unpack1('Q'))
      kinds << [kind, fiber]
    end
    add = fn(:hook_add, [PTR, PTR], INT)
    remove = fn(:hook_remove, [PTR, PTR], INT)
    assert_equal 0, add.call(hook, nil)
    f = spin { :x }
    f.await
    assert_equal 0, remove.call(hook, nil)
    assert_operator remove.call(hook, nil), :<, 0
    spin_kind = 0
    terminate_kind = 5
    assert_includes kinds, [spin_kind, f]
    assert_includes kinds, [terminate_kind, f]
    n = kinds.size
    spin { :y }.await
    assert_equal n, kinds.size
  end
end
