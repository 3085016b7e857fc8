# frozen_string_literal: true

# tests/lib/pt_wire.rb — the controller's side of the PolyTrace wire protocol,
# in Ruby, for tests that drive the tracer directly.
#
# The wire format is the one protocol/pt_proto.h describes: a stream of
# msgpack maps with string keys, "type" a number, "id" on requests and
# replies, the other keys the struct fields. PtWire::Debuggee starts a Ruby
# program with the tracer preloaded (RUBYOPT=-rpolytrace) and
# POLYTRACE_SOCKET pointing at a socket the test listens on, accepts its
# connection and shakes hands; PtWire::Conn sends requests and reads replies
# and events with deadlines, never sleeping to synchronise.
require 'fileutils'
require 'msgpack'
require 'rbconfig'
require 'socket'
require 'tmpdir'
require_relative 'pt_proc'

module PtWire
  VERSION = 1
  TYPES = {
    hello: 1,
    continue: 16, step: 17, skip: 18, up: 19, pause: 20, switch: 21, fibers: 22,
    backtrace: 23, eval: 24, source: 25, break: 26, delete: 27, breakpoints: 28,
    trace_ops: 29, set: 30, detach: 31, kill: 32, dump: 33, vars: 34, setvar: 35, runqueue: 36, stats: 37,
    ok: 64, error: 65, fiber_info: 66, fibers_reply: 67, frames: 68, value: 69,
    lines: 70, breakpoint: 71, breakpoints_reply: 72, dump_reply: 73, vars_reply: 74,
    stats_reply: 75,
    stopped: 96, running: 97, fiber_event: 98, op: 99, output: 100, exited: 101,
    forked: 102
  }.freeze
  NAMES = TYPES.invert.freeze
  ERR = { version: 1, bad_request: 2, unknown_type: 3, no_fiber: 4, not_stopped: 5,
          eval: 6, no_breakpoint: 7, bad_location: 8, bad_setting: 9, internal: 10,
          busy: 11, auth: 12 }.freeze

  # Every field a request carries (the decoder wants them all).
  DEFAULTS = {
    step: { fiber: 0 }, skip: { fiber: 0 }, up: { fiber: 0 }, switch: { fiber: 0 },
    fibers: { limit: 0 }, backtrace: { fiber: 0, limit: 0 },
    eval: { fiber: 0, frame: 0 }, source: { first: 1, last: 1 },
    break: { file: nil, line: 0, method: nil, cond: nil, fiber: 0 },
    trace_ops: { fiber: 0 },
    vars: { fiber: 0, frame: 0, scope: '', ref: 0, expr: nil, start: 0, count: 0 },
    setvar: { fiber: 0, frame: 0, scope: '', ref: 0 }
  }.freeze

  class Timeout < StandardError; end

  # One connection to a tracer.
  class Conn
    attr_reader :sock, :events
    attr_accessor :hello

    def initialize(sock)
      @sock = sock
      @unpacker = MessagePack::Unpacker.new
      @events = []
      @next_id = 0
    end

    def write_raw(bytes)
      @sock.write(bytes)
    end

    def send_msg(type, fields = {})
      msg = { 'type' => type.is_a?(Integer) ? type : TYPES.fetch(type) }
      fields.each { |k, v| msg[k.to_s] = v }
      write_raw(MessagePack.pack(msg))
    end

    # The next message (type as a Symbol under :type), nil on EOF.
    def read(timeout = 10)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      loop do
        @unpacker.each do |obj|
          obj['type'] = NAMES.fetch(obj['type'], obj['type']) if obj.is_a?(Hash)
          return obj
        end
        left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
        raise Timeout, "no message within #{timeout}s" if left <= 0
        next unless IO.select([@sock], nil, nil, left)

        chunk = begin
          @sock.read_nonblock(65_536)
        rescue EOFError, Errno::ECONNRESET
          return nil
        rescue IO::WaitReadable
          next
        end
        @unpacker.feed(chunk)
      end
    end

    # Sends a request and returns its reply; events read meanwhile are kept.
    def request(type, **fields)
      timeout = fields.delete(:timeout) || 10
      id = (@next_id += 1)
      send_msg(type, DEFAULTS.fetch(type, {}).merge(fields).merge(id: id))
      reply_to(id, timeout)
    end

    def reply_to(id, timeout = 10)
      loop do
        msg = read(timeout) or raise EOFError, "connection closed awaiting reply #{id}"
        return msg if msg['id'] == id && !%i[stopped running output op fiber_event exited forked].include?(msg['type'])

        @events << msg
      end
    end

    # The next event of the given type (others before it are dropped but kept
    # in #seen); nil on EOF.
    def wait_event(type, timeout: 10)
      @seen ||= []
      loop do
        msg = @events.shift || read(timeout)
        return nil unless msg

        @seen << msg
        return msg if msg['type'] == type
      end
    end

    def seen
      @seen || []
    end

    def close
      @sock.close unless @sock.closed?
    end
  end

  # A Ruby program under the tracer, with its output collected.
  class Debuggee
    attr_reader :pid, :conn, :hello, :dir

    ROOT = File.expand_path('../..', __dir__)
    BUILD = ENV.fetch('PT_BUILD', File.join(ROOT, 'build'))

    def self.ruby_env(extra = {})
      libs = [File.join(BUILD, 'lib'), ENV.fetch('RUBYLIB', nil)].compact.join(':')
      { 'RUBYLIB' => libs, 'RUBYOPT' => '-rpolytrace' }.merge(extra)
    end

    # Starts script (a path) with args; with connect: false no socket is
    # given (plain RUBYOPT=-rpolytrace). handshake: false leaves the HELLO
    # exchange to the test.
    # follow_fork: the HELLO's follow_fork ("all", "parent", "child"; nil:
    # none, as a controller that follows no children).
    def initialize(script, *args, env: {}, connect: true, handshake: true, nonstop: false,
                   follow_fork: nil)
      @follow_fork = follow_fork
      @dir = Dir.mktmpdir('pt-test')
      File.chmod(0o700, @dir)
      env = self.class.ruby_env(env)
      env['POLYTRACE_NONSTOP'] = '1' if nonstop
      env['XDG_RUNTIME_DIR'] = @dir
      if connect
        path = File.join(@dir, 'ctl.sock')
        @server = UNIXServer.new(path)
        env['POLYTRACE_SOCKET'] = path
      end
      @out_r, out_w = IO.pipe
      @err_r, err_w = IO.pipe
      @pid = Process.spawn(env, RbConfig.ruby, script, *args, out: out_w, err: err_w, in: File::NULL)
      out_w.close
      err_w.close
      @out = +''
      @err = +''
      @mutex = Mutex.new
      @grew = ConditionVariable.new
      @readers = [collect(@out_r, @out), collect(@err_r, @err)]
      return unless connect

      accept
      handshake_now if handshake
    end

    def collect(io, into)
      Thread.new do
        loop do
          chunk = io.readpartial(65_536)
          @mutex.synchronize do
            into << chunk
            @grew.broadcast
          end
        end
      rescue EOFError, IOError
        @mutex.synchronize { @grew.broadcast }
      end
    end

    # Waits until the program's stdout (or stderr) matches pattern: its
    # output is the event; raises Timeout after timeout seconds.
    def wait_stdout(pattern, timeout = 10, text = @out)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      @mutex.synchronize do
        until text.match?(pattern)
          left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
          raise Timeout, "output never matched #{pattern.inspect}: #{text.inspect}" if left <= 0

          @grew.wait(@mutex, left)
        end
      end
    end

    def wait_stderr(pattern, timeout = 10)
      wait_stdout(pattern, timeout, @err)
    end

    # Waits until the program's main thread sleeps in the event loop's wait
    # (its state and system call in /proc). Output alone is not that: the
    # program is still in the call that printed it, or on the lines after;
    # nor is any sleep (a write that waits, a lock).
    def wait_idle(timeout = 10)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      loop do
        state, _, call = PtProc.thread(@pid)
        return if state == 'S' && PtProc::LOOP_WAITS.include?(call)
        raise Timeout, 'the program never waited' if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        IO.select(nil, nil, nil, 0.01) # a thread's state has no event to wait on
      end
    end

    # Attaches as `polytrace attach` does: SIGURG, then connect to
    # <dir>/polytrace/<pid>.sock once the tracer listens there, and shake
    # hands. Returns the Conn (its #hello holds the tracer's HELLO).
    def attach(timeout = 10)
      @conn = attach_to(@pid, timeout)
    end

    # The same for another process of the same user (a forked child), which
    # shares our socket directory. Returns a Conn; its #hello is set.
    def attach_to(pid, timeout = 10)
      Process.kill('URG', pid)
      path = File.join(@dir, 'polytrace', "#{pid}.sock")
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      begin
        sock = UNIXSocket.new(path)
      rescue Errno::ENOENT, Errno::ECONNREFUSED
        raise Timeout, 'the tracer never listened' if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        IO.select(nil, nil, nil, 0.01) # a socket file appearing has no event to wait on
        retry
      end
      conn = Conn.new(sock)
      conn.hello = conn.read
      @hello = conn.hello if pid == @pid
      conn.send_msg(:hello, version: VERSION, pid: Process.pid, ruby_version: '', backend: '',
                            argv: [], program: '', attached: true, follow_fork: @follow_fork)
      conn
    end

    def accept(timeout = 20)
      raise Timeout, 'the debuggee did not connect' unless IO.select([@server], nil, nil, timeout)

      @conn = Conn.new(@server.accept)
    end

    def handshake_now(version: VERSION)
      @hello = @conn.read
      @conn.send_msg(:hello, version: version, pid: Process.pid, ruby_version: '', backend: '',
                             argv: [], program: '', attached: false, follow_fork: @follow_fork)
      @hello
    end

    # Exit status (Process::Status), waiting at most timeout seconds: the
    # end of its output, then the exit itself.
    def wait(timeout = 20)
      return @status if @status

      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      @readers.each do |t|
        left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
        raise Timeout, "debuggee #{@pid} still running after #{timeout}s" unless t.join([left, 0].max)
      end
      _, @status = Process.wait2(@pid)
      @status
    end

    def stdout
      @readers[0].join if @status
      @out
    end

    def stderr
      @readers[1].join if @status
      @err
    end

    # Stops reading the program's stdout and stderr: its writes then find no
    # reader, as when the controller holding its pipes died.
    def close_stdout
      [@out_r, @err_r].each { |io| io.close unless io.closed? }
      @readers.each(&:join)
    end

    def close
      Process.kill('KILL', @pid) unless @status
      wait(5) unless @status
    rescue Errno::ESRCH, Timeout
      nil
    ensure
      @conn&.close
      @server&.close
      FileUtils.rm_rf(@dir) if @dir
    end
  end

  # Included by a test class whose SCRIPT runs under the tracer before each
  # test, stopped at its entry line: @d is the debuggee, @c its connection.
  module AtEntry
    def setup
      @d = PtWire::Debuggee.new(self.class::SCRIPT)
      @c = @d.conn
      assert_equal 'entry', @c.read['reason']
    end

    def teardown
      @d.close
    end
  end
end
