# frozen_string_literal: true

# pt_ticker.rb — "a ticker fiber keeps ticking while the call waits",
# without timing: a fiber that only counts its turns and snoozes runs
# whenever the calling fiber waits in the runtime, and never while the
# thread is blocked. Include PtTicker in a Minitest::Test.
#
#   value = ticking { conn.exec('SELECT pg_sleep(0.05)') } # asserts >= 1 tick
module PtTicker
  # Runs the block with a ticker fiber beside it; asserts the ticker had at
  # least `min` turns before the block returned, and returns its value.
  def ticking(min: 1, &block)
    ticks = 0
    ticker = spin { loop { ticks += 1; snooze } }
    begin
      value = block.call
      seen = ticks
    ensure
      ticker.stop
    end
    assert_operator seen, :>=, min, 'the ticker fiber stopped ticking while the call waited'
    value
  end

  # The same for a block run in a fiber of its own (how: :spun) or in the
  # calling one (:main).
  def ticking_in(how, min: 1, &block)
    ticking(min: min) { how == :spun ? spin(&block).await : block.call }
  end
end
