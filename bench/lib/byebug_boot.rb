# frozen_string_literal: true

# bench/lib/byebug_boot.rb — runs a script under byebug in remote mode.
#
# Usage: ruby byebug_boot.rb PORT SCRIPT [ARGS...]
# Starts byebug's server on 127.0.0.1:PORT, waits for one client, then loads
# SCRIPT stopped at its first line — byebug's equivalent of
# `polytrace -- ruby SCRIPT` and `ruby -rdebug/open SCRIPT`.

require 'byebug/core'

# No .byebug_history left in the directory the benchmark runs from.
Byebug::Setting[:histfile] = File::NULL

port = Integer(ARGV.shift)
script = ARGV.shift
$PROGRAM_NAME = script
Byebug.wait_connection = true
Byebug.start_server('127.0.0.1', port)
error = Byebug.debug_load(script, true)
raise error if error
