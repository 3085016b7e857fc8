# frozen_string_literal: true

# IO#eof? through the backend (docs/io.md): waiting for the answer suspends
# only the calling fiber, where Ruby's own eof? would block the thread.

class IO
  # True at end of file. Waits until there is a byte to read or EOF; what is
  # read to find out goes back to the IO's buffer for the next read.
  def eof?
    raise IOError, 'not opened for reading' if closed?

    chunk = Thread.current.backend.read(self, nil, 8192)
    return true unless chunk

    ungetbyte(chunk)
    false
  end
  alias eof eof?
end
