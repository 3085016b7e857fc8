# frozen_string_literal: true

# `require 'polyphony/dns'`: DNS on the runtime, waiting in the calling
# fiber only (docs/dns.md). A stub resolver (Polyphony::DNS.lookup,
# Polyphony::DNS::Resolver) and a server (Polyphony::DNS::Server), UDP and
# TCP both; messages are encoded and decoded by Ruby's Resolv::DNS::Message.
#
#   Polyphony::DNS.lookup('example.com')          # => ["93.184.215.14"]
#   Polyphony::DNS.lookup('example.com', :MX)     # => [[0, "."]]
require 'polyphony'
require 'resolv'
require 'polyphony/dns/errors'
require 'polyphony/dns/records'
require 'polyphony/dns/transport'
require 'polyphony/dns/resolver'
require 'polyphony/dns/transaction'
require 'polyphony/dns/server'

module Polyphony
  module DNS
    module_function

    # The values of name's records of `type` (:A, :AAAA, :CNAME, :MX, :TXT
    # ...). Options are Resolver.new's (nameservers:, timeout:, retries:,
    # resolv_conf:, port:); without any, the servers of /etc/resolv.conf.
    def lookup(name, type = :A, **options)
      resolver(options).lookup(name, type)
    end

    # The answer message (Resolv::DNS::Message) for name and type.
    def query(name, type = :A, **options)
      resolver(options).query(name, type)
    end

    # The resolver for these options; the one for /etc/resolv.conf is made
    # once per thread.
    def resolver(options = {})
      return Resolver.new(**options) unless options.empty?

      Thread.current[:polyphony_dns_resolver] ||= Resolver.new
    end
  end
end
