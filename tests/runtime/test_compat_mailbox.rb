# frozen_string_literal: true

# Polyphony 1.6 compatibility, mailboxes: Fiber#mailbox is a
# Polyphony::Queue holding the messages sent so far; capped, it makes
# senders wait; receive, receive_loop, receive_all_pending and mailbox_size
# go through it. Thread#<< sends to a thread's main fiber, also before the
# thread has used the runtime.
require 'minitest/autorun'
require 'polyphony'

class CompatMailboxTest < Minitest::Test
  def teardown
    Fiber.current.shutdown_all_children
  end

  def test_mailbox_is_a_queue_with_the_messages_so_far
    f = spin { suspend; [receive, receive, receive] }
    snooze # f waits in suspend
    f << 1 << 2
    q = f.mailbox
    assert_kind_of Polyphony::Queue, q
    assert_same q, f.mailbox
    assert_equal 2, f.mailbox_size
    f << 3
    f.schedule
    assert_equal [1, 2, 3], f.await
  end

  def test_receiver_waiting_when_the_mailbox_becomes_a_queue
    f = spin { receive }
    snooze
    f.mailbox
    f << :late
    assert_equal :late, f.await
  end

  def test_capped_mailbox_makes_the_sender_wait
    log = []
    receiver = spin { 3.times { log << [:got, receive] } }
    receiver.mailbox.cap(1)
    sender = spin { 3.times { |i| receiver << i; log << [:sent, i] } }
    Fiber.await(sender, receiver)
    assert_equal 3, log.count { |e| e[0] == :got }
    # never two sends without a receive between them: the mailbox holds one
    sent = 0
    log.each do |kind, _|
      sent += kind == :sent ? 1 : -1
      assert_operator sent, :<=, 1
    end
  end

  def test_receive_loop_and_receive_all_pending_with_a_queue
    got = []
    f = spin { receive_loop { |m| got << m } }
    f.mailbox
    f << :a << :b
    snooze
    assert_equal %i[a b], got
    g = spin { suspend; receive_all_pending }
    snooze
    g.mailbox
    g << 1 << 2
    g.schedule
    assert_equal [1, 2], g.await
  end

  def test_thread_send_before_the_thread_uses_the_runtime
    gate = Thread::Queue.new
    t = Thread.new do
      gate.pop # not yet on the runtime when the messages are sent
      [receive, receive]
    end
    t << :one
    t << :two
    gate << :go
    assert_equal %i[one two], t.join
  end

  def test_thread_send_to_a_running_thread
    main = Fiber.current
    t = Thread.new do
      main << :ready
      got = []
      while (m = receive)
        got << m
      end
      got
    end
    assert_equal :ready, receive
    t << 1 << 2 << nil
    assert_equal [1, 2], t.join
  end
end
