# frozen_string_literal: true

# Thread#on_idle and Thread#idle_gc_period= (Polyphony 1.6): the idle work
# of the thread's backend (Backend#idle_proc=, #idle_gc_period=), set from
# the thread.
class ::Thread
  def on_idle(&block)
    backend.idle_proc = block
  end

  def idle_gc_period=(period)
    backend.idle_gc_period = period
  end
end
