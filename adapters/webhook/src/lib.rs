//! Signed webhooks: the one way Corridor and its peers prove who sent an HTTP body.
//!
//! The scheme (DESIGN.md decision 12): the sender computes
//! `HMAC-SHA256(secret, "{timestamp}.{raw body}")` and sends it in one header,
//! `t=<unix seconds>,v1=<lowercase hex>`. The receiver recomputes it over the raw bytes it
//! received (never over re-serialised JSON), compares in constant time, and refuses a
//! timestamp more than a window (300 s by default) away from its own clock, so that a
//! captured request cannot be replayed later. During a secret rotation a receiver holds two
//! secrets and accepts either; a sender may send several `v1=` values, one per secret.
//!
//! The crate does no I/O and knows nothing of HTTP frameworks: callers pass the header value,
//! the raw body and the current time.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "x-corridor-signature";

/// How far a signed timestamp may be from the receiver's clock, by default.
pub const WINDOW_SECONDS_DEFAULT: u64 = 300;

/// The longest header value we look at; a longer one is refused before any parsing.
const HEADER_BYTES_MAX: usize = 1024;

/// Why a signature was refused. Each says what the sender should fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("signature header is missing")]
    Missing,
    #[error("signature header is malformed: {0}")]
    Malformed(&'static str),
    #[error("signature timestamp {timestamp} is {skew_seconds} s away from now; the window is {window_seconds} s")]
    OutsideWindow {
        timestamp: i64,
        skew_seconds: u64,
        window_seconds: u64,
    },
    #[error("signature does not match the body under any configured secret")]
    Mismatch,
    #[error("no secret is configured for this sender")]
    NoSecret,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> [u8; 32] {
    // new_from_slice only fails for fixed-size keys; HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The header value that signs `body` at `timestamp` (unix seconds) with `secret`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(secret, timestamp, body))
    )
}

/// A header value signed with each of `secrets` (a sender rotating its secret).
pub fn sign_all(secrets: &[&[u8]], timestamp: i64, body: &[u8]) -> String {
    let mut out = format!("t={timestamp}");
    for secret in secrets {
        out.push_str(",v1=");
        out.push_str(&hex::encode(mac(secret, timestamp, body)));
    }
    out
}

/// Checks `header` against `body`, accepting a signature by any of `secrets`.
///
/// `now` is the receiver's clock in unix seconds; `window_seconds` the allowed skew.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[&[u8]],
    now: i64,
    window_seconds: u64,
) -> Result<(), VerifyError> {
    let header = header.ok_or(VerifyError::Missing)?;
    if secrets.is_empty() {
        return Err(VerifyError::NoSecret);
    }
    if header.len() > HEADER_BYTES_MAX {
        return Err(VerifyError::Malformed("longer than 1024 bytes"));
    }
    let mut timestamp: Option<i64> = None;
    let mut candidates: Vec<[u8; 32]> = Vec::new();
    for part in header.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or(VerifyError::Malformed("expected key=value pairs"))?;
        match key {
            "t" => {
                let t = value
                    .parse::<i64>()
                    .map_err(|_| VerifyError::Malformed("t is not an integer"))?;
                timestamp = Some(t);
            }
            "v1" => {
                let mut digest = [0u8; 32];
                hex::decode_to_slice(value, &mut digest)
                    .map_err(|_| VerifyError::Malformed("v1 is not 64 hex digits"))?;
                candidates.push(digest);
            }
            // Unknown schemes are skipped so that a sender can add v2 before receivers know it.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed("no t= timestamp"))?;
    if candidates.is_empty() {
        return Err(VerifyError::Malformed("no v1= signature"));
    }
    let skew_seconds = now.abs_diff(timestamp);
    if skew_seconds > window_seconds {
        return Err(VerifyError::OutsideWindow {
            timestamp,
            skew_seconds,
            window_seconds,
        });
    }
    let mut matched = subtle::Choice::from(0u8);
    for secret in secrets {
        let expected = mac(secret, timestamp, body);
        for candidate in &candidates {
            matched |= expected.ct_eq(candidate);
        }
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000;

    #[test]
    fn signed_body_verifies_and_any_change_is_refused() {
        let header = sign(b"s3cret", NOW, b"{\"a\":1}");
        assert_eq!(
            verify(Some(&header), b"{\"a\":1}", &[b"s3cret"], NOW, 300),
            Ok(())
        );
        assert_eq!(
            verify(Some(&header), b"{\"a\":2}", &[b"s3cret"], NOW, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(Some(&header), b"{\"a\":1}", &[b"other"], NOW, 300),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn timestamp_is_part_of_the_signature() {
        let header = sign(b"k", NOW, b"body");
        let forged = header.replacen(&format!("t={NOW}"), &format!("t={}", NOW + 1), 1);
        assert_eq!(
            verify(Some(&forged), b"body", &[b"k"], NOW, 300),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn outside_the_window_is_refused_both_ways() {
        let header = sign(b"k", NOW - 301, b"body");
        assert!(matches!(
            verify(Some(&header), b"body", &[b"k"], NOW, 300),
            Err(VerifyError::OutsideWindow {
                skew_seconds: 301,
                ..
            })
        ));
        let header = sign(b"k", NOW + 301, b"body");
        assert!(verify(Some(&header), b"body", &[b"k"], NOW, 300).is_err());
        let header = sign(b"k", NOW - 300, b"body");
        assert_eq!(verify(Some(&header), b"body", &[b"k"], NOW, 300), Ok(()));
    }

    #[test]
    fn rotation_accepts_old_and_new_secret() {
        let old = sign(b"old", NOW, b"x");
        let new = sign(b"new", NOW, b"x");
        let both = sign_all(&[b"old", b"new"], NOW, b"x");
        for header in [old, new, both] {
            assert_eq!(
                verify(Some(&header), b"x", &[b"new", b"old"], NOW, 300),
                Ok(())
            );
        }
        let retired = sign(b"retired", NOW, b"x");
        assert_eq!(
            verify(Some(&retired), b"x", &[b"new", b"old"], NOW, 300),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn malformed_headers_name_the_problem() {
        let cases = [
            ("", "expected key=value pairs"),
            ("t=abc,v1=00", "t is not an integer"),
            ("v1=zz", "v1 is not 64 hex digits"),
            (&*format!("v1={}", "0".repeat(64)), "no t= timestamp"),
            ("t=5", "no v1= signature"),
        ];
        for (header, why) in cases {
            assert_eq!(
                verify(Some(header), b"", &[b"k"], NOW, 300),
                Err(VerifyError::Malformed(why)),
                "{header}"
            );
        }
        assert_eq!(
            verify(None, b"", &[b"k"], NOW, 300),
            Err(VerifyError::Missing)
        );
        assert_eq!(
            verify(Some(&sign(b"k", NOW, b"")), b"", &[], NOW, 300),
            Err(VerifyError::NoSecret)
        );
        let long = "t=1,".repeat(300);
        assert!(matches!(
            verify(Some(&long), b"", &[b"k"], NOW, 300),
            Err(VerifyError::Malformed(_))
        ));
    }
}
