//! A deterministic stream of settlement events with a realistic mix of the cases a gateway
//! must survive: bank rejects, late and doubled answers, lost answers, duplicate and
//! conflicting events, and events that must be refused at the edge.
//!
//! The same seed and start time always give the same events, so a failing demo or test can
//! be replayed exactly.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::event::{
    Account, Address, Agent, EventAmount, LedgerEvent, Party, SETTLEMENT_REQUESTED,
};
use super::iban;

/// How many earlier events are kept to be sent again as duplicates or conflicts.
const HISTORY_EVENTS_MAX: usize = 256;

/// What share of generated events fall in each special case (0.0 to 1.0 each; the rest are
/// plain settlements that the bank accepts). Shares are drawn in the order listed here.
#[derive(Debug, Clone, PartialEq)]
pub struct Mix {
    /// Events carrying `SIM:REJECT:<code>`: the bank answers RJCT.
    pub reject_share: f64,
    /// Reason codes the bank rejects with, drawn uniformly.
    pub reject_codes: Vec<String>,
    /// Events carrying `SIM:LATE:<late_ms>`: the bank answers after `late_ms`.
    pub late_share: f64,
    pub late_ms: u64,
    /// Events carrying `SIM:TWICE`: the bank answers, then sends the same pacs.002 again.
    pub twice_share: f64,
    /// Events carrying `SIM:DROP_FIRST`: the bank books but does not answer the first send.
    pub drop_first_share: f64,
    /// Events carrying `SIM:SILENT`: 202 and no callback; only a status request learns the
    /// outcome.
    pub silent_share: f64,
    /// Events carrying `SIM:LOSE`: 202, the first copy lost; a status request gets 404 and the
    /// resend settles.
    pub lose_share: f64,
    /// An earlier event posted again, byte for byte.
    pub duplicate_share: f64,
    /// An earlier event id posted with other content (a different amount).
    pub conflict_share: f64,
    /// Events the gateway must refuse: bad IBAN check digits, precision loss, unknown currency.
    pub invalid_share: f64,
    /// Of the valid events, the share whose amount is a token amount (`units` + `decimals`).
    pub token_amount_share: f64,
    /// Of the valid events, the share paying a mobile wallet (`msisdn`, PHP).
    pub msisdn_share: f64,
    /// Of the valid events, the share paying a non-IBAN account (`other` + `BBAN`, USD).
    pub other_account_share: f64,
}

impl Default for Mix {
    fn default() -> Self {
        Self {
            reject_share: 0.08,
            reject_codes: ["AC04", "AM04", "AC01", "AG01", "RR04"]
                .map(String::from)
                .to_vec(),
            late_share: 0.03,
            late_ms: 1500,
            twice_share: 0.03,
            drop_first_share: 0.02,
            silent_share: 0.02,
            lose_share: 0.01,
            duplicate_share: 0.05,
            conflict_share: 0.02,
            invalid_share: 0.04,
            token_amount_share: 0.1,
            msisdn_share: 0.0,
            other_account_share: 0.0,
        }
    }
}

impl Mix {
    /// Only plain settlements that the bank accepts.
    pub fn all_accepted() -> Self {
        Self {
            reject_share: 0.0,
            late_share: 0.0,
            twice_share: 0.0,
            drop_first_share: 0.0,
            silent_share: 0.0,
            lose_share: 0.0,
            duplicate_share: 0.0,
            conflict_share: 0.0,
            invalid_share: 0.0,
            ..Self::default()
        }
    }
}

/// The generator's settings.
#[derive(Debug, Clone)]
pub struct GeneratorConfig {
    /// The ledger id written into every event.
    pub ledger: String,
    pub seed: u64,
    /// `occurred_at` of the first event; each next event is one second later.
    pub start_at: OffsetDateTime,
    pub mix: Mix,
}

impl GeneratorConfig {
    /// A generator for `ledger` with the default mix, starting now.
    pub fn new(ledger: impl Into<String>, seed: u64) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            ledger: ledger.into(),
            seed,
            start_at: now.replace_nanosecond(0).unwrap_or(now),
            mix: Mix::default(),
        }
    }
}

/// Why an invalid event is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidKind {
    /// The creditor IBAN's check digits are wrong.
    BadIban,
    /// The amount has more decimals than the currency allows (e.g. "10.001" EUR).
    PrecisionLoss,
    /// The currency is "XYZ".
    UnknownCurrency,
    /// The creditor's address has no town (CBPR+ needs a town and a country; a payment to a
    /// bank needs the address itself).
    NoTown,
}

/// What a generated event is meant to exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// Plain settlement; the bank accepts.
    Accept,
    /// The bank rejects with this reason code.
    BankReject { code: String },
    /// The bank answers after `delay_ms`.
    Late { delay_ms: u64 },
    /// The bank answers twice.
    Twice,
    /// The bank books but does not answer the first send.
    DropFirst,
    /// The bank answers 202 and never calls back.
    Silent,
    /// The bank answers 202 and loses the first copy.
    Lose,
    /// The same event as `event_id` (identical), posted again.
    Duplicate { event_id: String },
    /// Same `event_id` as an earlier event, other content.
    Conflict { event_id: String },
    /// Must be refused at intake.
    Invalid(InvalidKind),
}

/// What the gateway should end up doing with a generated event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// A `settled` write-back.
    Settled,
    /// A `rejected` write-back with this reason code.
    Rejected { code: String },
    /// A 4xx at intake and no settlement.
    Refused,
    /// The current state of the original event; no second settlement.
    SameAsOriginal,
    /// A 409 at intake; the original settlement is unaffected.
    Conflict,
}

impl EventKind {
    pub fn expected(&self) -> Expected {
        match self {
            EventKind::Accept
            | EventKind::Late { .. }
            | EventKind::Twice
            | EventKind::DropFirst
            | EventKind::Silent
            | EventKind::Lose => Expected::Settled,
            EventKind::BankReject { code } => Expected::Rejected { code: code.clone() },
            EventKind::Duplicate { .. } => Expected::SameAsOriginal,
            EventKind::Conflict { .. } => Expected::Conflict,
            EventKind::Invalid(_) => Expected::Refused,
        }
    }

    /// Whether this event creates a settlement of its own (a new, valid event id).
    pub fn is_new_settlement(&self) -> bool {
        matches!(
            self.expected(),
            Expected::Settled | Expected::Rejected { .. }
        )
    }
}

/// One generated event and what it is meant to exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedEvent {
    pub event: LedgerEvent,
    pub kind: EventKind,
}

/// A bank an account can be held at: BIC and the bank code that the IBAN's BBAN starts with.
struct Bank {
    country: &'static str,
    bic: &'static str,
    bank_code: &'static str,
}

// Real-shaped BICs and the national bank codes that go with them, so that a generated IBAN
// and its agent's BIC agree the way they would in a real payment.
const BANKS: &[Bank] = &[
    Bank {
        country: "DE",
        bic: "COBADEFFXXX",
        bank_code: "37040044",
    },
    Bank {
        country: "DE",
        bic: "DEUTDEFFXXX",
        bank_code: "50070010",
    },
    Bank {
        country: "FR",
        bic: "BNPAFRPPXXX",
        bank_code: "30004",
    },
    Bank {
        country: "FR",
        bic: "SOGEFRPPXXX",
        bank_code: "30003",
    },
    Bank {
        country: "GB",
        bic: "NWBKGB2LXXX",
        bank_code: "NWBK",
    },
    Bank {
        country: "GB",
        bic: "BARCGB22XXX",
        bank_code: "BARC",
    },
    Bank {
        country: "CH",
        bic: "UBSWCHZH80A",
        bank_code: "00230",
    },
    Bank {
        country: "CH",
        bic: "ZKBKCHZZ80A",
        bank_code: "00700",
    },
    Bank {
        country: "SE",
        bic: "ESSESESSXXX",
        bank_code: "500",
    },
    Bank {
        country: "SE",
        bic: "HANDSESSXXX",
        bank_code: "600",
    },
    Bank {
        country: "NL",
        bic: "INGBNL2AXXX",
        bank_code: "INGB",
    },
    Bank {
        country: "NL",
        bic: "ABNANL2AXXX",
        bank_code: "ABNA",
    },
    Bank {
        country: "BE",
        bic: "GEBABEBBXXX",
        bank_code: "001",
    },
    Bank {
        country: "BE",
        bic: "KREDBEBBXXX",
        bank_code: "734",
    },
    Bank {
        country: "AT",
        bic: "BKAUATWWXXX",
        bank_code: "12000",
    },
    Bank {
        country: "AT",
        bic: "RZBAATWWXXX",
        bank_code: "31000",
    },
];

const COMPANIES: &[&str] = &[
    "Acme GmbH",
    "Nordwind Logistik AG",
    "Blue Harbour Trading Ltd",
    "Société Lumière SARL",
    "Alpenblick Handels AG",
    "Kanal Export BV",
    "Fjord Fisk AB",
    "Danube Components GmbH",
];

const FIRST_NAMES: &[&str] = &[
    "Jane", "Lukas", "Amélie", "Oliver", "Sofia", "Noah", "Emma", "Mateo", "Freja", "Luca",
    "Maria", "Jonas", "Chloé", "Aiko", "Lars",
];

const LAST_NAMES: &[&str] = &[
    "Roe",
    "Müller",
    "Dubois",
    "Smith",
    "Rossi",
    "Jansen",
    "Andersson",
    "Peeters",
    "Huber",
    "García",
    "Tanaka",
    "Keller",
    "Nowak",
];

/// Currencies the generator pays in, with their ISO 4217 exponents and a weight.
const CURRENCIES: &[(&str, u32, u32)] = &[
    ("EUR", 2, 40),
    ("USD", 2, 20),
    ("GBP", 2, 14),
    ("SEK", 2, 10),
    ("CHF", 2, 8),
    ("JPY", 0, 8),
];

/// The simulated ledger's event source.
pub struct LedgerSim {
    config: GeneratorConfig,
    rng: StdRng,
    /// The next event's sequence number (starts at 1).
    sequence: u64,
    /// Recent valid events, for duplicates and conflicts.
    history: Vec<LedgerEvent>,
}

impl LedgerSim {
    pub fn new(config: GeneratorConfig) -> Self {
        Self {
            rng: StdRng::seed_from_u64(config.seed),
            config,
            sequence: 1,
            history: Vec::new(),
        }
    }

    /// The next `count` events.
    pub fn take(&mut self, count: usize) -> Vec<GeneratedEvent> {
        (0..count).map(|_| self.next_event()).collect()
    }

    /// The next event.
    pub fn next_event(&mut self) -> GeneratedEvent {
        let mix = self.config.mix.clone();
        let draw: f64 = self.rng.gen();
        let mut threshold = 0.0;
        let mut within = |share: f64| {
            threshold += share;
            draw < threshold
        };
        if within(mix.reject_share) {
            let code = mix
                .reject_codes
                .get(self.rng.gen_range(0..mix.reject_codes.len().max(1)))
                .cloned()
                .unwrap_or_else(|| "AC04".to_string());
            self.fresh(EventKind::BankReject { code })
        } else if within(mix.late_share) {
            self.fresh(EventKind::Late {
                delay_ms: mix.late_ms,
            })
        } else if within(mix.twice_share) {
            self.fresh(EventKind::Twice)
        } else if within(mix.drop_first_share) {
            self.fresh(EventKind::DropFirst)
        } else if within(mix.silent_share) {
            self.fresh(EventKind::Silent)
        } else if within(mix.lose_share) {
            self.fresh(EventKind::Lose)
        } else if within(mix.duplicate_share) && !self.history.is_empty() {
            let event = self.pick_from_history();
            let event_id = event.event_id.clone();
            GeneratedEvent {
                event,
                kind: EventKind::Duplicate { event_id },
            }
        } else if within(mix.conflict_share) && !self.history.is_empty() {
            self.conflict()
        } else if within(mix.invalid_share) {
            let drawn = match self.rng.gen_range(0..3) {
                0 => InvalidKind::BadIban,
                1 => InvalidKind::PrecisionLoss,
                _ => InvalidKind::UnknownCurrency,
            };
            // Every other precision-loss or unknown-currency event (neither takes a draw of
            // its own) lacks a town instead: the random stream, and so every other event of
            // a seed, stays what it was before that kind existed.
            let kind = if drawn != InvalidKind::BadIban && self.sequence % 2 == 0 {
                InvalidKind::NoTown
            } else {
                drawn
            };
            self.invalid(kind)
        } else {
            self.fresh(EventKind::Accept)
        }
    }

    /// A new valid event scripted for `kind` (one of the bank behaviours).
    fn fresh(&mut self, kind: EventKind) -> GeneratedEvent {
        let mut event = self.valid_event();
        let directive = match &kind {
            EventKind::BankReject { code } => Some(format!("SIM:REJECT:{code}")),
            EventKind::Late { delay_ms } => Some(format!("SIM:LATE:{delay_ms}")),
            EventKind::Twice => Some("SIM:TWICE".to_string()),
            EventKind::DropFirst => Some("SIM:DROP_FIRST".to_string()),
            EventKind::Silent => Some("SIM:SILENT".to_string()),
            EventKind::Lose => Some("SIM:LOSE".to_string()),
            _ => None,
        };
        if let Some(directive) = directive {
            let text = event.remittance_info.take().unwrap_or_default();
            event.remittance_info = Some(format!("{text} {directive}").trim().to_string());
        }
        self.remember(&event);
        GeneratedEvent { event, kind }
    }

    fn pick_from_history(&mut self) -> LedgerEvent {
        let index = self.rng.gen_range(0..self.history.len());
        self.history[index].clone()
    }

    fn conflict(&mut self) -> GeneratedEvent {
        let mut event = self.pick_from_history();
        let event_id = event.event_id.clone();
        event.amount = match event.amount {
            EventAmount::Decimal(text) => EventAmount::Decimal(bump_decimal(&text)),
            EventAmount::Token { units, decimals } => EventAmount::Token {
                units: bump_units(&units, decimals),
                decimals,
            },
        };
        GeneratedEvent {
            event,
            kind: EventKind::Conflict { event_id },
        }
    }

    fn invalid(&mut self, kind: InvalidKind) -> GeneratedEvent {
        let mut event = self.valid_event();
        match kind {
            InvalidKind::BadIban => {
                if let Account::Iban { iban } = &mut event.creditor.account {
                    *iban = iban::corrupt(iban);
                } else {
                    // Only IBAN creditors can carry bad check digits; fall back to a fresh one.
                    let (iban, _) = self.iban_account("DE");
                    event.creditor.account = Account::Iban {
                        iban: iban::corrupt(&iban),
                    };
                }
            }
            InvalidKind::PrecisionLoss => {
                let exponent = exponent_of(&event.currency).unwrap_or(2);
                event.amount = match event.amount {
                    // One digit more than the currency has, and not a zero.
                    EventAmount::Decimal(text) => EventAmount::Decimal(if exponent == 0 {
                        format!("{text}.5")
                    } else {
                        format!("{text}1")
                    }),
                    // A token amount with a non-zero digit below the currency's minor unit.
                    EventAmount::Token { units, decimals } => EventAmount::Token {
                        units: format!("{}", units.parse::<u128>().unwrap_or(0) + 1),
                        decimals,
                    },
                };
            }
            InvalidKind::UnknownCurrency => event.currency = "XYZ".to_string(),
            InvalidKind::NoTown => {
                // A wallet creditor has no address to spoil: it gets one (an address given
                // must have its town whatever the rail), without drawing from the random
                // source, so the events after this one stay as they were.
                let country = event.creditor.country.clone();
                let address = event.creditor.address.get_or_insert_with(|| Address {
                    country,
                    ..Address::default()
                });
                address.town_name = None;
            }
        }
        GeneratedEvent {
            event,
            kind: EventKind::Invalid(kind),
        }
    }

    fn remember(&mut self, event: &LedgerEvent) {
        if self.history.len() == HISTORY_EVENTS_MAX {
            self.history.remove(0);
        }
        self.history.push(event.clone());
    }

    /// A valid event with a new id, without any scripting directive.
    fn valid_event(&mut self) -> LedgerEvent {
        let sequence = self.sequence;
        self.sequence += 1;
        let occurred = self.config.start_at + Duration::seconds(sequence as i64 - 1);
        let mix = self.config.mix.clone();

        let debtor_bank = self.pick_bank(&["DE", "FR", "NL", "GB"]);
        let (debtor_iban, _) = self.iban_for(debtor_bank);
        let mut debtor_address = address_in(debtor_bank.country, sequence);
        // Companies pay from a department now and then.
        if sequence % 3 == 0 {
            debtor_address.department = Some("Treasury".to_string());
        }
        let debtor = Party {
            name: COMPANIES[self.rng.gen_range(0..COMPANIES.len())].to_string(),
            account: Account::Iban { iban: debtor_iban },
            agent: Some(Agent {
                bic: debtor_bank.bic.to_string(),
            }),
            country: None,
            address: Some(debtor_address),
        };

        let account_draw: f64 = self.rng.gen();
        let (currency, exponent, mut creditor) = if account_draw < mix.msisdn_share {
            ("PHP", 2, self.wallet_creditor())
        } else if account_draw < mix.msisdn_share + mix.other_account_share {
            ("USD", 2, self.other_account_creditor())
        } else {
            let (currency, exponent) = self.pick_currency();
            (currency, exponent, self.iban_creditor(currency))
        };

        // The creditor lives elsewhere than the debtor (another entry of the table).
        if let (Some(address), Some(country)) = (&mut creditor.address, &creditor.country) {
            *address = address_in(country, sequence + 1);
        }

        let minor = self.pick_minor_units(exponent);
        let amount = if self.rng.gen::<f64>() < mix.token_amount_share {
            let decimals = if self.rng.gen_bool(0.8) { 6 } else { 18 };
            let units = u128::from(minor) * 10u128.pow(decimals - exponent);
            EventAmount::Token {
                units: units.to_string(),
                decimals,
            }
        } else {
            EventAmount::Decimal(format_minor(minor, exponent))
        };

        LedgerEvent {
            ledger: Some(self.config.ledger.clone()),
            event_id: format!("evt-{sequence:06}"),
            event_type: SETTLEMENT_REQUESTED.to_string(),
            occurred_at: occurred.format(&Rfc3339).expect("UTC timestamps format"),
            amount,
            currency: currency.to_string(),
            debtor,
            creditor,
            remittance_info: Some(format!(
                "Invoice {}",
                self.rng.gen_range(10_000..100_000u32)
            )),
            execution_date: Some(occurred.date().to_string()),
        }
    }

    fn pick_currency(&mut self) -> (&'static str, u32) {
        let total: u32 = CURRENCIES.iter().map(|c| c.2).sum();
        let mut draw = self.rng.gen_range(0..total);
        for &(code, exponent, weight) in CURRENCIES {
            if draw < weight {
                return (code, exponent);
            }
            draw -= weight;
        }
        ("EUR", 2)
    }

    /// Mostly small payments, some large ones, the way remittances are spread.
    fn pick_minor_units(&mut self, exponent: u32) -> u64 {
        let major: u64 = match self.rng.gen_range(0..10) {
            0..=5 => self.rng.gen_range(1..500),
            6..=8 => self.rng.gen_range(500..10_000),
            _ => self.rng.gen_range(10_000..250_000),
        };
        let scale = 10u64.pow(exponent);
        let fraction = if exponent == 0 {
            0
        } else {
            self.rng.gen_range(0..scale)
        };
        major * scale + fraction
    }

    fn iban_creditor(&mut self, currency: &str) -> Party {
        let countries: &[&str] = match currency {
            "GBP" => &["GB"],
            "CHF" => &["CH"],
            "SEK" => &["SE"],
            "EUR" => &["DE", "FR", "NL", "BE", "AT"],
            _ => &["DE", "FR", "GB", "CH", "SE", "NL", "BE", "AT"],
        };
        let bank = self.pick_bank(countries);
        let (iban, country) = self.iban_for(bank);
        Party {
            name: self.person_name(),
            account: Account::Iban { iban },
            agent: Some(Agent {
                bic: bank.bic.to_string(),
            }),
            country: Some(country.to_string()),
            address: Some(address_in(country, 0)),
        }
    }

    fn wallet_creditor(&mut self) -> Party {
        let msisdn = format!("+63917{:07}", self.rng.gen_range(0..10_000_000u32));
        Party {
            name: self.person_name(),
            account: Account::Msisdn { msisdn },
            agent: None,
            country: Some("PH".to_string()),
            // A wallet payment (ISO 8583) carries no postal address.
            address: None,
        }
    }

    fn other_account_creditor(&mut self) -> Party {
        let number = format!("{:09}", self.rng.gen_range(0..1_000_000_000u32));
        Party {
            name: self.person_name(),
            account: Account::Other {
                other: number,
                scheme: "BBAN".to_string(),
            },
            agent: Some(Agent {
                bic: "CHASUS33XXX".to_string(),
            }),
            country: Some("US".to_string()),
            address: Some(address_in("US", 0)),
        }
    }

    fn person_name(&mut self) -> String {
        let first = FIRST_NAMES[self.rng.gen_range(0..FIRST_NAMES.len())];
        let last = LAST_NAMES[self.rng.gen_range(0..LAST_NAMES.len())];
        format!("{first} {last}")
    }

    fn pick_bank(&mut self, countries: &[&str]) -> &'static Bank {
        let candidates: Vec<&'static Bank> = BANKS
            .iter()
            .filter(|b| countries.contains(&b.country))
            .collect();
        candidates[self.rng.gen_range(0..candidates.len())]
    }

    fn iban_account(&mut self, country: &str) -> (String, &'static str) {
        let bank = self.pick_bank(&[country]);
        self.iban_for(bank)
    }

    /// An IBAN at `bank`, with the national layout of its country and any national check
    /// digits computed, then the IBAN check digits.
    fn iban_for(&mut self, bank: &'static Bank) -> (String, &'static str) {
        let bban = match bank.country {
            "DE" => format!("{}{}", bank.bank_code, self.digits(10)),
            "FR" => {
                let branch = self.digits(5);
                let account = self.digits(11);
                let key = french_rib_key(bank.bank_code, &branch, &account);
                format!("{}{branch}{account}{key:02}", bank.bank_code)
            }
            "GB" => format!("{}{}{}", bank.bank_code, self.digits(6), self.digits(8)),
            "CH" => format!("{}{}", bank.bank_code, self.digits(12)),
            "SE" => format!("{}{}", bank.bank_code, self.digits(17)),
            "NL" => format!("{}{}", bank.bank_code, self.digits(10)),
            "BE" => {
                let first = format!("{}{}", bank.bank_code, self.digits(7));
                let check = first.parse::<u64>().expect("digits") % 97;
                format!("{first}{:02}", if check == 0 { 97 } else { check })
            }
            "AT" => format!("{}{}", bank.bank_code, self.digits(11)),
            other => unreachable!("no BBAN layout for {other}"),
        };
        (iban::make(bank.country, &bban), bank.country)
    }

    fn digits(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| char::from(b'0' + self.rng.gen_range(0..10u8)))
            .collect()
    }
}

/// A place a party lives: street, building number, post code, town and (where the country
/// uses one in addresses) subdivision.
struct Place {
    country: &'static str,
    street: &'static str,
    number: &'static str,
    post_code: &'static str,
    town: &'static str,
    sub_division: Option<&'static str>,
}

/// Real-shaped addresses per country, some with characters outside the CBPR+ set (`ß`, `ü`,
/// `ä`) that the gateway must convert.
const PLACES: &[Place] = &[
    Place {
        country: "DE",
        street: "Friedrichstraße",
        number: "123",
        post_code: "10117",
        town: "Berlin",
        sub_division: None,
    },
    Place {
        country: "DE",
        street: "Königsallee",
        number: "60",
        post_code: "40212",
        town: "Düsseldorf",
        sub_division: None,
    },
    Place {
        country: "DE",
        street: "Maximilianstraße",
        number: "13",
        post_code: "80539",
        town: "München",
        sub_division: None,
    },
    Place {
        country: "FR",
        street: "Rue de Rivoli",
        number: "10",
        post_code: "75001",
        town: "Paris",
        sub_division: None,
    },
    Place {
        country: "FR",
        street: "Quai Saint-Antoine",
        number: "2",
        post_code: "69002",
        town: "Lyon",
        sub_division: None,
    },
    Place {
        country: "GB",
        street: "King William Street",
        number: "77",
        post_code: "EC4N 7BE",
        town: "London",
        sub_division: None,
    },
    Place {
        country: "GB",
        street: "Deansgate",
        number: "100",
        post_code: "M3 2GP",
        town: "Manchester",
        sub_division: None,
    },
    Place {
        country: "CH",
        street: "Bahnhofstrasse",
        number: "45",
        post_code: "8001",
        town: "Zürich",
        sub_division: None,
    },
    Place {
        country: "CH",
        street: "Rue du Rhône",
        number: "8",
        post_code: "1204",
        town: "Genève",
        sub_division: None,
    },
    Place {
        country: "SE",
        street: "Drottninggatan",
        number: "5",
        post_code: "111 51",
        town: "Stockholm",
        sub_division: None,
    },
    Place {
        country: "SE",
        street: "Kungsportsavenyen",
        number: "21",
        post_code: "411 36",
        town: "Göteborg",
        sub_division: None,
    },
    Place {
        country: "NL",
        street: "Herengracht",
        number: "450",
        post_code: "1017 CA",
        town: "Amsterdam",
        sub_division: None,
    },
    Place {
        country: "NL",
        street: "Coolsingel",
        number: "40",
        post_code: "3011 AD",
        town: "Rotterdam",
        sub_division: None,
    },
    Place {
        country: "BE",
        street: "Rue Royale",
        number: "80",
        post_code: "1000",
        town: "Bruxelles",
        sub_division: None,
    },
    Place {
        country: "AT",
        street: "Kärntner Straße",
        number: "12",
        post_code: "1010",
        town: "Wien",
        sub_division: None,
    },
    Place {
        country: "US",
        street: "Park Avenue",
        number: "270",
        post_code: "10017",
        town: "New York",
        sub_division: Some("NY"),
    },
    Place {
        country: "US",
        street: "Market Street",
        number: "400",
        post_code: "94111",
        town: "San Francisco",
        sub_division: Some("CA"),
    },
];

/// The `n`th address (cycling) of `country`'s places; every country the generator pays in
/// has some. Chosen without the random source, so the events' other fields do not change
/// with the table.
fn address_in(country: &str, n: u64) -> Address {
    let places: Vec<&Place> = PLACES.iter().filter(|p| p.country == country).collect();
    let place = places[(n % places.len() as u64) as usize];
    Address {
        street_name: Some(place.street.to_string()),
        building_number: Some(place.number.to_string()),
        post_code: Some(place.post_code.to_string()),
        town_name: Some(place.town.to_string()),
        country_sub_division: place.sub_division.map(str::to_string),
        country: Some(place.country.to_string()),
        ..Address::default()
    }
}

/// The French RIB key over numeric bank, branch and account codes.
fn french_rib_key(bank: &str, branch: &str, account: &str) -> u64 {
    let n = |s: &str| s.parse::<u64>().expect("numeric codes");
    let sum = (89 * n(bank) + 15 * n(branch) + 3 * (n(account) % 97)) % 97;
    97 - sum
}

fn exponent_of(currency: &str) -> Option<u32> {
    CURRENCIES
        .iter()
        .find(|c| c.0 == currency)
        .map(|c| c.1)
        .or(if currency == "PHP" { Some(2) } else { None })
}

/// `minor` minor units as a decimal string with `exponent` decimals ("1234.50").
fn format_minor(minor: u64, exponent: u32) -> String {
    if exponent == 0 {
        return minor.to_string();
    }
    let scale = 10u64.pow(exponent);
    format!(
        "{}.{:0width$}",
        minor / scale,
        minor % scale,
        width = exponent as usize
    )
}

/// The decimal string plus one major unit, keeping its decimals.
fn bump_decimal(text: &str) -> String {
    match text.split_once('.') {
        Some((major, fraction)) => {
            format!("{}.{fraction}", major.parse::<u64>().unwrap_or(0) + 1)
        }
        None => format!("{}", text.parse::<u64>().unwrap_or(0) + 1),
    }
}

fn bump_units(units: &str, decimals: u32) -> String {
    let one = 10u128.pow(decimals);
    (units.parse::<u128>().unwrap_or(0) + one).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM_DIGEST_SEED_7: u64 = 0xb618_9252_ed83_a38c;

    fn config(seed: u64, mix: Mix) -> GeneratorConfig {
        GeneratorConfig {
            ledger: "test-ledger".into(),
            seed,
            start_at: time::macros::datetime!(2026-11-25 12:00:00 UTC),
            mix,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_events() {
        let a = LedgerSim::new(config(7, Mix::default())).take(200);
        let b = LedgerSim::new(config(7, Mix::default())).take(200);
        let c = LedgerSim::new(config(8, Mix::default())).take(200);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn valid_events_carry_valid_ibans_and_exact_amounts() {
        let mix = Mix {
            token_amount_share: 0.3,
            ..Mix::all_accepted()
        };
        for generated in LedgerSim::new(config(1, mix)).take(500) {
            assert_eq!(generated.kind, EventKind::Accept);
            let event = &generated.event;
            for party in [&event.debtor, &event.creditor] {
                match &party.account {
                    Account::Iban { iban } => assert!(iban::is_valid(iban), "{iban}"),
                    other => panic!("unexpected account {other:?}"),
                }
                // Bank payments: a structured address with town and country, in the
                // country of the account.
                let address = party.address.as_ref().expect("an address");
                assert!(address.town_name.is_some(), "{address:?}");
                let Account::Iban { iban } = &party.account else {
                    unreachable!()
                };
                assert_eq!(address.country.as_deref(), Some(&iban[..2]));
            }
            assert_ne!(event.debtor.address, event.creditor.address);
            let exponent = exponent_of(&event.currency).unwrap();
            match &event.amount {
                EventAmount::Decimal(text) => {
                    let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
                    assert_eq!(decimals as u32, exponent, "{text} {}", event.currency);
                }
                EventAmount::Token { units, decimals } => {
                    let scale = 10u128.pow(decimals - exponent);
                    assert_eq!(units.parse::<u128>().unwrap() % scale, 0, "{units}");
                }
            }
        }
    }

    #[test]
    fn wallet_creditors_carry_no_address_and_others_one_in_their_country() {
        let mix = Mix {
            msisdn_share: 0.5,
            other_account_share: 0.25,
            ..Mix::all_accepted()
        };
        let events = LedgerSim::new(config(4, mix)).take(200);
        for event in events.iter().map(|g| &g.event) {
            assert!(event.debtor.address.is_some());
            match &event.creditor.account {
                Account::Msisdn { .. } => assert_eq!(event.creditor.address, None),
                _ => {
                    let address = event.creditor.address.as_ref().unwrap();
                    assert!(address.town_name.is_some());
                    assert_eq!(address.country, event.creditor.country);
                }
            }
        }
        let wallets = events
            .iter()
            .filter(|g| matches!(g.event.creditor.account, Account::Msisdn { .. }))
            .count();
        assert!(wallets > 50 && wallets < 150, "{wallets}");
    }

    #[test]
    fn french_ibans_carry_a_correct_rib_key() {
        // The RIB's defining property: the whole 23-digit number is divisible by 97.
        for (bank, branch, account) in [
            ("30004", "00001", "00012345678"),
            ("30003", "98765", "12345678901"),
            ("20041", "01005", "00000000013"),
        ] {
            let key = french_rib_key(bank, branch, account);
            let rib: u128 = format!("{bank}{branch}{account}{key:02}").parse().unwrap();
            assert_eq!(rib % 97, 0, "{bank} {branch} {account} {key}");
        }
    }

    #[test]
    fn the_mix_produces_every_kind_with_the_right_script() {
        let events = LedgerSim::new(config(3, Mix::default())).take(2000);
        let count = |f: &dyn Fn(&EventKind) -> bool| events.iter().filter(|e| f(&e.kind)).count();
        assert!(count(&|k| matches!(k, EventKind::BankReject { .. })) > 80);
        assert!(count(&|k| matches!(k, EventKind::Duplicate { .. })) > 40);
        assert!(count(&|k| matches!(k, EventKind::Conflict { .. })) > 10);
        assert!(count(&|k| matches!(k, EventKind::Invalid(_))) > 30);
        assert!(count(&|k| *k == EventKind::Accept) > 1200);
        for generated in &events {
            let remittance = generated.event.remittance_info.clone().unwrap_or_default();
            match &generated.kind {
                EventKind::BankReject { code } => {
                    assert!(remittance.ends_with(&format!("SIM:REJECT:{code}")))
                }
                EventKind::Twice => assert!(remittance.ends_with("SIM:TWICE")),
                EventKind::Accept => assert!(!remittance.contains("SIM:")),
                _ => {}
            }
        }
    }

    #[test]
    fn duplicates_are_identical_and_conflicts_differ() {
        let mut seen = std::collections::HashMap::new();
        for generated in LedgerSim::new(config(5, Mix::default())).take(1000) {
            let event = &generated.event;
            match &generated.kind {
                EventKind::Duplicate { event_id } => {
                    assert_eq!(seen.get(event_id), Some(event));
                }
                EventKind::Conflict { event_id } => {
                    let original: &LedgerEvent = seen.get(event_id).unwrap();
                    assert_ne!(original, event);
                    assert_eq!(&original.event_id, event_id);
                }
                kind if kind.is_new_settlement() => {
                    assert!(seen.insert(event.event_id.clone(), event.clone()).is_none());
                }
                _ => {}
            }
        }
    }

    #[test]
    fn invalid_events_are_invalid_in_the_stated_way() {
        let mix = Mix {
            invalid_share: 1.0,
            ..Mix::all_accepted()
        };
        let mut without_town = 0;
        for generated in LedgerSim::new(config(9, mix)).take(300) {
            let event = &generated.event;
            without_town += usize::from(generated.kind == EventKind::Invalid(InvalidKind::NoTown));
            match generated.kind {
                EventKind::Invalid(InvalidKind::BadIban) => match &event.creditor.account {
                    Account::Iban { iban } => assert!(!iban::is_valid(iban)),
                    other => panic!("{other:?}"),
                },
                EventKind::Invalid(InvalidKind::UnknownCurrency) => {
                    assert_eq!(event.currency, "XYZ")
                }
                EventKind::Invalid(InvalidKind::NoTown) => {
                    let address = event.creditor.address.as_ref().unwrap();
                    assert_eq!(address.town_name, None);
                    assert!(address.country.is_some());
                }
                EventKind::Invalid(InvalidKind::PrecisionLoss) => {
                    let exponent = exponent_of(&event.currency).unwrap();
                    match &event.amount {
                        EventAmount::Decimal(text) => {
                            let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
                            assert_eq!(decimals as u32, exponent + 1, "{text}");
                            assert!(!text.ends_with('0'));
                        }
                        EventAmount::Token { units, decimals } => {
                            let scale = 10u128.pow(decimals - exponent);
                            assert_ne!(units.parse::<u128>().unwrap() % scale, 0);
                        }
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(without_town > 50, "{without_town}");
    }

    /// FNV-1a over what the random source decided for each event: its kind, amount,
    /// currency, parties' names and accounts, remittance; of an invalid event, only that it is
    /// one (what is wrong with it may differ).
    fn stream_digest(events: &[GeneratedEvent]) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for g in events {
            let e = &g.event;
            let kind = format!("{:?}", g.kind);
            let text = if matches!(g.kind, EventKind::Invalid(_)) {
                format!("Invalid|{}", e.event_id)
            } else {
                format!(
                    "{kind}|{}|{:?}|{}|{}|{:?}|{}|{:?}|{:?}",
                    e.event_id,
                    e.amount,
                    e.currency,
                    e.debtor.name,
                    e.debtor.account,
                    e.creditor.name,
                    e.creditor.account,
                    e.remittance_info
                )
            };
            for byte in text.bytes() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        hash
    }

    #[test]
    fn addresses_and_the_no_town_kind_leave_a_seeds_events_as_they_were() {
        // The digest of seed 7's first 300 events (the demo's mix) from the generator as it
        // was before addresses: addresses are not drawn and the no-town kind takes no draw,
        // so the demo's figures stay those of the same seed.
        let mix = Mix {
            msisdn_share: 0.1,
            ..Mix::default()
        };
        let events = LedgerSim::new(config(7, mix)).take(300);
        assert_eq!(stream_digest(&events), STREAM_DIGEST_SEED_7);
    }

    #[test]
    fn amounts_format_with_the_currency_exponent() {
        assert_eq!(format_minor(123450, 2), "1234.50");
        assert_eq!(format_minor(5, 2), "0.05");
        assert_eq!(format_minor(1234, 0), "1234");
        assert_eq!(bump_decimal("1234.50"), "1235.50");
    }
}
