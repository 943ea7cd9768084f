//! The link against hand-driven peers on real sockets: what a switch sees byte by byte.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use iso8583::framing::BytesMut;
use iso8583::{specs, Framing, Inbound, Link, LinkConfig, LinkState, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

async fn read_msg(s: &mut TcpStream, f: &Framing, buf: &mut BytesMut) -> Option<Message> {
    let spec = specs::builtin("iso87ascii").unwrap();
    loop {
        if let Some((_, m)) = f.decode(buf).unwrap() {
            return Some(Message::decode(&spec, &m).unwrap());
        }
        if s.read_buf(buf).await.ok()? == 0 {
            return None;
        }
    }
}

async fn write_msg(s: &mut TcpStream, f: &Framing, m: &Message) {
    let mut out = Vec::new();
    f.encode(&m.encode().unwrap(), &mut out).unwrap();
    s.write_all(&out).await.unwrap();
}

fn config(addr: std::net::SocketAddr) -> LinkConfig {
    let mut cfg = LinkConfig::new(addr.to_string(), specs::builtin("iso87ascii").unwrap());
    cfg.reconnect_backoff_min_ms = 10;
    cfg.reconnect_backoff_max_ms = 40;
    cfg
}

#[tokio::test]
async fn answers_the_peers_sign_on_and_passes_other_requests_to_the_sink() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cfg = config(listener.local_addr().unwrap());
    let f = cfg.framing.clone();
    let (tx, mut rx) = mpsc::channel(8);
    let link = Link::connect(cfg, tx);
    let (mut s, _) = listener.accept().await.unwrap();
    let mut buf = BytesMut::new();
    let sign_on = read_msg(&mut s, &f, &mut buf).await.unwrap();
    assert_eq!(
        (sign_on.mti(), sign_on.get_str(70)),
        ("0800", Some("001")),
        "sign-on comes first"
    );
    write_msg(&mut s, &f, &sign_on.response("00").unwrap()).await;
    assert!(link.wait_for(LinkState::Up, Duration::from_secs(2)).await);
    let spec = specs::builtin("iso87ascii").unwrap();
    let mut echo = Message::new(&spec, "0800").unwrap();
    echo.set(7, "1125120000")
        .unwrap()
        .set(11, "900001")
        .unwrap()
        .set(70, "301")
        .unwrap();
    write_msg(&mut s, &f, &echo).await;
    let answer = read_msg(&mut s, &f, &mut buf).await.unwrap();
    assert_eq!(
        (answer.mti(), answer.get_str(11), answer.get_str(39)),
        ("0810", Some("900001"), Some("00"))
    );
    let mut other = Message::new(&spec, "0200").unwrap();
    other.set(11, "900002").unwrap();
    write_msg(&mut s, &f, &other).await;
    match tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap()
    {
        Inbound::Request { message, .. } => assert_eq!(message.get_str(11), Some("900002")),
        x => panic!("{x:?}"),
    }
    let mut stray = Message::new(&spec, "0210").unwrap();
    stray.set(11, "123456").unwrap();
    write_msg(&mut s, &f, &stray).await;
    match tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap()
    {
        Inbound::Unmatched { message, late, .. } => {
            assert_eq!((message.get_str(11), late), (Some("123456"), false))
        }
        x => panic!("{x:?}"),
    }
    // Garbage in a well-formed frame is kept raw.
    let mut out = Vec::new();
    f.encode(b"02xx", &mut out).unwrap();
    s.write_all(&out).await.unwrap();
    match tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap()
    {
        Inbound::Undecodable { raw, .. } => assert_eq!(&raw[..], b"02xx"),
        x => panic!("{x:?}"),
    }
}

#[tokio::test]
async fn an_unanswered_echo_drops_a_half_open_connection_and_reconnects() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut cfg = config(listener.local_addr().unwrap());
    cfg.echo_idle_ms = 50;
    cfg.echo_timeout_ms = 100;
    let f = cfg.framing.clone();
    let accepts = Arc::new(AtomicUsize::new(0));
    let a2 = accepts.clone();
    // A peer that answers sign-on, then goes silent (reads and ignores everything).
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            a2.fetch_add(1, Ordering::SeqCst);
            let f = f.clone();
            tokio::spawn(async move {
                let mut buf = BytesMut::new();
                let m = read_msg(&mut s, &f, &mut buf).await.unwrap();
                write_msg(&mut s, &f, &m.response("00").unwrap()).await;
                while read_msg(&mut s, &f, &mut buf).await.is_some() {}
            });
        }
    });
    let (tx, _rx) = mpsc::channel(8);
    let link = Link::connect(cfg, tx);
    assert!(link.wait_for(LinkState::Up, Duration::from_secs(2)).await);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        accepts.load(Ordering::SeqCst) >= 2,
        "half-open connection was not replaced"
    );
}

#[tokio::test]
async fn a_refused_sign_on_is_retried_and_nothing_is_sent_before_it() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cfg = config(listener.local_addr().unwrap());
    let f = cfg.framing.clone();
    let (tx, _rx) = mpsc::channel(8);
    let link = Link::connect(cfg, tx);
    let spec = specs::builtin("iso87ascii").unwrap();
    let mut req = Message::new(&spec, "0200").unwrap();
    req.set(11, "000123").unwrap().set(41, "T1").unwrap();
    let l2 = link.clone();
    let r2 = req.clone();
    let pending =
        tokio::spawn(async move { l2.request_with_timeout(&r2, Duration::from_secs(5)).await });
    // First connection: refuse the sign-on (DE39 = 91). The request must not follow it.
    let (mut s, _) = listener.accept().await.unwrap();
    let mut buf = BytesMut::new();
    let m = read_msg(&mut s, &f, &mut buf).await.unwrap();
    write_msg(&mut s, &f, &m.response("91").unwrap()).await;
    assert!(
        read_msg(&mut s, &f, &mut buf).await.is_none(),
        "link closed after a refused sign-on"
    );
    // Second connection: accept; then the request arrives.
    let (mut s, _) = listener.accept().await.unwrap();
    let mut buf = BytesMut::new();
    let m = read_msg(&mut s, &f, &mut buf).await.unwrap();
    assert_eq!(m.get_str(70), Some("001"));
    write_msg(&mut s, &f, &m.response("00").unwrap()).await;
    let r = read_msg(&mut s, &f, &mut buf).await.unwrap();
    assert_eq!((r.mti(), r.get_str(11)), ("0200", Some("000123")));
    write_msg(&mut s, &f, &r.response("00").unwrap()).await;
    let resp = pending.await.unwrap().unwrap();
    assert_eq!(resp.get_str(39), Some("00"));
}

#[tokio::test]
async fn a_request_that_expired_before_sending_is_never_sent_even_when_its_key_is_reused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cfg = config(listener.local_addr().unwrap());
    let f = cfg.framing.clone();
    let (tx, _rx) = mpsc::channel(8);
    let link = Link::connect(cfg, tx);
    let spec = specs::builtin("iso87ascii").unwrap();
    let mut req = Message::new(&spec, "0200").unwrap();
    req.set(11, "000777").unwrap().set(4, "1").unwrap();
    let (mut s, _) = listener.accept().await.unwrap();
    let mut buf = BytesMut::new();
    let sign_on = read_msg(&mut s, &f, &mut buf).await.unwrap();
    // Sign-on not answered yet: the first request waits in the queue and expires there.
    let e = link
        .request_with_timeout(&req, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert_eq!(e, iso8583::LinkError::Timeout { sent: false });
    // A caller that gives up by dropping its future frees the key too.
    let dropped = tokio::time::timeout(Duration::from_millis(50), link.request(&req)).await;
    assert!(dropped.is_err());
    req.set(4, "2").unwrap();
    let l2 = link.clone();
    let r2 = req.clone();
    let second =
        tokio::spawn(async move { l2.request_with_timeout(&r2, Duration::from_secs(5)).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    write_msg(&mut s, &f, &sign_on.response("00").unwrap()).await;
    let got = read_msg(&mut s, &f, &mut buf).await.unwrap();
    assert_eq!(
        got.get_str(4),
        Some("000000000002"),
        "only the live request is written"
    );
    write_msg(&mut s, &f, &got.response("00").unwrap()).await;
    assert_eq!(second.await.unwrap().unwrap().get_str(39), Some("00"));
    let more =
        tokio::time::timeout(Duration::from_millis(200), read_msg(&mut s, &f, &mut buf)).await;
    assert!(more.is_err(), "nothing else was written: {more:?}");
}
