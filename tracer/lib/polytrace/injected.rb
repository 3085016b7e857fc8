# frozen_string_literal: true

# polytrace/injected.rb — loaded into a process started without the tracer,
# by a thread that `polytrace attach` had Ruby start (Thread.current names
# the page that held the line that started it). Loads the tracer, idle, then
# tells the waiting controller it may signal. Never raises: a failure to
# load is reported in one line on the program's stderr, and the program
# runs on.
begin
  libdir = File.expand_path('..', __dir__)
  ext = File.join(libdir, 'polytrace_ext.so')
  require(File.exist?(ext) ? ext : 'polytrace_ext')
  require File.join(libdir, 'polytrace')
  PolyTrace.__injected(Thread.current[:polytrace_page])
rescue StandardError, ScriptError => e
  begin
    $stderr.write("polytrace: could not load the tracer: #{e.class}: #{e.message}\n")
  rescue StandardError
    nil
  end
end
