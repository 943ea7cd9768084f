//! Message framing on a byte stream: a length header, then an optional static header (a TPDU
//! or a vendor header), then the message. An incomplete buffer is a normal state (`Ok(None)`).

use bytes::Buf;
pub use bytes::BytesMut;

/// How the frame length is written in front of each message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LengthHeader {
    /// Two bytes, big-endian unsigned.
    Binary2,
    /// Four bytes, big-endian unsigned.
    Binary4,
    /// Four ASCII digits.
    Ascii4,
    /// Two bytes of BCD (four digits).
    Bcd2,
}

impl LengthHeader {
    pub fn bytes(self) -> usize {
        match self {
            LengthHeader::Binary2 | LengthHeader::Bcd2 => 2,
            LengthHeader::Binary4 | LengthHeader::Ascii4 => 4,
        }
    }

    fn capacity(self) -> usize {
        match self {
            LengthHeader::Binary2 => 0xFFFF,
            LengthHeader::Binary4 => u32::MAX as usize,
            LengthHeader::Ascii4 | LengthHeader::Bcd2 => 9999,
        }
    }

    /// Parse from a name: `binary2`, `binary4`, `ascii4`, `bcd2`.
    pub fn parse(name: &str) -> Option<LengthHeader> {
        Some(match name {
            "binary2" | "2" => LengthHeader::Binary2,
            "binary4" | "4" => LengthHeader::Binary4,
            "ascii4" => LengthHeader::Ascii4,
            "bcd2" => LengthHeader::Bcd2,
            _ => return None,
        })
    }
}

/// A framing: length header, static header, and the largest frame accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Framing {
    pub length: LengthHeader,
    /// Bytes written before every message and skipped (after a length check) on receipt,
    /// e.g. a 5-byte TPDU. Its bytes are not compared on receipt: peers swap TPDU addresses.
    pub static_header: Vec<u8>,
    /// Largest message (after the headers) accepted or sent, in bytes.
    pub frame_bytes_max: usize,
}

impl Default for Framing {
    fn default() -> Self {
        Framing {
            length: LengthHeader::Binary2,
            static_header: Vec::new(),
            frame_bytes_max: 16 * 1024,
        }
    }
}

/// A frame that cannot be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    TooLong { len: usize, max: usize },
    #[error("frame of {len} bytes is shorter than the static header ({header} bytes)")]
    TooShort { len: usize, header: usize },
    #[error("length header is not valid")]
    BadHeader,
}

impl Framing {
    fn limit(&self) -> usize {
        self.frame_bytes_max.min(
            self.length
                .capacity()
                .saturating_sub(self.static_header.len()),
        )
    }

    /// Append a framed message to `out`.
    pub fn encode(&self, message: &[u8], out: &mut Vec<u8>) -> Result<(), FrameError> {
        if message.len() > self.limit() {
            return Err(FrameError::TooLong {
                len: message.len(),
                max: self.limit(),
            });
        }
        let len = message.len() + self.static_header.len();
        match self.length {
            LengthHeader::Binary2 => out.extend_from_slice(&(len as u16).to_be_bytes()),
            LengthHeader::Binary4 => out.extend_from_slice(&(len as u32).to_be_bytes()),
            LengthHeader::Ascii4 => out.extend_from_slice(format!("{len:04}").as_bytes()),
            LengthHeader::Bcd2 => {
                let d = |x: usize| (x % 10) as u8;
                out.push((d(len / 1000) << 4) | d(len / 100));
                out.push((d(len / 10) << 4) | d(len));
            }
        }
        out.extend_from_slice(&self.static_header);
        out.extend_from_slice(message);
        Ok(())
    }

    /// Take one message out of `buf` if a whole frame is there. The static header is
    /// stripped and returned separately.
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<(BytesMut, BytesMut)>, FrameError> {
        let h = self.length.bytes();
        if buf.len() < h {
            return Ok(None);
        }
        let head = &buf[..h];
        let len = match self.length {
            LengthHeader::Binary2 => u16::from_be_bytes([head[0], head[1]]) as usize,
            LengthHeader::Binary4 => {
                u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize
            }
            LengthHeader::Ascii4 => {
                let mut v = 0usize;
                for &c in head {
                    if !c.is_ascii_digit() {
                        return Err(FrameError::BadHeader);
                    }
                    v = v * 10 + (c - b'0') as usize;
                }
                v
            }
            LengthHeader::Bcd2 => {
                let mut v = 0usize;
                for &b in head {
                    let (hi, lo) = (b >> 4, b & 0xF);
                    if hi > 9 || lo > 9 {
                        return Err(FrameError::BadHeader);
                    }
                    v = v * 100 + (hi * 10 + lo) as usize;
                }
                v
            }
        };
        let sh = self.static_header.len();
        if len < sh {
            return Err(FrameError::TooShort { len, header: sh });
        }
        if len - sh > self.limit() {
            return Err(FrameError::TooLong {
                len: len - sh,
                max: self.limit(),
            });
        }
        if buf.len() < h + len {
            buf.reserve(h + len - buf.len());
            return Ok(None);
        }
        buf.advance(h);
        let header = buf.split_to(sh);
        let message = buf.split_to(len - sh);
        Ok(Some((header, message)))
    }
}
