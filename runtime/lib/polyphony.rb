# frozen_string_literal: true

# Entry point of the PolyTrace fiber runtime: `require 'polyphony'`.
# Scheduling, switching, mailboxes, timers, the fiber lock, hooks and I/O
# waits are C (polyphony_ext); the files below only compose them into the
# rest of Polyphony's API.
require 'polyphony_ext'
require 'polyphony/global_api'
require 'polyphony/timer'
require 'polyphony/socket'
require 'polyphony/io_lines'
# Issue 5: sync primitives, thread pool, the rest of the I/O surface.
require 'polyphony/mutex'
require 'polyphony/thread_pool'
require 'polyphony/io_surface'
require 'polyphony/socket_ext'

# When the main fiber ends, so do its children, as in Polyphony.
at_exit do
  main = Thread.current.main_fiber
  main.shutdown_all_children if Fiber.current == main && !main.children.empty?
end
