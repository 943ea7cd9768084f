//! The bank's ISO 20022 side: reading the pacs.008 envelope it receives and writing the
//! pacs.002 envelope it answers with, both through the `iso20022` crate.

use iso20022::common::{Agent, OriginalGroupInfo, StatusReason};
use iso20022::head::{AppHdr, HeaderParty, RelatedHeader};
use iso20022::pacs002::{self, Pacs002, TransactionStatusInfo};
use iso20022::types::{Bic, IsoDateTime, Max35Text, TransactionStatus, Uetr};
use iso20022::{BusinessMessage, Limits, ParseOptions};

use super::state::TxStatus;

/// What the bank keeps of a received pacs.008 to answer it, already typed.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    /// The received business header: its sender is the answer's receiver.
    pub app_hdr: AppHdr,
    /// GrpHdr/MsgId.
    pub msg_id: Max35Text,
    /// GrpHdr/CreDtTm.
    pub cre_dt_tm: IsoDateTime,
    /// The sender's BIC: the transaction's instructing agent, else the header's From.
    pub sender_bic: Option<Bic>,
    pub instr_id: Option<Max35Text>,
    pub end_to_end_id: Max35Text,
    pub tx_id: Option<Max35Text>,
    pub uetr: Uetr,
    /// The UETR as text: the bank's booking key.
    pub uetr_key: String,
    /// RmtInf/Ustrd lines.
    pub remittance: Vec<String>,
    /// IntrBkSttlmAmt: what the bank moves (and books on its statements).
    pub amount: iso20022::Amount,
}

/// Reads a pacs.008 envelope; the error is the reason sent back with a 400.
pub(crate) fn parse_request(xml: &str, message_bytes_max: usize) -> Result<Incoming, String> {
    let options = ParseOptions {
        limits: Limits {
            message_bytes_max,
            ..Limits::default()
        },
        ..ParseOptions::default()
    };
    let message = BusinessMessage::parse_with(xml, &options)
        .map_err(|error| format!("the message cannot be read: {error}"))?;
    let app_hdr = message
        .app_hdr
        .clone()
        .ok_or("the message has no business application header (head.001 AppHdr)")?;
    let pacs008 = message.pacs008().ok_or_else(|| {
        format!(
            "the bank accepts pacs.008 on this endpoint, not {}",
            message.document.msg_def_idr()
        )
    })?;
    if pacs008.cdt_trf_tx_inf.len() != 1 {
        return Err(format!(
            "the message carries {} transactions; the bank takes exactly one per message",
            pacs008.cdt_trf_tx_inf.len()
        ));
    }
    let tx = &pacs008.cdt_trf_tx_inf[0];
    let uetr = tx
        .pmt_id
        .uetr
        .clone()
        .ok_or("the transaction has no UETR (PmtId/UETR), which the bank books by")?;
    let remittance = tx
        .rmt_inf
        .as_ref()
        .map(|info| {
            info.ustrd
                .iter()
                .map(|line| line.as_str().to_string())
                .collect()
        })
        .unwrap_or_default();
    let sender_bic = tx
        .instg_agt
        .as_ref()
        .and_then(|a| a.bicfi())
        .or_else(|| app_hdr.fr.bicfi())
        .cloned();
    Ok(Incoming {
        msg_id: pacs008.grp_hdr.msg_id.clone(),
        cre_dt_tm: pacs008.grp_hdr.cre_dt_tm.clone(),
        sender_bic,
        instr_id: tx.pmt_id.instr_id.clone(),
        end_to_end_id: tx.pmt_id.end_to_end_id.clone(),
        tx_id: tx.pmt_id.tx_id.clone(),
        uetr_key: uetr.as_str().to_string(),
        uetr,
        remittance,
        amount: tx.intr_bk_sttlm_amt,
        app_hdr,
    })
}

/// A pacs.028 status request: the UETR it asks about (the bank books by UETR; a request
/// without one is answered 404), and its EndToEndId for the log.
#[derive(Debug, Clone)]
pub(crate) struct StatusQuery {
    pub uetr: Option<String>,
    pub end_to_end_id: Option<String>,
}

/// Reads a pacs.028 envelope, if the message is one (`None` for any other message).
pub(crate) fn parse_status_request(
    xml: &str,
    message_bytes_max: usize,
) -> Option<Result<StatusQuery, String>> {
    let options = ParseOptions {
        limits: Limits {
            message_bytes_max,
            ..Limits::default()
        },
        ..ParseOptions::default()
    };
    let message = BusinessMessage::parse_with(xml, &options).ok()?;
    let iso20022::Document::Pacs028(request) = &message.document else {
        return None;
    };
    let Some(tx) = request.tx_inf.first() else {
        return Some(Err("the status request names no transaction (TxInf)".into()));
    };
    Some(Ok(StatusQuery {
        uetr: tx.orgnl_uetr.as_ref().map(|u| u.as_str().to_string()),
        end_to_end_id: tx
            .orgnl_end_to_end_id
            .as_ref()
            .map(|e| e.as_str().to_string()),
    }))
}

/// The pacs.002 envelope reporting `status` (and `reason` for a reject) on `incoming`, from
/// the bank `bank_bic` back to the sender, with a fresh message id.
///
/// Laid out as CBPR+ has it: the group header holds MsgId and CreDtTm only (seconds and an
/// offset, no fraction); the status is at transaction level, naming the original group, its
/// references and UETR, with the instructing agent (this bank) and the instructed agent (the
/// sender) in the transaction.
pub(crate) fn render_status(
    incoming: &Incoming,
    bank_bic: &Bic,
    status: TxStatus,
    reason: Option<&str>,
) -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = IsoDateTime::from_offset_date_time(now.replace_nanosecond(0).unwrap_or(now));
    let msg_id = new_msg_id();
    let mut report = Pacs002::new(pacs002::GroupHeader::new(msg_id.clone(), now.clone()));
    let mut tx = TransactionStatusInfo::new(
        incoming.end_to_end_id.clone(),
        Some(incoming.uetr.clone()),
        match status {
            TxStatus::Acsc => TransactionStatus::Acsc,
            TxStatus::Pdng => TransactionStatus::Pdng,
            TxStatus::Rjct => TransactionStatus::Rjct,
        },
    );
    tx.orgnl_grp_inf = Some(OriginalGroupInfo {
        orgnl_msg_id: incoming.msg_id.clone(),
        orgnl_msg_nm_id: incoming.app_hdr.msg_def_idr.clone(),
        orgnl_cre_dt_tm: Some(incoming.cre_dt_tm.clone()),
    });
    tx.orgnl_instr_id = incoming.instr_id.clone();
    tx.orgnl_tx_id = incoming.tx_id.clone();
    tx.instg_agt = Some(Agent::bic(bank_bic.clone()));
    tx.instd_agt = incoming.sender_bic.clone().map(Agent::bic);
    if let Some(code) = reason {
        match StatusReason::code(code) {
            Ok(reason) => tx.sts_rsn_inf.push(reason),
            // Behaviour parsing admits only codes the schema takes; keep going without it.
            Err(error) => tracing::warn!(%code, %error, "reason code not representable"),
        }
    }
    report.tx_inf_and_sts.push(tx);

    let original = &incoming.app_hdr;
    let mut app_hdr = AppHdr::new(
        HeaderParty::bic(bank_bic.clone()),
        original.fr.clone(),
        msg_id,
        text35(pacs002::MSG_DEF_IDR),
        now,
    );
    // The sender's service; a sender that named none gets the current CBPR+ one.
    app_hdr.biz_svc = Some(
        original
            .biz_svc
            .clone()
            .unwrap_or_else(|| text35("swift.cbprplus.03")),
    );
    app_hdr.rltd.push(RelatedHeader::new(
        original.fr.clone(),
        original.to.clone(),
        original.biz_msg_idr.clone(),
        original.msg_def_idr.clone(),
        original.cre_dt.clone(),
    ));
    BusinessMessage::new(app_hdr, report).render()
}

/// A message id unique to this answer: "STS" and 32 hex digits, 35 characters (Max35Text).
fn new_msg_id() -> Max35Text {
    text35(&format!("STS{}", uuid::Uuid::new_v4().simple()))
}

/// Text already known to fit Max35Text (read from a Max35Text, or a constant).
fn text35(text: &str) -> Max35Text {
    Max35Text::new(text).expect("text of at most 35 characters")
}
