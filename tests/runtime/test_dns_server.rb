# frozen_string_literal: true

# Polyphony::DNS::Server and Polyphony::DNS::Resolver in one process: the
# server in a fiber, the resolver in others. Answers of each type, the
# transaction's view of a query, SERVFAIL for a handler that raises,
# FORMERR and NOTIMP, truncation over UDP, several queries on one TCP
# connection, handlers that wait without holding up other clients, stop.
require 'minitest/autorun'
require 'polyphony/dns'

class DNSServerTest < Minitest::Test
  IN = Resolv::DNS::Resource::IN

  # Starts a server with this handler (stopped at teardown); @resolver
  # asks it.
  def serve(&handler)
    @server = Polyphony::DNS::Server.new(&handler)
    @server.bind(port: 0)
    @runner = spin { @server.listen }
    @resolver = Polyphony::DNS::Resolver.new(nameservers: [['127.0.0.1', @server.port]], timeout: 5, retries: 0)
    @server
  end

  def teardown
    @server&.stop
    @runner&.await
  end

  def test_answers_of_each_type
    serve do |t|
      case t.type
      when :A then t.answer('10.0.0.7')
      when :AAAA then t.answer('fd00::7')
      when :CNAME then t.answer('target.test')
      when :MX then t.answer([20, 'mx2.test']).answer([10, 'mx1.test'])
      when :TXT then t.answer(%w[one two])
      end
    end
    assert_equal ['10.0.0.7'], @resolver.lookup('x.test', :A)
    assert_equal ['fd00::7'], @resolver.lookup('x.test', :AAAA)
    assert_equal ['target.test'], @resolver.lookup('x.test', :CNAME)
    assert_equal [[20, 'mx2.test'], [10, 'mx1.test']], @resolver.lookup('x.test', :MX)
    assert_equal ['onetwo'], @resolver.lookup('x.test', :TXT)
  end

  def test_transaction_sees_the_query
    seen = nil
    serve do |t|
      seen = [t.name, t.type, t.protocol, t.client[0], t.query.rd]
      t.answer('10.0.0.1')
    end
    @resolver.lookup('Some.Name.test', :A)
    assert_equal ['Some.Name.test', :A, :udp, '127.0.0.1', 1], seen
  end

  def test_not_found_refused_and_handler_errors
    serve do |t|
      case t.name
      when 'gone.test' then t.not_found!
      when 'no.test' then t.refuse!
      when 'boom.test' then t.answer('10.0.0.1') && raise('handler bug')
      else t.answer('10.0.0.2')
      end
    end
    assert_raises(Polyphony::DNS::NotFound) { @resolver.lookup('gone.test') }
    e = assert_raises(Polyphony::DNS::ServerFailure) { @resolver.lookup('no.test') }
    assert_equal Resolv::DNS::RCode::Refused, e.rcode
    err = StringIO.new
    $stderr, saved = err, $stderr
    begin
      e = assert_raises(Polyphony::DNS::ServerFailure) { @resolver.lookup('boom.test') }
    ensure
      $stderr = saved
    end
    assert_equal Resolv::DNS::RCode::ServFail, e.rcode
    assert_match(/handler raised RuntimeError: handler bug \(boom\.test A\)/, err.string)
    assert_equal ['10.0.0.2'], @resolver.lookup('fine.test')
  end

  def test_formerr_and_notimp
    server = serve { |t| t.answer('10.0.0.1') }
    two = Resolv::DNS::Message.new(7)
    two.add_question(Resolv::DNS::Name.create('a.test.'), IN::A)
    two.add_question(Resolv::DNS::Name.create('b.test.'), IN::A)
    assert_equal Resolv::DNS::RCode::FormErr, exchange(server.port, two).rcode
    notify = Resolv::DNS::Message.new(8)
    notify.opcode = Resolv::DNS::OpCode::Notify
    notify.add_question(Resolv::DNS::Name.create('a.test.'), IN::SOA)
    assert_equal Resolv::DNS::RCode::NotImp, exchange(server.port, notify).rcode
  end

  def test_big_answer_truncated_over_udp_whole_over_tcp
    server = serve { |t| 5.times { |i| t.answer(i.to_s * 200) } }
    q = Resolv::DNS::Message.new(9)
    q.add_question(Resolv::DNS::Name.create('big.test.'), IN::TXT)
    udp = Polyphony::DNS::Transport.udp(['127.0.0.1', server.port], q, 5)
    assert_equal 1, udp.tc
    assert_empty udp.answer
    assert_equal %w[0 1 2 3 4].map { |c| c * 200 }, @resolver.lookup('big.test', :TXT)
  end

  def test_several_queries_on_one_tcp_connection
    server = serve { |t| t.answer("10.0.0.#{t.name[/\d+/]}") }
    sock = TCPSocket.new('127.0.0.1', server.port)
    ids = (1..3).map do |i|
      q = Resolv::DNS::Message.new(100 + i)
      q.add_question(Resolv::DNS::Name.create("h#{i}.test."), IN::A)
      data = q.encode
      sock.write([data.bytesize].pack('n'), data)
      q.id
    end
    replies = ids.map do
      len = sock.read(2).unpack1('n')
      Resolv::DNS::Message.decode(sock.read(len))
    end
    assert_equal ids, replies.map(&:id)
    assert_equal %w[10.0.0.1 10.0.0.2 10.0.0.3], replies.map { |r| r.answer.first[2].address.to_s }
    sock.close
  end

  def test_a_waiting_handler_holds_up_no_one
    release = Polyphony::Event.new
    serve do |t|
      release.await if t.name == 'slow.test'
      t.answer(t.name == 'slow.test' ? '10.0.0.99' : '10.0.0.1')
    end
    slow = spin { @resolver.lookup('slow.test') }
    others = Array.new(50) { |i| spin { @resolver.lookup("fast#{i}.test") } }.map(&:await)
    assert_equal Array.new(50) { ['10.0.0.1'] }, others
    assert slow.alive?
    release.signal
    assert_equal ['10.0.0.99'], slow.await
  end

  def test_undecodable_datagrams_are_dropped
    server = serve { |t| t.answer('10.0.0.1') }
    sock = UDPSocket.new
    sock.connect('127.0.0.1', server.port)
    sock.send("\xff" * 20, 0)
    sock.close
    assert_equal ['10.0.0.1'], @resolver.lookup('a.test')
  end

  def test_stop_ends_listen
    server = Polyphony::DNS::Server.new { |t| t.answer('10.0.0.1') }
    port = server.bind(port: 0).port
    runner = spin { server.listen }
    server.stop
    runner.await
    assert_raises(Errno::ECONNREFUSED) { TCPSocket.new('127.0.0.1', port) }
  end

  private

  def exchange(port, msg)
    Polyphony::DNS::Transport.udp(['127.0.0.1', port], msg, 5)
  end
end
