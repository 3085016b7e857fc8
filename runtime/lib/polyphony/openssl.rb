# frozen_string_literal: true

# TLS on the runtime (Polyphony 1.6's OpenSSL extensions). An SSLSocket's
# handshake, reads and writes wait in the calling fiber through the backend
# (Ruby's own wait, outside a scheduler, would block the thread: the main
# fiber's). OpenSSL::SSL::SSLServer#accept_loop(ignore_errors: true) goes on
# past connections whose handshake fails (a client speaking plain HTTP)
# unless told not to (Ruby's SSLServer#accept closes such a connection).
# Loaded by `require 'polyphony'` when OpenSSL is loaded already, and by
# Polyphony::Net's secure options.
require 'openssl'

module Polyphony
  module SSLSocketWaits
    def accept
      wait_for { accept_nonblock(exception: false) }
    end

    def connect
      wait_for { connect_nonblock(exception: false) }
    end

    def sysread(len, buf = nil)
      result = wait_for { sysread_nonblock(len, buf, exception: false) }
      raise EOFError, 'end of file reached' if result.nil?

      result
    end

    def syswrite(data)
      wait_for { syswrite_nonblock(data, exception: false) }
    end

    private

    def wait_for
      loop do
        result = yield
        case result
        when :wait_readable then Thread.current.backend.wait_io(to_io, false)
        when :wait_writable then Thread.current.backend.wait_io(to_io, true)
        else return result
        end
      end
    end
  end

  module SSLServerLoop
    # Accepts forever, yielding each connection; a connection whose
    # handshake fails (OpenSSL::SSL::SSLError, a system call error) is
    # skipped unless ignore_errors is false, when the error is raised.
    def accept_loop(ignore_errors: true)
      loop do
        yield accept
      rescue OpenSSL::SSL::SSLError, SystemCallError
        raise unless ignore_errors
      end
    end
  end
end

OpenSSL::SSL::SSLSocket.prepend(Polyphony::SSLSocketWaits)
OpenSSL::SSL::SSLServer.prepend(Polyphony::SSLServerLoop)
