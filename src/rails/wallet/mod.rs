//! The ISO 8583 wallet rail: a settlement to a mobile wallet becomes a 0200 credit on a
//! persistent link to a mobile-money switch; the 0210's DE39 decides. An ambiguous outcome (a
//! timeout, a lost connection, or DE39 68/91/96) is never guessed: it starts a durable
//! reversal, 0420 then 0421 repeats until a 0430 (DESIGN.md decision 6).
//!
//! Mapping is pure apart from the STAN counter; the link (iso8583::Link) is the transport.

pub mod jobs;
pub mod link;

use super::RailError;
use crate::config::SwitchConfig;
use crate::domain::{Account, Settlement};
use crate::store::messages::{self, Outbound};
use crate::store::StoreError;
use iso8583::{Message, Spec};
use sqlx::AnyConnection;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Message kinds as stored in outbound_messages.
pub const CREDIT: &str = "iso8583.0200";
pub const REVERSAL: &str = "iso8583.0420";

/// What a 0210 (or a failed exchange) means for the settlement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Approved(String),
    Declined(String),
    /// Unknown outcome at the switch: reverse.
    Ambiguous(String),
}

/// Classifies a DE39 by the switch's own table.
pub fn classify(switch: &SwitchConfig, de39: Option<&str>) -> Answer {
    let Some(code) = de39 else {
        return Answer::Ambiguous("no DE39 in the answer".into());
    };
    if switch.approved_codes.iter().any(|c| c == code) {
        Answer::Approved(code.to_string())
    } else if switch.ambiguous_codes.iter().any(|c| c == code) {
        Answer::Ambiguous(code.to_string())
    } else {
        Answer::Declined(code.to_string())
    }
}

/// The switch's spec, loaded once per name or path.
pub fn spec(switch: &SwitchConfig) -> Result<Arc<Spec>, RailError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Spec>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(spec) = cache.lock().expect("spec cache lock").get(&switch.spec) {
        return Ok(spec.clone());
    }
    let spec = iso8583::specs::load(&switch.spec).map_err(|e| {
        RailError::Render(format!("switch {}: spec {}: {e}", switch.id, switch.spec))
    })?;
    cache
        .lock()
        .expect("spec cache lock")
        .insert(switch.spec.clone(), spec.clone());
    Ok(spec)
}

fn fmt(now: time::OffsetDateTime, format: &[time::format_description::FormatItem<'_>]) -> String {
    now.format(format).unwrap_or_default()
}

/// DE7 (MMDDhhmmss, UTC), DE12 (hhmmss), DE13 (MMDD) and an RRN (YDDDhh + STAN).
struct Stamp {
    de7: String,
    de12: String,
    de13: String,
    rrn: String,
}

fn stamp(now: time::OffsetDateTime, stan: &str) -> Stamp {
    use time::macros::format_description;
    let year_digit = (now.year() % 10).to_string();
    Stamp {
        de7: fmt(
            now,
            format_description!("[month][day][hour][minute][second]"),
        ),
        de12: fmt(now, format_description!("[hour][minute][second]")),
        de13: fmt(now, format_description!("[month][day]")),
        rrn: format!(
            "{year_digit}{}{}{stan}",
            fmt(now, format_description!("[ordinal]")),
            fmt(now, format_description!("[hour]"))
        ),
    }
}

fn render_err(field: u16, e: impl std::fmt::Display) -> RailError {
    RailError::Render(format!("ISO 8583 field {field}: {e}"))
}

fn set(msg: &mut Message, field: u16, value: &str) -> Result<(), RailError> {
    msg.set(field, value.as_bytes())
        .map(|_| ())
        .map_err(|e| render_err(field, e))
}

/// Assigns STAN, RRN and DE7 and builds the 0200 credit, inside the intake transaction.
pub async fn prepare(
    conn: &mut AnyConnection,
    switch: &SwitchConfig,
    settlement: &Settlement,
) -> Result<Result<Outbound, RailError>, StoreError> {
    let spec = match spec(switch) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let stan = messages::next_stan(conn, &switch.id).await?;
    Ok(build_credit(
        &spec,
        switch,
        settlement,
        &stan,
        time::OffsetDateTime::now_utc(),
    ))
}

/// The 0200 credit of `settlement` carrying `stan`, built without the store: the merged
/// intake takes the trace numbers of a group's new settlements at once
/// ([`messages::take_stans`]) and renders each here, as [`prepare`] does one at a time.
pub fn credit(
    switch: &SwitchConfig,
    settlement: &Settlement,
    stan: &str,
) -> Result<Outbound, RailError> {
    let spec = spec(switch)?;
    build_credit(
        &spec,
        switch,
        settlement,
        stan,
        time::OffsetDateTime::now_utc(),
    )
}

fn build_credit(
    spec: &Arc<Spec>,
    switch: &SwitchConfig,
    settlement: &Settlement,
    stan: &str,
    now: time::OffsetDateTime,
) -> Result<Outbound, RailError> {
    let st = stamp(now, stan);
    let mut msg = Message::new(spec, "0200").map_err(|e| render_err(0, e))?;
    match &settlement.creditor.account {
        Account::Msisdn(m) => set(&mut msg, 2, m.digits())?,
        Account::Iban(iban) => set(&mut msg, 103, iban.as_str())?,
        Account::Other { id, .. } => set(&mut msg, 103, id)?,
    }
    set(&mut msg, 3, &switch.processing_code)?;
    set(&mut msg, 4, &format!("{:012}", settlement.amount.minor()))?;
    set(&mut msg, 7, &st.de7)?;
    set(&mut msg, 11, stan)?;
    set(&mut msg, 12, &st.de12)?;
    set(&mut msg, 13, &st.de13)?;
    set(&mut msg, 32, &switch.acquirer_id)?;
    set(&mut msg, 37, &st.rrn)?;
    set(&mut msg, 41, &switch.terminal_id)?;
    set(
        &mut msg,
        49,
        &format!("{:03}", settlement.amount.currency().numeric()),
    )?;
    let body = msg.encode().map_err(|e| render_err(0, e))?;
    Ok(Outbound {
        settlement_id: settlement.id.clone(),
        rail: crate::domain::Rail::Wallet,
        counterparty: switch.id.clone(),
        kind: CREDIT.into(),
        msg_id: format!("0200:{stan}:{}", st.rrn),
        biz_msg_idr: format!("0200:{stan}:{}", st.rrn),
        instr_id: None,
        end_to_end_id: Some(settlement.id.to_string()),
        tx_id: None,
        uetr: None,
        body,
        send_count: 0,
        stan: Some(stan.to_string()),
        rrn: Some(st.rrn),
        transmitted_at: Some(st.de7),
    })
}

/// Builds the reversal of a stored 0200: a new STAN, the same RRN and terminal (so that the
/// switch finds the original), and DE90 = original MTI, STAN, DE7, acquirer, forwarder.
pub async fn prepare_reversal(
    conn: &mut AnyConnection,
    switch: &SwitchConfig,
    credit: &Outbound,
) -> Result<Result<Outbound, RailError>, StoreError> {
    let spec = match spec(switch) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let stan = messages::next_stan(conn, &switch.id).await?;
    Ok(build_reversal(
        &spec,
        switch,
        credit,
        &stan,
        time::OffsetDateTime::now_utc(),
    ))
}

fn build_reversal(
    spec: &Arc<Spec>,
    switch: &SwitchConfig,
    credit: &Outbound,
    stan: &str,
    now: time::OffsetDateTime,
) -> Result<Outbound, RailError> {
    let mut original = Message::decode(spec, &credit.body).map_err(|e| render_err(0, e))?;
    // DE90 must name the DE7 the switch saw: the one the credit left with (stored at its send).
    if let (Some(sent), Some(_)) = (&credit.transmitted_at, spec.field(7)) {
        set(&mut original, 7, sent)?;
    }
    // The codec builds the 0420 from the original: the fields its rules copy, and DE90 from
    // the original's MTI, STAN, DE7, acquirer and forwarder. The reversal then gets its own
    // STAN and transmission time.
    let mut msg = original.reversal(false).map_err(|e| render_err(90, e))?;
    let st = stamp(now, stan);
    set(&mut msg, 7, &st.de7)?;
    set(&mut msg, 11, stan)?;
    let body = msg.encode().map_err(|e| render_err(0, e))?;
    let rrn = credit.rrn.clone().unwrap_or_default();
    Ok(Outbound {
        settlement_id: credit.settlement_id.clone(),
        rail: crate::domain::Rail::Wallet,
        counterparty: switch.id.clone(),
        kind: REVERSAL.into(),
        msg_id: format!("0420:{stan}:{rrn}"),
        biz_msg_idr: format!("0420:{stan}:{rrn}"),
        instr_id: None,
        end_to_end_id: credit.end_to_end_id.clone(),
        tx_id: None,
        uetr: None,
        body,
        send_count: 0,
        stan: Some(stan.to_string()),
        rrn: Some(rrn),
        transmitted_at: Some(st.de7),
    })
}

/// The stored message ready to send `now`: DE7 says when it leaves (returned too, to be
/// stored with the send, so that a reversal's DE90 names the DE7 the switch saw), and a
/// repeat of a reversal goes out as 0421. STAN, RRN and terminal stay as stored.
pub fn for_sending(
    spec: &Arc<Spec>,
    stored: &Outbound,
    repeat: bool,
    now: time::OffsetDateTime,
) -> Result<(Message, String), RailError> {
    let mut msg = Message::decode(spec, &stored.body).map_err(|e| render_err(0, e))?;
    if repeat && msg.mti() == "0420" {
        msg.set_mti("0421").map_err(|e| render_err(0, e))?;
    }
    let de7 = stamp(now, "").de7;
    if spec.field(7).is_some() {
        set(&mut msg, 7, &de7)?;
    }
    Ok((msg, de7))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::event;

    fn switch() -> SwitchConfig {
        let config = crate::config::Config::from_toml(
            r#"
            [gateway]
            bic = "CORRGB2LXXX"
            [[switches]]
            id = "s"
            addr = "127.0.0.1:1"
            "#,
            Vec::new(),
        )
        .unwrap();
        config.switches[0].clone()
    }

    fn wallet_settlement() -> Settlement {
        let value = serde_json::json!({
            "event_id": "w1", "type": "settlement.requested", "amount": "1500.25", "currency": "PHP",
            "debtor": {"name": "A", "account": {"iban": "DE89370400440532013000"}},
            "creditor": {"name": "Juan", "account": {"msisdn": "+639171234567"}}
        });
        event::to_settlement("l", &event::parse_json(value).unwrap()).unwrap()
    }

    #[test]
    fn credit_carries_amount_currency_and_trace_and_reversal_points_back() {
        let sw = switch();
        let spec = spec(&sw).unwrap();
        let now = time::macros::datetime!(2026-11-25 09:08:07 UTC);
        let credit = build_credit(&spec, &sw, &wallet_settlement(), "000042", now).unwrap();
        let msg = Message::decode(&spec, &credit.body).unwrap();
        assert_eq!(msg.mti(), "0200");
        assert_eq!(msg.get_str(2), Some("639171234567"));
        assert_eq!(msg.get_str(4), Some("000000150025"));
        assert_eq!(msg.get_str(49), Some("608"));
        assert_eq!(msg.get_str(7), Some("1125090807"));
        assert_eq!(msg.get_str(11), Some("000042"));
        assert_eq!(msg.get_str(37), Some("632909000042"));
        assert_eq!(credit.rrn.as_deref(), Some("632909000042"));

        let reversal = build_reversal(&spec, &sw, &credit, "000043", now).unwrap();
        let rev = Message::decode(&spec, &reversal.body).unwrap();
        assert_eq!(rev.mti(), "0420");
        assert_eq!(rev.get_str(11), Some("000043"));
        assert_eq!(rev.get_str(37), msg.get_str(37));
        assert_eq!(rev.get_str(41), msg.get_str(41));
        assert_eq!(rev.get_str(4), msg.get_str(4));
        assert_eq!(
            rev.get_str(90),
            Some("020000004211250908070000000000100000000000")
        );
        // A credit that waited and left later: the reversal's DE90 names the DE7 it left with.
        let mut sent_later = credit.clone();
        sent_later.transmitted_at = Some("1125091500".into());
        let reversal_later = build_reversal(&spec, &sw, &sent_later, "000044", now).unwrap();
        let rev_later = Message::decode(&spec, &reversal_later.body).unwrap();
        assert_eq!(&rev_later.get_str(90).unwrap()[10..20], "1125091500");

        let later = now + time::Duration::minutes(3);
        let (repeat, de7) = for_sending(&spec, &reversal, true, later).unwrap();
        assert_eq!(repeat.mti(), "0421");
        assert_eq!(
            de7, "1125091107",
            "DE7 is when it leaves, not when it was built"
        );
        assert_eq!(repeat.get_str(7), Some("1125091107"));
        assert_eq!(repeat.get_str(11), Some("000043"), "the STAN stays");
        let (first, _) = for_sending(&spec, &reversal, false, later).unwrap();
        assert_eq!(first.mti(), "0420");
    }

    #[test]
    fn response_codes_follow_the_switch_table() {
        let sw = switch();
        assert_eq!(classify(&sw, Some("00")), Answer::Approved("00".into()));
        assert_eq!(classify(&sw, Some("51")), Answer::Declined("51".into()));
        assert_eq!(classify(&sw, Some("91")), Answer::Ambiguous("91".into()));
        assert!(matches!(classify(&sw, None), Answer::Ambiguous(_)));
    }
}
