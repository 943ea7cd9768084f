//! Helpers shared by the bank tests: a pacs.008 envelope as the gateway would send it, an
//! mTLS client, and a stand-in for the gateway's callback endpoint that checks signatures.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use iso20022::common::{
    Agent, CashAccount, Party, PostalAddress, RemittanceInfo, SettlementInstruction,
};
use iso20022::head::{AppHdr, HeaderParty};
use iso20022::pacs008::{self, CreditTransfer, GroupHeader, Pacs008, PaymentId};
use iso20022::types::*;
use iso20022::{iso4217, Amount, BusinessMessage};
use sim::bank::{BankConfig, BankHandle, BankSim};
use sim::pki::DemoPki;

pub const GATEWAY_BIC: &str = "CRDRDEFFXXX";
pub const CALLBACK_SECRET: &[u8] = b"bank-callback-secret";

/// One payment's identifiers, as the gateway assigns them once and reuses on resends.
#[derive(Debug, Clone)]
pub struct Ids {
    pub msg_id: String,
    pub instr_id: String,
    pub end_to_end_id: String,
    pub tx_id: String,
    pub uetr: String,
}

impl Ids {
    pub fn new(n: u32) -> Self {
        Ids {
            msg_id: format!("MSG-{n:04}"),
            instr_id: format!("INSTR-{n:04}"),
            end_to_end_id: format!("E2E-{n:04}"),
            tx_id: format!("TX-{n:04}"),
            uetr: Uetr::new_v4().as_str().to_string(),
        }
    }
}

/// A pacs.008.001.08 with its head.001 header, from the gateway to `bank_bic`, laid out as
/// the gateway lays it out (CBPR+).
pub fn pacs008(ids: &Ids, bank_bic: &str, remittance: &str) -> String {
    pacs008_in(ids, bank_bic, remittance, "1234.50", "EUR")
}

/// [`pacs008`] for `amount` in `currency`.
pub fn pacs008_in(
    ids: &Ids,
    bank_bic: &str,
    remittance: &str,
    amount: &str,
    currency: &str,
) -> String {
    let gateway = Bic::new(GATEWAY_BIC).unwrap();
    let bank = Bic::new(bank_bic).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let now = IsoDateTime::from_offset_date_time(now.replace_nanosecond(0).unwrap());
    let grp_hdr = GroupHeader::new(
        Max35Text::new(ids.msg_id.as_str()).unwrap(),
        now.clone(),
        SettlementInstruction::method(SettlementMethod::Inda),
    );
    let party = |name: &str, town: &str, country: &str| {
        let mut party = Party::named(Max140Text::new(name).unwrap());
        party.pstl_adr = Some(Box::new(PostalAddress::town_country(
            Max35Text::new(town).unwrap(),
            CountryCode::new(country).unwrap(),
        )));
        party
    };
    let mut tx = CreditTransfer::new(
        PaymentId::new(
            Max35Text::new(ids.instr_id.as_str()).unwrap(),
            Max35Text::new(ids.end_to_end_id.as_str()).unwrap(),
            Max35Text::new(ids.tx_id.as_str()).unwrap(),
            Uetr::new(ids.uetr.as_str()).unwrap(),
        ),
        Amount::parse(amount, iso4217::lookup(currency).unwrap()).unwrap(),
        ChargeBearer::Shar,
        party("Acme GmbH", "Berlin", "DE"),
        Agent::bic(gateway.clone()),
        Agent::bic(Bic::new("BNPAFRPPXXX").unwrap()),
        party("Jane Roe", "Paris", "FR"),
    );
    tx.intr_bk_sttlm_dt = Some(IsoDate::new("2026-11-25").unwrap());
    // CBPR+: the agents travel in the transaction, not in the group header.
    tx.instg_agt = Some(Agent::bic(gateway.clone()));
    tx.instd_agt = Some(Agent::bic(bank.clone()));
    tx.dbtr_acct = Some(CashAccount::iban(
        Iban::new("DE89370400440532013000").unwrap(),
    ));
    tx.cdtr_acct = Some(CashAccount::iban(
        Iban::new("FR1420041010050500013M02606").unwrap(),
    ));
    tx.rmt_inf = Some(RemittanceInfo::unstructured(
        Max140Text::new(remittance).unwrap(),
    ));
    let mut app_hdr = AppHdr::new(
        HeaderParty::bic(gateway),
        HeaderParty::bic(bank),
        Max35Text::new(ids.msg_id.as_str()).unwrap(),
        Max35Text::new(pacs008::MSG_DEF_IDR).unwrap(),
        now,
    );
    app_hdr.biz_svc = Some(Max35Text::new("swift.cbprplus.03").unwrap());
    BusinessMessage::new(app_hdr, Pacs008::new(grp_hdr, tx)).render()
}

pub fn mtls_client(pki: &DemoPki, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(rustls::ClientConfig::clone(
            &pki.gateway_client_config().unwrap(),
        ))
        .timeout(timeout)
        .build()
        .unwrap()
}

/// What the stand-in callback endpoint received.
#[derive(Debug, Clone)]
pub struct Received {
    pub bank_id: String,
    pub content_type: String,
    pub body: String,
}

/// A stand-in for the gateway's `POST /v1/banks/{bank}/messages`: verifies the signature with
/// the shared secret (401 otherwise) and records the body. It can fail the first deliveries
/// with 503 to exercise the bank's retries.
pub struct CallbackSink {
    pub base: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub refused: Arc<Mutex<u32>>,
}

pub async fn callback_sink(fail_first: u32) -> CallbackSink {
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let refused: Arc<Mutex<u32>> = Arc::default();
    let failures_left = Arc::new(Mutex::new(fail_first));
    let (rec, refs) = (received.clone(), refused.clone());
    let app = axum::Router::new().route(
        "/v1/banks/{bank}/messages",
        axum::routing::post(
            move |Path(bank): Path<String>, headers: HeaderMap, body: Bytes| {
                let (rec, refs, failures_left) = (rec.clone(), refs.clone(), failures_left.clone());
                async move {
                    let signature = headers
                        .get(webhook::SIGNATURE_HEADER)
                        .and_then(|v| v.to_str().ok());
                    let now = time::OffsetDateTime::now_utc().unix_timestamp();
                    if webhook::verify(signature, &body, &[CALLBACK_SECRET], now, 300).is_err() {
                        *refs.lock().unwrap() += 1;
                        return StatusCode::UNAUTHORIZED;
                    }
                    {
                        let mut left = failures_left.lock().unwrap();
                        if *left > 0 {
                            *left -= 1;
                            return StatusCode::SERVICE_UNAVAILABLE;
                        }
                    }
                    rec.lock().unwrap().push(Received {
                        bank_id: bank,
                        content_type: headers
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string(),
                        body: String::from_utf8(body.to_vec()).unwrap(),
                    });
                    StatusCode::ACCEPTED
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    CallbackSink {
        base,
        received,
        refused,
    }
}

/// A bank with the demo PKI, posting callbacks to `callback_base`.
pub async fn start_bank(callback_base: Option<String>) -> (DemoPki, BankHandle) {
    let pki = DemoPki::generate().unwrap();
    let mut config = BankConfig::new(pki.bank_server_config().unwrap());
    config.callback_base = callback_base;
    config.callback_secret = CALLBACK_SECRET.to_vec();
    config.callback_backoff_ms = 20;
    let bank = BankSim::start(config).await.unwrap();
    (pki, bank)
}

/// Posts a pacs.008 body; the status and body of the answer, or the transport error.
pub async fn post(
    client: &reqwest::Client,
    bank: &BankHandle,
    body: &str,
) -> Result<(u16, String), reqwest::Error> {
    let response = client
        .post(bank.mx_url())
        .header("content-type", "application/xml")
        .body(body.to_string())
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await?))
}

/// The status report inside a pacs.002 envelope.
pub struct Report {
    pub message: BusinessMessage,
}

impl Report {
    pub fn parse(xml: &str) -> Self {
        Report {
            message: BusinessMessage::parse(xml).unwrap_or_else(|e| panic!("{e}: {xml}")),
        }
    }
    pub fn status(&self) -> String {
        self.message.tx_sts().unwrap().code().to_string()
    }
    pub fn reason(&self) -> Option<String> {
        let report = self.message.pacs002().unwrap();
        report.tx_inf_and_sts[0].reason_code().map(str::to_string)
    }
    pub fn msg_id(&self) -> String {
        self.message.msg_id().unwrap().to_string()
    }
    pub fn uetr(&self) -> String {
        self.message.orgnl_uetr().unwrap().as_str().to_string()
    }
}

/// Waits until `count` callbacks were received, up to two seconds.
pub async fn wait_for_received(sink: &CallbackSink, count: usize) -> Vec<Received> {
    for _ in 0..200 {
        if sink.received.lock().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sink.received.lock().unwrap().clone()
}
