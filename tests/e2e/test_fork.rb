# frozen_string_literal: true

# test_fork.rb — forked children under the same polytrace: a preforking
# echo server (a master and 4 workers forked with Polyphony.fork) where a
# breakpoint in the connection handler stops one worker while the others
# keep answering, `processes` lists all five, and after `continue` every
# client has its answer; 8 children (Kernel#fork) stopping at one breakpoint
# at once, each announced while the user works in another, `process N` and
# `print` acting on the selected one, each child's exit status reported;
# `set follow-fork parent` and `child`.

require 'minitest/autorun'
require 'socket'
require 'tmpdir'
require 'pty_session'

class TestFork < Minitest::Test
  PREFORK = E2E.fixture('prefork.rb')
  FORKS = E2E.fixture('forks.rb')

  def setup
    @dir = Dir.mktmpdir('pt_fork')
  end

  def teardown
    @s&.close
    @clients&.each { |c| c.close unless c.closed? }
    FileUtils.rm_rf(@dir)
  end

  def launch(*argv)
    @s = PtySession.polytrace('ruby', *argv)
    @s.expect(/\(entry\)/, timeout: 30)
    @s.prompt
  end

  def pop_within(queue, seconds)
    E2E.wait_until(timeout: seconds, what: 'an answer') { !queue.empty? }
    queue.pop
  end

  def test_preforking_server_worker_stops_others_serve
    port_file = File.join(@dir, 'port')
    launch(PREFORK, port_file, '4')
    line = E2E.line_of(PREFORK, '@handler')
    assert_match(/Breakpoint 1 at prefork.rb:#{line}/,
                 @s.command("break prefork.rb:#{line} if line.start_with?('debug')"))
    @s.send_line('c')
    4.times { @s.expect(/New process (\d) \(pid (\d+)\), forked by pid (\d+)\./, timeout: 30) }
    master = Integer(@s.transcript[/forked by pid (\d+)/, 1])
    E2E.wait_until(timeout: 30, what: 'the port file') { File.exist?(port_file) }
    port = Integer(File.read(port_file))

    @clients = []
    debug = TCPSocket.new('127.0.0.1', port)
    @clients << debug
    debug.write("debug me\n")
    m = @s.expect(/\[now in process (\d) \(pid (\d+)\)\]\nStopped in fiber \d+ .*prefork.rb:#{line} in Object#handle \(breakpoint 1\)/,
                  timeout: 30)
    stopped_num = m[1]
    stopped_pid = Integer(m[2])
    @s.prompt
    assert_equal "\"debug me\\n\"", @s.command('p line').strip

    table = @s.command('processes')
    rows = table.lines.grep(/^[ *] \d/)
    assert_equal 5, rows.size, table
    assert_match(/^  1 +#{master} +running/, table)
    assert_match(/^\* #{stopped_num} +#{stopped_pid} +stopped +.*prefork.rb:#{line} in Object#handle \(breakpoint 1\)/,
                 table)
    assert_equal 3, rows.count { |r| r =~ /running +\(forked by pid #{master}\)/ }, table

    # The other workers answer while this one is stopped. A connection the
    # stopped worker took already (an accept in flight in its ring) waits.
    answers = Queue.new
    threads = 8.times.map do |i|
      Thread.new do
        c = TCPSocket.new('127.0.0.1', port)
        c.write("plain #{i}\n")
        answers << c.gets
        c.close
      end
    end
    early = 3.times.map { pop_within(answers, 30) }
    early.each do |a|
      assert_match(/\Aecho (\d+): plain \d\n\z/, a)
      refute_equal stopped_pid, Integer(a[/echo (\d+)/, 1])
    end

    @s.send_line('c')
    assert_equal "echo #{stopped_pid}: debug me\n", debug.gets
    threads.each { |t| t.join(30) }
    assert_equal 5, answers.size
    5.times { assert_match(/\Aecho \d+: plain \d\n\z/, answers.pop) }

    Process.kill('TERM', master)
    4.times { @s.expect(/process \d \(pid \d+\) exited with status 0/, timeout: 30) }
    @s.expect('master done: [0, 0, 0, 0]', timeout: 30)
    @s.expect("process 1 (pid #{master}) exited with status 0", timeout: 30)
    assert_equal 0, @s.wait_exit(timeout: 30).exitstatus
  end

  def test_eight_children_stop_at_once
    launch(FORKS, '8')
    line = E2E.line_of(FORKS, '@child')
    @s.command("break forks.rb:#{line}")
    @s.send_line('c')
    # The first child to stop is selected (the parent runs); the others are
    # announced and wait, whatever order they come in.
    first = @s.expect(/\[now in process (\d) \(pid \d+\)\]\nStopped in fiber \d+ .*forks.rb:#{line}/, timeout: 60)[1]
    7.times do
      @s.expect(/process \d \(pid \d+\) stopped at .*forks.rb:#{line} .*\(breakpoint 1\); 'process \d' to look at it/,
                timeout: 60)
    end
    @s.prompt
    table = @s.command('processes')
    assert_equal 8, table.lines.grep(/stopped +.*forks.rb:#{line}/).size, table
    assert_match(/^  1 +\d+ +running/, table)
    assert_match(/^\* #{first} /, table)

    # Commands act on the selected process: child i is process i + 2.
    out = @s.command('process 6')
    pid6 = Integer(out[/Selected process 6 \(pid (\d+)\), stopped at .*forks.rb:#{line}/, 1])
    assert_equal pid6.to_s, @s.command('p Process.pid').strip
    assert_equal '4', @s.command('p i').strip
    assert_match(/^\* 6 +#{pid6} +stopped/, @s.command('processes'))

    # Each continue lets one go and brings the next waiting one.
    7.times do
      @s.send_line('c')
      @s.expect(/\[now in process \d \(pid \d+\), stopped at .*forks.rb:#{line}/, timeout: 30)
      @s.prompt
    end
    @s.send_line('c')
    @s.expect('statuses [10, 11, 12, 13, 14, 15, 16, 17]', timeout: 30)
    @s.expect(/process 1 \(pid \d+\) exited with status 0/, timeout: 30)
    assert_equal 0, @s.wait_exit(timeout: 30).exitstatus
    exits = @s.transcript.scan(/process (\d) \(pid \d+\) exited with status (\d+)/).to_h
    (2..9).each { |n| assert_equal (8 + n).to_s, exits[n.to_s], @s.transcript }
  end

  def test_follow_fork_parent_lets_children_run_free
    launch(FORKS, '2')
    assert_match(/follow-fork is now parent/, @s.command('set follow-fork parent'))
    @s.command("break forks.rb:#{E2E.line_of(FORKS, '@child')}")
    @s.send_line('c')
    2.times { @s.expect(/Process 1 forked pid \d+ \(not followed: follow-fork is parent\)\./, timeout: 30) }
    @s.expect('statuses [10, 11]', timeout: 30)
    @s.expect('program exited with status 0', timeout: 30)
    assert_equal 0, @s.wait_exit(timeout: 30).exitstatus
    refute_match(/New process|Stopped in fiber \d+ at .*forks.rb:9/, @s.transcript)
  end

  def test_follow_fork_child_takes_the_child_and_lets_the_parent_go
    launch(FORKS, '1')
    assert_match(/follow-fork is now child/, @s.command('set follow-fork child'))
    line = E2E.line_of(FORKS, '@child')
    @s.command("break forks.rb:#{line}")
    @s.send_line('c')
    pid = @s.expect(/New process 2 \(pid (\d+)\)/, timeout: 30)[1]
    # The parent's leaving and the child's stop come on two connections:
    # in either order.
    E2E.wait_until(timeout: 30, what: 'the stop and the parent leaving') do
      t = @s.pending_text
      t =~ /process 1 \(pid \d+\) runs on without the debugger \(follow-fork child\)/ &&
        t =~ /Stopped in fiber \d+ at .*forks.rb:#{line}/
    end
    @s.send_line('processes')
    @s.expect(/Num +PID +State +Where\n/)
    table = @s.expect(/(.*?)\(polytrace\) /m)[1]
    assert_equal 1, table.lines.grep(/^[ *] \d/).size, table
    assert_match(/^\* 2 +#{pid} +stopped/, table)
    @s.send_line('c')
    @s.expect("process 2 (pid #{pid}) exited with status 10", timeout: 30)
    assert_equal 10, @s.wait_exit(timeout: 30).exitstatus
  end
end
