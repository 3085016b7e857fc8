# raises.rb — exceptions of several kinds, each rescued: a user error, a
# StopIteration ended by `loop`, the runtime's MoveOn from move_on_after,
# and a Polyphony::Cancel. Prints "raises done" at the end.
require 'polyphony'

class AppError < StandardError; end
class DeepError < AppError; end

def fail_app
  raise DeepError, 'deep trouble' # @raise_deep
end

loop { raise StopIteration }
move_on_after(0.01) { sleep 1 }
begin
  cancel_after(0.01) { sleep 1 }
rescue Polyphony::Cancel
  nil
end
begin
  fail_app
rescue AppError
  nil
end
begin
  Integer('zz') # @raise_arg
rescue ArgumentError
  nil
end
puts 'raises done'
