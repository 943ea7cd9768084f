//! Simulated mobile-money switch over ISO 8583 (work in progress).
