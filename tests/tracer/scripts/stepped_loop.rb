# stepped_loop.rb — a loop that allocates nothing itself, through a method
# and a block in it: every object a step makes in this program is the
# debugger's.
class Counter
  def bump(n)
    1.times do
      n += 1 # @block
    end
    n # @method
  end
end

counter = Counter.new
total = 0
loop do
  total = counter.bump(total) # @top
  total = 0 if total > 1_000_000
end
