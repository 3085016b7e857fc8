# Loaded late by calc.rb, to test pending breakpoints.
$later = 1
$later += 1
