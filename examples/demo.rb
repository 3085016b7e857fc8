# frozen_string_literal: true

# demo.rb — the example `make demo` debugs: a producer hands jobs to two
# workers through their mailboxes while a ticker prints the time. Runs for a
# few seconds and exits 0 on its own. Try: break, fibers, switch, skip.
require 'polyphony'

def work(name, job)
  result = job * job
  sleep 0.05
  "#{name} squared #{job} = #{result}"
end

def worker(name)
  loop do
    job = receive
    break if job == :stop

    puts work(name, job)
  end
  puts "#{name} done"
end

ticker = spin do
  Fiber.current.tag = :ticker
  5.times do |i|
    sleep 0.5
    puts "tick #{i + 1}"
  end
end

workers = %i[worker_a worker_b].map do |name|
  spin do
    Fiber.current.tag = name
    worker(name)
  end
end

producer = spin do
  Fiber.current.tag = :producer
  (1..10).each do |job|
    workers[job % 2] << job
    sleep 0.2
  end
  workers.each { |w| w << :stop }
end

producer.await
workers.each(&:await)
ticker.await
puts 'demo finished'
