use iso8583::framing::{BytesMut, FrameError, Framing, LengthHeader};

#[test]
fn every_length_header_round_trips_with_a_tpdu() {
    for (length, head) in [
        (LengthHeader::Binary2, vec![0x00, 0x08]),
        (LengthHeader::Binary4, vec![0, 0, 0, 0x08]),
        (LengthHeader::Ascii4, b"0008".to_vec()),
        (LengthHeader::Bcd2, vec![0x00, 0x08]),
    ] {
        let f = Framing {
            length,
            static_header: vec![0x60, 0, 1, 0, 2],
            frame_bytes_max: 100,
        };
        let mut out = Vec::new();
        f.encode(b"abc", &mut out).unwrap();
        assert_eq!(out[..head.len()], head[..], "{length:?}");
        // Two frames and a half in the buffer, delivered byte by byte.
        out.extend_from_slice(&out.clone());
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in out.iter().chain(&out[..4]) {
            buf.extend_from_slice(&[*b]);
            while let Some((h, m)) = f.decode(&mut buf).unwrap() {
                assert_eq!(&h[..], &[0x60, 0, 1, 0, 2]);
                got.push(m.to_vec());
            }
        }
        assert_eq!(got, vec![b"abc".to_vec(), b"abc".to_vec()], "{length:?}");
    }
}

#[test]
fn bcd_header_is_decimal() {
    let f = Framing {
        length: LengthHeader::Bcd2,
        static_header: vec![],
        frame_bytes_max: 9999,
    };
    let mut out = Vec::new();
    f.encode(&[7u8; 1234], &mut out).unwrap();
    assert_eq!(out[..2], [0x12, 0x34]);
}

#[test]
fn limits_and_bad_headers() {
    let f = Framing {
        length: LengthHeader::Ascii4,
        static_header: vec![],
        frame_bytes_max: 10,
    };
    assert!(matches!(
        f.encode(&[0; 11], &mut Vec::new()),
        Err(FrameError::TooLong { .. })
    ));
    let mut buf = BytesMut::from(&b"0011xxxxxxxxxxx"[..]);
    assert!(matches!(
        f.decode(&mut buf),
        Err(FrameError::TooLong { len: 11, max: 10 })
    ));
    let mut buf = BytesMut::from(&b"00a1"[..]);
    assert_eq!(f.decode(&mut buf), Err(FrameError::BadHeader));
    let t = Framing {
        length: LengthHeader::Binary2,
        static_header: vec![1, 2, 3],
        frame_bytes_max: 10,
    };
    let mut buf = BytesMut::from(&[0u8, 2, 1, 2][..]);
    assert!(matches!(
        t.decode(&mut buf),
        Err(FrameError::TooShort { .. })
    ));
    let mut partial = BytesMut::from(&[0u8][..]);
    assert_eq!(t.decode(&mut partial), Ok(None));
}
