# frozen_string_literal: true

# Backend ops of Polyphony 1.6 that compose the C ones (read, recv, send,
# write, splice, wait_io, wait_event): feed loops, recv_loop, sendv, chain,
# close, splice_chunks, double_splice. Each waits in the calling fiber only.
module Polyphony
  class Backend
    # Reads chunks until EOF, passing each to receiver.method, with the block
    # (if any) passed on to that method, as Polyphony does: a parser's
    # feed_each yields each message it completes.
    def feed_loop(io, receiver, method = :call, &block)
      while (data = read(io, nil, 8192, false, -1))
        receiver.__send__(method, data, &block)
      end
      io
    end

    def recv_loop(io, maxlen = 8192)
      while (data = recv(io, nil, maxlen))
        yield data
      end
      io
    end

    def recv_feed_loop(io, receiver, method = :call, &block)
      while (data = recv(io, nil, 8192))
        receiver.__send__(method, data, &block)
      end
      io
    end

    # Sends the strings as one message; returns the byte count.
    def sendv(io, strings, flags = 0)
      send(io, strings.join, flags)
    end

    CHAIN_OP_ARITY = { write: 2, send: 3, splice: 3 }.freeze

    # Runs [:write, io, str], [:send, io, str, flags] and
    # [:splice, src, dest, maxlen] ops in order; returns the last result.
    # All ops are checked first: a bad one raises RuntimeError, none runs.
    def chain(*ops)
      ops.each do |op, *args|
        arity = CHAIN_OP_ARITY[op]
        raise "Invalid chain op #{op.inspect}" unless arity
        raise "Invalid arguments for chain op #{op.inspect}" unless args.size == arity
      end
      ops.inject(nil) { |_, (op, *args)| __send__(op, *args) }
    end

    # Closes the IO (Polyphony's Backend#close).
    def close(io)
      io.close
      io
    end

    # Sends src to dest in chunks of at most chunk_size bytes, each framed by
    # chunk_prefix / chunk_postfix (strings, or procs called with the chunk
    # length), the whole framed by prefix / postfix (e.g. HTTP chunked
    # encoding). The data goes through a pipe with splice. Returns the count
    # of bytes from src.
    def splice_chunks(src, dest, prefix, postfix, chunk_prefix, chunk_postfix, chunk_size)
      r, w = IO.pipe
      total = 0
      write(dest, prefix) if prefix
      while (len = splice(src, w, chunk_size)).positive?
        framed_write(dest, chunk_prefix, len)
        moved = 0
        moved += splice(r, dest, len - moved) while moved < len
        framed_write(dest, chunk_postfix, len)
        total += len
      end
      write(dest, postfix) if postfix
      total
    ensure
      r&.close
      w&.close
    end

    private def framed_write(dest, part, len)
      part = part.call(len) if part.respond_to?(:call)
      write(dest, part) if part
    end

    # Polyphony's earlier name for splice(src, dest, -chunk).
    def splice_to_eof(src, dest, chunk = 8192)
      splice(src, dest, -chunk)
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
