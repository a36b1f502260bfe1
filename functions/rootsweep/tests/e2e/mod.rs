//! End to end: the rootsweep library wired to the SDK as in production, against the emulator.

mod convergence;
mod deadline;
mod faults;
mod features;
mod realism;
mod secrets;
mod sweep;
