//! The workshop programs.
