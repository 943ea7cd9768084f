//! Link round trips over loopback with 64 requests in flight, against a minimal responder
//! (decode the request, answer with an echoing 0210) on the same machine.
//!
//! cargo bench -p corridor-iso8583 --bench link

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iso8583::framing::BytesMut;
use iso8583::{specs, Framing, Link, LinkConfig, LinkState, Message, Spec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const IN_FLIGHT: u64 = 64;

async fn responder(listener: TcpListener, spec: Arc<Spec>, framing: Framing) {
    loop {
        let (s, _) = listener.accept().await.unwrap();
        s.set_nodelay(true).unwrap();
        let spec = spec.clone();
        let framing = framing.clone();
        tokio::spawn(async move {
            let (mut r, mut w) = s.into_split();
            let mut buf = BytesMut::with_capacity(64 * 1024);
            let mut out = Vec::with_capacity(64 * 1024);
            let mut payload = Vec::with_capacity(512);
            let mut req = Message::new(&spec, "0200").unwrap();
            loop {
                out.clear();
                while let Ok(Some((_, m))) = framing.decode(&mut buf) {
                    if req.decode_from(&m).is_err() {
                        return;
                    }
                    let resp = req.response("00").unwrap();
                    payload.clear();
                    resp.encode_into(&mut payload).unwrap();
                    framing.encode(&payload, &mut out).unwrap();
                }
                if !out.is_empty() && w.write_all(&out).await.is_err() {
                    return;
                }
                match r.read_buf(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        });
    }
}

fn request(spec: &Arc<Spec>, stan: u64) -> Message {
    let mut m = Message::new(spec, "0200").unwrap();
    m.set(2, "639171234567").unwrap();
    m.set(3, "260000").unwrap();
    m.set(4, "000000015000").unwrap();
    m.set(7, "1125103000").unwrap();
    m.set(11, format!("{:06}", stan % 1_000_000)).unwrap();
    m.set(37, format!("{:012}", stan)).unwrap();
    m.set(41, "CORRIDOR").unwrap();
    m.set(49, "608").unwrap();
    m
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let spec = specs::builtin("mobile-money").unwrap();
    let link = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(responder(listener, spec.clone(), Framing::default()));
        let mut cfg = LinkConfig::new(addr.to_string(), spec.clone());
        cfg.echo_idle_ms = 0;
        let (tx, rx) = mpsc::channel(1024);
        std::mem::forget(rx);
        let link = Link::connect(cfg, tx);
        assert!(link.wait_for(LinkState::Up, Duration::from_secs(5)).await);
        link
    });
    let mut g = c.benchmark_group("link round trip, 64 in flight");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    let mut next: u64 = 0;
    g.bench_function("0200/0210 over loopback", |b| {
        b.iter_custom(|iters| {
            let per_task = iters.div_ceil(IN_FLIGHT);
            let base = next;
            next += per_task * IN_FLIGHT;
            let link = link.clone();
            let spec = spec.clone();
            rt.block_on(async move {
                let start = Instant::now();
                let mut tasks = Vec::new();
                for t in 0..IN_FLIGHT {
                    let link = link.clone();
                    let spec = spec.clone();
                    tasks.push(tokio::spawn(async move {
                        for i in 0..per_task {
                            let m = request(&spec, base + t * per_task + i);
                            link.request(&m).await.unwrap();
                        }
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
                // Scale back to the requested count so criterion's per-iteration time is fair.
                start
                    .elapsed()
                    .mul_f64(iters as f64 / (per_task * IN_FLIGHT) as f64)
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
