# frozen_string_literal: true

# Polyphony::DNS.lookup against a resolver nobody here wrote: dnsmasq from
# Debian on a loopback port (tests/lib/pt_servers.rb, DNS_RECORDS), and
# against sockets that never answer or answer wrongly: record types,
# CNAMEs followed, truncation retried over TCP, NXDOMAIN, timeouts and
# retries, the next server after a silent one, resolv.conf, concurrency.
require 'minitest/autorun'
require 'polyphony/dns'
require 'pt_servers'
require 'tempfile'

class DNSResolverTest < Minitest::Test
  RECORDS = PtServers::DNS_RECORDS

  # (Started from a test, not at load: the servers a file starts itself
  # stop at exit, and minitest runs the tests at exit, after that.)
  def dnsmasq
    PtServers.ensure_running(:dnsmasq).dns_address
  end

  def lookup(name, type, **opts)
    Polyphony::DNS.lookup(name, type, nameservers: [dnsmasq], **opts)
  end

  # A UDP socket that reads queries and never answers; yields it and its
  # address, and counts the datagrams it got.
  def silent_server
    sock = UDPSocket.new
    sock.bind('127.0.0.1', 0)
    got = 0
    reader = spin { loop { sock.recvfrom(512); got += 1 } }
    yield ['127.0.0.1', sock.local_address.ip_port], -> { got }
  ensure
    reader&.stop
    sock&.close
  end

  def test_record_types
    assert_equal [RECORDS[:a]['host.test']], lookup('host.test', :A)
    assert_equal [RECORDS[:aaaa]['host.test']], lookup('host.test', :AAAA)
    assert_equal [RECORDS[:cname]['alias.test']], lookup('alias.test', :CNAME)
    assert_equal [RECORDS[:mx]['test']], lookup('test', :MX)
    assert_equal [RECORDS[:txt]['txt.test'].join], lookup('txt.test', :TXT)
    assert_equal [RECORDS[:a]['host.test']], lookup('HOST.Test.', 'a'), 'case and trailing dot do not matter'
  end

  def test_alias_is_followed_to_its_addresses
    assert_equal [RECORDS[:a]['host.test']], lookup('alias.test', :A)
    assert_equal [RECORDS[:aaaa]['host.test']], lookup('alias.test', :AAAA)
  end

  def test_truncated_answer_is_asked_again_over_tcp
    # 600 bytes of TXT do not fit a 512-byte UDP answer.
    question = Resolv::DNS::Message.new(1)
    question.add_question(Resolv::DNS::Name.create('big.test.'), Resolv::DNS::Resource::IN::TXT)
    assert_equal 1, Polyphony::DNS::Transport.udp(dnsmasq, question, 5).tc
    assert_equal [RECORDS[:txt]['big.test'].join], lookup('big.test', :TXT)
  end

  def test_no_such_name_and_no_such_record
    e = assert_raises(Polyphony::DNS::NotFound) { lookup('nope.test', :A) }
    assert_match(/nope\.test: no such name/, e.message)
    assert_equal [], lookup('host.test', :MX), 'the name exists, without MX records'
  end

  def test_unknown_type_is_an_argument_error
    assert_raises(ArgumentError) { lookup('host.test', :BOGUS) }
  end

  def test_timeout_after_each_attempt
    silent_server do |addr, got|
      r = Polyphony::DNS::Resolver.new(nameservers: [addr], timeout: 0.1, retries: 2)
      e = assert_raises(Polyphony::DNS::Timeout) { r.lookup('host.test') }
      assert_match(/no answer from 127\.0\.0\.1:\d+ \(3 attempts, 0\.1 s each\)/, e.message)
      assert_equal 3, got.call, 'one query per attempt'
    end
  end

  def test_next_server_answers_when_the_first_is_silent
    silent_server do |addr, got|
      r = Polyphony::DNS::Resolver.new(nameservers: [addr, dnsmasq], timeout: 0.2, retries: 0)
      assert_equal [RECORDS[:a]['host.test']], r.lookup('host.test')
      assert_equal 1, got.call
    end
  end

  def test_unreachable_server_is_a_server_failure
    port = UDPSocket.new.tap { |s| s.bind('127.0.0.1', 0) }.then { |s| p = s.local_address.ip_port; s.close; p }
    r = Polyphony::DNS::Resolver.new(nameservers: [['127.0.0.1', port]], timeout: 5, retries: 0)
    e = assert_raises(Polyphony::DNS::ServerFailure) { r.lookup('host.test') }
    assert_match(/refused/i, e.message)
  end

  def test_answers_to_other_queries_are_ignored
    sock = UDPSocket.new
    sock.bind('127.0.0.1', 0)
    liar = spin do
      data, from = sock.recvfrom(512)
      q = Resolv::DNS::Message.decode(data)
      wrong_id = Resolv::DNS::Message.new((q.id + 1) % 0x10000)
      wrong_id.qr = 1
      q.each_question { |n, c| wrong_id.add_question(n, c) }
      wrong_id.add_answer(Resolv::DNS::Name.create('host.test.'), 60, Resolv::DNS::Resource::IN::A.new('6.6.6.6'))
      sock.send(wrong_id.encode, 0, from[3], from[1])
      sock.send('garbage', 0, from[3], from[1])
      right = Resolv::DNS::Message.new(q.id)
      right.qr = 1
      q.each_question { |n, c| right.add_question(n, c) }
      right.add_answer(Resolv::DNS::Name.create('host.test.'), 60, Resolv::DNS::Resource::IN::A.new('10.9.9.9'))
      sock.send(right.encode, 0, from[3], from[1])
    end
    r = Polyphony::DNS::Resolver.new(nameservers: [['127.0.0.1', sock.local_address.ip_port]], timeout: 5)
    assert_equal ['10.9.9.9'], r.lookup('host.test')
    liar.await
  ensure
    sock&.close
  end

  def test_nameservers_from_resolv_conf
    conf = Tempfile.new('resolv.conf')
    conf.write("# test\nsearch example\nnameserver 127.0.0.1\nnameserver ::1\noptions ndots:2\n")
    conf.close
    assert_equal [['127.0.0.1', 53], ['::1', 53]], Polyphony::DNS::Resolver.nameservers_from(conf.path)
    r = Polyphony::DNS::Resolver.new(resolv_conf: conf.path, port: dnsmasq[1], timeout: 2)
    assert_equal [RECORDS[:a]['host.test']], r.lookup('host.test')
    assert_equal [['127.0.0.1', 53]], Polyphony::DNS::Resolver.nameservers_from('/nonexistent/resolv.conf')
  ensure
    conf&.unlink
  end

  def test_nameserver_forms
    r = Polyphony::DNS::Resolver.new(nameservers: ['10.0.0.1', '10.0.0.2:5353', '[::1]:54', ['::2', 55]])
    assert_equal [['10.0.0.1', 53], ['10.0.0.2', 5353], ['::1', 54], ['::2', 55]], r.nameservers
  end

  def test_many_lookups_at_once_each_in_its_fiber
    names = %w[host.test alias.test mail.test] * 20
    ticks = 0
    ticker = spin_loop { ticks += 1; snooze }
    results = names.map { |n| spin { lookup(n, :A) } }.map(&:await)
    ticker.stop
    expected = names.map { |n| [n == 'mail.test' ? RECORDS[:a]['mail.test'] : RECORDS[:a]['host.test']] }
    assert_equal expected, results
    assert_operator ticks, :>, 0
  end
end
