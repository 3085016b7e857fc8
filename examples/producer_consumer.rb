# frozen_string_literal: true

# Producers and a consumer on the PolyTrace runtime, talking through fiber
# mailboxes: three producers send numbered items at their own pace (sleep),
# the consumer receives them, and a watchdog gives up with move_on_after if
# it takes too long.
#
#   RUBYLIB=build/lib ruby examples/producer_consumer.rb
require 'polyphony'

ITEMS = 5

consumer = spin(:consumer) do
  received = Hash.new { |h, k| h[k] = [] }
  done = 0
  while done < 3
    kind, producer, item = receive
    if kind == :done
      done += 1
    else
      received[producer] << item
    end
  end
  received
end

producers = %i[fast medium slow].each_with_index.map do |name, i|
  spin(name) do
    ITEMS.times do |n|
      sleep 0.001 * (i + 1)
      consumer << [:item, name, n]
    end
    consumer << [:done, name]
  end
end

result = move_on_after(5, with_value: :timeout) { consumer.await }
abort 'producer/consumer timed out' if result == :timeout
Fiber.await(*producers)

result.each do |producer, items|
  raise "#{producer} lost items: #{items}" unless items == (0...ITEMS).to_a

  puts "#{producer}: #{items.join(' ')}"
end
puts "consumer got #{result.values.sum(&:size)} items from #{result.size} producers"
