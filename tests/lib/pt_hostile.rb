# frozen_string_literal: true

# tests/lib/pt_hostile.rb — bad clients of a tracer's attach socket, for
# tests that check a running program shrugs them off: each one signals the
# program (SIGURG, as `polytrace attach` does), connects to
# <dir>/polytrace/<pid>.sock, and then misbehaves in its own way. A client
# returns what it saw: :error (an ERROR message), :closed (EOF or reset),
# :timeout (neither within its deadline) or :refused (it never got in).
require 'msgpack'
require 'pt_wire'
require 'securerandom'
require 'socket'

module PtHostile
  HELLO_FIELDS = { 'pid' => Process.pid, 'ruby_version' => '', 'backend' => '', 'argv' => [],
                   'program' => '', 'attached' => true }.freeze

  def self.hello(version = PtWire::VERSION)
    MessagePack.pack({ 'type' => PtWire::TYPES[:hello], 'version' => version }.merge(HELLO_FIELDS))
  end

  # Payloads written after the tracer's hello, by kind; each a String of bytes.
  PAYLOADS = {
    garbage: -> { 'garbage!'.b },
    random: -> { SecureRandom.random_bytes(1 + SecureRandom.random_number(4096)) },
    huge_array: -> { "\xdd\xff\xff\xff\xff".b },
    huge_map: -> { "\xdf\xff\xff\xff\xff".b },
    huge_bin: -> { "\xc6\xff\xff\xff\xff".b },
    huge_str: -> { "\xdb\xff\xff\xff\xff".b },
    wrong_type: lambda {
      [42, 'hello', [1, 2], nil, { 'type' => 'hello' }, { 'type' => 1, 'version' => 'one' },
       { 'type' => PtWire::TYPES[:continue], 'id' => 1 }].sample.to_msgpack
    },
    repeated: -> { MessagePack.pack({ 'type' => PtWire::TYPES[:continue], 'id' => 1 }) * 1000 },
    wrong_version: -> { hello(99) },
    truncated: -> { hello.byteslice(0, hello.bytesize / 2) },
    nothing: -> { ''.b }
  }.freeze

  # The socket a tracer listens on after SIGURG.
  def self.sock_path(debuggee)
    File.join(debuggee.dir, 'polytrace', "#{debuggee.pid}.sock")
  end

  def self.now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # SIGURG, then a connection once the socket is there (nil if it never is).
  def self.connect(debuggee, timeout: 5, signal: true)
    Process.kill('URG', debuggee.pid) if signal
    deadline = now + timeout
    begin
      UNIXSocket.new(sock_path(debuggee))
    rescue Errno::ENOENT, Errno::ECONNREFUSED, Errno::EAGAIN
      return nil if now > deadline

      IO.select(nil, nil, nil, 0.01) # a socket file appearing has no event to wait on
      retry
    end
  end

  # Reads one msgpack message (a Hash with :type), :closed or :timeout.
  def self.read_msg(sock, unpacker, timeout)
    deadline = now + timeout
    loop do
      unpacker.each { |obj| return obj }
      left = deadline - now
      return :timeout if left <= 0
      next unless IO.select([sock], nil, nil, left)

      begin
        unpacker.feed(sock.read_nonblock(65_536))
      rescue IO::WaitReadable
        next
      rescue EOFError, Errno::ECONNRESET, IOError
        return :closed
      end
    end
  end

  # What the tracer answers after bytes: :error, :closed or :timeout.
  def self.outcome(msg)
    return msg if msg.is_a?(Symbol)

    msg.is_a?(Hash) && msg['type'] == PtWire::TYPES[:error] ? :error : :unexpected
  end

  # One bad client of the given kind (a key of PAYLOADS, or :signal_only,
  # :connect_close, :slow). timeout bounds each wait.
  def self.run(debuggee, kind, timeout: 10)
    return Process.kill('URG', debuggee.pid) && :signalled if kind == :signal_only

    sock = connect(debuggee, timeout: timeout) or return :refused
    begin
      return :closed if kind == :connect_close

      unpacker = MessagePack::Unpacker.new
      first = read_msg(sock, unpacker, timeout)
      return outcome(first) unless first.is_a?(Hash) && first['type'] == PtWire::TYPES[:hello]
      return slow(sock, unpacker, timeout) if kind == :slow

      bytes = PAYLOADS.fetch(kind).call
      begin
        sock.write(bytes) unless bytes.empty?
      rescue Errno::EPIPE, Errno::ECONNRESET
        return :closed
      end
      return :closed if kind == :truncated # and vanish mid-message

      outcome(read_msg(sock, unpacker, timeout))
    ensure
      sock.close
    end
  end

  # A valid hello, one byte every 0.25 s, until the tracer gives up on it.
  def self.slow(sock, unpacker, timeout)
    hello.each_byte do |b|
      sock.write(b.chr)
      r = read_msg(sock, unpacker, 0.25)
      return outcome(r) unless r == :timeout
    rescue Errno::EPIPE, Errno::ECONNRESET
      return :closed
    end
    outcome(read_msg(sock, unpacker, timeout))
  end

  # The burst: kinds in random order, `threads` clients at a time; returns
  # {kind => [outcomes]}.
  def self.burst(debuggee, plan, threads: 8, timeout: 10)
    queue = Queue.new
    plan.flat_map { |kind, n| [kind] * n }.shuffle.each { |k| queue << k }
    seen = Hash.new { |h, k| h[k] = [] }
    lock = Mutex.new
    Array.new(threads) do
      Thread.new do
        while (kind = (queue.pop(true) rescue nil)) # rubocop:disable Style/RescueModifier
          r = run(debuggee, kind, timeout: timeout)
          lock.synchronize { seen[kind] << r }
        end
      end
    end.each(&:join)
    seen
  end
end
