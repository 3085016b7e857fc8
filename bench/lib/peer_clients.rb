# frozen_string_literal: true

# bench/lib/peer_clients.rb — remote-mode clients for the peer debuggers.
#
# RdbgClient drives Ruby's bundled debug gem (1.4) through its remote socket:
# the program runs under `ruby -rdebug/open` (it stops at the first line of
# the script and waits for a client), we send the greeting, then commands as
# "command PID WIDTH LINE" whenever the debuggee asks with "input PID".
#
# ByebugClient drives Debian's byebug through Byebug.start_server (see
# byebug_boot.rb): the program stops at its first line, the server sends
# "PROMPT (byebug)" lines and reads one command per line.
#
# Both do what PtClient does for PolyTrace: stop at entry, set breakpoints,
# continue, keep the connection open (answering any later prompt with
# "continue") until the program exits; or time single steps.

require 'socket'
require 'tmpdir'
require 'fileutils'
require_relative 'debuggee'

module Bench
  class PeerFailure < ClientFailure; end

  # Common to the line-protocol peers: a reader with a deadline, connecting
  # while the debugger starts, and the commands built on each peer's own
  # `command` (send one line, wait for the next prompt).
  class LineClient
    include Debuggee

    def break_at(file, line)
      command("break #{file}:#{line}")
    end

    def timed_step(timeout = 20)
      started = now
      command('step', timeout)
      now - started
    end

    private

    def read_line(timeout)
      raise PeerFailure, "no answer within #{timeout}s" if timeout && !IO.select([@sock], nil, nil, timeout)

      @sock.gets
    end

    def connect_retry(timeout)
      deadline = now + timeout
      begin
        yield
      rescue Errno::ENOENT, Errno::ECONNREFUSED
        status = Process.wait2(@pid, Process::WNOHANG)&.last
        raise PeerFailure, "program ended (#{status}) before the debugger listened" if status
        raise PeerFailure, 'debugger never listened' if now > deadline

        sleep 0.02
        retry
      end
    end
  end

  class RdbgClient < LineClient
    def self.available?
      require 'debug/version'
      true
    rescue LoadError
      false
    end

    def initialize(argv, env: {}, out: :out, err: :err, timeout: 20)
      require 'debug/version'
      @dir = Dir.mktmpdir('rdbg-bench-')
      path = File.join(@dir, 'rdbg.sock')
      child_env = env.merge(
        'RUBY_DEBUG_SOCK_PATH' => path, 'RUBY_DEBUG_NO_RC' => '1', 'RUBY_DEBUG_NO_COLOR' => '1',
        # The least work per stop rdbg offers: one source line, one frame.
        'RUBY_DEBUG_SHOW_SRC_LINES' => '1', 'RUBY_DEBUG_SHOW_FRAMES' => '1',
        'RUBYOPT' => ['-rdebug/open', env['RUBYOPT'] || ENV['RUBYOPT']].compact.join(' ')
      )
      @pid = Process.spawn(child_env, *argv, out: out, err: err, in: File::NULL)
      wait_ready(err, timeout)
      connect_retry(timeout) { @sock = UNIXSocket.new(path) }
      @sock.puts "version: #{DEBUGGER__::VERSION} width: 80 cookie: -"
      wait_input(timeout)
    end

    # Reads until the debuggee asks for a command ("input PID").
    def wait_input(timeout = 20)
      loop do
        line = read_line(timeout)
        raise PeerFailure, 'rdbg closed the connection' if line.nil?

        case line
        when /\Ainput (\d+)/ then return (@dpid = Regexp.last_match(1))
        when /\Aask (\d+)/ then @sock.puts "answer #{Regexp.last_match(1)} y"
        when /\Aquit/ then raise PeerFailure, 'rdbg quit'
        end
      end
    end

    # debug 1.4 accepts a client before its session exists; a client that
    # connects then makes it die (NameError on SESSION in its SIGURG
    # handler). It is ready once it says it waits for a connection.
    def wait_ready(err, timeout)
      unless err.is_a?(String)
        sleep 1
        return
      end
      deadline = now + timeout
      until File.read(err).include?('wait for debugger connection')
        raise PeerFailure, 'rdbg never waited for a connection' if now > deadline
        raise PeerFailure, 'program ended before rdbg listened' if Process.wait2(@pid, Process::WNOHANG)

        sleep 0.01
      end
    end

    def command(text, timeout = 20)
      @sock.puts "command #{@dpid} 80 #{text}"
      wait_input(timeout)
    end

    # Continues; any later stop (rdbg's own pause on connect) is continued too.
    def continue_and_drain
      @sock.puts "command #{@dpid} 80 continue"
      @drain = Thread.new do
        while (line = @sock.gets)
          case line
          when /\Ainput (\d+)/ then @sock.puts "command #{Regexp.last_match(1)} 80 continue"
          when /\Aask (\d+)/ then @sock.puts "answer #{Regexp.last_match(1)} y"
          end
        end
      rescue IOError, SystemCallError
        nil
      end
    end

    private

    def close
      @sock&.close unless @sock&.closed?
      FileUtils.rm_rf(@dir)
    end
  end

  class ByebugClient < LineClient
    BOOT = File.expand_path('byebug_boot.rb', __dir__)

    def self.available?
      require 'byebug/core'
      true
    rescue LoadError
      false
    end

    def initialize(argv, env: {}, out: :out, err: :err, timeout: 20)
      port = free_port
      ruby, *rest = argv
      @pid = Process.spawn(env, ruby, BOOT, port.to_s, *rest, out: out, err: err, in: File::NULL)
      connect_retry(timeout) { @sock = TCPSocket.new('127.0.0.1', port) }
      wait_prompt(timeout)
    end

    def wait_prompt(timeout = 20)
      loop do
        line = read_line(timeout)
        raise PeerFailure, 'byebug closed the connection' if line.nil?
        return if line.start_with?('PROMPT')

        @sock.puts 'y' if line.start_with?('CONFIRM')
      end
    end

    def command(text, timeout = 20)
      @sock.puts text
      wait_prompt(timeout)
    end

    def continue_and_drain
      @sock.puts 'continue'
      @drain = Thread.new do
        while (line = @sock.gets)
          @sock.puts 'continue' if line.start_with?('PROMPT')
          @sock.puts 'y' if line.start_with?('CONFIRM')
        end
      rescue IOError, SystemCallError
        nil
      end
    end

    private

    def free_port
      s = TCPServer.new('127.0.0.1', 0)
      s.addr[1]
    ensure
      s&.close
    end

    def close
      @sock&.close unless @sock&.closed?
    end
  end
end
