# frozen_string_literal: true

# Backend ops of Polyphony 1.6 that compose the C ones (read, recv, send,
# write, splice, wait_io): wait_event, feed loops, recv_loop, sendv, chain,
# double_splice. Each waits in the calling fiber only.
module Polyphony
  class Backend
    # Waits until the fiber is scheduled; with raise_on_exception (the
    # default) an exception it is scheduled with is raised, else returned.
    def wait_event(raise_on_exception = true)
      suspend
    rescue Exception => e # rubocop:disable Lint/RescueException
      raise if raise_on_exception

      e
    end

    # Reads chunks until EOF, passing each to receiver.method; the block (if
    # any) gets each call's result.
    def feed_loop(io, receiver, method = :call)
      while (data = read(io, nil, 8192, false, -1))
        result = receiver.__send__(method, data)
        yield result if block_given?
      end
      io
    end

    def recv_loop(io, maxlen = 8192)
      while (data = recv(io, nil, maxlen))
        yield data
      end
      io
    end

    def recv_feed_loop(io, receiver, method = :call)
      while (data = recv(io, nil, 8192))
        result = receiver.__send__(method, data)
        yield result if block_given?
      end
      io
    end

    # Sends the strings as one message; returns the byte count.
    def sendv(io, strings, flags = 0)
      send(io, strings.join, flags)
    end

    # Runs [:write, io, str], [:send, io, str, flags] and
    # [:splice, src, dest, maxlen] ops in order; returns the last result.
    def chain(*ops)
      result = nil
      ops.each do |op, *args|
        raise ArgumentError, "unsupported chain op #{op.inspect}" unless %i[write send splice].include?(op)

        result = __send__(op, *args)
      end
      result
    end

    # Splices src to dest through a pipe until src's EOF; the byte count.
    def double_splice(src, dest, chunk = 65_536)
      r, w = IO.pipe
      filler = spin do
        splice(src, w, -chunk)
      ensure
        w.close
      end
      total = splice(r, dest, -chunk)
      filler.await
      total
    ensure
      filler&.stop if filler&.alive?
      r&.close
      w&.close unless w&.closed?
    end
  end
end
