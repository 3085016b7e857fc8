# frozen_string_literal: true

# A stub resolver: asks recursive servers (those of /etc/resolv.conf, or
# the ones given) and waits in the calling fiber only. Each attempt asks
# the servers in order, each for at most `timeout` seconds, over UDP, and
# again over TCP when the answer comes back truncated; `retries` more
# attempts follow when none answered. Names are asked as given (no search
# list): "www.example.com" means www.example.com.
#
#   r = Polyphony::DNS::Resolver.new(nameservers: ['127.0.0.1:5353'], timeout: 1)
#   r.lookup('example.com', :MX)   # => [[10, "mail.example.com"]]
#   r.query('example.com', :A)     # => the Resolv::DNS::Message answer
require 'resolv'

module Polyphony
  module DNS
    class Resolver
      DEFAULT_TIMEOUT = 2
      DEFAULT_RETRIES = 2
      MAX_CNAMES = 8
      RCODES = Resolv::DNS::RCode.constants.to_h { |c| [Resolv::DNS::RCode.const_get(c), c] }.freeze

      attr_reader :nameservers, :timeout, :retries

      # The nameservers listed in a resolv.conf file, each [address, port];
      # the local host when it lists none (as resolv.conf(5) says).
      def self.nameservers_from(path = '/etc/resolv.conf', port = 53)
        list = File.exist?(path) ? Resolv::DNS::Config.parse_resolv_conf(path)[:nameserver] : []
        list = ['127.0.0.1'] if list.empty?
        list.map { |address| [address, port] }
      end

      # nameservers: addresses ("10.0.0.1", "10.0.0.1:5353", "[::1]:5353")
      # or [address, port] pairs; without them, those of resolv_conf, on
      # `port`.
      def initialize(nameservers: nil, resolv_conf: '/etc/resolv.conf', port: 53,
                     timeout: DEFAULT_TIMEOUT, retries: DEFAULT_RETRIES)
        raise ArgumentError, 'timeout must be a positive number of seconds' unless timeout.is_a?(Numeric) && timeout.positive?
        raise ArgumentError, 'retries must be a non-negative integer' unless retries.is_a?(Integer) && !retries.negative?

        @nameservers = nameservers ? Array(nameservers).map { |s| address(s, port) } : Resolver.nameservers_from(resolv_conf, port)
        raise ArgumentError, 'no nameserver given' if @nameservers.empty?

        @timeout = timeout
        @retries = retries
      end

      # The values of name's records of `type` (see Polyphony::DNS::Records),
      # following CNAMEs; [] when the name has none. Raises NotFound,
      # ServerFailure or Timeout.
      def lookup(name, type = :A)
        klass = Records.type_class(type)
        target = name
        MAX_CNAMES.times do
          values, alias_of = answers(query(target, type), target, klass)
          return values unless values.empty? && alias_of && klass != Records::IN::CNAME

          target = alias_of
        end
        raise ServerFailure, "#{name}: more than #{MAX_CNAMES} CNAMEs in a row"
      end

      # The first answer (Resolv::DNS::Message) with no error from any
      # server. Raises NotFound for NXDOMAIN, ServerFailure when every
      # server failed, Timeout when none answered.
      def query(name, type = :A)
        question = Resolv::DNS::Message.new(rand(0x10000))
        question.rd = 1
        question.add_question(absolute(name), Records.type_class(type))
        failure = nil
        (@retries + 1).times do
          @nameservers.each do |server|
            reply, failure = ask(server, question, name, type)
            return reply if reply
          end
        end
        raise failure || Timeout.new("#{name} #{type}: no answer from #{servers_text} " \
                                     "(#{@retries + 1} attempt#{'s' unless @retries.zero?}, #{@timeout} s each)")
      end

      private

      # [reply, nil] for an answer, [nil, failure] otherwise (nil failure:
      # no answer in time).
      def ask(server, question, name, type)
        reply = Transport.udp(server, question, @timeout)
        reply = Transport.tcp(server, question, @timeout) if reply&.tc == 1
        return [nil, nil] unless reply

        case reply.rcode
        when Resolv::DNS::RCode::NoError then [reply, nil]
        when Resolv::DNS::RCode::NXDomain then raise NotFound, "#{name}: no such name (#{server_text(server)})"
        else [nil, ServerFailure.new("#{name} #{type}: #{RCODES[reply.rcode] || reply.rcode} from #{server_text(server)}",
                                     reply.rcode)]
        end
      rescue SystemCallError, IOError => e
        [nil, ServerFailure.new("#{name} #{type}: #{server_text(server)}: #{e.message}")]
      end

      # The values for name in reply, following the CNAMEs the reply
      # holds; and the last alias when it holds none of its records.
      def answers(reply, name, klass)
        by_owner = Hash.new { |h, k| h[k] = [] }
        reply.each_answer { |owner, _ttl, rr| by_owner[owner.to_s.downcase] << rr }
        asked = current = name.to_s.downcase.chomp('.')
        MAX_CNAMES.times do
          records = by_owner[current]
          found = records.select { |rr| rr.is_a?(klass) }
          return [found.map { |rr| Records.value(rr) }, nil] unless found.empty?

          cname = records.find { |rr| rr.is_a?(Records::IN::CNAME) }
          # An alias whose records the reply does not hold: ask for them.
          return [[], records.empty? && current != asked ? current : nil] unless cname

          current = cname.name.to_s.downcase
        end
        [[], current]
      end

      def absolute(name)
        Resolv::DNS::Name.create(name.to_s.end_with?('.') ? name.to_s : "#{name}.")
      end

      def address(spec, port)
        return [spec[0].to_s, Integer(spec[1])] if spec.is_a?(Array)

        case spec.to_s
        when /\A\[(.+)\]:(\d+)\z/, /\A([^:]+):(\d+)\z/ then [Regexp.last_match(1), Integer(Regexp.last_match(2))]
        else [spec.to_s, port]
        end
      end

      def servers_text
        @nameservers.map { |s| server_text(s) }.join(', ')
      end

      def server_text(server)
        host, port = server
        host.include?(':') ? "[#{host}]:#{port}" : "#{host}:#{port}"
      end
    end
  end
end
