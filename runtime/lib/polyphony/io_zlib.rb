# frozen_string_literal: true

# Compression between IOs and strings (Polyphony 1.6): IO.deflate, IO.inflate,
# IO.gzip and IO.gunzip read all of `src` (an IO, or anything with
# readpartial, or a String) and write the result to `dest` (an IO or a
# String, appended to), waiting in the calling fiber. Ruby's zlib does the
# work. deflate and gzip return the bytes written, inflate and gunzip the
# bytes of uncompressed data.
#
#   IO.gzip(src, dest, mtime: t, orig_name: 'name', comment: 'text')
#     mtime: an Integer or Time; false writes 0; default: now
#   IO.gunzip(src, dest, info = nil)
#     info, a Hash, receives :mtime (a Time), :orig_name and :comment
require 'zlib'
require 'stringio'

module Polyphony
  module IOZlib
    CHUNK = 16_384

    # A destination that counts what it is given; GzipWriter writes to it.
    class Sink
      attr_reader :count

      def initialize(dest)
        @dest = dest
        @count = 0
      end

      def write(*chunks)
        chunks.sum { |c| put(c.to_s) }
      end

      def <<(chunk)
        put(chunk.to_s)
        self
      end

      private

      def put(data)
        return 0 if data.empty?

        if @dest.is_a?(String)
          # The bytes are appended; the string keeps its encoding.
          @dest << data.dup.force_encoding(@dest.encoding)
        else
          @dest.write(data)
        end
        @count += data.bytesize
        data.bytesize
      end
    end

    module_function

    def each_chunk(src)
      if src.is_a?(String)
        yield src unless src.empty?
        return
      end
      loop do
        chunk = src.readpartial(CHUNK)
        yield chunk
      rescue EOFError
        break
      end
    end

    def reader(src)
      src.is_a?(String) ? StringIO.new(src) : src
    end

    def check_dest(dest)
      raise FrozenError.new("can't modify frozen String: #{dest.inspect}", receiver: dest) if dest.frozen?
    end

    def deflate(src, dest)
      zstream(src, dest, Zlib::Deflate, :deflate)
    end

    def inflate(src, dest)
      zstream(src, dest, Zlib::Inflate, :inflate)
    end

    # Runs src through a new stream of klass (Zlib::Deflate or Zlib::Inflate,
    # its method meth), chunk by chunk, into dest; returns the bytes written.
    def zstream(src, dest, klass, meth)
      check_dest(dest)
      sink = Sink.new(dest)
      z = klass.new
      begin
        each_chunk(src) { |chunk| sink << z.public_send(meth, chunk) }
        sink << z.finish
      ensure
        z.close
      end
      sink.count
    end

    def gzip(src, dest, opts = {})
      check_dest(dest)
      sink = Sink.new(dest)
      gz = Zlib::GzipWriter.new(sink)
      mtime = opts[:mtime]
      gz.mtime = mtime == false ? 0 : mtime unless mtime.nil?
      gz.orig_name = opts[:orig_name] if opts[:orig_name]
      gz.comment = opts[:comment] if opts[:comment]
      each_chunk(src) { |chunk| gz.write(chunk) }
      gz.finish
      sink.count
    end

    def gunzip(src, dest, info = nil)
      check_dest(dest)
      sink = Sink.new(dest)
      gz = Zlib::GzipReader.new(reader(src))
      if info
        info[:mtime] = gz.mtime
        info[:orig_name] = gz.orig_name
        info[:comment] = gz.comment
      end
      while (chunk = gz.read(CHUNK))
        sink << chunk
      end
      gz.finish
      sink.count
    end
  end
end

class ::IO
  def self.deflate(src, dest)
    Polyphony::IOZlib.deflate(src, dest)
  end

  def self.inflate(src, dest)
    Polyphony::IOZlib.inflate(src, dest)
  end

  def self.gzip(src, dest, opts = {})
    Polyphony::IOZlib.gzip(src, dest, opts)
  end

  def self.gunzip(src, dest, info = nil)
    Polyphony::IOZlib.gunzip(src, dest, info)
  end
end
