//! Signed statements of a Détente group and the rules that fold a log of them into the
//! group's state. No I/O, no clock, no randomness of its own.

pub mod jcs;
