# frozen_string_literal: true

# bench/lib/tp_probe.rb — reproduces, without PolyTrace, what the debugger's
# TracePoints cost in Ruby 3.1 (evidence for docs/benchmarks.md).
#
# Preload it: TP_PROBE=MODE ruby -r./bench/lib/tp_probe bench/workloads/fiber_calls.rb
#   global    enable a global :line TracePoint and disable it again at once
#             (what a debugger does to stop at the first line of a script)
#   targeted  20 :line TracePoints enabled with target: (the script's iseq)
#             and target_line: on never-executed lines (breakpoints elsewhere)
#   both      global, then targeted
#   entry     the first-line stop done with a TracePoint targeted at the
#             script's iseq (disabled on its first event), then targeted:
#             how a debugger can stop at entry without the global hook
# Compare the BENCH cpu= figure with a run without the preload.

mode = ENV.fetch('TP_PROBE', 'global')

if %w[global both].include?(mode)
  global = TracePoint.new(:line) {}
  global.enable
  global.disable
end

if mode == 'entry'
  script = File.expand_path($PROGRAM_NAME)
  TracePoint.new(:script_compiled) do |tp|
    next unless tp.instruction_sequence.absolute_path == script

    entry = TracePoint.new(:line) { entry.disable }
    entry.enable(target: tp.instruction_sequence)
  end.enable
end

if %w[targeted both entry].include?(mode)
  script = File.expand_path($PROGRAM_NAME)
  lines = File.readlines(script).each_with_index.select { |l, _| l.include?('# bp') }.map { |_, i| i + 1 }.first(20)
  $tp_probe_points = [] # rubocop:disable Style/GlobalVars
  TracePoint.new(:script_compiled) do |tp|
    next unless tp.instruction_sequence.absolute_path == script

    lines.each do |line|
      point = TracePoint.new(:line) { abort "tp_probe: line #{line} was reached" }
      point.enable(target: tp.instruction_sequence, target_line: line)
      $tp_probe_points << point # rubocop:disable Style/GlobalVars
    end
  end.enable
end
