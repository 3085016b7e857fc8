# frozen_string_literal: true

# Polyphony::DNS::Server (fixtures/dns_server.rb, its own process) queried
# by a client nobody here wrote: Ruby's Resolv::DNS, over UDP, over TCP
# when the answer is truncated, from many threads at once while one query
# is held open by its handler. This test process does not load the
# runtime.
require 'minitest/autorun'
require 'resolv'
require 'timeout'

class DNSServerClientsTest < Minitest::Test
  SCRIPT = File.expand_path('fixtures/dns_server.rb', __dir__)
  IN = Resolv::DNS::Resource::IN

  def setup
    @out, w = IO.pipe
    @pid = Process.spawn('ruby', SCRIPT, out: w, in: File::NULL)
    w.close
    line = Timeout.timeout(60) { @out.gets }
    @port = Integer(line.to_s[/\Aport (\d+)/, 1] || raise("no port from the server: #{line.inspect}"))
    @dns = Resolv::DNS.new(nameserver_port: [['127.0.0.1', @port]])
    @dns.timeouts = 10
  end

  def teardown
    Process.kill('KILL', @pid)
    Process.wait(@pid)
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  ensure
    @dns&.close
    @out&.close
  end

  def test_record_types
    assert_equal ['10.1.0.1'], @dns.getresources('www.pt', IN::A).map { |r| r.address.to_s }
    assert_equal [60], @dns.getresources('www.pt', IN::A).map(&:ttl)
    assert_equal ['fd01::1'], @dns.getresources('www.pt', IN::AAAA).map { |r| r.address.to_s.downcase }
    assert_equal ['www.pt'], @dns.getresources('alias.pt', IN::CNAME).map { |r| r.name.to_s }
    assert_equal [[5, 'mail.pt'], [10, 'backup.pt']],
                 @dns.getresources('pt', IN::MX).map { |r| [r.preference, r.exchange.to_s] }
    assert_equal ['hello from polyphony'], @dns.getresources('txt.pt', IN::TXT).map(&:data)
  end

  def test_no_such_name
    reply = raw_query('nothing.pt', IN::A)
    assert_equal Resolv::DNS::RCode::NXDomain, reply.rcode
    assert_equal 1, reply.aa
  end

  def test_truncated_over_udp_complete_over_tcp
    reply = raw_query('big.pt', IN::TXT)
    assert_equal 1, reply.tc
    assert_empty reply.answer
    assert_equal %w[0 1 2 3].map { |c| c * 250 }, @dns.getresources('big.pt', IN::TXT).map(&:data).sort
  end

  def test_many_clients_while_one_query_is_held
    held = Thread.new { Resolv::DNS.new(nameserver_port: [['127.0.0.1', @port]]).getaddress('slow.pt').to_s }
    answers = Array.new(20) do |t|
      Thread.new do
        dns = Resolv::DNS.new(nameserver_port: [['127.0.0.1', @port]])
        dns.timeouts = 10
        Array.new(10) { |i| dns.getaddress("n#{t * 10 + i}.pt").to_s }
      ensure
        dns&.close
      end
    end.map(&:value)
    assert_equal Array.new(20) { |t| Array.new(10) { |i| "10.2.0.#{t * 10 + i}" } }, answers
    assert held.alive?, 'the held query is still waiting'
    assert_equal '10.1.0.3', @dns.getaddress('release.pt').to_s
    assert_equal '10.1.0.2', held.value
  end

  def test_garbage_is_ignored_and_the_server_goes_on
    sock = UDPSocket.new
    sock.connect('127.0.0.1', @port)
    sock.send("\x00\x01garbage", 0)
    sock.send('', 0)
    assert_equal ['10.1.0.1'], @dns.getresources('www.pt', IN::A).map { |r| r.address.to_s }
  ensure
    sock&.close
  end

  def test_sigterm_stops_it
    Process.kill('TERM', @pid)
    _, status = Timeout.timeout(30) { Process.wait2(@pid) }
    assert status.success?
    assert_equal "stopped\n", @out.read
  end

  private

  def raw_query(name, klass)
    msg = Resolv::DNS::Message.new(rand(0x10000))
    msg.rd = 1
    msg.add_question(Resolv::DNS::Name.create("#{name}."), klass)
    sock = UDPSocket.new
    sock.connect('127.0.0.1', @port)
    sock.send(msg.encode, 0)
    raise 'no answer' unless sock.wait_readable(10)

    reply = Resolv::DNS::Message.decode(sock.recv(65_535))
    assert_equal msg.id, reply.id
    reply
  ensure
    sock&.close
  end
end
