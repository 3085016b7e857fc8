# frozen_string_literal: true

# Record types by name (:A, :AAAA, :CNAME, :MX, :TXT, and a few more) and
# the two ways between Resolv::DNS resources and plain Ruby values: the
# values a lookup returns, and the values a server's transaction answers
# with.
#
#   :A, :AAAA            "10.0.0.1", "fd00::1"
#   :CNAME, :NS, :PTR    "host.example"      (no trailing dot)
#   :MX                  [10, "mail.example"] (preference, exchange)
#   :TXT                 "text" (the record's strings joined); answered
#                        with a String (cut into 255-byte strings) or an
#                        Array of strings
#   :SRV                 [priority, weight, port, "target"]
#   :SOA                 the Resolv::DNS::Resource::IN::SOA itself
require 'resolv'

module Polyphony
  module DNS
    module Records
      IN = Resolv::DNS::Resource::IN
      TYPES = {
        A: IN::A, AAAA: IN::AAAA, CNAME: IN::CNAME, MX: IN::MX, TXT: IN::TXT,
        NS: IN::NS, PTR: IN::PTR, SRV: IN::SRV, SOA: IN::SOA
      }.freeze
      NAMES = TYPES.invert.freeze

      module_function

      # The Resolv class for a type name (:A, 'aaaa' ...).
      def type_class(type)
        TYPES.fetch(type.to_s.upcase.to_sym) do
          raise ArgumentError, "unknown DNS record type #{type.inspect} (known: #{TYPES.keys.join(', ')})"
        end
      end

      # The type name of a Resolv class or resource, or nil.
      def type_name(klass)
        NAMES[klass.is_a?(Class) ? klass : klass.class]
      end

      # A lookup's value for a resource.
      def value(resource)
        case resource
        when IN::A, IN::AAAA then resource.address.to_s
        when IN::CNAME, IN::NS, IN::PTR then resource.name.to_s
        when IN::MX then [resource.preference, resource.exchange.to_s]
        when IN::TXT then resource.strings.join
        when IN::SRV then [resource.priority, resource.weight, resource.port, resource.target.to_s]
        else resource
        end
      end

      # The resource a server answers with, from a value (or a resource).
      def resource(type, value)
        klass = type_class(type)
        return value if value.is_a?(klass)

        case type_name(klass)
        when :A, :AAAA then klass.new(value)
        when :CNAME, :NS, :PTR then klass.new(name(value))
        when :MX then klass.new(Integer(value[0]), name(value[1]))
        when :TXT then klass.new(*txt_strings(value))
        when :SRV then klass.new(*value[0, 3].map { |v| Integer(v) }, name(value[3]))
        else raise ArgumentError, "answer #{type} records with a #{klass} object"
        end
      end

      def name(value)
        Resolv::DNS::Name.create(value.to_s.end_with?('.') ? value.to_s : "#{value}.")
      end

      # A TXT record holds strings of at most 255 bytes each.
      def txt_strings(value)
        Array(value).flat_map { |s| s.to_s.b.scan(/.{1,255}/mn).then { |parts| parts.empty? ? [''] : parts } }
      end
    end
  end
end
