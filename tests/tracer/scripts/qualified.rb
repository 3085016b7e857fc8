# qualified.rb — a block inside an instance method called from a class
# method called from a top-level method: every frame has a qualified name.
class Counter
  def self.make
    new.tap(&:bump)
  end

  def bump
    [1].each do
      @n = 1 # @inner
    end
  end
end

def top
  Counter.make
end

top
