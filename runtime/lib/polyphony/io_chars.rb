# frozen_string_literal: true

# Byte and character reading (Polyphony 1.6 makes them fiber-aware):
# getbyte, getc, readbyte, readchar, each_byte and each_char first wait,
# through the backend, until there is data in the IO's buffer or EOF (that
# is what IO#eof? does here, polyphony/io_surface.rb), then let Ruby take
# it from the buffer without blocking. A multibyte character split across
# two arrivals may still make Ruby's getc wait for its last bytes.
module Polyphony
  module IOChars
    def getbyte
      eof? ? nil : super
    end

    def getc
      eof? ? nil : super
    end

    def readbyte
      raise EOFError, 'end of file reached' if eof?

      super
    end

    def readchar
      raise EOFError, 'end of file reached' if eof?

      super
    end

    def each_byte
      return enum_for(:each_byte) unless block_given?

      while (b = getbyte)
        yield b
      end
      self
    end

    def each_char
      return enum_for(:each_char) unless block_given?

      while (c = getc)
        yield c
      end
      self
    end
  end
end

class ::IO
  prepend Polyphony::IOChars
end
