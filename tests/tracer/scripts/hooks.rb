# Prints how many global event hooks are on while breakpoints are set.
class Worker
  def work(n)
    n + 1
  end
end
Worker.new.work(1)
puts "global hooks: #{TracePoint.stat.values.first[0]}"
