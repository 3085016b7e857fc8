# frozen_string_literal: true

# Fiber#caller (Polyphony 1.6): where the fiber was spun, then where its
# parent was spun, and so on up to the main fiber — the "cross-fiber
# backtrace" of how the fiber came to be. Polyphony keeps the whole Ruby
# backtrace of each spin; this runtime keeps the spinner's frames for the
# debugger (spin_site.c) and gives here the spin location of each ancestor,
# one line each.
class ::Fiber
  def caller
    lines = []
    fiber = self
    while fiber && !fiber.main?
      lines << fiber.location
      fiber = fiber.parent
    end
    lines
  end
end
