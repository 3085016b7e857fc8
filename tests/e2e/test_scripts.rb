# frozen_string_literal: true

# test_scripts.rb — commands that do not come from the keyboard: the init
# file ~/.polytracerc (skipped with -n), -x FILE and -ex CMD in command-line
# order at the first stop, a `continue` in a file letting the program run
# (the next line runs at the next stop), `source FILE` at the prompt (nested
# too), and a failing line stopping its file with the file and line named.

require 'minitest/autorun'
require 'fileutils'
require 'tmpdir'
require 'pty_session'

class TestScripts < Minitest::Test
  FIX = E2E.fixture('commands.rb')
  LINE_INNER = E2E.line_of(FIX, '# @inner_body')

  def setup
    @home = Dir.mktmpdir('pt_home')
    @s = nil
  end

  def teardown
    @s&.close
    FileUtils.rm_rf(@home)
  end

  def write(name, text)
    path = File.join(@home, name)
    File.write(path, text)
    path
  end

  def start(*opts)
    @s = PtySession.polytrace(*opts, 'ruby', FIX, env: { 'HOME' => @home })
  end

  # Index in the transcript of the first match of pattern (which must be there).
  def where(pattern)
    i = @s.transcript.index(pattern)
    assert i, "#{pattern.inspect} not in:\n#{@s.transcript}"
    i
  end

  def test_init_file_then_x_and_ex_in_order_across_a_continue
    write('.polytracerc', "# comment\n\np :from_init\n")
    file = write('bp.pt', "break #{FIX}:#{LINE_INNER}\ncontinue\np m\n")
    start('-ex', 'p :first_ex', '-x', file, '-ex', 'p m * 10')
    @s.expect(/\(entry\)/, timeout: 20)
    @s.expect(/Stopped in fiber 1 .*commands\.rb:#{LINE_INNER} .*\(breakpoint 1\)/)
    @s.prompt
    # Echoed as they run, in order: init file, -ex, the file (whose continue
    # ran to the breakpoint), the last -ex at that stop.
    order = [
      "(polytrace:#{File.join(@home, '.polytracerc')}:3) p :from_init", ':from_init',
      '(polytrace:-ex) p :first_ex', ':first_ex',
      "(polytrace:#{file}:1) break", 'Breakpoint 1 at',
      "(polytrace:#{file}:2) continue", '(breakpoint 1)',
      "(polytrace:#{file}:3) p m", "\n21\n",
      '(polytrace:-ex) p m * 10', "\n210\n"
    ].map { |t| where(t) }
    assert_equal order.sort, order, "in order:\n#{@s.transcript}"
    assert_equal "21\n", @s.command('p m'), 'the prompt works as usual afterwards'
    @s.send_line('c')
    @s.expect('commands done')
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_n_skips_the_init_file
    write('.polytracerc', "p :from_init\n")
    start('-n', '-ex', 'p :only_ex')
    @s.expect(/\(entry\)/, timeout: 20)
    @s.expect(':only_ex')
    @s.prompt
    refute_includes @s.transcript, 'from_init'
    @s.send_line('quit')
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_a_failing_line_stops_its_file_and_names_the_line
    bad = write('bad.pt', "p :one\nfrobnicate now\np :never\n")
    start('-n', '-x', bad, '-ex', 'p :still_runs')
    @s.expect(/\(entry\)/, timeout: 20)
    @s.expect("error: #{bad}:2: unknown command 'frobnicate' (try 'help')")
    @s.expect("Stopped reading #{bad} at line 2: 1 command skipped.")
    @s.expect(':still_runs')
    @s.prompt
    refute_includes @s.transcript, ':never'
    assert_includes @s.transcript, ':one'

    # An evaluation error is a failure too; source at the prompt, nested.
    inner = write('inner.pt', "p :inner_one\np no_such_name\np :inner_never\n")
    outer = write('outer.pt', "p :outer_one\nsource #{inner}\np :outer_never\n")
    out = @s.command("source #{outer}")
    assert_match(/:outer_one\n.*:inner_one\n/m, out)
    assert_match(/error: #{Regexp.escape(inner)}:2: .*no_such_name/, out)
    assert_match(/Stopped reading #{Regexp.escape(inner)} at line 2: 2 commands skipped\./, out)
    refute_match(/never/, out.gsub(/^\(polytrace:.*\n/, ''))

    assert_match(/error: source: cannot read .*nope\.pt: No such file or directory/,
                 @s.command("source #{@home}/nope.pt"))
    assert_match(/error: source: needs a file name/, @s.command('source'))
    @s.send_line('quit')
    assert_equal 0, @s.wait_exit.exitstatus
  end

  def test_unreadable_x_file_is_a_usage_error_before_anything_runs
    start('-n', '-x', File.join(@home, 'missing.pt'))
    @s.expect(/polytrace: cannot read .*missing\.pt: No such file or directory/)
    assert_equal 2, @s.wait_exit.exitstatus
    refute_match(/Stopped/, @s.transcript)
  end
end
