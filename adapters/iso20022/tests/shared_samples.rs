//! Parses every sample message written by others in ../shared/iso20022/samples, leniently and
//! strictly (when that directory exists; skipped with a message otherwise, so `cargo test`
//! passes without it).

use std::path::PathBuf;

use iso20022::{BusinessMessage, Document, ParseOptions};

fn samples_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/iso20022/samples");
    dir.is_dir().then_some(dir)
}

#[test]
fn every_shared_sample_parses() {
    let Some(dir) = samples_dir() else {
        println!("skipped: ../shared/iso20022/samples not found");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("readable samples dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no samples in {}", dir.display());
    let mut failures = Vec::new();
    let mut typed = 0;
    for f in &files {
        let xml = std::fs::read_to_string(f).expect("readable sample");
        match BusinessMessage::parse(&xml) {
            Ok(m) => {
                // Every element of every sample is read by the model: strict mode accepts it.
                if let Err(e) = BusinessMessage::parse_with(&xml, &ParseOptions::strict()) {
                    failures.push(format!(
                        "{} (strict): {e}",
                        f.file_name().unwrap_or_default().to_string_lossy()
                    ));
                }
                if !matches!(m.document, Document::Unknown { .. }) {
                    typed += 1;
                    // What we typed renders to something we read back identically.
                    let again = BusinessMessage::parse(&m.render()).expect("re-parse own render");
                    assert_eq!(again.document, m.document, "{}", f.display());
                }
            }
            Err(e) => failures.push(format!(
                "{}: {e}",
                f.file_name().unwrap_or_default().to_string_lossy()
            )),
        }
    }
    println!("{} samples, {typed} typed", files.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
