# frozen_string_literal: true

# polyphony/adapters/redis with Debian's ruby-redis 4.8 against a real
# Redis 7 (tests/lib/pt_servers.rb): commands, pipelining, BLPOP woken by
# another fiber's RPUSH, pub/sub, and one client shared by fibers (its
# Monitor) with the main fiber among them. Each waits in its fiber (spun,
# and the main one) while a ticker fiber keeps ticking.
require 'minitest/autorun'
require 'polyphony'
require 'polyphony/adapters/redis'
require 'pt_servers'
require 'pt_ticker'

PtServers.ensure_running(:redis)

class AdapterRedisTest < Minitest::Test
  include PtTicker

  def setup
    @clients = []
    @prefix = "pt:#{Process.pid}:#{name}:"
  end

  def teardown
    Fiber.current.shutdown_all_children
    @clients.each(&:close)
  end

  def client
    Redis.new(**PtServers.redis_params).tap { |r| @clients << r }
  end

  def key(name)
    @prefix + name
  end

  def both(&block)
    %i[spun main].each { |how| block.call(how) }
  end

  # A reply on the loopback may be there before the client reads: Redis
  # holds every client's commands for 20 ms, so the next one waits.
  def held
    (@pauser ||= client).call('CLIENT', 'PAUSE', '20', 'ALL')
  end

  def test_commands
    both do |how|
      r = client
      assert_equal 'OK', ticking_in(how) { held; r.set(key("k#{how}"), 'v') }
      assert_equal 'v', ticking_in(how) { held; r.get(key("k#{how}")) }
      assert_equal 3, ticking_in(how) { held; r.incrby(key("n#{how}"), 3) }
      assert_nil ticking_in(how) { held; r.get(key('missing')) }
    end
  end

  def test_pipelining
    both do |how|
      r = client
      replies = ticking_in(how) do
        held
        r.pipelined do |p|
          p.set(key("a#{how}"), '1')
          p.incr(key("a#{how}"))
          p.get(key("a#{how}"))
        end
      end
      assert_equal ['OK', 2, '2'], replies
    end
  end

  def test_blpop_woken_by_rpush
    both do |how|
      waiter = client
      pusher = client
      list = key("q#{how}")
      spin { snooze; pusher.rpush(list, 'x') }
      assert_equal [list, 'x'], ticking_in(how) { waiter.blpop(list, timeout: 5) }
      assert_nil ticking_in(how) { waiter.blpop(list, timeout: 0.05) }
    end
  end

  def test_pub_sub
    both do |how|
      sub = client
      pub = client
      channel = key("ch#{how}")
      got = []
      subscribed = Polyphony::Event.new
      spin do
        subscribed.await
        pub.publish(channel, 'hello')
        pub.publish(channel, 'bye')
      end
      ticking_in(how) do
        sub.subscribe(channel) do |on|
          on.subscribe { subscribed.signal }
          on.message do |ch, msg|
            got << [ch, msg]
            sub.unsubscribe if msg == 'bye'
          end
        end
      end
      assert_equal [[channel, 'hello'], [channel, 'bye']], got
    end
  end

  # One client, three fibers: the main fiber's GET waits (in it) while a
  # spun fiber's BLPOP holds the client, until another client's RPUSH.
  def test_shared_client_in_the_main_fiber
    shared = client
    other = client
    list = key('shared')
    shared.set(key('s'), 'value')
    popper = spin { shared.blpop(list, timeout: 5) }
    snooze
    spin { snooze; other.rpush(list, 'item') }
    assert_equal 'value', ticking { shared.get(key('s')) }
    assert_equal [list, 'item'], popper.await
  end
end
