# frozen_string_literal: true

# One process of tests/compat/polyphony_suite: loads one of Polyphony's test
# files with our helper standing in for its helper.rb, then runs the file's
# tests one at a time, in name order, reporting each on file descriptor 3 as
# a line of JSON:
#
#   {"event":"backend","kind":"libev"}            the backend actually in use
#   {"event":"list","tests":["Class#test_x",...]}  every test of the file
#   {"event":"start","test":"Class#test_x"}
#   {"event":"result","test":"...","status":"pass|fail|error|skip","message":"..."}
#
# Usage: ruby child.rb TEST_FILE [DONE_TEST ...]   (tests already reported,
# given when the suite restarts the file after a hang or a crash, are not run)
#
# The report goes out with syswrite, beneath the runtime's fiber-aware IO, so
# that a test that broke the scheduler cannot keep its result from the suite.

require 'json'

REPORT = IO.new(3, 'w')
SUITE_PID = Process.pid

# A test's forked child that gets out of its block would carry on running the
# suite here: it must neither report nor run anything.
def report(hash)
  exit!(1) unless Process.pid == SUITE_PID
  REPORT.syswrite("#{JSON.generate(hash)}\n")
end

file = File.expand_path(ARGV.shift)
done = ARGV.to_h { |name| [name, true] }
test_dir = File.dirname(file)
ENV['PT_COMPAT_TEST_DIR'] = test_dir

require_relative 'helper'

# The file's `require_relative 'helper'` must find ours already loaded.
their_helper = File.join(test_dir, 'helper.rb')
[their_helper, (File.realpath(their_helper) rescue nil)].compact.uniq.each do |path| # rubocop:disable Style/RescueModifier
  $LOADED_FEATURES << path
end

report(event: 'backend', kind: Thread.current.backend.kind.to_s)

load file

Minitest.seed ||= 0 # runnable_methods shuffles with it; the order is ours anyway
tests = Minitest::Runnable.runnables.flat_map do |klass|
  klass.runnable_methods.sort.map { |name| [klass, name] }
end
report(event: 'list', tests: tests.map { |klass, name| "#{klass}##{name}" })

def first_line(text, limit = 300)
  line = text.to_s.lines.map(&:strip).find { |l| !l.empty? }.to_s
  line.size > limit ? "#{line[0, limit]}..." : line
end

tests.each do |klass, name|
  id = "#{klass}##{name}"
  next if done[id]

  report(event: 'start', test: id)
  $stdout.puts "== #{id}"
  result = Minitest.run_one_method(klass, name)
  failure = result.failure
  status, message =
    if result.passed? then ['pass', nil]
    elsif result.skipped? then ['skip', first_line(failure.message)]
    elsif failure.is_a?(Minitest::UnexpectedError)
      err = failure.error
      ['error', first_line("#{err.class}: #{err.message}")]
    else ['fail', first_line(failure.message)]
    end
  if failure && !result.passed?
    $stdout.puts failure.respond_to?(:error) ? failure.error.full_message(highlight: false) : failure.message
    $stdout.puts failure.location rescue nil # rubocop:disable Style/RescueModifier
  end
  $stdout.flush
  report(event: 'result', test: id, status: status, message: message)
end

# Skip at_exit handlers (minitest's autorun, if a file asked for it, would
# run everything again).
$stdout.flush
$stderr.flush
exit!(0)
