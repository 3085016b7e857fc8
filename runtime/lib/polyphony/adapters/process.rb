# frozen_string_literal: true

# polyphony/adapters/process (loaded by `require 'polyphony'`, as in
# Polyphony 1.6): Polyphony::Process.watch runs a command or a forked block
# and waits for it in the calling fiber (Polyphony.watch_process);
# Polyphony::Process.kill_process(pid) sends TERM, waits for the child in
# the calling fiber, and sends KILL if it is still there after 5 seconds.
require 'polyphony/process_watch'

module Polyphony
  module Process
    def self.watch(cmd = nil, &block)
      Polyphony.watch_process(cmd, &block)
    end

    def self.kill_process(pid)
      Polyphony.kill_and_reap(pid)
    end
  end
end
