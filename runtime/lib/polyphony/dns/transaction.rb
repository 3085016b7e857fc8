# frozen_string_literal: true

# One query to Polyphony::DNS::Server, as its handler block sees it: the
# question (name, type), who asked and how, and the answer being built.
# The handler adds records with #answer (values as in
# Polyphony::DNS::Records) or sets a response code; the server sends the
# response when the block returns. A block that adds nothing answers "no
# records of that type" (NOERROR, empty).
#
#   Polyphony::DNS::Server.new do |t|
#     case [t.name, t.type]
#     in ['www.test', :A] then t.answer('10.0.0.1', ttl: 60)
#     in ['test', :MX]    then t.answer([10, 'mail.test'])
#     else t.not_found!
#     end
#   end
module Polyphony
  module DNS
    class Transaction
      RCODE = Resolv::DNS::RCode
      DEFAULT_TTL = 300
      # The largest UDP response without EDNS (RFC 1035 4.2.1).
      UDP_MAX = 512

      # The decoded query and the response (Resolv::DNS::Message) being built.
      attr_reader :query, :response
      # [address, port] of the client; :udp or :tcp.
      attr_reader :client, :protocol

      def initialize(query, client, protocol)
        @query = query
        @client = client
        @protocol = protocol
        clear!
      end

      # Drops every record added so far (and the response code).
      def clear!
        @response = Resolv::DNS::Message.new(@query.id)
        @response.qr = 1
        @response.opcode = @query.opcode
        @response.rd = @query.rd
        @response.aa = 1
        @query.each_question { |name, klass| @response.add_question(name, klass) }
        self
      end

      # The name asked about, without the trailing dot ("www.test").
      def name
        @query.question.first[0].to_s
      end

      # The type asked for as a Symbol (:A, :MX ...), or the Resolv class
      # for a type Records does not name.
      def type
        klass = type_class
        Records.type_name(klass) || klass
      end

      def type_class
        @query.question.first[1]
      end

      # Adds a record to the answer: `value` for the question's type (or
      # `type:`), owned by the question's name (or `name:`).
      def answer(value, ttl: DEFAULT_TTL, type: self.type, name: self.name)
        @response.add_answer(Records.name(name), ttl, Records.resource(type, value))
        self
      end

      # Adds a record to the additional section (an MX's address ...).
      def additional(value, type:, name:, ttl: DEFAULT_TTL)
        @response.add_additional(Records.name(name), ttl, Records.resource(type, value))
        self
      end

      # NXDOMAIN: the name does not exist.
      def not_found!
        self.rcode = RCODE::NXDomain
      end

      # REFUSED: this server will not answer that.
      def refuse!
        self.rcode = RCODE::Refused
      end

      # SERVFAIL: the server could not find out.
      def fail!
        self.rcode = RCODE::ServFail
      end

      def rcode
        @response.rcode
      end

      # A response code by number or name (:NXDomain, :ServFail ...).
      def rcode=(code)
        @response.rcode = code.is_a?(Integer) ? code : RCODE.const_get(code)
      end

      # The response to send: over UDP, a response larger than 512 bytes
      # is sent truncated (the question and TC only), which tells the client
      # to ask again over TCP.
      def encode
        data = @response.encode
        return data if @protocol == :tcp || data.bytesize <= UDP_MAX

        truncated = Resolv::DNS::Message.new(@response.id)
        %i[qr opcode aa rd ra rcode].each { |f| truncated.send(:"#{f}=", @response.send(f)) }
        truncated.tc = 1
        @response.each_question { |n, c| truncated.add_question(n, c) }
        truncated.encode
      end
    end
  end
end
