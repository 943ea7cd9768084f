//! Each scripted behaviour of the simulated bank, over mutual TLS on a real socket, with the
//! answers read back as ISO 20022.

mod common;

use std::time::{Duration, Instant};

use common::*;
use sim::bank::Behaviour;

const TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn accept_answers_acsc_referencing_the_original() {
    let (pki, bank) = start_bank(None).await;
    let client = mtls_client(&pki, TIMEOUT);
    let ids = Ids::new(1);
    let (status, body) = post(&client, &bank, &pacs008(&ids, bank.bic(), "Invoice 42"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let report = Report::parse(&body);
    assert_eq!(report.status(), "ACSC");
    assert_eq!(report.reason(), None);
    assert_eq!(report.uetr(), ids.uetr);
    assert_eq!(report.message.orgnl_msg_id(), Some(ids.msg_id.as_str()));
    assert_eq!(
        report.message.orgnl_end_to_end_id(),
        Some(ids.end_to_end_id.as_str())
    );
    let pacs002 = report.message.pacs002().unwrap();
    let tx = &pacs002.tx_inf_and_sts[0];
    assert_eq!(tx.orgnl_instr_id.as_ref().unwrap().as_str(), ids.instr_id);
    assert_eq!(tx.orgnl_tx_id.as_ref().unwrap().as_str(), ids.tx_id);
    // CBPR+: the status is at transaction level, naming the original group, with the agents
    // (this bank instructing, the sender instructed); the group header holds MsgId and
    // CreDtTm only, and CreDtTm has seconds and an offset, no fraction.
    assert!(pacs002.orgnl_grp_inf_and_sts.is_empty());
    let group = tx.orgnl_grp_inf.as_ref().unwrap();
    assert_eq!(group.orgnl_msg_id.as_str(), ids.msg_id);
    assert_eq!(group.orgnl_msg_nm_id.as_str(), "pacs.008.001.08");
    assert!(group.orgnl_cre_dt_tm.is_some());
    let bic = |agent: &Option<iso20022::common::Agent>| {
        agent
            .as_ref()
            .and_then(|a| a.bicfi())
            .map(|b| b.as_str().to_string())
    };
    assert_eq!(bic(&tx.instg_agt).as_deref(), Some(bank.bic()));
    assert_eq!(bic(&tx.instd_agt).as_deref(), Some(GATEWAY_BIC));
    assert!(pacs002.grp_hdr.instg_agt.is_none() && pacs002.grp_hdr.instd_agt.is_none());
    let created = pacs002.grp_hdr.cre_dt_tm.as_str();
    assert_eq!(
        created.len(),
        "2026-11-25T12:00:00+00:00".len(),
        "{created}"
    );
    assert!(
        created.ends_with("+00:00") && !created.contains('.'),
        "{created}"
    );
    assert!(iso20022::cbpr::validate(&report.message).is_empty());
    // The answer's header goes from the bank back to the sender.
    let header = report.message.app_hdr.as_ref().unwrap();
    assert_eq!(header.fr.bicfi().unwrap().as_str(), bank.bic());
    assert_eq!(header.to.bicfi().unwrap().as_str(), GATEWAY_BIC);
    assert_eq!(header.msg_def_idr.as_str(), "pacs.002.001.10");
    assert_ne!(report.msg_id(), ids.msg_id);

    let stats = bank.stats();
    assert_eq!(stats.messages_received, 1);
    assert_eq!(stats.distinct_uetrs, 1);
    assert_eq!(stats.answers_sent, 1);
    assert_eq!(stats.status_per_uetr[&ids.uetr], "ACSC");
    assert_eq!(stats.msg_ids_per_uetr[&ids.uetr], vec![ids.msg_id.clone()]);
    bank.shutdown().await;
}

#[tokio::test]
async fn reject_directive_answers_rjct_with_the_reason() {
    let (pki, bank) = start_bank(None).await;
    let client = mtls_client(&pki, TIMEOUT);
    for (n, code) in [(1, "AC04"), (2, "AM04")] {
        let ids = Ids::new(n);
        let remittance = format!("Invoice 7 SIM:REJECT:{code}");
        let (status, body) = post(&client, &bank, &pacs008(&ids, bank.bic(), &remittance))
            .await
            .unwrap();
        assert_eq!(status, 200);
        let report = Report::parse(&body);
        assert_eq!(report.status(), "RJCT");
        assert_eq!(report.reason().as_deref(), Some(code));
        assert_eq!(bank.stats().status_per_uetr[&ids.uetr], "RJCT");
    }
    bank.shutdown().await;
}

#[tokio::test]
async fn the_default_behaviour_applies_without_a_directive_and_can_change() {
    let (pki, bank) = start_bank(None).await;
    let client = mtls_client(&pki, TIMEOUT);
    bank.set_default(Behaviour::Reject {
        code: "AG01".into(),
    });
    let (_, body) = post(&client, &bank, &pacs008(&Ids::new(1), bank.bic(), "plain"))
        .await
        .unwrap();
    let report = Report::parse(&body);
    assert_eq!(
        (report.status(), report.reason()),
        ("RJCT".into(), Some("AG01".into()))
    );
    // A directive wins over the default.
    let (_, body) = post(
        &client,
        &bank,
        &pacs008(&Ids::new(2), bank.bic(), "SIM:ACCEPT"),
    )
    .await
    .unwrap();
    assert_eq!(Report::parse(&body).status(), "ACSC");
    bank.set_default(Behaviour::Accept);
    assert_eq!(bank.default_behaviour(), Behaviour::Accept);
    let (_, body) = post(&client, &bank, &pacs008(&Ids::new(3), bank.bic(), "plain"))
        .await
        .unwrap();
    assert_eq!(Report::parse(&body).status(), "ACSC");
    bank.shutdown().await;
}

#[tokio::test]
async fn a_resend_is_answered_with_the_first_status_and_not_booked_again() {
    let (pki, bank) = start_bank(None).await;
    let client = mtls_client(&pki, TIMEOUT);
    let ids = Ids::new(1);
    let body = pacs008(&ids, bank.bic(), "Invoice SIM:REJECT:AC04");
    let (_, first) = post(&client, &bank, &body).await.unwrap();
    // The default changes in between: the resend still gets the booked answer.
    bank.set_default(Behaviour::Accept);
    let resend = pacs008(&ids, bank.bic(), "Invoice");
    let (status, second) = post(&client, &bank, &resend).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(second, first, "a resend gets the same pacs.002");
    assert_eq!(Report::parse(&second).status(), "RJCT");
    // Another UETR is another payment.
    let other = Ids::new(2);
    let (_, third) = post(&client, &bank, &pacs008(&other, bank.bic(), "Invoice"))
        .await
        .unwrap();
    assert_eq!(Report::parse(&third).status(), "ACSC");

    let stats = bank.stats();
    assert_eq!(stats.messages_received, 3);
    assert_eq!(stats.distinct_uetrs, 2);
    assert_eq!(stats.resends, 1);
    assert_eq!(stats.receipts_per_uetr[&ids.uetr], 2);
    assert_eq!(stats.receipts_per_uetr[&other.uetr], 1);
    assert_eq!(
        stats.msg_ids_per_uetr[&ids.uetr],
        vec![ids.msg_id.clone(), ids.msg_id.clone()]
    );
    bank.shutdown().await;
}

#[tokio::test]
async fn late_answers_after_the_delay_and_a_resend_is_answered_at_once() {
    let (pki, bank) = start_bank(None).await;
    let impatient = mtls_client(&pki, Duration::from_millis(300));
    let ids = Ids::new(1);
    let body = pacs008(&ids, bank.bic(), "SIM:LATE:1500");
    let started = Instant::now();
    let first = post(&impatient, &bank, &body).await;
    assert!(first.unwrap_err().is_timeout());
    assert!(started.elapsed() < Duration::from_millis(1500));

    let started = Instant::now();
    let (status, resent) = post(&impatient, &bank, &body).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(Report::parse(&resent).status(), "ACSC");
    assert!(started.elapsed() < Duration::from_millis(300));

    // A patient client gets the late answer after the delay.
    let patient = mtls_client(&pki, TIMEOUT);
    let other = Ids::new(2);
    let started = Instant::now();
    let (status, late) = post(
        &patient,
        &bank,
        &pacs008(&other, bank.bic(), "SIM:LATE:400"),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(Report::parse(&late).status(), "ACSC");
    assert!(started.elapsed() >= Duration::from_millis(400));

    let stats = bank.stats();
    assert_eq!(stats.receipts_per_uetr[&ids.uetr], 2);
    assert_eq!(stats.distinct_uetrs, 2);
    bank.shutdown().await;
}

#[tokio::test]
async fn twice_answers_and_then_sends_the_same_report_signed_to_the_callback() {
    let sink = callback_sink(0).await;
    let (pki, bank) = start_bank(Some(sink.base.clone())).await;
    let client = mtls_client(&pki, TIMEOUT);
    let ids = Ids::new(1);
    let (status, body) = post(&client, &bank, &pacs008(&ids, bank.bic(), "SIM:TWICE"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(bank.wait_for_callbacks(1, TIMEOUT).await);
    let received = wait_for_received(&sink, 1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].body, body,
        "the second copy is the same pacs.002"
    );
    assert_eq!(received[0].bank_id, "sim-bank");
    assert_eq!(received[0].content_type, "application/xml");
    assert_eq!(*sink.refused.lock().unwrap(), 0);
    let stats = bank.stats();
    assert_eq!((stats.answers_sent, stats.callbacks_sent), (1, 1));
    bank.shutdown().await;
}

#[tokio::test]
async fn async_answers_202_then_acsc_through_the_callback() {
    let sink = callback_sink(0).await;
    let (pki, bank) = start_bank(Some(sink.base.clone())).await;
    let client = mtls_client(&pki, TIMEOUT);
    let ids = Ids::new(1);
    let (status, body) = post(&client, &bank, &pacs008(&ids, bank.bic(), "SIM:ASYNC:100"))
        .await
        .unwrap();
    assert_eq!((status, body.as_str()), (202, ""));
    assert!(bank.wait_for_callbacks(1, TIMEOUT).await);
    let received = wait_for_received(&sink, 1).await;
    let report = Report::parse(&received[0].body);
    assert_eq!(report.status(), "ACSC");
    assert_eq!(report.uetr(), ids.uetr);
    assert_eq!(bank.stats().answers_sent, 0);
    bank.shutdown().await;
}

#[tokio::test]
async fn pending_answers_pdng_then_acsc_through_the_callback() {
    let sink = callback_sink(0).await;
    let (pki, bank) = start_bank(Some(sink.base.clone())).await;
    let client = mtls_client(&pki, TIMEOUT);
    let ids = Ids::new(1);
    let body = pacs008(&ids, bank.bic(), "SIM:PENDING:100");
    let (status, answer) = post(&client, &bank, &body).await.unwrap();
    assert_eq!(status, 200);
    let pending = Report::parse(&answer);
    assert_eq!(pending.status(), "PDNG");
    assert_eq!(bank.stats().status_per_uetr[&ids.uetr], "PDNG");
    assert!(bank.wait_for_callbacks(1, TIMEOUT).await);
    let received = wait_for_received(&sink, 1).await;
    let settled = Report::parse(&received[0].body);
    assert_eq!(settled.status(), "ACSC");
    assert_ne!(settled.msg_id(), pending.msg_id());
    // Now a resend learns the final status.
    let (_, resent) = post(&client, &bank, &body).await.unwrap();
    assert_eq!(Report::parse(&resent).status(), "ACSC");
    assert_eq!(bank.stats().status_per_uetr[&ids.uetr], "ACSC");
    bank.shutdown().await;
}

#[tokio::test]
async fn drop_first_books_but_does_not_answer_the_first_send() {
    let (pki, bank) = start_bank(None).await;
    let client = mtls_client(&pki, TIMEOUT);
    let ids = Ids::new(1);
    let body = pacs008(&ids, bank.bic(), "SIM:DROP_FIRST");
    let first = post(&client, &bank, &body).await;
    assert!(first.is_err(), "{first:?}");
    let (status, answer) = post(&client, &bank, &body).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(Report::parse(&answer).status(), "ACSC");
    let stats = bank.stats();
    assert_eq!(stats.dropped, 1);
    assert_eq!(stats.distinct_uetrs, 1);
    assert_eq!(stats.receipts_per_uetr[&ids.uetr], 2);
    assert_eq!(stats.answers_sent, 1);
    bank.shutdown().await;
}

#[tokio::test]
async fn drop_never_answers() {
    let (pki, bank) = start_bank(None).await;
    let client = mtls_client(&pki, Duration::from_millis(300));
    let ids = Ids::new(1);
    let body = pacs008(&ids, bank.bic(), "SIM:DROP");
    for _ in 0..2 {
        let result = post(&client, &bank, &body).await;
        assert!(result.unwrap_err().is_timeout());
    }
    let stats = bank.stats();
    assert_eq!((stats.dropped, stats.answers_sent), (2, 0));
    assert_eq!(stats.receipts_per_uetr[&ids.uetr], 2);
    // Shutting down ends the held connections instead of waiting for them.
    let started = Instant::now();
    bank.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn callbacks_are_retried_until_the_gateway_takes_them() {
    let sink = callback_sink(2).await;
    let (pki, bank) = start_bank(Some(sink.base.clone())).await;
    let client = mtls_client(&pki, TIMEOUT);
    post(
        &client,
        &bank,
        &pacs008(&Ids::new(1), bank.bic(), "SIM:ASYNC:10"),
    )
    .await
    .unwrap();
    assert!(bank.wait_for_callbacks(1, TIMEOUT).await);
    assert_eq!(wait_for_received(&sink, 1).await.len(), 1);
    let stats = bank.stats();
    assert_eq!((stats.callbacks_sent, stats.callbacks_failed), (1, 0));
    bank.shutdown().await;
}

#[tokio::test]
async fn a_callback_signed_with_another_secret_is_refused_by_the_receiver() {
    let sink = callback_sink(0).await;
    let pki = sim::pki::DemoPki::generate().unwrap();
    let mut config = sim::bank::BankConfig::new(pki.bank_server_config().unwrap());
    config.callback_base = Some(sink.base.clone());
    config.callback_secret = b"not the shared secret".to_vec();
    let bank = sim::bank::BankSim::start(config).await.unwrap();
    let client = mtls_client(&pki, TIMEOUT);
    post(
        &client,
        &bank,
        &pacs008(&Ids::new(1), bank.bic(), "SIM:ASYNC:10"),
    )
    .await
    .unwrap();
    assert!(bank.wait_for_callbacks(1, TIMEOUT).await);
    // 401 is final: the bank does not retry a refusal.
    assert_eq!(*sink.refused.lock().unwrap(), 1);
    assert!(sink.received.lock().unwrap().is_empty());
    assert_eq!(bank.stats().callbacks_failed, 1);
    bank.shutdown().await;
}

#[tokio::test]
async fn bad_directives_and_other_messages_are_refused() {
    let (pki, bank) = start_bank(None).await;
    let client = mtls_client(&pki, TIMEOUT);
    let (status, reason) = post(
        &client,
        &bank,
        &pacs008(&Ids::new(1), bank.bic(), "SIM:EXPLODE"),
    )
    .await
    .unwrap();
    assert_eq!(status, 400);
    assert!(reason.contains("EXPLODE"), "{reason}");

    // A pacs.002 is not something the bank takes on /mx.
    let (_, report) = post(&client, &bank, &pacs008(&Ids::new(2), bank.bic(), "x"))
        .await
        .unwrap();
    let (status, reason) = post(&client, &bank, &report).await.unwrap();
    assert_eq!(status, 400);
    assert!(reason.contains("pacs.008"), "{reason}");
    let stats = bank.stats();
    assert_eq!(stats.bad_requests, 2);
    assert_eq!(stats.distinct_uetrs, 1);
    bank.shutdown().await;
}

#[tokio::test]
async fn a_bank_with_full_books_refuses_new_uetrs_but_answers_resends() {
    let pki = sim::pki::DemoPki::generate().unwrap();
    let mut config = sim::bank::BankConfig::new(pki.bank_server_config().unwrap());
    config.uetrs_max = 1;
    let bank = sim::bank::BankSim::start(config).await.unwrap();
    let client = mtls_client(&pki, TIMEOUT);
    let first = pacs008(&Ids::new(1), bank.bic(), "x");
    assert_eq!(post(&client, &bank, &first).await.unwrap().0, 200);
    let (status, _) = post(&client, &bank, &pacs008(&Ids::new(2), bank.bic(), "x"))
        .await
        .unwrap();
    assert_eq!(status, 503);
    assert_eq!(post(&client, &bank, &first).await.unwrap().0, 200);
    assert_eq!(bank.stats().distinct_uetrs, 1);
    bank.shutdown().await;
}

#[tokio::test]
async fn an_invalid_bank_bic_is_refused_at_start() {
    let pki = sim::pki::DemoPki::generate().unwrap();
    let mut config = sim::bank::BankConfig::new(pki.bank_server_config().unwrap());
    config.bic = "NOT A BIC".into();
    assert!(sim::bank::BankSim::start(config).await.is_err());
}

/// The ledger generator and the bank agree on the directive syntax: every scripted event's
/// remittance information makes the bank do what the event's kind says.
#[tokio::test]
async fn generated_directives_drive_the_bank_as_their_kind_says() {
    use sim::ledger::{EventKind, Expected, GeneratorConfig, LedgerSim, Mix};

    let sink = callback_sink(0).await;
    let (pki, bank) = start_bank(Some(sink.base.clone())).await;
    let client = mtls_client(&pki, TIMEOUT);
    let mix = Mix {
        late_ms: 50,
        duplicate_share: 0.0,
        conflict_share: 0.0,
        invalid_share: 0.0,
        reject_share: 0.2,
        late_share: 0.1,
        twice_share: 0.1,
        drop_first_share: 0.1,
        silent_share: 0.1,
        lose_share: 0.1,
        ..Mix::default()
    };
    let events = LedgerSim::new(GeneratorConfig {
        mix,
        ..GeneratorConfig::new("demo-ledger", 21)
    })
    .take(60);
    let mut seen = std::collections::HashSet::new();
    for (n, generated) in events.iter().enumerate() {
        let ids = Ids::new(n as u32);
        let remittance = generated.event.remittance_info.clone().unwrap();
        let body = pacs008(&ids, bank.bic(), &remittance);
        let mut answer = post(&client, &bank, &body).await;
        if generated.kind == EventKind::DropFirst {
            assert!(answer.is_err(), "{remittance}");
            answer = post(&client, &bank, &body).await;
        }
        if matches!(generated.kind, EventKind::Silent | EventKind::Lose) {
            // 202 and nothing more; the next copy is answered (booked, or booked now).
            let (status, xml) = answer.unwrap();
            assert_eq!((status, xml.as_str()), (202, ""), "{remittance}");
            answer = post(&client, &bank, &body).await;
        }
        let (status, xml) = answer.unwrap();
        assert_eq!(status, 200, "{remittance}");
        let report = Report::parse(&xml);
        match generated.kind.expected() {
            Expected::Settled => assert_eq!(report.status(), "ACSC", "{remittance}"),
            Expected::Rejected { code } => {
                assert_eq!(report.status(), "RJCT", "{remittance}");
                assert_eq!(report.reason(), Some(code));
            }
            other => panic!("unexpected {other:?}"),
        }
        seen.insert(std::mem::discriminant(&generated.kind));
    }
    assert_eq!(seen.len(), 7, "every scripted kind appeared");
    let lost = events.iter().filter(|g| g.kind == EventKind::Lose).count();
    assert_eq!(bank.stats().lost, lost as u64);
    let twice = events.iter().filter(|g| g.kind == EventKind::Twice).count();
    assert!(bank.wait_for_callbacks(twice as u64, TIMEOUT).await);
    assert_eq!(bank.stats().callbacks_sent, twice as u64);
    bank.shutdown().await;
}

#[tokio::test]
async fn a_bank_that_drops_by_default_answers_resends_once_it_recovers() {
    let (pki, bank) = start_bank(None).await;
    let client = mtls_client(&pki, Duration::from_millis(300));
    bank.set_default(Behaviour::Drop);
    let ids = Ids::new(1);
    let body = pacs008(&ids, bank.bic(), "Invoice 9");
    assert!(post(&client, &bank, &body).await.unwrap_err().is_timeout());
    bank.set_default(Behaviour::Accept);
    let (status, answer) = post(&client, &bank, &body).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(Report::parse(&answer).status(), "ACSC");
    assert_eq!(bank.stats().receipts_per_uetr[&ids.uetr], 2);
    bank.shutdown().await;
}
