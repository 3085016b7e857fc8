# Builds polyphony_ext.so, the fiber runtime behind `require 'polyphony'`.
require_relative '../mk/ext_common'

abort 'libev (ev.h) is missing: run `make deps`' unless have_header('ev.h') && have_library('ev')
abort 'liburing is missing: run `make deps`' unless have_header('liburing.h') && have_library('uring')

create_makefile('polyphony_ext')
