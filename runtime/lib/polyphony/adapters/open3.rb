# frozen_string_literal: true

# polyphony/adapters/open3 (loaded by `require 'polyphony'`, as in
# Polyphony 1.6): Open3.capture2, capture2e and capture3 run the command
# with fibers instead of threads. The child's output is read by fibers of
# the calling thread, its input written by the caller, and the child awaited
# through the backend, so a capture waits only in its fiber and starts no
# thread. Arguments and results are Open3's: [env,] cmd... [, opts] with
# :stdin_data (a String, or anything with readpartial) and :binmode, the
# rest going to Process.spawn. If the capture is interrupted (a timeout,
# stop), the pipes are closed and the child is reaped in the background
# when it exits; it is not killed, as with Ruby's Open3.
#
# Open3.popen3 and the other popen methods stay Ruby's: their wait thread
# is joined in the calling fiber only.
require 'open3'

module Polyphony
  # The capture methods, prepended to Open3's singleton.
  module Open3Capture
    def capture3(*cmd)
      Polyphony::Open3Capture.run(cmd, %i[out err])
    end

    def capture2(*cmd)
      Polyphony::Open3Capture.run(cmd, %i[out])
    end

    def capture2e(*cmd)
      Polyphony::Open3Capture.run(cmd, [%i[out err]])
    end

    COPY_CHUNK = 65_536

    # Spawns cmd with a pipe on stdin and one per entry of `outputs` (a
    # stream name or a list of them sharing a pipe); returns each output's
    # bytes, then the Process::Status.
    def self.run(cmd, outputs)
      opts = cmd.last.is_a?(Hash) ? cmd.pop.dup : {}
      stdin_data = opts.delete(:stdin_data)
      binmode = opts.delete(:binmode)
      child = Child.new(outputs, binmode)
      child.spawn(cmd, opts)
      child.feed(stdin_data)
      child.result
    ensure
      child&.abandon
    end

    # One child process and the parent's ends of its pipes.
    class Child
      def initialize(outputs, binmode)
        @outputs = outputs
        @binmode = binmode
        @pipes = []
        @pid = nil
        @done = false
      end

      def spawn(cmd, opts)
        @stdin = pipe
        @outs = @outputs.map { pipe }
        opts[:in] = @stdin[0]
        @outputs.zip(@outs) { |streams, (_, w)| opts[streams] = w }
        @pid = ::Process.spawn(*cmd, opts)
      ensure
        # The child's ends belong to the child alone.
        @stdin[0].close
        @outs.each { |_, w| w.close }
      end

      def feed(data)
        input = @stdin[1]
        @readers = @outs.map { |r, _| spin { r.read } }
        if data.respond_to?(:readpartial)
          copy(data, input)
        elsif data
          input.write(data)
        end
      rescue Errno::EPIPE
        nil # the child does not read its input
      ensure
        input.close
      end

      def result
        outputs = @readers.map(&:await)
        _, status = ::Process.wait2(@pid)
        @done = true
        [*outputs, status]
      end

      # Left early: the readers stop, the pipes close, and the child is
      # reaped by a detached waiter once it exits.
      def abandon
        return if @done

        @readers&.each { |f| f.stop if f.alive? }
        @pipes.each { |io| io.close unless io.closed? }
        ::Process.detach(@pid) if @pid
      end

      private

      def pipe
        r, w = IO.pipe
        [r, w].each(&:binmode) if @binmode
        @pipes.push(r, w)
        [r, w]
      end

      def copy(src, dest)
        buf = +''
        loop do
          src.readpartial(Polyphony::Open3Capture::COPY_CHUNK, buf)
          dest.write(buf)
        rescue EOFError
          break
        end
      end
    end
  end
end

Open3.singleton_class.prepend(Polyphony::Open3Capture)
