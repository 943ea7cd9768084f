//! Any bytes through every length header: no panic, and frames never exceed the limit.
#![no_main]

use iso8583::framing::{BytesMut, Framing, LengthHeader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for length in [LengthHeader::Binary2, LengthHeader::Binary4, LengthHeader::Ascii4, LengthHeader::Bcd2] {
        let f = Framing { length, static_header: vec![0x60, 0, 0, 0, 0], frame_bytes_max: 4096 };
        let mut buf = BytesMut::from(data);
        while let Ok(Some((_, m))) = f.decode(&mut buf) {
            assert!(m.len() <= 4096);
        }
    }
});
