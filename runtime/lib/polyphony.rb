# frozen_string_literal: true

# Entry point of the PolyTrace fiber runtime: `require 'polyphony'`.
require 'polyphony_ext'
