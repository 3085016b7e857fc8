# frozen_string_literal: true

# The IO side of splicing (Polyphony 1.6): IO.splice / IO.tee /
# IO.double_splice and IO#splice_from / #tee_from, on Backend#splice and
# #tee (compat_splice.c). A negative maxlen splices until EOF in chunks of
# -maxlen bytes and returns the total.
class ::IO
  class << self
    def splice(src, dest, maxlen)
      Polyphony.backend_splice(src, dest, maxlen)
    end

    def tee(src, dest, maxlen)
      Polyphony.backend_tee(src, dest, maxlen)
    end

    def double_splice(src, dest)
      Polyphony.backend_double_splice(src, dest)
    end
  end

  def splice_from(src, maxlen)
    Polyphony.backend_splice(src, self, maxlen)
  end

  def splice_to_eof_from(src, chunk = 8192)
    Polyphony.backend_splice(src, self, -chunk)
  end

  def tee_from(src, maxlen)
    Polyphony.backend_tee(src, self, maxlen)
  end

  # Reads until EOF, passing each chunk to receiver.method (see
  # Backend#feed_loop).
  def feed_loop(receiver, method = :call, &block)
    Polyphony.backend_feed_loop(self, receiver, method, &block)
  end
end
