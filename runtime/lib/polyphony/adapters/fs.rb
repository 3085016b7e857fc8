# frozen_string_literal: true

# polyphony/adapters/fs (Polyphony 1.6's path): File.stat and IO.read
# (reading a whole file by name) go to the default Polyphony::ThreadPool,
# where a slow disk or a network file system blocks a pool thread instead
# of the program's. Ruby's own stay as File.orig_stat and IO.orig_read.
require 'polyphony'

class << File
  alias_method :orig_stat, :stat

  def stat(path)
    Polyphony::ThreadPool.process { orig_stat(path) }
  end
end

class << IO
  alias_method :orig_read, :read

  ruby2_keywords def read(*args)
    Polyphony::ThreadPool.process { orig_read(*args) }
  end
end
