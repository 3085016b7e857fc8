# frozen_string_literal: true

# Line-oriented reading composed from IO#gets (C, through the backend), so
# that readline, each_line and readlines suspend only the calling fiber, and
# Kernel#gets does so for ARGV's files and $stdin.
class IO
  def readline(*args, **opts)
    line = gets(*args, **opts)
    raise EOFError, 'end of file reached' unless line

    line
  end

  def each_line(*args, **opts)
    return enum_for(:each_line, *args, **opts) unless block_given?

    while (line = gets(*args, **opts))
      yield line
    end
    self
  end
  alias each each_line

  def readlines(*args, **opts)
    each_line(*args, **opts).to_a
  end
end

# Kernel#gets as in Polyphony 1.6: the lines of the files named in ARGV
# (taken from ARGV one at a time, as ARGF does; a missing file raises
# Errno::ENOENT), then $stdin's, each read through the backend.
module Polyphony
  module ArgvGets
    @file = nil

    def self.gets(args, opts)
      loop do
        if @file
          line = @file.gets(*args, **opts)
          return line if line

          @file.close
          @file = nil
        end
        break if ARGV.empty?

        @file = File.open(ARGV.shift, 'r')
      end
      $stdin.gets(*args, **opts)
    end
  end
end

module Kernel
  alias __polyphony_orig_gets gets
  private :__polyphony_orig_gets

  def gets(*args, **opts)
    Polyphony::ArgvGets.gets(args, opts)
  end
  private :gets
end
