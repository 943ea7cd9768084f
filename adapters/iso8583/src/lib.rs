//! Spec-driven ISO 8583 codec and link (work in progress).
