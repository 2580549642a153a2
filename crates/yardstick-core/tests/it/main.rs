//! Integration tests of `yardstick-core` (one test binary for the crate).

mod calendar;
pub(crate) mod load;
mod reconcile;
mod terms;
