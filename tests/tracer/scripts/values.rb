# The values test_vars.rb looks at: locals of every kind, an object with
# instance variables, a struct, a long array, a hash, and a loop that reads
# a local back (so an assignment from the debugger shows in the output).
Point = Struct.new(:x, :y)

class Box
  def initialize
    @label = 'box'
    @items = [1, 2]
  end

  def open(n)
    hidden = n * 2
    hidden + @items.size # line 14: stop here
  end
end

$pt_global = :set
count = 3
list = (1..250).to_a
table = { 'a' => 1, b: [2, 3] }
point = Point.new(1, 2)
box = Box.new
box.open(count) # line 24
puts "count=#{count} list=#{list.size} table=#{table.size} point=#{point.x}"
