# frozen_string_literal: true

# Polyphony::ResourcePool (Polyphony 1.6): at most `limit` resources made by
# the allocator block on demand, lent to one fiber at a time. A fiber that
# already holds one gets the same one again (re-entrant). Calling another
# method on the pool runs it on an acquired resource.
module Polyphony
  class ResourcePool
    attr_reader :limit, :size

    def initialize(opts = {}, &allocator)
      @allocator = allocator
      @limit = opts[:limit] || 4
      @size = 0
      @stock = Polyphony::Queue.new
      @held = {}
    end

    # Resources made and not lent right now.
    def available
      @stock.size
    end

    def acquire
      fiber = Fiber.current
      return yield @held[fiber] if @held.key?(fiber)

      resource = take
      @held[fiber] = resource
      begin
        yield resource
      ensure
        # discard! removes the entry: the resource is then not returned.
        @stock << resource if @held.delete(fiber) { :discarded } != :discarded
      end
    end

    # The current fiber's resource leaves the pool when its block ends.
    def discard!
      @size -= 1 if @held.delete(Fiber.current) { :none } != :none
      self
    end

    # Takes every resource not lent right now out of the pool (yielding
    # each, if given a block) and returns them; the pool may make new ones.
    def drain
      taken = []
      taken << @stock.shift until @stock.empty?
      @size -= taken.size
      taken.each { |r| yield r } if block_given?
      taken
    end

    # Makes resources until the pool holds `limit`.
    def fill!
      @stock << allocate while @size < @limit
      self
    end
    alias preheat! fill!

    def method_missing(sym, *args, &block)
      acquire { |r| r.__send__(sym, *args, &block) }
    end

    def respond_to_missing?(_sym, _include_all = false)
      true
    end

    private

    def take
      return allocate if @stock.empty? && @size < @limit

      @stock.shift
    end

    def allocate
      @size += 1
      begin
        @allocator.call
      rescue Exception # rubocop:disable Lint/RescueException
        @size -= 1
        raise
      end
    end
  end
end
