//! One break's evidence side by side: the ledger event, the messages sent (ISO 20022 XML
//! indented, ISO 8583 decoded field by field with sensitive fields masked), every answer in
//! the journal, and the statement lines, so that a reviewer reads rather than decodes.

use super::breaks::{self, Break, Event};
use crate::config::Config;
use crate::domain::SettlementId;
use crate::store::{messages, settlements, StoreError};
use serde::Serialize;
use serde_json::Value;
use sqlx::{AnyConnection, Row};

/// A message, readable: a title, its identifying fields, and its body as text.
#[derive(Debug, Serialize)]
pub struct Rendered {
    pub title: String,
    pub fields: Vec<(String, String)>,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct Evidence {
    #[serde(rename = "break")]
    pub brk: Break,
    pub events: Vec<Event>,
    /// The settlement as the ledger asked for it, with its state.
    pub ledger: Option<Value>,
    pub transitions: Vec<settlements::TransitionRow>,
    pub messages: Vec<Rendered>,
    pub answers: Vec<Rendered>,
    pub statement_lines: Vec<StatementLine>,
}

#[derive(Debug, Serialize)]
pub struct StatementLine {
    pub id: i64,
    pub statement: i64,
    pub statement_ref: String,
    pub account: String,
    pub line: i64,
    pub value_date: Option<String>,
    pub direction: String,
    pub amount_minor: i64,
    pub amount: String,
    pub currency: String,
    pub keys: String,
    pub reference: Option<String>,
    pub return_reason: Option<String>,
    /// How it was joined to the settlement, if it was.
    pub matched_by: Option<String>,
}

/// The evidence of break `id`, or `None` when there is no such break.
pub async fn gather(
    conn: &mut AnyConnection,
    config: &Config,
    id: i64,
) -> Result<Option<Evidence>, StoreError> {
    let Some(brk) = breaks::get(conn, id).await? else {
        return Ok(None);
    };
    let events = breaks::events(conn, id).await?;
    let sid = brk.settlement_id.as_deref().and_then(SettlementId::parse);
    let (mut ledger, mut transitions, mut sent) = (None, Vec::new(), Vec::new());
    if let Some(sid) = &sid {
        if let Some(r) = settlements::get(conn, sid).await? {
            let mut v = serde_json::to_value(&r.settlement).unwrap_or(Value::Null);
            v["state"] = Value::String(r.state.as_str().into());
            v["counterparty"] = r.counterparty.clone().map_or(Value::Null, Value::String);
            ledger = Some(v);
        }
        transitions = settlements::transitions(conn, sid).await?;
        for m in messages::all_for_settlement(conn, sid).await? {
            sent.push(render_message(config, &m));
        }
    }
    let answers = answers(conn, config, brk.settlement_id.as_deref(), brk.inbound_id).await?;
    let statement_lines = statement_lines(conn, &brk).await?;
    Ok(Some(Evidence {
        brk,
        events,
        ledger,
        transitions,
        messages: sent,
        answers,
        statement_lines,
    }))
}

fn render_message(config: &Config, m: &messages::Outbound) -> Rendered {
    let mut fields = vec![("MsgId".to_string(), m.msg_id.clone())];
    for (name, v) in [
        ("UETR", &m.uetr),
        ("EndToEndId", &m.end_to_end_id),
        ("InstrId", &m.instr_id),
        ("TxId", &m.tx_id),
        ("STAN", &m.stan),
        ("RRN", &m.rrn),
        ("DE7", &m.transmitted_at),
    ] {
        if let Some(v) = v {
            fields.push((name.to_string(), v.clone()));
        }
    }
    fields.push(("sent".into(), format!("{} time(s)", m.send_count)));
    Rendered {
        title: format!("{} to {}", m.kind, m.counterparty),
        fields,
        text: readable(config, Some(&m.counterparty), &m.body),
    }
}

/// XML indented, ISO 8583 decoded with the switch's spec, anything else as text or hex.
fn readable(config: &Config, switch: Option<&str>, raw: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(raw) {
        let t = text.trim_start();
        if t.starts_with('<') {
            return indent_xml(t);
        }
        if t.starts_with('{') {
            if let Ok(v) = serde_json::from_str::<Value>(t) {
                return serde_json::to_string_pretty(&v).unwrap_or_else(|_| text.to_string());
            }
        }
    }
    if let Some(sw) = switch.and_then(|s| config.switches.iter().find(|x| x.id == s)) {
        if let Ok(spec) = crate::rails::wallet::spec(sw) {
            if let Ok(v) = iso8583::cli::decode_to_json(&spec, raw) {
                return serde_json::to_string_pretty(&v).unwrap_or_default();
            }
        }
    }
    match std::str::from_utf8(raw) {
        Ok(text) => text.to_string(),
        Err(_) => format!("(binary, {} bytes) {}", raw.len(), hex::encode(raw)),
    }
}

/// Puts each element of compact XML on its own line, indented by depth. Text content stays
/// on its element's line; nothing is dropped or reordered.
pub fn indent_xml(xml: &str) -> String {
    if xml.contains('\n') {
        return xml.to_string();
    }
    let mut out = String::with_capacity(xml.len() * 2);
    let mut depth: usize = 0;
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        out.push_str(text);
        let Some(end) = rest[start..].find('>') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let tag = &rest[start..start + end + 1];
        let closing = tag.starts_with("</");
        let self_closing = tag.ends_with("/>") || tag.starts_with("<?") || tag.starts_with("<!");
        if closing {
            depth = depth.saturating_sub(1);
            if text.is_empty() {
                out.push('\n');
                out.push_str(&"  ".repeat(depth));
            }
        } else {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&"  ".repeat(depth));
            if !self_closing {
                depth += 1;
            }
        }
        out.push_str(tag);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out.trim_start().to_string()
}

async fn answers(
    conn: &mut AnyConnection,
    config: &Config,
    settlement: Option<&str>,
    inbound: Option<i64>,
) -> Result<Vec<Rendered>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, received_at_ms, channel, source, status, detail, message_kind, raw \
         FROM inbound_journal WHERE (settlement_id = $1 OR id = $2) \
         AND channel NOT IN ('ledger-http', 'ledger-file') ORDER BY id LIMIT 50",
    )
    .bind(settlement.unwrap_or(""))
    .bind(inbound.unwrap_or(-1))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let channel: String = r.try_get("channel")?;
            let source: Option<String> = r.try_get("source")?;
            let status: String = r.try_get("status")?;
            let kind: Option<String> = r.try_get("message_kind")?;
            let detail: Option<String> = r.try_get("detail")?;
            let raw: Vec<u8> = r.try_get("raw")?;
            let mut fields = vec![
                ("journal".to_string(), id.to_string()),
                ("channel".to_string(), channel.clone()),
                ("status".to_string(), status),
                (
                    "received".to_string(),
                    time_text(r.try_get("received_at_ms")?),
                ),
            ];
            if let Some(d) = detail {
                fields.push(("detail".into(), d));
            }
            let switch = channel
                .starts_with("switch")
                .then_some(source.as_deref())
                .flatten();
            Ok(Rendered {
                title: format!(
                    "{} from {}",
                    kind.unwrap_or_else(|| "answer".into()),
                    source.clone().unwrap_or_else(|| "?".into())
                ),
                fields,
                text: readable(config, switch, &raw),
            })
        })
        .collect()
}

async fn statement_lines(
    conn: &mut AnyConnection,
    brk: &Break,
) -> Result<Vec<StatementLine>, StoreError> {
    // The break's own entries, those joined to its settlement, and for a balance break the
    // whole statement (bounded).
    let ids = if brk.entry_ids.is_empty() {
        "-1".to_string()
    } else {
        brk.entry_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    let whole = if brk.kind == super::BreakKind::BalanceMismatch.as_str() {
        brk.statement_id.unwrap_or(-1)
    } else {
        -1
    };
    let rows = sqlx::query(&format!(
        "SELECT e.id, e.statement, s.statement_id AS statement_ref, s.account, e.line, \
         e.value_date, e.direction, e.amount_minor, e.currency, e.uetr, e.end_to_end_id, \
         e.instr_id, e.acct_svcr_ref, e.stan, e.rrn, e.reference, e.return_reason, \
         (SELECT MIN(m.rule) FROM recon_matches m WHERE m.source = 'statement' \
             AND m.source_id = e.id) AS matched_by \
         FROM statement_entries e JOIN statements s ON s.id = e.statement \
         WHERE e.id IN ({ids}) OR e.statement = $1 \
         OR e.id IN (SELECT m.source_id FROM recon_matches m WHERE m.source = 'statement' \
             AND m.settlement_id = $2) \
         ORDER BY e.statement, e.line LIMIT 200"
    ))
    .bind(whole)
    .bind(brk.settlement_id.clone().unwrap_or_default())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let currency: String = r.try_get("currency")?;
            let minor: i64 = r.try_get("amount_minor")?;
            let mut keys = Vec::new();
            for (name, col) in [
                ("UETR", "uetr"),
                ("E2E", "end_to_end_id"),
                ("InstrId", "instr_id"),
                ("AcctSvcrRef", "acct_svcr_ref"),
                ("STAN", "stan"),
                ("RRN", "rrn"),
            ] {
                if let Some(v) = r.try_get::<Option<String>, _>(col)? {
                    keys.push(format!("{name} {v}"));
                }
            }
            Ok(StatementLine {
                id: r.try_get("id")?,
                statement: r.try_get("statement")?,
                statement_ref: r.try_get("statement_ref")?,
                account: r.try_get("account")?,
                line: r.try_get("line")?,
                value_date: r.try_get("value_date")?,
                direction: r.try_get("direction")?,
                amount_minor: minor,
                amount: super::format_minor(minor, &currency),
                currency,
                keys: keys.join(", "),
                reference: r.try_get("reference")?,
                return_reason: r.try_get("return_reason")?,
                matched_by: r.try_get("matched_by")?,
            })
        })
        .collect()
}

/// Unix milliseconds as RFC 3339 (UTC).
pub fn time_text(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::indent_xml;

    #[test]
    fn xml_is_indented_without_losing_text() {
        let xml = "<?xml version=\"1.0\"?><A><B>x &amp; y</B><C/><D><E>1</E></D></A>";
        let out = indent_xml(xml);
        assert_eq!(
            out,
            "<?xml version=\"1.0\"?>\n<A>\n  <B>x &amp; y</B>\n  <C/>\n  <D>\n    <E>1</E>\n  </D>\n</A>"
        );
        let squeezed: String = out.lines().map(str::trim).collect();
        assert_eq!(squeezed, xml);
    }
}
