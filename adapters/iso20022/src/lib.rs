//! Typed ISO 20022 messages (work in progress).
