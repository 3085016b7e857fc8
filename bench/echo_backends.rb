# frozen_string_literal: true

# bench/echo_backends.rb — TCP echo with 100 connections, once per backend,
# and the io_uring/libev ratio. Run with `make bench-backends`; it is a
# benchmark, never a timed test.
#
# The parent runs itself as a child per backend (POLYPHONY_BACKEND=...); a
# child serves echo with accept_loop/read_loop and drives CONNECTIONS client
# fibers doing ROUNDS request/reply round trips each, then prints its rate.

require 'rbconfig'

CONNECTIONS = Integer(ENV.fetch('BENCH_CONNECTIONS', '100'))
ROUNDS = Integer(ENV.fetch('BENCH_ROUNDS', '2000'))
MESSAGE = 'x' * 64

def child
  require 'polyphony'
  require 'socket'

  server = TCPServer.new('127.0.0.1', 0)
  port = server.addr[1]
  acceptor = spin do
    server.accept_loop do |conn|
      spin do
        conn.read_loop { |data| conn.write(data) }
      rescue SystemCallError
        nil
      ensure
        conn.close
      end
    end
  end

  started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  clients = Array.new(CONNECTIONS) do
    spin do
      sock = TCPSocket.new('127.0.0.1', port)
      ROUNDS.times do
        sock.write(MESSAGE)
        got = +''
        got << sock.readpartial(MESSAGE.bytesize - got.bytesize) while got.bytesize < MESSAGE.bytesize
      end
      sock.close
    end
  end
  clients.each(&:await)
  elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
  acceptor.stop
  puts format('%<b>s %<rate>.0f', b: Polyphony.backend, rate: CONNECTIONS * ROUNDS / elapsed)
end

def parent
  libdir = File.expand_path(File.join(ENV.fetch('BUILD', 'build'), 'lib'), File.join(__dir__, '..'))
  rates = {}
  %w[libev io_uring].each do |backend|
    env = { 'POLYPHONY_BACKEND' => backend, 'RUBYLIB' => libdir }
    out = IO.popen(env, [RbConfig.ruby, __FILE__, '--child'], &:read)
    kind, rate = out.split
    abort "echo_backends: #{backend} run failed: #{out.inspect}" unless rate
    warn "echo_backends: asked for #{backend}, ran on #{kind}" unless kind == backend
    rates[backend] = rate.to_f
    puts format('%-9<b>s %<rate>10.0f round trips/s (%<c>d connections x %<r>d)',
                b: backend, rate: rate.to_f, c: CONNECTIONS, r: ROUNDS)
  end
  puts format('io_uring/libev ratio: %.2f', rates['io_uring'] / rates['libev'])
end

ARGV.first == '--child' ? child : parent
