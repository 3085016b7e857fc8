# frozen_string_literal: true

# tests/lib/pty_session.rb — drives a program (polytrace) through a real
# pseudo-terminal, expect-style: every wait is for a pattern with a
# deadline, and a failed wait raises with the transcript so far.
#
#   s = PtySession.new('polytrace', 'ruby', 'app.rb')
#   s.expect(/Stopped in fiber 1/)
#   out = s.command('fibers')          # sends a line, returns the text up to the next prompt
#   s.send_line('quit'); s.wait_exit   # => Process::Status

require 'pty'
require 'io/console'
require 'tmpdir'
require 'timeout'

class PtySession
  PROMPT = '(polytrace) '
  ROOT = ENV.fetch('PT_ROOT', File.expand_path('../..', __dir__))
  BUILD = ENV.fetch('PT_BUILD', File.join(ROOT, 'build'))
  POLYTRACE = File.join(BUILD, 'bin', 'polytrace')

  class Timeout < StandardError; end

  attr_reader :pid, :transcript

  # Spawns argv on a fresh pseudo-terminal. TERM=dumb keeps readline's
  # output plain; the history file is private to the session.
  def initialize(*argv, env: {}, chdir: ROOT, history: nil)
    @history = history || File.join(Dir.tmpdir, "pt_hist_#{Process.pid}_#{object_id}")
    full_env = { 'TERM' => 'dumb', 'INPUTRC' => '/dev/null', 'POLYTRACE_HISTORY' => @history,
                 'COLUMNS' => '200', 'LINES' => '50' }.merge(env)
    # No winsize is set after the spawn: the SIGWINCH it causes would make
    # readline redraw its prompt at a random moment. With a 0x0 terminal
    # size readline takes COLUMNS/LINES from the environment instead.
    @reader, @writer, @pid = PTY.spawn(full_env, *argv, chdir: chdir)
    @transcript = +''
    @pos = 0
    @eof = false
    @status = nil
  end

  def self.polytrace(*args, **kw)
    new(POLYTRACE, *args, **kw)
  end

  attr_reader :history

  # Reads whatever is available within `wait` seconds into the transcript.
  def pump(wait)
    return false if @eof

    ready = IO.select([@reader], nil, nil, wait)
    return false unless ready

    chunk = @reader.read_nonblock(65_536)
    @transcript << chunk.delete("\r")
    true
  rescue IO::WaitReadable
    false
  rescue EOFError, Errno::EIO
    @eof = true
    false
  end

  # Waits for pattern (String or Regexp) after the last match; returns the
  # MatchData and moves past it.
  def expect(pattern, timeout: 15)
    deadline = now + timeout
    re = pattern.is_a?(Regexp) ? pattern : Regexp.new(Regexp.escape(pattern))
    loop do
      if (m = re.match(@transcript, @pos))
        @pos = m.end(0)
        return m
      end
      left = deadline - now
      raise Timeout, failure("timed out after #{timeout}s waiting for #{re.inspect}") if left <= 0
      raise Timeout, failure("program ended while waiting for #{re.inspect}") if @eof && !pump(0)

      pump([left, 0.2].min)
    end
  end

  # True if pattern shows up within timeout (no exception).
  def sees?(pattern, timeout: 2)
    expect(pattern, timeout: timeout)
    true
  rescue Timeout
    false
  end

  # The text received since the last match, without consuming it.
  def pending_text
    pump(0)
    @transcript[@pos..]
  end

  def send_line(line)
    @writer.write("#{line}\n")
    @writer.flush
  end

  def send_raw(bytes)
    @writer.write(bytes)
    @writer.flush
  end

  # Sends a command and returns what it printed before the next prompt.
  def command(line, timeout: 15)
    send_line(line)
    start = @pos
    m = expect(PROMPT, timeout: timeout)
    text = @transcript[start...m.begin(0)]
    # Drop the echoed command line.
    text.sub(/\A.*?#{Regexp.escape(line)}\n/m, '')
  end

  # Waits for the prompt.
  def prompt(timeout: 15)
    expect(PROMPT, timeout: timeout)
  end

  # Waits for the process to exit, reading its output meanwhile.
  def wait_exit(timeout: 15)
    return @status if @status

    deadline = now + timeout
    loop do
      _, st = Process.wait2(@pid, Process::WNOHANG)
      if st
        pump(0.05) while !@eof && pump(0.05)
        return @status = st
      end
      raise Timeout, failure("process #{@pid} did not exit within #{timeout}s") if now > deadline

      pump(0.1)
    end
  end

  def alive?
    return false if @status

    _, st = Process.wait2(@pid, Process::WNOHANG)
    @status = st if st
    st.nil?
  end

  # Kills what is left and cleans up (call from teardown).
  def close
    if alive?
      begin
        Process.kill('KILL', @pid)
      rescue StandardError
        nil
      end
      begin
        Process.wait(@pid)
      rescue StandardError
        nil
      end
    end
    @reader.close unless @reader.closed?
    @writer.close unless @writer.closed?
    File.unlink(@history) if File.exist?(@history)
  end

  private

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def failure(what)
    "#{what}\n--- transcript ---\n#{@transcript}\n--- end ---"
  end
end

# Small helpers shared by the e2e tests.
module E2E
  FIXTURES = File.join(PtySession::ROOT, 'tests', 'e2e', 'fixtures')

  # Included by a test class whose fixture FIX is launched under polytrace
  # before each test and left at the prompt of its entry stop (@s). A class
  # may override entry_stop with a stricter pattern.
  module AtEntry
    def entry_stop
      /\(entry\)/
    end

    def setup
      @s = PtySession.polytrace('ruby', self.class::FIX)
      @s.expect(entry_stop, timeout: 20)
      @s.prompt
    end

    def teardown
      @s&.close
    end
  end

  def self.fixture(name)
    File.join(FIXTURES, name)
  end

  # Line number of the line of file that contains marker ("# @name").
  def self.line_of(file, marker)
    File.readlines(file).index { |l| l.include?(marker) }&.+(1) or raise "no #{marker} in #{file}"
  end

  def self.now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  # Waits until block returns truthy, or fails after timeout seconds.
  def self.wait_until(timeout: 10, what: 'condition')
    deadline = now + timeout
    until (v = yield)
      raise "timed out after #{timeout}s waiting for #{what}" if now > deadline

      sleep 0.05
    end
    v
  end

  def self.process_alive?(pid)
    Process.kill(0, pid)
    !File.read("/proc/#{pid}/stat").split[2].eql?('Z')
  rescue Errno::ESRCH, Errno::ENOENT
    false
  end
end
