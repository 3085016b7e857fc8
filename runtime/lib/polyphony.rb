# frozen_string_literal: true

# Entry point of the PolyTrace fiber runtime: `require 'polyphony'`.
require 'polyphony_ext'
require 'polyphony/mutex'
require 'polyphony/thread_pool'
