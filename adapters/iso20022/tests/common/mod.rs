//! Helpers shared by the test files that need them (each includes this as `mod common`).

use iso20022::{BusinessMessage, ParseOptions};

/// `xml` reads strictly, renders, and reads back the same; the rendered Document is valid
/// against its official XSD (`../shared/iso20022/xsd`) when xmllint and the schemas are there
/// (skipped with a message otherwise).
pub fn round_trips_and_valid(xml: &str, name: &str) {
    let read = |xml: &str| {
        BusinessMessage::parse_with(xml, &ParseOptions::strict())
            .unwrap_or_else(|e| panic!("{name}: {e}\n{xml}"))
    };
    let msg = read(xml);
    let rendered = msg.render();
    assert_eq!(
        read(&rendered),
        msg,
        "{name}: render, then read, gives it back"
    );
    let xsd = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/iso20022/xsd")
        .join(format!("{}.xsd", msg.document.msg_def_idr()));
    let has_xmllint = std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok();
    if !xsd.is_file() || !has_xmllint {
        println!(
            "skipped: XSD check of {name} (no xmllint or no {})",
            xsd.display()
        );
        return;
    }
    let file =
        std::env::temp_dir().join(format!("iso20022-test-{}-{name}.xml", std::process::id()));
    std::fs::write(&file, msg.document.render()).expect("temporary file");
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&file)
        .output()
        .expect("xmllint runs");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
