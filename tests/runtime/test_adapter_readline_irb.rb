# frozen_string_literal: true

# polyphony/adapters/readline and polyphony/adapters/irb: a prompt waiting
# for a line does not stop the program's other fibers. Each program runs
# on a real pseudo-terminal with a ticker fiber that writes a line to a
# FIFO every 10 ms; the test reads ticks from the FIFO while the prompt is
# on the screen, then answers the prompt.
require 'minitest/autorun'
require 'rbconfig'
require 'tmpdir'
require 'pty_session'

class AdapterReadlineIrbTest < Minitest::Test
  LIBDIRS = [File.join(PtySession::BUILD, 'lib'), __dir__.sub(%r{tests/runtime\z}, 'tests/lib')].freeze

  TICKER = <<~RUBY
    ticks = File.open(ENV.fetch('PT_TICKS'), 'w')
    ticks.sync = true
    $ticks = 0
    spin { loop { sleep 0.01; $ticks += 1; ticks.puts 'tick' } }
  RUBY

  def setup
    @dir = Dir.mktmpdir('pt-prompt')
    @fifo = File.join(@dir, 'ticks')
    File.mkfifo(@fifo)
    @ticks = File.open(@fifo, File::RDONLY | File::NONBLOCK)
  end

  def teardown
    @session&.close
    @ticks&.close
    FileUtils.rm_rf(@dir)
  end

  def start(script)
    # HOME is the test's own: IRB keeps its history in ~/.irb_history, and
    # two sessions at once (both backends' files run in parallel) make IRB
    # 3.1 fail at exit on a history file changed under it.
    env = { 'RUBYLIB' => LIBDIRS.join(':'), 'PT_TICKS' => @fifo, 'HOME' => @dir }
    env['POLYPHONY_BACKEND'] = ENV['POLYPHONY_BACKEND'] if ENV['POLYPHONY_BACKEND']
    @session = PtySession.new(RbConfig.ruby, '-rpolyphony', '-e', script, env: env)
  end

  # Ticks written from now on: `n` of them must come, each within 10 s.
  def assert_ticks_while_waiting(n = 3)
    loop { @ticks.read_nonblock(65_536) }
  rescue IO::WaitReadable, EOFError
    got = 0
    buf = +''
    while got < n
      assert IO.select([@ticks], nil, nil, 10), "the ticker stopped while the prompt waited (#{got} ticks)"
      begin
        buf << @ticks.read_nonblock(65_536)
      rescue IO::WaitReadable, EOFError
        next
      end
      got = buf.count("\n")
    end
  end

  def test_readline_prompt
    start(<<~RUBY)
      require 'polyphony/adapters/readline'
      #{TICKER}
      line = Readline.readline('prompt> ')
      puts "got \#{line}"
    RUBY
    @session.expect(/prompt> /)
    assert_ticks_while_waiting
    @session.send_line('hello')
    @session.expect(/got hello/)
    assert @session.wait_exit.success?
  end

  # IRB's default input, Reline, asks the terminal where the cursor is
  # (ESC [6n) before each prompt; a real terminal answers, so does this.
  def irb_prompt(number)
    prompt = "irb(main):#{format('%03d', number)}:0> "
    loop do
      m = @session.expect(/\e\[6n|#{Regexp.escape(prompt)}/)
      break if m[0] == prompt

      @session.send_raw("\e[1;1R")
    end
  end

  def test_irb_prompt
    start(<<~RUBY)
      #{TICKER}
      require 'polyphony/adapters/irb'
      IRB.start
    RUBY
    irb_prompt(1)
    assert_ticks_while_waiting
    @session.send_line('$ticks > 0')
    @session.expect(/=> true/)
    irb_prompt(2)
    assert_ticks_while_waiting
    @session.send_line('exit')
    assert @session.wait_exit.success?
  end

  # IRB on GNU readline (--readline): the readline adapter's thread.
  def test_irb_prompt_on_readline
    start(<<~RUBY)
      #{TICKER}
      require 'polyphony/adapters/irb'
      ARGV.replace(%w[--readline --nomultiline])
      IRB.start
    RUBY
    @session.expect(/irb\(main\):001:0> /)
    assert_ticks_while_waiting
    @session.send_line('$ticks > 0')
    @session.expect(/=> true/)
    @session.expect(/irb\(main\):002:0> /)
    @session.send_line('exit')
    status = @session.wait_exit
    assert status.success?, "#{status.inspect}: #{@session.transcript}"
  end
end
