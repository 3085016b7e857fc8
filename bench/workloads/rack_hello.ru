# frozen_string_literal: true

# The web benchmark's hello-world: the smallest Rack application.
run(->(_env) { [200, { 'Content-Type' => 'text/plain', 'Content-Length' => '13' }, ["Hello, world!"]] })
