# Shared mkmf settings for PolyTrace's two Ruby C extensions (runtime/ and
# tracer/): C11, our warnings as errors, Ruby's own headers as system headers
# so their warnings are not ours, and an optional sanitizer build.
require 'mkmf'

$CFLAGS << ' -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror'
$CFLAGS << ' -Wno-error=deprecated-declarations'
# Ruby's headers trip -Wextra; -isystem makes them system headers.
$CFLAGS << ' -isystem $(hdrdir) -isystem $(arch_hdrdir)'
$CFLAGS << ' -g -O2'
if ENV['PT_SANITIZE'] && !ENV['PT_SANITIZE'].empty?
  # Ruby switches fiber stacks behind the sanitizer's back (a Debian Ruby is
  # not built with it), so a frame left on a fiber's stack keeps its poisoned
  # red zones: stack instrumentation is off in the extensions, heap and
  # global checks stay on.
  $CFLAGS << " -fsanitize=#{ENV['PT_SANITIZE']} -fno-omit-frame-pointer --param=asan-stack=0"
  $LDFLAGS << " -fsanitize=#{ENV['PT_SANITIZE']}"
end
