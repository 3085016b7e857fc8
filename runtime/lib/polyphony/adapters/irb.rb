# frozen_string_literal: true

# polyphony/adapters/irb (Polyphony 1.6's path; `require 'polyphony'` loads
# it when IRB is loaded first): an IRB prompt waiting for input does not
# stop the program's other fibers. IRB reads through Reline (Ruby 3.1's
# default), which waits with IO#wait_readable and reads with #getbyte, the
# runtime's; through GNU readline (`--readline`), which this adapter runs on
# a thread of its own (polyphony/adapters/readline); or with IO#gets
# (`--noreadline`, a pipe), the runtime's. Evaluation runs in the fiber
# that started IRB.
require 'polyphony'
require 'irb'
require 'polyphony/adapters/readline'
