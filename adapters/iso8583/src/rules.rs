//! Per-MTI rules from the spec: which fields a message must carry, which it may carry, and
//! which a response echoes from its request.

use crate::error::CodecError;
use crate::message::Message;

/// A message that breaks its MTI's rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("MTI {mti}: mandatory fields missing: {missing:?}")]
    Missing { mti: String, missing: Vec<u16> },
    #[error("MTI {mti}: fields not allowed by the rule: {unexpected:?}")]
    Unexpected { mti: String, unexpected: Vec<u16> },
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// The response MTI of a request: function digit + 1 (0200 → 0210, 0420/0421 → 0430).
pub fn response_mti(request: &str) -> Option<String> {
    let b = request.as_bytes();
    if b.len() != 4 || !b.iter().all(u8::is_ascii_digit) || (b[2] - b'0') % 2 == 1 {
        return None;
    }
    Some(format!(
        "{}{}{}0",
        b[0] as char,
        b[1] as char,
        (b[2] + 1) as char
    ))
}

/// Fields echoed when the spec has no rule for the request's MTI.
const ECHO_DEFAULT: &[u16] = &[2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49, 70, 90, 102, 103];

impl Message {
    /// Check the message against its MTI's rule (no rule: nothing to check).
    pub fn validate(&self) -> Result<(), RuleError> {
        let Some(rule) = self.spec().rule(&self.mti_bytes()) else {
            return Ok(());
        };
        let missing: Vec<u16> = rule
            .mandatory
            .iter()
            .copied()
            .filter(|n| !self.has(*n))
            .collect();
        if !missing.is_empty() {
            return Err(RuleError::Missing {
                mti: self.mti().into(),
                missing,
            });
        }
        if rule.closed {
            let unexpected: Vec<u16> = self
                .numbers()
                .filter(|n| {
                    !rule.mandatory.contains(n)
                        && !rule.conditional.contains(n)
                        && !rule.echo.contains(n)
                })
                .collect();
            if !unexpected.is_empty() {
                return Err(RuleError::Unexpected {
                    mti: self.mti().into(),
                    unexpected,
                });
            }
        }
        Ok(())
    }

    /// Build the response to this request: the response MTI, the echoed fields, and DE39 set
    /// to `response_code` when the spec defines field 39.
    pub fn response(&self, response_code: &str) -> Result<Message, RuleError> {
        let rule = self.spec().rule(&self.mti_bytes());
        let mti = match rule.and_then(|r| r.response_mti) {
            Some(m) => String::from_utf8_lossy(&m).into_owned(),
            None => response_mti(self.mti()).ok_or_else(|| {
                CodecError::at(
                    crate::error::Location::Mti,
                    0,
                    crate::error::ErrorKind::Invalid("not a request MTI"),
                )
            })?,
        };
        let mut r = Message::new(self.spec(), &mti)?;
        let echo = rule
            .map(|r| r.echo.as_slice())
            .filter(|e| !e.is_empty())
            .unwrap_or(ECHO_DEFAULT);
        for &n in echo {
            if let Some(v) = self.get(n) {
                if r.field_spec(n).is_some() {
                    r.set(n, v)?;
                }
            }
        }
        if self.spec().field(39).is_some() {
            r.set(39, response_code)?;
        }
        Ok(r)
    }
}

/// Fields copied from an original into its reversal when the spec has no rule for it.
const REVERSAL_COPY_DEFAULT: &[u16] = &[2, 3, 4, 7, 11, 12, 13, 32, 33, 37, 41, 42, 49, 102, 103];

impl Message {
    /// Build the reversal of this request: x420 (or x421 when `repeat`), the original's
    /// identifying fields copied (those the spec's reversal rule names, else a default set),
    /// and DE90 (original data elements: MTI, STAN, DE7, DE32, DE33) when the spec has a
    /// 42-digit field 90. The STAN stays the original's; set another with `set(11, ..)` if the
    /// counterparty wants a new one.
    pub fn reversal(&self, repeat: bool) -> Result<Message, RuleError> {
        let v = self.mti_bytes()[0] as char;
        let mti = format!("{v}42{}", if repeat { 1 } else { 0 });
        let mut r = Message::new(self.spec(), &mti)?;
        let copy: Vec<u16> = match self.spec().rule(&r.mti_bytes()) {
            Some(rule) => rule
                .mandatory
                .iter()
                .chain(&rule.conditional)
                .chain(&rule.echo)
                .copied()
                .collect(),
            None => REVERSAL_COPY_DEFAULT.to_vec(),
        };
        for n in copy {
            if n == 90 || n == 39 {
                continue;
            }
            if let (Some(v), Some(_)) = (self.get(n), r.field_spec(n)) {
                r.set(n, v)?;
            }
        }
        if self
            .spec()
            .field(90)
            .is_some_and(|f| f.len == 42 && f.is_fixed())
        {
            let digits = |n: u16, len: usize| {
                let v = self.get_str(n).unwrap_or("");
                let v: String = v.chars().filter(char::is_ascii_digit).collect();
                format!("{v:0>len$}")
            };
            let de90 = format!(
                "{}{}{}{}{}",
                self.mti(),
                digits(11, 6),
                digits(7, 10),
                digits(32, 11),
                digits(33, 11)
            );
            r.set(90, de90)?;
        }
        Ok(r)
    }
}
