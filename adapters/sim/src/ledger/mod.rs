//! The simulated ledger: it generates settlement events, posts them to the gateway signed
//! with its secret, and receives the final outcomes the gateway writes back.

pub mod event;
pub mod generator;
pub mod iban;
pub mod poster;
pub mod writeback;

pub use event::{Account, Agent, EventAmount, LedgerEvent, Party, WriteBack};
pub use generator::{
    EventKind, Expected, GeneratedEvent, GeneratorConfig, InvalidKind, LedgerSim, Mix,
};
pub use poster::{LedgerPoster, PostError, PostOutcome, PosterConfig};
pub use writeback::{start_writeback, WritebackConfig, WritebackHandle, WritebackStats};
