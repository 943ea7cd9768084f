//! Metrics per MTI and response code, through a recorder installed for this test binary.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iso8583::framing::BytesMut;
use iso8583::{specs, Link, LinkConfig, LinkState, Message};
use metrics::{
    Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Default)]
struct Rec {
    counters: Mutex<HashMap<String, Arc<Count>>>,
}

#[derive(Default)]
struct Count(AtomicU64);

impl CounterFn for Count {
    fn increment(&self, v: u64) {
        self.0.fetch_add(v, Ordering::Relaxed);
    }
    fn absolute(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }
}

struct NoHist;
impl HistogramFn for NoHist {
    fn record(&self, _: f64) {}
}

fn render(key: &Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for &'static Rec {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let c = self
            .counters
            .lock()
            .unwrap()
            .entry(render(key))
            .or_default()
            .clone();
        Counter::from_arc(c)
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(NoHist))
    }
}

#[tokio::test]
async fn counts_messages_per_mti_and_responses_per_code() {
    let rec: &'static Rec = Box::leak(Box::default());
    metrics::set_global_recorder(rec).unwrap();
    let spec = specs::builtin("iso87ascii").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut cfg = LinkConfig::new(listener.local_addr().unwrap().to_string(), spec.clone());
    cfg.name = "wallet-ph".into();
    let f = cfg.framing.clone();
    let s2 = spec.clone();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = BytesMut::new();
        let mut code = ["00", "05", "05"].into_iter();
        loop {
            while let Some((_, m)) = f.decode(&mut buf).unwrap() {
                let m = Message::decode(&s2, &m).unwrap();
                let mut out = Vec::new();
                f.encode(
                    &m.response(code.next().unwrap_or("96"))
                        .unwrap()
                        .encode()
                        .unwrap(),
                    &mut out,
                )
                .unwrap();
                s.write_all(&out).await.unwrap();
            }
            if s.read_buf(&mut buf).await.unwrap() == 0 {
                return;
            }
        }
    });
    let (tx, _rx) = tokio::sync::mpsc::channel(8);
    let link = Link::connect(cfg, tx);
    assert!(link.wait_for(LinkState::Up, Duration::from_secs(2)).await);
    for stan in ["000001", "000002"] {
        let mut m = Message::new(&spec, "0200").unwrap();
        m.set(11, stan).unwrap();
        assert_eq!(link.request(&m).await.unwrap().get_str(39), Some("05"));
    }
    let get = |k: &str| {
        rec.counters
            .lock()
            .unwrap()
            .get(k)
            .map(|c| c.0.load(Ordering::Relaxed))
            .unwrap_or(0)
    };
    assert_eq!(
        get("iso8583_link_messages_total{direction=out,link=wallet-ph,mti=0200}"),
        2
    );
    assert_eq!(
        get("iso8583_link_messages_total{direction=in,link=wallet-ph,mti=0210}"),
        2
    );
    assert_eq!(
        get("iso8583_link_messages_total{direction=out,link=wallet-ph,mti=0800}"),
        1
    );
    assert_eq!(
        get("iso8583_link_responses_total{code=05,link=wallet-ph,mti=0210}"),
        2
    );
    assert_eq!(
        get("iso8583_link_responses_total{code=00,link=wallet-ph,mti=0810}"),
        1
    );
}
