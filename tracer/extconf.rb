# Builds polytrace_ext.so, the in-process half of the debugger
# (`require 'polytrace'`). It links the wire protocol statically.
require_relative '../mk/ext_common'

top = File.expand_path('..', __dir__)
proto_lib = ENV.fetch('PT_PROTO_LIB') { File.join(top, 'build', 'libptproto.a') }
$INCFLAGS << " -I#{top}/protocol -I#{top}/runtime"
abort 'msgpack-c is missing: run `make deps`' unless have_header('msgpack.h') && have_library('msgpackc')
abort 'OpenSSL is missing: run `make deps`' unless have_library('crypto') && have_library('ssl')
$LOCAL_LIBS << " #{proto_lib}"

create_makefile('polytrace_ext')
