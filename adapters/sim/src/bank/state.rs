//! The bank's books: what it has received and decided per UETR. A resend of a UETR already
//! booked is answered from here, never booked twice, as a real bank's duplicate check does.

use std::collections::HashMap;

/// The transaction status a pacs.002 carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStatus {
    /// AcceptedSettlementCompleted.
    Acsc,
    /// Pending.
    Pdng,
    /// Rejected.
    Rjct,
}

impl TxStatus {
    pub fn code(self) -> &'static str {
        match self {
            TxStatus::Acsc => "ACSC",
            TxStatus::Pdng => "PDNG",
            TxStatus::Rjct => "RJCT",
        }
    }
}

/// What the bank booked for one UETR.
#[derive(Debug, Clone)]
pub(crate) struct Booking {
    pub status: TxStatus,
    /// The pacs.002 envelope that answers a resend (the latest one sent or to be sent).
    pub answer_xml: String,
    pub receipts: u32,
    pub msg_ids: Vec<String>,
    /// How the payment shows on the bank's statements once settled (ACSC): a debit of the
    /// gateway's account, with its references and the bank's own (`AcctSvcrRef`).
    pub line: crate::statements::StatementLine,
    /// Booking order, for statements in the order the bank booked.
    pub seq: u64,
}

/// Counters and per-UETR facts, as a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankStats {
    /// Every POST to /mx, good or bad.
    pub messages_received: u64,
    /// Answered 400 (unparseable, not a pacs.008, bad directive) or 413.
    pub bad_requests: u64,
    /// TLS handshakes that failed (e.g. a client without a certificate).
    pub tls_handshakes_failed: u64,
    /// Connections served in HTTP/1.1 and in HTTP/2.
    pub connections_http1: u64,
    pub connections_http2: u64,
    /// Distinct UETRs booked.
    pub distinct_uetrs: usize,
    /// Receipts of a UETR already booked.
    pub resends: u64,
    /// How often each UETR was received.
    pub receipts_per_uetr: HashMap<String, u32>,
    /// The group header MsgId of every receipt of each UETR, in order.
    pub msg_ids_per_uetr: HashMap<String, Vec<String>>,
    /// The booked status per UETR (ACSC, PDNG, RJCT).
    pub status_per_uetr: HashMap<String, String>,
    /// The amount booked per UETR: minor units and ISO 4217 code.
    pub amount_per_uetr: HashMap<String, (i64, String)>,
    /// pacs.002 answers sent in an HTTP response.
    pub answers_sent: u64,
    /// Requests left without an answer on purpose (drop, drop_first).
    pub dropped: u64,
    /// Callbacks delivered (2xx from the gateway).
    pub callbacks_sent: u64,
    /// pacs.028 status requests received (answered with the booked status, or 404).
    pub status_requests: u64,
    /// Messages lost on purpose (`lose`): acknowledged with 202, never booked.
    pub lost: u64,
    /// Callbacks given up after every attempt failed, or with no callback configured.
    pub callbacks_failed: u64,
}

#[derive(Default)]
pub(crate) struct Books {
    pub bookings: HashMap<String, Booking>,
    pub messages_received: u64,
    pub bad_requests: u64,
    pub tls_handshakes_failed: u64,
    pub connections_http1: u64,
    pub connections_http2: u64,
    pub resends: u64,
    pub answers_sent: u64,
    pub dropped: u64,
    pub callbacks_sent: u64,
    pub callbacks_failed: u64,
    pub status_requests: u64,
    pub lost: u64,
    /// UETRs whose first copy was lost on purpose (`lose`): the next copy is booked.
    pub lost_uetrs: std::collections::HashSet<String>,
    /// Bookings made so far (the next booking's `seq`).
    pub booked: u64,
    /// Discrepancies to plant in the statements the bank writes.
    pub statement_script: crate::statements::Script,
}

impl Books {
    pub fn snapshot(&self) -> BankStats {
        let mut stats = BankStats {
            messages_received: self.messages_received,
            bad_requests: self.bad_requests,
            tls_handshakes_failed: self.tls_handshakes_failed,
            connections_http1: self.connections_http1,
            connections_http2: self.connections_http2,
            distinct_uetrs: self.bookings.len(),
            resends: self.resends,
            answers_sent: self.answers_sent,
            dropped: self.dropped,
            callbacks_sent: self.callbacks_sent,
            callbacks_failed: self.callbacks_failed,
            status_requests: self.status_requests,
            lost: self.lost,
            ..BankStats::default()
        };
        for (uetr, booking) in &self.bookings {
            stats
                .receipts_per_uetr
                .insert(uetr.clone(), booking.receipts);
            stats
                .msg_ids_per_uetr
                .insert(uetr.clone(), booking.msg_ids.clone());
            stats
                .status_per_uetr
                .insert(uetr.clone(), booking.status.code().to_string());
            stats.amount_per_uetr.insert(
                uetr.clone(),
                (booking.line.amount_minor, booking.line.currency.clone()),
            );
        }
        stats
    }
}
