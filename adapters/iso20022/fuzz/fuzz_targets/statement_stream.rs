//! The streaming statement reader never panics, whatever the bytes.
#![no_main]

use iso20022::statement::EntryStream;
use iso20022::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for item in EntryStream::new(data, Limits::default()) {
        if item.is_err() {
            break;
        }
    }
});
