# frozen_string_literal: true

# Ruby's blocking calls where Ruby calls no fiber scheduler: in a thread's
# root fiber (the main fiber), or in any fiber once the scheduler is gone
# (Polyphony::Scheduler.unhooked?). There Ruby would block the whole thread,
# and the fiber that could end the wait (push to the queue, unlock the
# mutex, signal the condition) would never run. So each waits in the
# calling fiber instead, mostly by making the same call in a helper fiber
# that Ruby does call the scheduler from. Elsewhere they are Ruby's own
# (one check first). Thread::Mutex and Thread::ConditionVariable's check
# is done in C (unhooked.c).
module Polyphony
  module Unhooked
    # Runs the block in a fiber spun for it (a hooked one) and returns its
    # value, raising its exception; the calling fiber waits meanwhile. If
    # the caller is interrupted, the helper is stopped (its wait leaves
    # Ruby's queue or mutex) before the interrupt goes on.
    def self.call(&block)
      helper = spin(&block)
      helper.await
    ensure
      if helper&.alive?
        helper.stop
        begin
          helper.await
        rescue Exception # rubocop:disable Lint/RescueException
          nil # the caller's own exception is the one that goes on
        end
      end
    end

    # A contended Thread::Mutex#lock: a helper takes and releases the lock
    # (so the wait is in Ruby's queue of the mutex), then the caller takes
    # it, again if another fiber was quicker.
    def self.lock_mutex(mutex)
      loop do
        call do
          mutex.lock
          mutex.unlock
        end
        return mutex if mutex.try_lock
      end
    end

    # Thread::Mutex#sleep: the mutex is released while the fiber sleeps.
    def self.sleep_mutex(mutex, timeout)
      started = ::Process.clock_gettime(::Process::CLOCK_MONOTONIC)
      mutex.unlock
      begin
        timeout ? sleep(timeout) : sleep
      ensure
        mutex.lock
      end
      (::Process.clock_gettime(::Process::CLOCK_MONOTONIC) - started).round
    end

    # Does a name need the resolver (not an address literal)?
    def self.resolver_needed?(node)
      node.is_a?(String) && !node.empty? && !node.include?(':') && !node.match?(/\A[\d.]+\z/)
    end

    # Thread::Queue#pop, #shift, #deq; Thread::SizedQueue's too.
    module QueuePop
      def pop(non_block = false)
        return super if non_block || !Polyphony::Scheduler.unhooked?

        begin
          super(true)
        rescue ThreadError # empty: wait in a helper
          Polyphony::Unhooked.call { super(false) }
        end
      end

      def shift(non_block = false)
        pop(non_block)
      end

      def deq(non_block = false)
        pop(non_block)
      end
    end

    # Thread::SizedQueue#push, #<<, #enq.
    module SizedQueuePush
      def push(obj, non_block = false)
        return super if non_block || !Polyphony::Scheduler.unhooked?

        begin
          super(obj, true)
        rescue ThreadError # full: wait in a helper
          Polyphony::Unhooked.call { super(obj, false) }
        end
      end

      def <<(obj)
        push(obj)
      end

      def enq(obj, non_block = false)
        push(obj, non_block)
      end
    end

    # Thread::ConditionVariable#wait where Ruby calls no scheduler (the
    # check is in C, unhooked.c, with signal and broadcast): the waiter
    # waits on an Event of its own, which signal and broadcast set as well
    # as waking Ruby's own waiters (a waiter may so wake up spuriously, as
    # Ruby allows).
    def self.condvar_wait(cond, mutex, timeout)
      event = Polyphony::Event.new
      waiters = cond.instance_variable_get(:@__polyphony_waiters) ||
                cond.instance_variable_set(:@__polyphony_waiters, [])
      waiters << event
      mutex.unlock
      begin
        timeout ? move_on_after(timeout) { event.await } : event.await
      ensure
        waiters.delete(event)
        mutex.lock
      end
      cond
    end

    # Process::Status.wait, and IO#close of a popen'd IO (which waits for
    # its child): in a helper, where Ruby calls the scheduler's
    # process_wait.
    module StatusWait
      def wait(*args)
        return super unless Polyphony::Scheduler.unhooked?

        Polyphony::Unhooked.call { super }
      end
    end

    def self.close_io(io)
      call { io.close }
    end

    # Addrinfo.getaddrinfo and Socket.getaddrinfo resolve names on a pool
    # thread while the calling fiber waits.
    module Resolve
      ruby2_keywords def getaddrinfo(node, *args)
        return super unless Polyphony::Scheduler.unhooked? && Polyphony::Unhooked.resolver_needed?(node)

        Polyphony::ThreadPool.process { super }
      end
    end
  end
end

Thread::Queue.prepend(Polyphony::Unhooked::QueuePop)
Thread::SizedQueue.prepend(Polyphony::Unhooked::QueuePop)
Thread::SizedQueue.prepend(Polyphony::Unhooked::SizedQueuePush)
Addrinfo.singleton_class.prepend(Polyphony::Unhooked::Resolve)
Socket.singleton_class.prepend(Polyphony::Unhooked::Resolve)
Process::Status.singleton_class.prepend(Polyphony::Unhooked::StatusWait)
