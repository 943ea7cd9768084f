//! Encode and decode of a 15-field 0200 (about 170 bytes), with reused buffers, as a switch
//! or gateway would run them in a loop.
//!
//! cargo bench -p corridor-iso8583 --bench codec

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iso8583::{specs, Message};

fn message(spec_name: &str) -> Message {
    let spec = specs::builtin(spec_name).unwrap();
    let mut m = Message::new(&spec, "0200").unwrap();
    for (n, v) in [
        (2, "4111111111111111111"),
        (3, "260000"),
        (4, "000000015000"),
        (7, "1125103000"),
        (11, "004211"),
        (12, "103000"),
        (13, "1125"),
        (22, "012"),
        (25, "00"),
        (32, "12345678901"),
        (37, "533012004211"),
        (41, "CORRIDOR"),
        (42, "CORRIDOR-GW-001"),
        (43, "Corridor Settlement Gateway  Manila  PH"),
        (49, "608"),
    ] {
        m.set(n, v).unwrap();
    }
    m
}

fn bench(c: &mut Criterion) {
    for spec_name in ["iso87ascii", "iso87binary"] {
        let m = message(spec_name);
        let bytes = m.encode().unwrap();
        let mut g = c.benchmark_group(format!(
            "0200 15 fields {spec_name} ({} bytes)",
            bytes.len()
        ));
        g.throughput(Throughput::Elements(1));
        let mut out = Vec::with_capacity(512);
        g.bench_function("encode", |b| {
            b.iter(|| {
                out.clear();
                black_box(&m).encode_into(&mut out).unwrap();
                black_box(out.len())
            })
        });
        let mut scratch = m.clone();
        g.bench_function("decode", |b| {
            b.iter(|| {
                scratch.decode_from(black_box(&bytes)).unwrap();
                black_box(scratch.get(11).map(|v| v.len()))
            })
        });
        g.bench_function("decode (fresh message)", |b| {
            b.iter(|| black_box(Message::decode(m.spec(), black_box(&bytes)).unwrap()))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
