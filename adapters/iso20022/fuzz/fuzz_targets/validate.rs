//! The CBPR+ validator never panics on anything the reader accepts.
#![no_main]

use iso20022::{cbpr, BusinessMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = std::str::from_utf8(data).map(BusinessMessage::parse) {
        if let Ok(msg) = msg {
            let _ = cbpr::validate(&msg);
        }
    }
});
