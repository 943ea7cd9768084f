//! What the simulated bank does with a payment: the scripts, and how a message picks one.
//!
//! A script is chosen per message by a directive in its unstructured remittance information
//! (`SIM:REJECT:AC04`), or else by the bank's default, so that one run can mix cases.

use std::fmt;
use std::str::FromStr;

/// The prefix of a scripting directive in the remittance information.
pub const DIRECTIVE_PREFIX: &str = "SIM:";

/// The longest delay a script may ask for; longer is a typo, not a test.
pub const DELAY_MS_MAX: u64 = 10 * 60 * 1000;

/// How the bank answers the first receipt of a UETR. Later receipts (resends) are answered
/// at once with the status booked the first time, except under [`Behaviour::Drop`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Behaviour {
    /// 200 with a pacs.002 ACSC.
    Accept,
    /// 202 with an empty body, then the ACSC pacs.002 posted to the callback after `delay_ms`.
    AcceptAsync { delay_ms: u64 },
    /// 200 with a pacs.002 PDNG, then an ACSC pacs.002 posted to the callback after `delay_ms`.
    Pending { delay_ms: u64 },
    /// 200 with a pacs.002 RJCT carrying the reason `code` (AC04, AM04, ...).
    Reject { code: String },
    /// Waits `delay_ms`, then 200 with ACSC: a client with a shorter timeout resends.
    Late { delay_ms: u64 },
    /// 200 with ACSC, then the same pacs.002 again through the callback.
    Twice,
    /// The first receipt is booked (ACSC) but the connection is closed without an answer;
    /// the resend gets the booked answer.
    DropFirst,
    /// Never answers: the connection hangs until the client gives up (or `hang_ms_max`). The
    /// payment is booked as ACSC all the same, so that when the default behaviour is changed
    /// back (the bank "recovers"), a resend without a directive gets an ACSC answer.
    Drop,
    /// 202 and the payment is booked ACSC, but the promised callback never comes: only a
    /// status request (pacs.028) or a resend learns the outcome.
    Silent,
    /// 202, but the bank loses the first copy: nothing is booked, a status request gets 404
    /// (unknown UETR), and the next copy of the UETR is booked (ACSC, answered at once) as a
    /// first receipt.
    Lose,
}

/// A script that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown bank behaviour {text:?}: {why} (expected accept, async:MS, pending:MS, reject:CODE, late:MS, twice, drop_first, drop, silent or lose)")]
pub struct BehaviourError {
    text: String,
    why: &'static str,
}

impl FromStr for Behaviour {
    type Err = BehaviourError;

    /// Reads `accept`, `async:200` (or `accept_async:200`), `pending:200`, `reject:AC04`,
    /// `late:1500`, `twice`, `drop_first`, `drop`, `silent`, `lose`; case does not matter.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |why| BehaviourError {
            text: text.to_string(),
            why,
        };
        let upper = text.trim().to_ascii_uppercase();
        let (name, argument) = match upper.split_once(':') {
            Some((name, argument)) => (name, Some(argument)),
            None => (upper.as_str(), None),
        };
        let delay = || -> Result<u64, BehaviourError> {
            let delay_ms = argument
                .ok_or_else(|| error("needs a delay in milliseconds"))?
                .parse::<u64>()
                .map_err(|_| error("the delay is not a whole number of milliseconds"))?;
            if delay_ms > DELAY_MS_MAX {
                return Err(error("the delay is longer than ten minutes"));
            }
            Ok(delay_ms)
        };
        let no_argument = |behaviour: Behaviour| match argument {
            None => Ok(behaviour),
            Some(_) => Err(error("takes no argument")),
        };
        match name {
            "ACCEPT" => no_argument(Behaviour::Accept),
            "ASYNC" | "ACCEPT_ASYNC" => Ok(Behaviour::AcceptAsync { delay_ms: delay()? }),
            "PENDING" => Ok(Behaviour::Pending { delay_ms: delay()? }),
            "LATE" => Ok(Behaviour::Late { delay_ms: delay()? }),
            "REJECT" => {
                let code = argument.ok_or_else(|| error("needs a reason code"))?;
                // ExternalStatusReason1Code: up to four letters or digits.
                if code.is_empty()
                    || code.len() > 4
                    || !code.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(error(
                        "the reason code must be one to four letters or digits",
                    ));
                }
                Ok(Behaviour::Reject {
                    code: code.to_string(),
                })
            }
            "TWICE" => no_argument(Behaviour::Twice),
            "DROP_FIRST" => no_argument(Behaviour::DropFirst),
            "DROP" => no_argument(Behaviour::Drop),
            "SILENT" => no_argument(Behaviour::Silent),
            "LOSE" => no_argument(Behaviour::Lose),
            _ => Err(error("no such behaviour")),
        }
    }
}

impl TryFrom<String> for Behaviour {
    type Error = BehaviourError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Behaviour> for String {
    fn from(behaviour: Behaviour) -> Self {
        behaviour.to_string()
    }
}

impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Behaviour::Accept => write!(f, "accept"),
            Behaviour::AcceptAsync { delay_ms } => write!(f, "async:{delay_ms}"),
            Behaviour::Pending { delay_ms } => write!(f, "pending:{delay_ms}"),
            Behaviour::Reject { code } => write!(f, "reject:{code}"),
            Behaviour::Late { delay_ms } => write!(f, "late:{delay_ms}"),
            Behaviour::Twice => write!(f, "twice"),
            Behaviour::DropFirst => write!(f, "drop_first"),
            Behaviour::Drop => write!(f, "drop"),
            Behaviour::Silent => write!(f, "silent"),
            Behaviour::Lose => write!(f, "lose"),
        }
    }
}

impl Behaviour {
    /// The directive that selects this behaviour from the remittance information.
    pub fn directive(&self) -> String {
        format!(
            "{DIRECTIVE_PREFIX}{}",
            self.to_string().to_ascii_uppercase()
        )
    }
}

/// The behaviour named by the first `SIM:` directive in the remittance lines, if any.
///
/// A malformed directive is an error rather than silently the default, so that a typo in a
/// test script shows up as a 400 instead of as a puzzling acceptance.
pub fn from_remittance<'a>(
    lines: impl IntoIterator<Item = &'a str>,
) -> Result<Option<Behaviour>, BehaviourError> {
    for line in lines {
        for word in line.split_whitespace() {
            let upper = word.to_ascii_uppercase();
            if let Some(script) = upper.strip_prefix(DIRECTIVE_PREFIX) {
                return script.parse().map(Some);
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_behaviour_round_trips_through_text_and_directive() {
        let all = [
            Behaviour::Accept,
            Behaviour::AcceptAsync { delay_ms: 200 },
            Behaviour::Pending { delay_ms: 50 },
            Behaviour::Reject {
                code: "AC04".into(),
            },
            Behaviour::Late { delay_ms: 1500 },
            Behaviour::Twice,
            Behaviour::DropFirst,
            Behaviour::Drop,
            Behaviour::Silent,
            Behaviour::Lose,
        ];
        for behaviour in all {
            assert_eq!(
                behaviour.to_string().parse::<Behaviour>(),
                Ok(behaviour.clone())
            );
            let line = format!("Invoice 42 {}", behaviour.directive());
            assert_eq!(from_remittance([line.as_str()]), Ok(Some(behaviour)));
        }
    }

    #[test]
    fn behaviours_read_from_configuration_text() {
        let parsed: Vec<Behaviour> =
            serde_json::from_str(r#"["accept", "reject:AC04", "late:1500"]"#).unwrap();
        assert_eq!(
            parsed[1],
            Behaviour::Reject {
                code: "AC04".into()
            }
        );
        assert_eq!(serde_json::to_string(&parsed[2]).unwrap(), r#""late:1500""#);
        assert!(serde_json::from_str::<Behaviour>(r#""late""#).is_err());
    }

    #[test]
    fn the_documented_directives_parse() {
        let parse = |s: &str| from_remittance([s]).unwrap().unwrap();
        assert_eq!(
            parse("SIM:REJECT:AM04"),
            Behaviour::Reject {
                code: "AM04".into()
            }
        );
        assert_eq!(
            parse("pay SIM:LATE:1500"),
            Behaviour::Late { delay_ms: 1500 }
        );
        assert_eq!(
            parse("SIM:ASYNC:200"),
            Behaviour::AcceptAsync { delay_ms: 200 }
        );
        assert_eq!(
            parse("SIM:PENDING:200"),
            Behaviour::Pending { delay_ms: 200 }
        );
        assert_eq!(parse("SIM:DROP_FIRST"), Behaviour::DropFirst);
    }

    #[test]
    fn no_directive_means_none_and_a_bad_one_is_an_error() {
        assert_eq!(from_remittance(["Invoice 42", "thanks"]), Ok(None));
        for bad in [
            "SIM:LATE",
            "SIM:LATE:soon",
            "SIM:REJECT",
            "SIM:REJECT:TOOLONG",
            "SIM:TWICE:2",
            "SIM:EXPLODE",
            "SIM:LATE:99999999999",
        ] {
            assert!(from_remittance([bad]).is_err(), "{bad}");
        }
    }
}
