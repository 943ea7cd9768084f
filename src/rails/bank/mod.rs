//! The ISO 20022 bank rail: pacs.008 with a head.001 business header out over HTTPS with
//! mutual TLS, pacs.002 back in the HTTP answer or later at `/v1/banks/{bank}/messages`.
//!
//! - [`mapping`]: canonical ⇄ wire, pure: the pacs.008 and pacs.028 rendered (and checked
//!   against the CBPR+ rules once, when rendered), the pacs.002 read into status reports.
//! - [`transport`]: [`BankClient`], HTTPS with mutual TLS. It separates "the bank did not
//!   answer" (retry the same bytes) from "the bank answered" (apply, whatever the answer
//!   says), as Vector's retry logic does.
//! - [`jobs`]: the outbox jobs (deliver, status requests).
//!
//! Answers are applied by [`crate::confirm::bank`].

pub mod jobs;
pub mod mapping;
pub mod transport;

pub use mapping::{
    parse_reports, prepare, status_request, to_cbpr_text, AnswerError, Reported, StatusReport,
    ANSWER_BYTES_MAX, PACS008, PACS028,
};
pub(crate) use transport::snippet;
pub use transport::{client_tls, trust_roots, BankClient, BankReply, SendError, TlsSetupError};
