# Moves away from where it was started: relative paths stop resolving.
Dir.chdir('/')
x = 1
puts x
