//! Black-box tests of citypeers through HTTP (servers on port 0, temporary data directories)
//! and the command line. One test binary keeps link time low.

mod helpers;

mod backup;
mod cli;
mod crash;
mod curation;
mod durability;
mod faults;
mod hardening;
mod inbox;
mod languages;
mod matching;
mod nodes;
mod pages;
mod properties;
mod public;
mod quality;
mod reading;
mod recovery;
