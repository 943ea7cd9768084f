//! The switch's books and decisions, with no I/O: a message in, effects out. Kept apart from
//! the server so that idempotency and reversal rules can be read (and tested) on their own.

use std::collections::{BTreeMap, HashMap, HashSet};

use iso8583::Message;

use super::{Action, Match, Rule};

/// What the server must do after a message.
#[derive(Debug)]
pub enum Effect {
    Reply(Message),
    ReplyAfter(u64, Message),
    Disconnect,
}

/// Everything the switch counted since it started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub connections: u64,
    pub requests: u64,
    /// Distinct credits applied (a repeated 0200 is not counted again).
    pub credits: u64,
    pub declines: u64,
    /// 0200s whose key was already known (answered again, never credited twice).
    pub duplicates: u64,
    /// Credits actually undone.
    pub reversals: u64,
    /// 0420/0421 for an already reversed or never-credited key.
    pub reversal_repeats: u64,
    pub reversals_before_credit: u64,
    pub late_approvals: u64,
    pub no_answers: u64,
    pub disconnects: u64,
    pub format_errors: u64,
    pub sign_ons: u64,
    pub echoes: u64,
    pub sign_offs: u64,
    pub undecodable: u64,
    /// Requests whose STAN (DE11) an earlier request of the other kind already used: a network
    /// management request's STAN seen on a financial or reversal request, or the other way
    /// round. A client keeping one sequence per link never causes one.
    pub stan_clashes: u64,
}

#[derive(Clone, Debug, PartialEq)]
enum CreditState {
    Credited,
    Declined(String),
    /// The 0210 is held until a reversal arrives.
    Held(Box<Message>),
    Reversed,
    /// A reversal came first; the credit, if it ever arrives, is refused.
    ReversedFirst,
}

#[derive(Clone, Debug)]
struct Credit {
    wallet: String,
    amount_minor: i64,
    state: CreditState,
}

/// (DE41 terminal, DE37 RRN, DE11 STAN) of the original credit.
type CreditKey = (String, String, String);

pub struct State {
    balances: HashMap<String, i64>,
    credits: HashMap<CreditKey, Credit>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) default_action: Action,
    pub counters: Counters,
    /// STANs seen on network management requests, and on financial and reversal requests.
    network_stans: HashSet<String>,
    payment_stans: HashSet<String>,
}

fn text(m: &Message, n: u16) -> String {
    m.get_str(n).unwrap_or("").trim().to_string()
}

impl State {
    pub fn new(default_action: Action, rules: Vec<Rule>) -> State {
        State {
            balances: HashMap::new(),
            credits: HashMap::new(),
            rules,
            default_action,
            counters: Counters::default(),
            network_stans: HashSet::new(),
            payment_stans: HashSet::new(),
        }
    }

    pub fn balance(&self, wallet: &str) -> i64 {
        self.balances.get(wallet).copied().unwrap_or(0)
    }

    pub fn balances(&self) -> BTreeMap<String, i64> {
        self.balances.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// The day's settlement rows: every credit applied (and every one reversed, marked so),
    /// in RRN order, as the operator's settlement report lists them.
    pub fn settlement_lines(
        &self,
        currency: &str,
        date: &str,
    ) -> Vec<crate::statements::StatementLine> {
        let mut keys: Vec<&CreditKey> = self
            .credits
            .iter()
            .filter(|(_, c)| matches!(c.state, CreditState::Credited | CreditState::Reversed))
            .map(|(k, _)| k)
            .collect();
        keys.sort_by(|a, b| (&a.1, &a.2).cmp(&(&b.1, &b.2)));
        keys.into_iter()
            .map(|k| {
                let c = &self.credits[k];
                crate::statements::StatementLine {
                    amount_minor: c.amount_minor,
                    currency: currency.to_string(),
                    credit: false,
                    date: date.to_string(),
                    msisdn: Some(c.wallet.clone()),
                    rrn: Some(k.1.clone()),
                    stan: Some(k.2.clone()),
                    return_reason: (c.state == CreditState::Reversed).then(|| "REVERSED".into()),
                    ..Default::default()
                }
            })
            .collect()
    }

    /// Apply one inbound message and say what to send back.
    pub fn apply(&mut self, m: &Message) -> Vec<Effect> {
        let mti = m.mti_bytes();
        if (mti[2] - b'0') % 2 == 1 {
            // Responses from the client (e.g. to our echo) need nothing.
            return Vec::new();
        }
        self.note_stan(mti[1] == b'8', text(m, 11));
        // Class digit: 2 financial, 4 reversal, 8 network management.
        match mti[1] {
            b'2' => self.credit(m),
            b'4' => self.reverse(m),
            b'8' => self.network(m),
            _ => reply(m, "12"),
        }
    }

    fn note_stan(&mut self, network: bool, stan: String) {
        let (mine, theirs) = if network {
            (&mut self.network_stans, &self.payment_stans)
        } else {
            (&mut self.payment_stans, &self.network_stans)
        };
        if theirs.contains(&stan) {
            self.counters.stan_clashes += 1;
        }
        mine.insert(stan);
    }

    fn pick(&mut self, m: &Message, wallet: &str, amount: i64) -> Action {
        let stan = text(m, 11);
        let rrn = text(m, 37);
        for r in self.rules.iter_mut() {
            let hit = match &r.when {
                Match::Any => true,
                Match::Msisdn(w) => w == wallet,
                Match::Stan(s) => *s == stan,
                Match::Rrn(x) => *x == rrn,
                Match::AmountMinor(a) => *a == amount,
            };
            if !hit || r.times == Some(0) {
                continue;
            }
            if let Some(t) = r.times.as_mut() {
                *t -= 1;
            }
            return r.action.clone();
        }
        self.default_action.clone()
    }

    fn credit(&mut self, m: &Message) -> Vec<Effect> {
        self.counters.requests += 1;
        let wallet = match (m.get_str(2), m.get_str(103)) {
            (Some(w), _) | (None, Some(w)) => w.trim().to_string(),
            _ => String::new(),
        };
        let amount: Option<i64> = m.get_str(4).and_then(|a| a.parse().ok());
        let (Some(amount), false, Ok(())) = (amount, wallet.is_empty(), m.validate()) else {
            self.counters.format_errors += 1;
            return reply(m, "30");
        };
        let key = (text(m, 41), text(m, 37), text(m, 11));
        if let Some(c) = self.credits.get(&key) {
            self.counters.duplicates += 1;
            return match &c.state {
                CreditState::Credited => reply(m, "00"),
                CreditState::Declined(code) => reply(m, &code.clone()),
                CreditState::Held(_) => Vec::new(),
                // Refused: the credit is not in effect (and never will be for this key).
                CreditState::Reversed | CreditState::ReversedFirst => reply(m, "94"),
            };
        }
        let action = self.pick(m, &wallet, amount);
        let record = |state: CreditState, s: &mut State| {
            if state == CreditState::Credited {
                *s.balances.entry(wallet.clone()).or_insert(0) += amount;
                s.counters.credits += 1;
            }
            s.credits.insert(
                key.clone(),
                Credit {
                    wallet: wallet.clone(),
                    amount_minor: amount,
                    state,
                },
            );
        };
        match action {
            Action::Approve => {
                record(CreditState::Credited, self);
                reply(m, "00")
            }
            Action::Decline(code) => {
                self.counters.declines += 1;
                record(CreditState::Declined(code.clone()), self);
                reply(m, &code)
            }
            Action::NoAnswer => {
                self.counters.no_answers += 1;
                record(CreditState::Credited, self);
                Vec::new()
            }
            Action::Slow(ms) => {
                record(CreditState::Credited, self);
                match m.response("00") {
                    Ok(r) => vec![Effect::ReplyAfter(ms, r)],
                    Err(_) => Vec::new(),
                }
            }
            Action::Disconnect => {
                self.counters.disconnects += 1;
                record(CreditState::Credited, self);
                vec![Effect::Disconnect]
            }
            Action::Duplicate => {
                record(CreditState::Credited, self);
                let mut v = reply(m, "00");
                v.extend(reply(m, "00"));
                v
            }
            Action::LateApprovalAfterReversal => match m.response("00") {
                Ok(r) => {
                    record(CreditState::Held(Box::new(r)), self);
                    Vec::new()
                }
                Err(_) => Vec::new(),
            },
        }
    }

    fn reverse(&mut self, m: &Message) -> Vec<Effect> {
        self.counters.requests += 1;
        if m.validate().is_err() {
            self.counters.format_errors += 1;
            return reply(m, "30");
        }
        // DE90: original MTI (4), original STAN (6), then date and institution codes.
        let original_stan = m
            .get_str(90)
            .and_then(|d| d.get(4..10))
            .map(str::to_string)
            .unwrap_or_else(|| text(m, 11));
        let key = (text(m, 41), text(m, 37), original_stan);
        let mut out = Vec::new();
        match self.credits.get_mut(&key) {
            Some(c) => match std::mem::replace(&mut c.state, CreditState::Reversed) {
                CreditState::Credited => {
                    *self.balances.entry(c.wallet.clone()).or_insert(0) -= c.amount_minor;
                    self.counters.reversals += 1;
                    out.extend(reply(m, "00"));
                }
                CreditState::Held(approval) => {
                    self.counters.late_approvals += 1;
                    out.extend(reply(m, "00"));
                    out.push(Effect::Reply(*approval));
                }
                CreditState::ReversedFirst => {
                    c.state = CreditState::ReversedFirst;
                    self.counters.reversal_repeats += 1;
                    out.extend(reply(m, "00"));
                }
                CreditState::Declined(_) | CreditState::Reversed => {
                    self.counters.reversal_repeats += 1;
                    out.extend(reply(m, "00"));
                }
            },
            None => {
                self.counters.reversals_before_credit += 1;
                let amount = m.get_str(4).and_then(|a| a.parse().ok()).unwrap_or(0);
                self.credits.insert(
                    key,
                    Credit {
                        wallet: text(m, 2),
                        amount_minor: amount,
                        state: CreditState::ReversedFirst,
                    },
                );
                out.extend(reply(m, "00"));
            }
        }
        out
    }

    fn network(&mut self, m: &Message) -> Vec<Effect> {
        match m.get(70) {
            Some(b"001") => self.counters.sign_ons += 1,
            Some(b"301") => self.counters.echoes += 1,
            Some(b"002") => self.counters.sign_offs += 1,
            _ => {}
        }
        reply(m, "00")
    }
}

fn reply(m: &Message, code: &str) -> Vec<Effect> {
    match m.response(code) {
        Ok(r) => vec![Effect::Reply(r)],
        Err(e) => {
            tracing::warn!(error = %e, "switch: cannot build a response");
            Vec::new()
        }
    }
}
