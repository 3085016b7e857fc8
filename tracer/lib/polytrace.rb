# frozen_string_literal: true

# Entry point of the PolyTrace tracer: `require 'polytrace'` (or
# RUBYOPT=-rpolytrace). Loads the C half, defines the hook that collects the
# instruction sequences of files compiled while a controller is connected
# (line breakpoints are targeted at them), connects to a launching controller when POLYTRACE_SOCKET says so, and traps
# SIGURG (attach, and requests that arrive while the program runs) and, under
# a launching controller, SIGINT (a pause instead of an Interrupt).
# Brought in by `polytrace attach` (polytrace/injected.rb), the extension is
# already loaded by its path and Ruby's load path may not name its directory.
require 'polytrace_ext' unless defined?(PolyTrace.__boot)

module PolyTrace
  COMPILED = TracePoint.new(:script_compiled) do |tp|
    PolyTrace.__compiled(tp.instruction_sequence) unless tp.eval_script
  end

  # A method defined at the top level has no class body whose end resolves
  # a pending `break Object#meth`; Object.method_added tells instead.
  module TopLevelDefs
    def method_added(name)
      PolyTrace.__method_added
      super
    end
  end
  Object.singleton_class.prepend(TopLevelDefs)

  # Ruby 3.1 calls Process._fork for every fork made from Ruby; the tracer
  # decides there whether the child stays under the controller (fork.c).
  module ForkHook
    def _fork
      pid = super
      PolyTrace.__forked(pid)
      pid
    end
  end
  Process.singleton_class.prepend(ForkHook)

  # The lines of a file that have code (a :line event), from its top
  # instruction sequences and every one inside them, in order: where a line
  # breakpoint can go.
  def self.__code_lines(iseqs)
    lines = []
    todo = iseqs.dup
    while (iseq = todo.pop)
      iseq.trace_points.each { |line, event| lines << line if event == :line }
      iseq.each_child { |child| todo << child }
    end
    lines.uniq.sort
  end

  # COMPILED is on while a controller is connected (tracer/idle.c says when else).
  launched = __boot(File.expand_path(File.dirname(__FILE__)))
  trap('URG') { PolyTrace.__interrupt(:urg) }
  # Stray SIGURGs (a second `polytrace attach`, a probe) stop at a C handler
  # that only tells the attach listener; the trap runs when the tracer wants it.
  __urg_gate
  trap('INT') { raise Interrupt unless PolyTrace.__interrupt(:int) } if launched
end
