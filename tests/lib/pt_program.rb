# frozen_string_literal: true

# Runs a Ruby program given as source in a child process, for tests whose
# cases must each be a program of their own (a hang, a deadlock, a signal
# handled at the wrong moment). A program that does not end within the
# deadline is killed and fails the test case instead of stalling the suite.
require 'open3'
require 'rbconfig'

module PtProgram
  # Runs `ruby [args] -e script` with env in chdir; returns [stdout, stderr,
  # status]. hung: what the failure says when the deadline passes.
  def run_ruby_program(script, deadline:, hung: 'the program hung', env: {}, args: [], chdir: Dir.pwd)
    Open3.popen3(env, RbConfig.ruby, *args, '-e', script, chdir: chdir) do |stdin, out, err, thread|
      stdin.close
      reader = Thread.new { [out.read, err.read] }
      unless thread.join(deadline)
        Process.kill('KILL', thread.pid)
        flunk "#{hung}:\n#{script}"
      end
      o, e = reader.value
      [o, e, thread.value]
    end
  end
end
