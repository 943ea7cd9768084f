//! Parse and render throughput for the messages the gateway handles most: a ~3.7 KB pacs.008,
//! a pacs.002, and a camt.053 of 1,000 entries (whole and streamed). The raw quick-xml event
//! loop over the same pacs.008 is measured too, as the ceiling to compare with.
//!
//! Run: `cargo bench -p corridor-iso20022 --bench codec`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use iso20022::statement::EntryStream;
use iso20022::{samples, BusinessMessage, Document, Limits};

/// A realistic CBPR+ pacs.008 business message (AppHdr + Document, 3,741 bytes) written for
/// this benchmark: full addresses, LEIs, charges, an intermediary, three remittance lines.
const PACS008_ENVELOPE: &str = include_str!("data/pacs008_envelope.xml");

/// A deterministic pacs.002 reporting one transaction.
fn pacs002_one_tx() -> Document {
    (0..2000)
        .map(samples::pacs002)
        .find(|m| m.tx_inf_and_sts.len() == 1)
        .map(Document::from)
        .expect("samples")
}

fn raw_event_loop(xml: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut n = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) | Err(_) => return n,
            Ok(_) => n += 1,
        }
    }
}

fn messages(c: &mut Criterion) {
    let xml = PACS008_ENVELOPE;
    let msg = BusinessMessage::parse(xml).expect("benchmark message parses");
    let mut group = c.benchmark_group("pacs.008 envelope 3.7 KB");
    group.throughput(Throughput::Elements(1));
    group.bench_function("raw quick-xml event loop", |b| {
        b.iter(|| raw_event_loop(black_box(xml)))
    });
    group.bench_function("parse", |b| {
        b.iter(|| BusinessMessage::parse(black_box(xml)).expect("parses"))
    });
    group.bench_function("render", |b| b.iter(|| black_box(&msg).render()));
    group.finish();

    let doc = pacs002_one_tx();
    let xml = doc.render();
    let mut group = c.benchmark_group("pacs.002");
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("parse ({} bytes)", xml.len()), |b| {
        b.iter(|| Document::parse(black_box(&xml)).expect("parses"))
    });
    group.bench_function("render", |b| b.iter(|| black_box(&doc).render()));
    group.finish();
}

fn statements(c: &mut Criterion) {
    let doc = Document::from(samples::camt053(42, 1000));
    let xml = doc.render();
    let mut group = c.benchmark_group("camt.053 1000 entries");
    group.sample_size(20);
    group.throughput(Throughput::Elements(1000));
    group.bench_function(format!("parse whole ({} bytes)", xml.len()), |b| {
        b.iter(|| Document::parse(black_box(&xml)).expect("parses"))
    });
    group.bench_function("stream entries", |b| {
        b.iter(|| {
            EntryStream::new(black_box(xml.as_bytes()), Limits::default())
                .try_fold(0usize, |n, item| item.map(|_| n + 1))
                .expect("streams")
        })
    });
    group.bench_function("render", |b| b.iter(|| black_box(&doc).render()));
    group.finish();
}

criterion_group!(benches, messages, statements);
criterion_main!(benches);
