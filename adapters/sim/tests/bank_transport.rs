//! The simulated bank's transport over real sockets: mutual TLS is required, and what is not
//! a pacs.008 is refused with a reason.

use std::sync::Arc;

use sim::bank::{BankConfig, BankHandle, BankSim};
use sim::pki::{self, DemoPki};

async fn start_bank() -> (DemoPki, BankHandle) {
    let pki = DemoPki::generate().unwrap();
    let bank = BankSim::start(BankConfig::new(pki.bank_server_config().unwrap()))
        .await
        .unwrap();
    (pki, bank)
}

fn client(tls: Arc<rustls::ClientConfig>) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(rustls::ClientConfig::clone(&tls))
        .build()
        .unwrap()
}

/// The bank counts a refused handshake after it has sent its alert, so the client can see
/// the refusal a moment before the counter moves.
async fn handshakes_failed_reaches(bank: &BankHandle, count: u64) -> bool {
    for _ in 0..200 {
        if bank.stats().tls_handshakes_failed >= count {
            return bank.stats().tls_handshakes_failed == count;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

fn health_url(bank: &BankHandle) -> String {
    format!("https://localhost:{}/healthz", bank.addr().port())
}

#[tokio::test]
async fn a_client_with_the_gateway_certificate_gets_in() {
    let (pki, bank) = start_bank().await;
    let client = client(pki.gateway_client_config().unwrap());
    // By name and by IP address: the certificate carries both.
    for url in [
        health_url(&bank),
        format!("https://{}/healthz", bank.addr()),
    ] {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{url}");
        assert_eq!(response.text().await.unwrap(), "ok");
    }
    assert_eq!(bank.stats().tls_handshakes_failed, 0);
    bank.shutdown().await;
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused() {
    let (pki, bank) = start_bank().await;
    let client = client(pki::client_config_trust_only(&pki.ca_pem).unwrap());
    let result = client.get(health_url(&bank)).send().await;
    assert!(result.is_err(), "{result:?}");
    let result = client.post(bank.mx_url()).body("<Envelope/>").send().await;
    assert!(result.is_err(), "{result:?}");
    assert!(handshakes_failed_reaches(&bank, 2).await);
    assert_eq!(bank.stats().messages_received, 0);
    bank.shutdown().await;
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let (pki, bank) = start_bank().await;
    let stranger = DemoPki::generate().unwrap();
    // Trusts the bank's CA, but presents a certificate the bank's CA never issued.
    let tls = pki::client_config_from_pem(
        &pki.ca_pem,
        &stranger.gateway_cert_pem,
        &stranger.gateway_key_pem,
    )
    .unwrap();
    let result = client(tls).get(health_url(&bank)).send().await;
    assert!(result.is_err(), "{result:?}");
    assert!(handshakes_failed_reaches(&bank, 1).await);
    bank.shutdown().await;
}

#[tokio::test]
async fn what_is_not_a_pacs008_is_refused_with_a_reason() {
    let (pki, bank) = start_bank().await;
    let client = client(pki.gateway_client_config().unwrap());
    for body in [
        "not xml at all".to_string(),
        "<Envelope><Nothing/></Envelope>".to_string(),
    ] {
        let response = client
            .post(bank.mx_url())
            .header("content-type", "application/xml")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400);
        assert!(!response.text().await.unwrap().is_empty());
    }
    let response = client
        .post(bank.mx_url())
        .body(vec![b'x'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let response = client.get(bank.mx_url()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let stats = bank.stats();
    assert_eq!((stats.messages_received, stats.bad_requests), (3, 3));
    assert_eq!(stats.distinct_uetrs, 0);
    bank.shutdown().await;
}
