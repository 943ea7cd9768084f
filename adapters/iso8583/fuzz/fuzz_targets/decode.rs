//! Any bytes, every embedded spec: decoding never panics, and whatever decodes re-encodes to
//! bytes that decode to the same message; composite fields and the JSON view never panic.
#![no_main]

use std::sync::{Arc, OnceLock};

use iso8583::{specs, Message, Spec};
use libfuzzer_sys::fuzz_target;

/// Specs are loaded once: parsing TOML on every input would dwarf the decoding under test.
fn all_specs() -> &'static [Arc<Spec>] {
    static SPECS: OnceLock<Vec<Arc<Spec>>> = OnceLock::new();
    SPECS.get_or_init(|| specs::names().map(|n| specs::builtin(n).expect("embedded spec")).collect())
}

fuzz_target!(|data: &[u8]| {
    for spec in all_specs() {
        let spec = spec.clone();
        if let Ok(m) = Message::decode(&spec, data) {
            let bytes = m.encode().expect("a decoded message encodes");
            let again = Message::decode(&spec, &bytes).expect("re-encoded bytes decode");
            assert_eq!(again, m);
            assert_eq!(again.encode().expect("encodes"), bytes, "encoding is stable");
            for n in [48u16, 55, 127] {
                let _ = m.parts(n);
            }
            let _ = m.to_json(true);
            let _ = format!("{m:?}");
        }
    }
});
