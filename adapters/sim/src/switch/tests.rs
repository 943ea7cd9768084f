//! The ISO 8583 link against the simulated switch, over real sockets.

use std::sync::Arc;
use std::time::Duration;

use iso8583::{specs, Inbound, Link, LinkConfig, LinkError, LinkState, Message, Spec};
use tokio::sync::mpsc;

use super::*;

fn spec() -> Arc<Spec> {
    specs::builtin("mobile-money").expect("embedded spec")
}

fn credit(spec: &Arc<Spec>, stan: u32, msisdn: &str, amount: i64) -> Message {
    let mut m = Message::new(spec, "0200").unwrap();
    m.set(2, msisdn).unwrap();
    m.set(3, "260000").unwrap();
    m.set(4, format!("{amount:012}")).unwrap();
    m.set(7, "1125120000").unwrap();
    m.set(11, format!("{stan:06}")).unwrap();
    m.set(37, format!("R{stan:011}")).unwrap();
    m.set(41, "CORRIDOR").unwrap();
    m.set(49, "608").unwrap();
    m
}

fn reversal(original: &Message, stan: u32, repeat: bool) -> Message {
    let spec = original.spec();
    let mut m = Message::new(spec, if repeat { "0421" } else { "0420" }).unwrap();
    for n in [2u16, 3, 4, 7, 37, 41, 49] {
        m.set(n, original.get(n).unwrap()).unwrap();
    }
    m.set(11, format!("{stan:06}")).unwrap();
    let de90 = format!(
        "0200{}{}{:011}{:011}",
        original.get_str(11).unwrap(),
        original.get_str(7).unwrap(),
        0,
        0
    );
    m.set(90, de90).unwrap();
    m
}

async fn setup(
    tweak: impl FnOnce(&mut LinkConfig),
) -> (SwitchHandle, Link, mpsc::Receiver<Inbound>) {
    let spec = spec();
    let sw = start(SwitchConfig::local(spec.clone())).await.unwrap();
    let mut cfg = LinkConfig::new(sw.addr.to_string(), spec);
    cfg.reconnect_backoff_min_ms = 10;
    cfg.reconnect_backoff_max_ms = 200;
    cfg.request_timeout_ms = 5_000;
    tweak(&mut cfg);
    let (tx, rx) = mpsc::channel(1024);
    let link = Link::connect(cfg, tx);
    assert!(
        link.wait_for(LinkState::Up, Duration::from_secs(5)).await,
        "link did not come up"
    );
    (sw, link, rx)
}

fn code(m: &Message) -> &str {
    m.get_str(39).unwrap_or("")
}

#[tokio::test]
async fn signs_on_then_credits_a_wallet() {
    let (sw, link, _rx) = setup(|_| {}).await;
    assert_eq!(sw.counters().sign_ons, 1);
    let r = link
        .request(&credit(&spec(), 1, "639171234567", 12_345))
        .await
        .unwrap();
    assert_eq!(r.mti(), "0210");
    assert_eq!(code(&r), "00");
    assert_eq!(r.get_str(11), Some("000001"));
    assert_eq!(sw.balance("639171234567"), 12_345);
    link.close().await;
    assert_eq!(sw.counters().sign_offs, 1);
}

#[tokio::test]
async fn echoes_when_idle() {
    let (sw, link, _rx) = setup(|c| c.echo_idle_ms = 40).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        sw.counters().echoes >= 2,
        "echoes: {}",
        sw.counters().echoes
    );
    assert_eq!(link.state(), LinkState::Up);
    assert_eq!(sw.counters().connections, 1, "echo answered: no reconnect");
}

#[tokio::test]
async fn matches_thousands_in_flight() {
    let (sw, link, _rx) = setup(|c| c.in_flight_max = 10_000).await;
    let spec = spec();
    let n = 5_000u32;
    let mut tasks = Vec::new();
    for i in 0..n {
        let link = link.clone();
        let m = credit(
            &spec,
            i + 1,
            &format!("63917{:07}", i % 97),
            (i as i64 % 1000) + 1,
        );
        tasks.push(tokio::spawn(async move {
            link.request(&m).await.map(|r| (i, r))
        }));
    }
    let mut expected_total = 0i64;
    for t in tasks {
        let (i, r) = t.await.unwrap().unwrap();
        assert_eq!(code(&r), "00");
        assert_eq!(
            r.get_str(11).unwrap(),
            format!("{:06}", i + 1),
            "response matched to its own request"
        );
        expected_total += (i as i64 % 1000) + 1;
    }
    let total: i64 = sw.balances().values().sum();
    assert_eq!(total, expected_total);
    assert_eq!(sw.counters().credits, n as u64);
    assert_eq!(link.in_flight(), 0);
}

#[tokio::test]
async fn refuses_a_duplicate_key_in_flight() {
    let (sw, link, _rx) = setup(|_| {}).await;
    sw.script("stan:000007=slow:300".parse().unwrap());
    let m = credit(&spec(), 7, "639170000007", 100);
    let l2 = link.clone();
    let m2 = m.clone();
    let first = tokio::spawn(async move { l2.request(&m2).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(link.request(&m).await.unwrap_err(), LinkError::DuplicateKey);
    assert_eq!(code(&first.await.unwrap().unwrap()), "00");
    assert_eq!(sw.balance("639170000007"), 100);
}

#[tokio::test]
async fn declines_with_the_scripted_code() {
    let (sw, link, _rx) = setup(|_| {}).await;
    sw.script("msisdn:639170000051=decline:51".parse().unwrap());
    let r = link
        .request(&credit(&spec(), 3, "639170000051", 500))
        .await
        .unwrap();
    assert_eq!(code(&r), "51");
    assert_eq!(sw.balance("639170000051"), 0);
    assert_eq!(sw.counters().declines, 1);
}

#[tokio::test]
async fn timeout_then_reversal_undoes_the_credit_once() {
    let (sw, link, _rx) = setup(|_| {}).await;
    sw.script("msisdn:639170000068=no-answer".parse().unwrap());
    let original = credit(&spec(), 10, "639170000068", 2_500);
    let err = link
        .request_with_timeout(&original, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert_eq!(err, LinkError::Timeout { sent: true });
    assert!(err.is_ambiguous());
    assert_eq!(
        sw.balance("639170000068"),
        2_500,
        "the switch credited without answering"
    );
    let r = link.request(&reversal(&original, 11, false)).await.unwrap();
    assert_eq!((r.mti(), code(&r)), ("0430", "00"));
    assert_eq!(sw.balance("639170000068"), 0);
    let r = link.request(&reversal(&original, 11, true)).await.unwrap();
    assert_eq!((r.mti(), code(&r)), ("0430", "00"));
    assert_eq!(
        sw.balance("639170000068"),
        0,
        "a repeated reversal does not debit twice"
    );
    let c = sw.counters();
    assert_eq!((c.reversals, c.reversal_repeats), (1, 1));
    // A resend of the reversed credit is refused, not credited again.
    let r = link.request(&original).await.unwrap();
    assert_eq!(code(&r), "94");
    assert_eq!(sw.balance("639170000068"), 0);
}

#[tokio::test]
async fn late_approval_after_reversal_reaches_the_sink() {
    let (sw, link, mut rx) = setup(|_| {}).await;
    sw.script("msisdn:639170000091=late-approval".parse().unwrap());
    let original = credit(&spec(), 20, "639170000091", 700);
    let err = link
        .request_with_timeout(&original, Duration::from_millis(150))
        .await
        .unwrap_err();
    assert_eq!(err, LinkError::Timeout { sent: true });
    let r = link.request(&reversal(&original, 21, false)).await.unwrap();
    assert_eq!(code(&r), "00");
    let late = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap();
    match late {
        Inbound::Unmatched { message, late, .. } => {
            assert_eq!(message.mti(), "0210");
            assert_eq!(code(&message), "00");
            assert_eq!(message.get_str(11), Some("000020"));
            assert!(late, "its request had timed out");
        }
        other => panic!("expected an unmatched 0210, got {other:?}"),
    }
    assert_eq!(sw.balance("639170000091"), 0);
    assert_eq!(sw.counters().late_approvals, 1);
}

#[tokio::test]
async fn duplicate_response_goes_to_the_sink() {
    let (sw, link, mut rx) = setup(|_| {}).await;
    sw.script("stan:000030=duplicate".parse().unwrap());
    let r = link
        .request(&credit(&spec(), 30, "639170000030", 900))
        .await
        .unwrap();
    assert_eq!(code(&r), "00");
    let dup = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(dup, Inbound::Unmatched { late: false, ref message, .. } if message.get_str(11) == Some("000030"))
    );
    assert_eq!(sw.balance("639170000030"), 900);
}

/// Resend the same request (same STAN, RRN, terminal) until it gets an answer, as the gateway
/// does with an ambiguous outcome when its policy is to resend.
async fn until_answered(link: &Link, m: &Message) -> (Message, u32) {
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(attempts < 50, "no answer after 50 attempts");
        match link.request_with_timeout(m, Duration::from_secs(3)).await {
            Ok(r) => return (r, attempts),
            Err(e) if e.is_ambiguous() || e == LinkError::Timeout { sent: false } => continue,
            Err(e) => panic!("unexpected {e}"),
        }
    }
}

#[tokio::test]
async fn disconnects_mid_flight_lose_nothing_and_credit_once() {
    let (sw, link, _rx) = setup(|c| c.in_flight_max = 4096).await;
    for stan in [50, 120, 333] {
        sw.script(format!("stan:{stan:06}=disconnect*1").parse().unwrap());
    }
    let spec = spec();
    let n = 400u32;
    let mut tasks = Vec::new();
    for i in 1..=n {
        let link = link.clone();
        let m = credit(&spec, i, &format!("6391800{:05}", i % 13), 1_000);
        tasks.push(tokio::spawn(async move { until_answered(&link, &m).await }));
        if i == 200 {
            // And one drop not tied to any request.
            sw.disconnect_all();
        }
    }
    let mut retried = 0;
    let started = std::time::Instant::now();
    for t in tasks {
        let (r, attempts) = t.await.unwrap();
        assert_eq!(code(&r), "00");
        if attempts > 1 {
            retried += 1;
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "no request waited on a dead connection"
    );
    assert!(
        retried >= 3,
        "the three scripted disconnects forced resends ({retried})"
    );
    let total: i64 = sw.balances().values().sum();
    assert_eq!(total, n as i64 * 1_000, "every credit applied exactly once");
    let c = sw.counters();
    assert_eq!(c.credits, n as u64);
    assert!(
        c.connections >= 4,
        "reconnected after each drop ({})",
        c.connections
    );
    assert!(
        c.sign_ons >= 4,
        "signed on after every connect ({})",
        c.sign_ons
    );
}

#[tokio::test]
async fn close_drains_in_flight_then_signs_off() {
    let (sw, link, _rx) = setup(|_| {}).await;
    sw.script("any=slow:200".parse().unwrap());
    let l2 = link.clone();
    let m = credit(&spec(), 40, "639170000040", 10);
    let pending = tokio::spawn(async move { l2.request(&m).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    link.close().await;
    assert_eq!(
        code(&pending.await.unwrap().unwrap()),
        "00",
        "in-flight request finished during the drain"
    );
    assert_eq!(sw.counters().sign_offs, 1);
    assert_eq!(
        link.request(&credit(&spec(), 41, "639170000040", 10))
            .await
            .unwrap_err(),
        LinkError::Closed
    );
}

#[tokio::test]
async fn requests_wait_for_a_reconnect_when_the_switch_is_down() {
    let spec = spec();
    // Reserve a port, then free it: the link starts against nothing listening.
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let mut cfg = LinkConfig::new(addr.to_string(), spec.clone());
    cfg.reconnect_backoff_min_ms = 10;
    cfg.reconnect_backoff_max_ms = 50;
    let (tx, _rx) = mpsc::channel(16);
    let link = Link::connect(cfg, tx);
    let l2 = link.clone();
    let m = credit(&spec, 60, "639170000060", 60);
    let pending =
        tokio::spawn(async move { l2.request_with_timeout(&m, Duration::from_secs(5)).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sc = SwitchConfig::local(spec.clone());
    sc.bind = addr;
    let sw = start(sc).await.unwrap();
    assert_eq!(code(&pending.await.unwrap().unwrap()), "00");
    assert_eq!(sw.balance("639170000060"), 60);
}

#[tokio::test]
async fn works_over_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ck = rcgen::generate_simple_self_signed(vec!["switch.test".to_string()]).unwrap();
    let cert_der = ck.cert.der().clone();
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.key_pair.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key_der)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert_der).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let spec = spec();
    let mut sc = SwitchConfig::local(spec.clone());
    sc.tls = Some(Arc::new(server));
    let sw = start(sc).await.unwrap();
    let mut cfg = LinkConfig::new(sw.addr.to_string(), spec.clone());
    cfg.tls = Some(iso8583::TlsClient {
        config: Arc::new(client),
        server_name: "switch.test".into(),
    });
    let (tx, _rx) = mpsc::channel(16);
    let link = Link::connect(cfg, tx);
    assert!(link.wait_for(LinkState::Up, Duration::from_secs(5)).await);
    let r = link
        .request(&credit(&spec, 70, "639170000070", 70))
        .await
        .unwrap();
    assert_eq!(code(&r), "00");
    assert_eq!(sw.balance("639170000070"), 70);
}

#[test]
fn parses_rules_and_actions() {
    let r: Rule = "msisdn:639170000002=decline:51*2".parse().unwrap();
    assert_eq!(r.when, Match::Msisdn("639170000002".into()));
    assert_eq!(r.action, Action::Decline("51".into()));
    assert_eq!(r.times, Some(2));
    assert_eq!("slow:250".parse::<Action>().unwrap(), Action::Slow(250));
    assert!("decline".parse::<Action>().is_err());
    assert!("colour:red=approve".parse::<Rule>().is_err());
}

#[test]
fn switch_args_build_a_config() {
    use clap::Parser;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: SwitchArgs,
    }
    let cli = Cli::parse_from([
        "x",
        "--bind",
        "127.0.0.1:0",
        "--length-header",
        "ascii4",
        "--rule",
        "any=no-answer",
    ]);
    let cfg = cli.args.config().unwrap();
    assert_eq!(cfg.framing.length, LengthHeader::Ascii4);
    assert_eq!(cfg.rules.len(), 1);
    assert_eq!(cfg.spec.name, "mobile-money");
}
