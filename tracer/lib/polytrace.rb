# frozen_string_literal: true

# Entry point of the PolyTrace tracer: `require 'polytrace'`.
require 'polytrace_ext'
