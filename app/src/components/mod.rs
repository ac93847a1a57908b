//! Pieces every page shares.

pub mod header;
