# frozen_string_literal: true

# Raw buffers (Polyphony 1.6's Polyphony.__with_raw_buffer__ and friends): a
# byte buffer of fixed capacity lent to a block under an Integer handle.
# IO#read / #readpartial / #write / #<<, BasicSocket#recv / #send and the
# Backend's read, recv, write and send take the handle in place of a String:
# reads fill the buffer from its start (its size stays), writes send its
# first `size` bytes.
#
# Polyphony's handle is the C address of the buffer. Here it is a key into
# the table of buffers whose block is running, so an Integer that is not one
# (a stale handle, a number written to an IO) is never taken for memory:
# the raw-buffer functions raise ArgumentError for it, and IO#write, #<< and
# the rest treat it as Ruby does (`io << 5` writes "5"). Handles start at
# RawBuffer::BASE, far from the numbers programs write by chance.
module Polyphony
  module RawBuffer
    BASE = 0x5261_7742 << 28

    Buffer = Struct.new(:bytes, :size)

    @live = {}

    class << self
      # Yields the handle of a fresh buffer of capacity bytes (size =
      # capacity); the buffer lives until the block ends.
      def with(capacity)
        unless capacity.is_a?(Integer) && capacity >= 0
          raise ArgumentError, "raw buffer capacity must be a non-negative Integer, not #{capacity.inspect}"
        end

        buffer = Buffer.new("\0".b * capacity, capacity)
        handle = BASE + buffer.object_id
        @live[handle] = buffer
        begin
          yield handle
        ensure
          @live.delete(handle)
        end
      end

      def raw?(obj)
        obj.is_a?(Integer) && @live.key?(obj)
      end

      def fetch(handle)
        @live.fetch(handle) do
          raise ArgumentError, "#{handle.inspect} is not a raw buffer (or its block has ended)"
        end
      end

      # The first len bytes (default: size; at most the capacity).
      def get(handle, len = nil)
        buffer = fetch(handle)
        len = len.nil? ? buffer.size : len.clamp(0, buffer.bytes.bytesize)
        buffer.bytes.byteslice(0, len)
      end

      # Copies str to the start of the buffer; size becomes its length.
      def set(handle, str)
        buffer = fetch(handle)
        str = str.to_str
        capacity = buffer.bytes.bytesize
        if str.bytesize > capacity
          raise RuntimeError, "#{str.bytesize} bytes do not fit in a raw buffer of #{capacity}"
        end

        fill(buffer, str)
        buffer.size = str.bytesize
      end

      def size(handle)
        fetch(handle).size
      end

      # What a write of obj sends: a live buffer's first size bytes, any
      # other object itself.
      def written(obj)
        buffer = obj.is_a?(Integer) && @live[obj]
        buffer ? buffer.bytes.byteslice(0, buffer.size) : obj
      end

      # Reads with the block (given the most bytes to read, it returns a
      # String or nil at EOF) into the buffer from its start; the byte count,
      # nil at EOF.
      def read_into(handle, len)
        buffer = fetch(handle)
        room = buffer.bytes.bytesize
        len = len.nil? ? room : [len, room].min
        data = yield len
        return nil if data.nil? || (data.empty? && len.positive?)

        fill(buffer, data)
        data.bytesize
      end

      private

      def fill(buffer, data)
        bytes = buffer.bytes
        bytes.replace(data.b + bytes.byteslice(data.bytesize..))
      end
    end
  end

  class << self
    def __with_raw_buffer__(capacity, &block)
      RawBuffer.with(capacity, &block)
    end

    def __raw_buffer_get__(handle, len = nil)
      RawBuffer.get(handle, len)
    end

    def __raw_buffer_set__(handle, str)
      RawBuffer.set(handle, str)
      self
    end

    def __raw_buffer_size__(handle)
      RawBuffer.size(handle)
    end
  end
end
