# frozen_string_literal: true

# Entry point of the PolyTrace fiber runtime: `require 'polyphony'`.
# Scheduling, switching, mailboxes, timers, the fiber lock, hooks and I/O
# waits are C (polyphony_ext); the files below only compose them into the
# rest of Polyphony's API.
# io/wait (which socket loads) defines IO#wait_readable and friends; loaded
# first, so that the runtime's own definitions replace Ruby's, not the
# other way round.
require 'io/wait'
require 'socket'
require 'polyphony_ext'
require 'polyphony/global_api'
require 'polyphony/timer'
require 'polyphony/socket'
require 'polyphony/io_lines'
# Sync primitives, the thread pool, the rest of the I/O surface.
require 'polyphony/mutex'
require 'polyphony/thread_pool'
require 'polyphony/io_surface'
require 'polyphony/socket_ext'
# Polyphony 1.6 compatibility (docs/runtime.md).
require 'polyphony/sanitized_backtrace'
require 'polyphony/fiber_monitor'
require 'polyphony/backend_ops'
require 'polyphony/pipe'
require 'polyphony/backend_api'
require 'polyphony/splice'
require 'polyphony/throttler'
require 'polyphony/resource_pool'
require 'polyphony/net'
require 'polyphony/process_watch'
require 'polyphony/condition_variable'
require 'polyphony/fiber_shutdown'
require 'polyphony/signal_exception'
require 'polyphony/thread_idle'
require 'polyphony/raw_buffer'
require 'polyphony/io_buffer_pos'
require 'polyphony/socket_loops'
require 'polyphony/thread_join'
require 'polyphony/backend_io_buffer'
require 'polyphony/fiber_caller'
require 'polyphony/io_chars'
require 'polyphony/kernel_process'
require 'polyphony/timeout_ext'
require 'polyphony/thread_end'
# Ruby's Fiber::Scheduler interface, and Ruby's blocking calls where Ruby
# does not call it (the main fiber).
require 'polyphony/fiber_scheduler'
require 'polyphony/unhooked'
# Adapters Polyphony 1.6 loads by default.
require 'polyphony/adapters/process'
require 'polyphony/adapters/open3'
require 'polyphony/adapters/io_console'
# ... and the IRB one when IRB is loaded first.
require 'polyphony/adapters/irb' if Object.const_defined?(:IRB)
require 'polyphony/io_zlib'
require 'polyphony/fiber_supervise'
require 'polyphony/fiber_await'
require 'polyphony/fiber_restart'
require 'polyphony/monitor'
require 'polyphony/signal_wakers'
require 'polyphony/fork'
require 'polyphony/openssl' if defined?(OpenSSL::SSL)
Polyphony.__deadlock_setup(__dir__)

# When the main fiber ends, so do its children, as in Polyphony.
at_exit do
  main = Thread.current.main_fiber
  main.shutdown_all_children if Fiber.current == main && !main.children.empty?
end
