# frozen_string_literal: true

# One DNS exchange with one server: a query sent, its answer awaited in the
# calling fiber for at most a timeout. Over UDP from a fresh socket (a new
# random source port for every query) connected to the server, so that
# only its datagrams arrive and an ICMP "port unreachable" ends the wait at
# once; anything that is not the answer to this query (another id, another
# question, not a response, undecodable) is ignored. Over TCP, the message
# with its two-byte length (RFC 1035 4.2.2).
require 'socket'
require 'ipaddr'

module Polyphony
  module DNS
    module Transport
      UDP_RECEIVE = 65_535

      module_function

      # The answer (a decoded Resolv::DNS::Message) to query from server
      # ([host, port]) over UDP, or nil if none came in time. Raises
      # SystemCallError when the server is unreachable.
      def udp(server, query, timeout)
        host, port = server
        sock = UDPSocket.new(IPAddr.new(host).ipv6? ? Socket::AF_INET6 : Socket::AF_INET)
        sock.connect(host, port)
        sock.send(query.encode, 0)
        move_on_after(timeout) do
          loop do
            reply = answer_to(query, sock.recv(UDP_RECEIVE))
            return reply if reply
          end
        end
      ensure
        sock&.close
      end

      # The same over TCP; nil if the server closes without an answer or
      # does not answer in time.
      def tcp(server, query, timeout)
        host, port = server
        sock = nil
        move_on_after(timeout) do
          sock = TCPSocket.new(host, port)
          data = query.encode
          sock.write([data.bytesize].pack('n'), data)
          loop do
            len = sock.read(2)&.unpack1('n')
            return nil unless len

            bytes = sock.read(len)
            return nil unless bytes && bytes.bytesize == len

            reply = answer_to(query, bytes)
            return reply if reply
          end
        end
      ensure
        sock&.close
      end

      # The decoded message if it answers query, else nil.
      def answer_to(query, bytes)
        return nil unless bytes && bytes.bytesize >= 12

        reply = Resolv::DNS::Message.decode(bytes)
        return nil unless reply.qr == 1 && reply.id == query.id && same_question?(query, reply)

        reply
      rescue Resolv::DNS::DecodeError
        nil
      end

      def same_question?(query, reply)
        q = query.question.first
        r = reply.question.first
        # A truncated or failed answer may come without its question.
        return true if r.nil?

        q[0] == r[0] && q[1] == r[1]
      end
    end
  end
end
