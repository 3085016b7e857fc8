# frozen_string_literal: true

# bench/lib/pt_client.rb — a minimal PolyTrace controller for the benchmarks.
#
# It plays the controller's side of the launch conversation
# (docs/ARCHITECTURE.md, "Conversation rules"): listen on a Unix socket in a
# private directory, start the program with POLYTRACE_SOCKET and
# RUBYOPT=-rpolytrace, take the tracer's HELLO, answer with ours, then send
# requests (break, trace ops, step, continue) as msgpack maps. Speaking the
# wire protocol directly lets the harness time a step from the request leaving
# to the STOPPED event arriving, with no REPL or terminal in between.

require 'msgpack'
require 'socket'
require 'tmpdir'
require 'fileutils'
require_relative 'debuggee'

module Bench
  class PtClient
    # Wire values of enum pt_msg_type (protocol/pt_proto.h).
    HELLO = 1
    REQ = { continue: 16, step: 17, skip: 18, up: 19, pause: 20, fibers: 22,
            break: 26, trace_ops: 29, set: 30, detach: 31, kill: 32, watch: 38 }.freeze
    REP_OK = 64
    REP_ERROR = 65
    EV_STOPPED = 96
    EV_RUNNING = 97
    EV_OP = 99
    EV_OUTPUT = 100
    EV_EXITED = 101
    PROTO_VERSION = 1

    class Failure < ClientFailure; end

    include Debuggee

    attr_reader :hello, :events_seen, :ops_seen, :ops_dropped

    # Starts argv with the tracer preloaded. env: extra environment; out:
    # where the program's stdout goes (an IO or a path).
    def initialize(argv, build:, env: {}, nonstop: false, out: :out, err: :err, timeout: 20)
      @dir = Dir.mktmpdir('pt-bench-')
      FileUtils.chmod(0o700, @dir)
      @path = File.join(@dir, "ctl-#{Process.pid}.sock")
      @server = UNIXServer.new(@path)
      @unpacker = MessagePack::Unpacker.new
      @inbox = []
      @next_id = 0
      @events_seen = 0
      @ops_seen = 0
      @ops_dropped = 0 # op events the tracer dropped because this client fell behind
      libdir = File.join(build, 'lib')
      child_env = env.merge(
        'POLYTRACE_SOCKET' => @path,
        'RUBYOPT' => ['-rpolytrace', env['RUBYOPT'] || ENV['RUBYOPT']].compact.join(' '),
        'RUBYLIB' => [libdir, env['RUBYLIB'] || ENV['RUBYLIB']].compact.join(':')
      )
      child_env['POLYTRACE_NONSTOP'] = '1' if nonstop
      @pid = Process.spawn(child_env, *argv, out: out, err: err, in: File::NULL)
      connect(timeout)
    end

    # Waits for the tracer, exchanges HELLOs and, unless nonstop, the entry stop.
    def connect(timeout)
      ready = IO.select([@server], nil, nil, timeout)
      unless ready
        status = Process.wait2(@pid, Process::WNOHANG)&.last
        raise Failure, status ? "program ended (#{status}) without connecting" : 'tracer never connected'
      end
      @sock = @server.accept
      @hello = next_message(timeout)
      raise Failure, "first message is not HELLO: #{@hello.inspect}" unless @hello['type'] == HELLO

      send_msg('type' => HELLO, 'version' => PROTO_VERSION, 'pid' => Process.pid,
               'ruby_version' => '', 'backend' => '', 'argv' => [], 'program' => '',
               'attached' => false)
    end

    def wait_stopped(timeout = 20)
      loop do
        msg = next_message(timeout)
        case msg['type']
        when EV_STOPPED then return msg
        when EV_EXITED then raise Failure, 'program exited instead of stopping'
        when REP_ERROR then raise Failure, "error: #{msg['message']}"
        end
      end
    end

    # Sends a request and returns its reply (events before it are counted).
    def request(kind, fields = {}, timeout = 20)
      id = (@next_id += 1)
      send_msg(fields.merge('type' => REQ.fetch(kind), 'id' => id))
      loop do
        msg = next_message(timeout)
        next unless msg['id'] == id && msg['type'] >= REP_OK && msg['type'] < EV_STOPPED

        raise Failure, "#{kind}: #{msg['message']} (code #{msg['code']})" if msg['type'] == REP_ERROR

        return msg
      end
    end

    def break_at(file, line)
      request(:break, 'file' => file, 'line' => line, 'method' => nil, 'cond' => nil, 'fiber' => 0)
    end

    def trace_ops(on)
      request(:trace_ops, 'on' => on, 'fiber' => 0)
    end

    # A watchpoint on expr, made in the stopped frame.
    def watch(expr)
      request(:watch, 'expr' => expr, 'frame' => 0)
    end

    # A tracer setting, e.g. set('hog', '50ms').
    def set(name, value)
      request(:set, 'name' => name, 'value' => value)
    end

    # One step of the stopped fiber: seconds from sending STEP to STOPPED.
    def timed_step(timeout = 20)
      started = now
      request(:step, 'fiber' => 0)
      wait_stopped(timeout)
      now - started
    end

    # Continues and keeps reading events (OP events when trace ops is on) on a
    # thread until the program exits, as an attached controller would.
    def continue_and_drain
      request(:continue)
      drain
    end

    # Reads events on a thread until the program exits (--nonstop: at once).
    def drain
      @drain = Thread.new do
        loop do
          msg = next_message(nil)
          break if msg.nil? || msg['type'] == EV_EXITED
        rescue Failure, IOError, SystemCallError
          break
        end
      end
    end

    def close
      @sock&.close unless @sock&.closed?
      @server.close unless @server.closed?
      FileUtils.rm_rf(@dir)
    end

    private

    def send_msg(hash)
      @sock.write(MessagePack.pack(hash))
    end

    # The next decoded message; nil at end of stream when timeout is nil.
    def next_message(timeout)
      while @inbox.empty?
        if timeout && !IO.select([@sock], nil, nil, timeout)
          raise Failure, "no message from the tracer within #{timeout}s"
        end

        data = @sock.readpartial(65_536)
        @unpacker.feed_each(data) { |obj| @inbox << obj }
      end
      msg = @inbox.shift
      @events_seen += 1
      @ops_seen += 1 if msg.is_a?(Hash) && msg['type'] == EV_OP
      if msg.is_a?(Hash) && msg['type'] == EV_OUTPUT && (n = msg['text'].to_s[/(\d+) op events dropped/, 1])
        @ops_dropped += Integer(n)
      end
      raise Failure, "not a map: #{msg.inspect}" unless msg.is_a?(Hash)

      msg
    rescue EOFError
      raise Failure, 'tracer closed the connection' if timeout

      nil
    end
  end
end
