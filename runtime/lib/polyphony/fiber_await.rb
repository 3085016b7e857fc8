# frozen_string_literal: true

# Waiting for several fibers (Polyphony 1.6).
#
# Fiber.await(*fibers) (or one Array): their results, in order. The caller
# takes each one's end (an uncaught exception is not also raised in it as
# their parent); when one ends with an exception the others are terminated,
# and once all have ended that exception is raised. As with Fiber#await,
# fibers nothing could ever end give nil instead of waiting for ever.
#
# Fiber.select(*fibers): [fiber, result] of the first to end (a dead one
# first); its exception is raised if it ended with one. The others go on.
#
# Fiber#await_all_children: Fiber.await of the fiber's children (from the
# calling fiber, whichever fiber's children they are); their results, or
# nil when there are none.
module Polyphony
  module FiberWait
    WAKE = Object.new.freeze

    # Registers `me` on each fiber; returns the list ends are pushed onto
    # and a flag holder telling the callbacks whether `me` waits.
    def self.watch(fibers, me)
      ends = []
      state = { waiting: false }
      fibers.each do |f|
        f.when_done(me) do |result|
          ends << [f, result]
          me.schedule(WAKE) if state[:waiting]
        end
      end
      [ends, state]
    end

    # The next end, or nil when nothing could produce one.
    def self.next_end(ends, state)
      while ends.empty?
        state[:waiting] = true
        woken = suspend
        state[:waiting] = false
        return nil if ends.empty? && !WAKE.equal?(woken)
      end
      ends.shift
    end
  end
end

class ::Fiber
  def self.await(*fibers)
    fibers = fibers.first if fibers.size == 1 && fibers.first.is_a?(Array)
    return [] if fibers.empty?
    return [fibers.first.await] if fibers.size == 1

    ends, state = Polyphony::FiberWait.watch(fibers, Fiber.current)
    results = {}
    error = nil
    fibers.uniq.size.times do
      fiber, result = Polyphony::FiberWait.next_end(ends, state)
      break unless fiber

      if result.is_a?(Exception)
        unless error
          error = result
          fibers.each { |f| f.terminate unless f.equal?(fiber) || f.dead? }
        end
      else
        results[fiber] = result
      end
    end
    raise error if error

    fibers.map { |f| results[f] }
  end

  def self.join(*fibers)
    await(*fibers)
  end

  def self.select(*fibers)
    return nil if fibers.empty?

    ends, state = Polyphony::FiberWait.watch(fibers, Fiber.current)
    selected = Polyphony::FiberWait.next_end(ends, state)
    state[:waiting] = false
    return nil unless selected
    raise selected[1] if selected[1].is_a?(Exception)

    selected
  end
end

class ::Fiber
  def await_all_children
    list = children
    list.empty? ? nil : Fiber.await(*list)
  end
end
