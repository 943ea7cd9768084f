//! Decoding never panics, and whatever decodes is stable: decode → encode → decode gives the
//! same message, and encoding it again gives the same bytes; and its JSON reads back as the
//! same message.
#![no_main]

use iso20022::{BusinessMessage, ParseOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = BusinessMessage::parse_with(text, &ParseOptions::strict());
    if let Ok(msg) = BusinessMessage::parse(text) {
        let rendered = msg.render();
        let again = BusinessMessage::parse(&rendered).expect("our own rendering parses");
        assert_eq!(again.app_hdr, msg.app_hdr);
        assert_eq!(again.document, msg.document);
        assert_eq!(again.render(), rendered, "rendering is deterministic");
        let json = serde_json::to_string(&msg).expect("a parsed message serializes");
        let back: BusinessMessage =
            serde_json::from_str(&json).expect("the JSON of a parsed message reads back");
        assert_eq!(back, msg, "JSON round trip");
    }
});
