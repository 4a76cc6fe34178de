//! parsci CLI.
fn main() {}
