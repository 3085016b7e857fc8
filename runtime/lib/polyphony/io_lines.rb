# frozen_string_literal: true

# Line-oriented reading composed from IO#gets (C, through the backend), so
# that readline, each_line and readlines suspend only the calling fiber, and
# Kernel#gets does so for $stdin.
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

module Kernel
  alias __polyphony_orig_gets gets
  private :__polyphony_orig_gets

  # $stdin through the backend; files named in ARGV as Ruby does.
  def gets(*args, **opts)
    return __polyphony_orig_gets(*args, **opts) unless ARGV.empty?

    $stdin.gets(*args, **opts)
  end
  private :gets
end
