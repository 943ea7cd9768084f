//! The streaming statement reader yields exactly what the whole-document reader reads, one
//! entry at a time, and never needs the whole input.

use std::io::{BufReader, Read};

use iso20022::statement::{Camt053, EntryStream, StreamItem};
use iso20022::{samples, Document, Error, Limits};

fn stream_all(xml: &[u8]) -> Result<Vec<StreamItem>, Error> {
    EntryStream::new(xml, Limits::default()).collect()
}

#[test]
fn stream_matches_whole_document_for_every_report_kind() {
    for seed in 0..120 {
        let docs: Vec<Document> = vec![
            samples::camt053(seed, (seed % 5) as usize).into(),
            samples::camt052(seed).into(),
            samples::camt054(seed).into(),
        ];
        for doc in docs {
            let xml = doc.render();
            let items =
                stream_all(xml.as_bytes()).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{xml}"));
            let (grp_hdr, reports) = match &doc {
                Document::Camt053(m) => (&m.grp_hdr, &m.reports),
                Document::Camt052(m) => (&m.grp_hdr, &m.reports),
                Document::Camt054(m) => (&m.grp_hdr, &m.reports),
                _ => unreachable!(),
            };
            let mut expected = vec![StreamItem::GroupHeader(grp_hdr.clone())];
            for r in reports {
                let mut header = r.clone();
                header.ntry.clear();
                let trailer = header.addtl_inf.take();
                expected.push(StreamItem::Report(header));
                expected.extend(r.ntry.iter().cloned().map(StreamItem::Entry));
                expected.push(StreamItem::ReportEnd(trailer));
            }
            assert_eq!(items, expected, "seed {seed} {}", doc.msg_def_idr());
        }
    }
}

#[test]
fn stream_reads_prefixed_documents_inside_an_envelope() {
    let doc: Document = samples::camt053(3, 2).into();
    let xml = doc.render();
    let prefixed = xml
        .replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "")
        .replace("<Document xmlns=", "<c:Document xmlns:c=")
        .replace("</", "</c:")
        .replace('<', "<c:")
        .replace("<c:/c:", "</c:")
        .replace("<c:c:Document", "<c:Document");
    let wrapped = format!(
        "<Envelope xmlns=\"urn:swift:xsd:envelope\"><AppHdr xmlns=\"urn:iso:std:iso:20022:tech:xsd:head.001.001.02\"><Anything/></AppHdr>{prefixed}</Envelope>"
    );
    let direct = stream_all(xml.as_bytes()).unwrap();
    let via_envelope = stream_all(wrapped.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{wrapped}"));
    assert_eq!(direct, via_envelope);
}

#[test]
fn stream_refuses_truncation_dtds_and_wrong_documents() {
    let xml = Document::from(samples::camt053(5, 3)).render();
    for cut in [
        10,
        xml.len() / 3,
        xml.len() / 2,
        xml.len() - 20,
        xml.len() - 1,
    ] {
        let result = stream_all(&xml.as_bytes()[..cut]);
        assert!(result.is_err(), "prefix of {cut} bytes accepted");
    }
    let dtd = format!(
        "<!DOCTYPE x [<!ENTITY a \"b\">]>{}",
        &xml[xml.find("<Document").unwrap()..]
    );
    assert!(matches!(
        stream_all(dtd.as_bytes()),
        Err(Error::DtdRefused { .. })
    ));
    let pacs = Document::from(samples::pacs008(1)).render();
    assert!(matches!(
        stream_all(pacs.as_bytes()),
        Err(Error::Structure { .. })
    ));
}

#[test]
fn stream_errors_name_the_entry_path() {
    let xml = Document::from(samples::camt053(5, 3)).render();
    let at = xml.find("<Ntry>").unwrap();
    let amt = at + xml[at..].find("<Amt ").unwrap();
    let bad = format!(
        "{}<Amt>{}",
        &xml[..amt],
        &xml[amt + xml[amt..].find('>').unwrap() + 1..]
    );
    let err = stream_all(bad.as_bytes()).unwrap_err();
    assert_eq!(
        err.path(),
        Some("/Document/BkToCstmrStmt/Stmt/Ntry/Amt"),
        "{err}"
    );
}

/// A reader that produces a statement of `entries` entries on the fly: the document never
/// exists in memory as a whole.
struct Generated {
    head: Vec<u8>,
    entry: Vec<u8>,
    tail: Vec<u8>,
    entries_left: u64,
    chunk: Vec<u8>,
    pos: usize,
    stage: u8,
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.chunk.len() {
            self.pos = 0;
            self.chunk = match self.stage {
                0 => {
                    self.stage = 1;
                    self.head.clone()
                }
                1 if self.entries_left > 0 => {
                    self.entries_left -= 1;
                    self.entry.clone()
                }
                1 => {
                    self.stage = 2;
                    self.tail.clone()
                }
                _ => return Ok(0),
            };
        }
        let n = out.len().min(self.chunk.len() - self.pos);
        out[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn a_large_statement_streams_without_being_held() {
    let one: Camt053 = samples::camt053(11, 1);
    let xml = Document::from(one.clone()).render();
    let start = xml.find("<Ntry>").unwrap();
    let end = xml.find("</Ntry>").unwrap() + "</Ntry>".len();
    let entries: u64 = 100_000;
    let source = Generated {
        head: xml.as_bytes()[..start].to_vec(),
        entry: xml.as_bytes()[start..end].to_vec(),
        tail: xml.as_bytes()[end..].to_vec(),
        entries_left: entries,
        chunk: Vec::new(),
        pos: 0,
        stage: 0,
    };
    let mut count = 0u64;
    for item in EntryStream::new(BufReader::new(source), Limits::default()) {
        if let StreamItem::Entry(e) = item.unwrap() {
            assert_eq!(&e, &one.reports[0].ntry[0]);
            count += 1;
        }
    }
    assert_eq!(count, entries);
}
