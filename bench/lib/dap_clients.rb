# frozen_string_literal: true

# bench/lib/dap_clients.rb — clients that time a step the way an editor
# sees it, for the step-latency benchmark:
#
# DapConn speaks the Debug Adapter Protocol's framing (Content-Length
# headers, JSON bodies) over an IO. PtDapClient runs `polytrace dap` on
# pipes and launches the program through it; RdbgDapClient attaches to
# Ruby's bundled debug gem (1.4) over its remote socket, which speaks DAP
# when the first message is one (`rdbg --open=vscode` makes the same
# socket). Both time `stepIn` from the request leaving to the `stopped`
# event arriving. ReplClient times `step` at the (polytrace) prompt through
# a pseudo-terminal: the line sent to the next prompt, the stop and its
# source lines printed in between (and any other command the same way, for
# the `fibers` benchmark).

require 'json'
require 'pty'
require 'socket'
require 'tmpdir'
require 'fileutils'
require_relative 'debuggee'

module Bench
  class DapFailure < ClientFailure; end

  # Waits up to seconds for pid to end, then kills it.
  def self.reap(pid, seconds)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
    loop do
      return if Process.wait2(pid, Process::WNOHANG)
      break if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.01
    end
    Process.kill('KILL', pid)
    Process.wait(pid)
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  end

  # One DAP conversation over rd/wr.
  class DapConn
    def initialize(rd, wr)
      @rd = rd
      @wr = wr
      @seq = 0
      @buf = +''
      @events = []
    end

    def send_request(command, args = {})
      @seq += 1
      body = JSON.generate({ seq: @seq, type: 'request', command: command, arguments: args })
      @wr.write("Content-Length: #{body.bytesize}\r\n\r\n#{body}")
      @wr.flush
      @seq
    end

    # The response to the request, keeping events for wait_event.
    def request(command, args = {}, timeout = 20)
      seq = send_request(command, args)
      loop do
        m = read_message(timeout)
        if m['type'] == 'response' && m['request_seq'] == seq
          raise DapFailure, "#{command}: #{m['message']}" unless m['success']

          return m
        end
        @events << m if m['type'] == 'event'
      end
    end

    def wait_event(name, timeout = 20)
      if (i = @events.index { |e| e['event'] == name })
        return @events.delete_at(i)
      end

      loop do
        m = read_message(timeout)
        return m if m['type'] == 'event' && m['event'] == name
        raise DapFailure, 'the program ended' if m['type'] == 'event' && m['event'] == 'terminated'
      end
    end

    # Drops events received so far (those an editor would have handled).
    def clear
      @events.clear
    end

    private

    def read_message(timeout)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      loop do
        if (h = @buf.index("\r\n\r\n"))
          len = @buf[0, h][/Content-Length: *(\d+)/i, 1].to_i
          if @buf.bytesize >= h + 4 + len
            body = @buf.byteslice(h + 4, len)
            @buf = @buf.byteslice(h + 4 + len..)
            return JSON.parse(body)
          end
        end
        left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
        raise DapFailure, "no answer within #{timeout}s" if left <= 0 || !IO.select([@rd], nil, nil, left)

        chunk = @rd.read_nonblock(65_536, exception: false)
        raise DapFailure, 'the adapter closed the connection' if chunk.nil?

        @buf << chunk.b unless chunk == :wait_readable
      end
    end
  end

  # Times stepIn through a DAP connection: request sent -> stopped received.
  module DapStepping
    def timed_step(timeout = 20)
      @conn.clear
      started = now
      @conn.send_request('stepIn', threadId: @thread)
      @conn.wait_event('stopped', timeout)
      now - started
    end
  end

  class PtDapClient
    include Debuggee
    include DapStepping

    def initialize(argv, build:, env: {}, err: :err, timeout: 20)
      polytrace = File.join(build, 'bin', 'polytrace')
      raise DapFailure, "#{polytrace} not built" unless File.executable?(polytrace)

      ruby, script, *args = argv
      @in_r, in_w = IO.pipe
      out_r, @out_w = IO.pipe
      @pid = Process.spawn(env, polytrace, 'dap', in: @in_r, out: @out_w, err: err)
      @in_r.close
      @out_w.close
      @conn = DapConn.new(out_r, in_w)
      @conn.request('initialize', adapterID: 'polytrace', linesStartAt1: true, pathFormat: 'path')
      @conn.request('launch', { program: script, args: args, ruby: ruby, stopOnEntry: true }, timeout)
      @conn.request('configurationDone')
      @thread = @conn.wait_event('stopped', timeout).dig('body', 'threadId')
    end

    # The adapter kills the program it launched when told to disconnect
    # (killing the adapter alone would leave the program looping).
    def kill
      @conn.send_request('disconnect', terminateDebuggee: true)
      Bench.reap(@pid, 10)
    rescue IOError, SystemCallError
      Bench.reap(@pid, 0)
    end

    private

    def close; end
  end

  class RdbgDapClient
    include Debuggee
    include DapStepping

    def initialize(argv, env: {}, out: :out, err: :err, timeout: 20)
      require 'debug/version'
      @dir = Dir.mktmpdir('rdbg-dap-bench-')
      path = File.join(@dir, 'rdbg.sock')
      child_env = env.merge(
        'RUBY_DEBUG_SOCK_PATH' => path, 'RUBY_DEBUG_NO_RC' => '1', 'RUBY_DEBUG_NO_COLOR' => '1',
        'RUBYOPT' => ['-rdebug/open', env['RUBYOPT'] || ENV['RUBYOPT']].compact.join(' ')
      )
      @pid = Process.spawn(child_env, *argv, out: out, err: err, in: File::NULL)
      wait_ready(err, timeout)
      @sock = UNIXSocket.new(path)
      @conn = DapConn.new(@sock, @sock)
      @conn.request('initialize', adapterID: 'rdbg', linesStartAt1: true, pathFormat: 'path')
      # attach keeps the program stopped (launch would continue it).
      @conn.request('attach', {})
      @conn.request('configurationDone')
      @thread = @conn.wait_event('stopped', timeout).dig('body', 'threadId') || 1
    end

    private

    # debug 1.4 says on stderr when its socket takes connections.
    def wait_ready(err, timeout)
      raise DapFailure, 'rdbg needs its stderr in a file here' unless err.is_a?(String)

      deadline = now + timeout
      until File.read(err).include?('wait for debugger connection')
        raise DapFailure, 'rdbg never waited for a connection' if now > deadline
        raise DapFailure, 'program ended before rdbg listened' if Process.wait2(@pid, Process::WNOHANG)

        sleep 0.01
      end
    end

    def close
      @sock&.close unless @sock&.closed?
      FileUtils.rm_rf(@dir)
    end
  end

  class ReplClient
    include Debuggee

    PROMPT = '(polytrace) '

    def initialize(argv, build:, env: {}, timeout: 20)
      polytrace = File.join(build, 'bin', 'polytrace')
      raise DapFailure, "#{polytrace} not built" unless File.executable?(polytrace)

      @hist = File.join(Dir.tmpdir, "pt-bench-hist-#{Process.pid}")
      full = env.merge('TERM' => 'dumb', 'INPUTRC' => '/dev/null', 'POLYTRACE_HISTORY' => @hist,
                       'COLUMNS' => '200', 'LINES' => '50')
      @rd, @wr, @pid = PTY.spawn(full, polytrace, '-n', *argv)
      @buf = +''
      wait_prompt(timeout)
    end

    def timed_step(timeout = 20)
      timed_command('step', timeout)
    end

    # Any command: the line sent to the next prompt, in seconds.
    def timed_command(line, timeout = 20)
      started = now
      @wr.write("#{line}\n")
      wait_prompt(timeout)
      now - started
    end

    # `kill` at the prompt ends the program and polytrace with it.
    def kill
      @wr.write("kill\n")
      Bench.reap(@pid, 10)
    rescue IOError, SystemCallError
      Bench.reap(@pid, 0)
    end

    private

    def wait_prompt(timeout)
      deadline = now + timeout
      until @buf.end_with?(PROMPT)
        left = deadline - now
        raise DapFailure, "no prompt within #{timeout}s: #{@buf[-200..]}" if left <= 0 || !IO.select([@rd], nil, nil, left)

        begin
          @buf << @rd.read_nonblock(65_536)
        rescue IO::WaitReadable
          next
        rescue EOFError, Errno::EIO
          raise DapFailure, 'polytrace ended'
        end
        @buf = @buf[-4096..] if @buf.bytesize > 8192
      end
      @buf.clear
    end

    def close
      @rd&.close unless @rd&.closed?
      @wr&.close unless @wr&.closed?
      FileUtils.rm_f(@hist)
    end
  end
end
