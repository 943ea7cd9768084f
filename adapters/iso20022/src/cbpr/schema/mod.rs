//! The CBPR+ schema's restrictions over the ISO 20022 base schema, as located findings.
//!
//! The CBPR+ XSDs are the base XSDs cut down: elements removed, optional elements made
//! mandatory, repetitions reduced to one, texts shortened and held to the FIN-X or the
//! extended character set, code lists narrowed, date-times held to an explicit offset. The
//! typed reader already holds a message to the base schema; this module checks, on the
//! element tree this crate renders, what CBPR+ takes away on top.
//!
//! One table per message kind (`pacs008.txt`, ...; a pacs.009's cover and a pacs.008's STP
//! variant have their own, `pacs009cov.txt` and `pacs008stp.txt`), read once: each type
//! lists its child elements with their occurrences and, for a text, its length and character
//! class. The table's header names its source and its format. The rules:
//!
//! | rule | what |
//! |---|---|
//! | `CBPR.SCHEMA.ELEMENT` | an element the CBPR+ message does not have (reported once; what is under it is not checked) |
//! | `CBPR.SCHEMA.MISSING` | an element CBPR+ makes mandatory is absent |
//! | `CBPR.SCHEMA.OCCURS` | an element CBPR+ allows once occurs again (at the second one) |
//! | `CBPR.SCHEMA.LENGTH` | a text longer than CBPR+ allows |
//! | `CBPR.SCHEMA.PATTERN` | a text outside its CBPR+ character class, or a date-time without the CBPR+ offset |
//! | `CBPR.SCHEMA.CODE` | a code outside the list CBPR+ narrows it to |
//!
//! A fault a textual rule of [`super`] already reports at the same element (or, for a missing
//! element, at its parent) is not reported again by [`super::validate`]: one fault, one
//! finding. [`findings`] and [`message_findings`] give the table's findings before that.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::{Finding, Findings};
use crate::head::AppHdr;
use crate::message::{BusinessMessage, Document};
use crate::xml::reader::{NodeId, Tree};

/// The schema tables, by the CBPR+ message they describe: the message definition, and for a
/// pacs.009 its variant (`core` without, `cov` with an underlying customer credit transfer),
/// for a pacs.008 its STP variant (`stp`, named by the AppHdr's business service).
const TABLES: &[(&str, &str)] = &[
    ("pacs.008.001.08", include_str!("pacs008.txt")),
    ("pacs.008.001.08 stp", include_str!("pacs008stp.txt")),
    ("pacs.009.001.08 core", include_str!("pacs009.txt")),
    ("pacs.009.001.08 cov", include_str!("pacs009cov.txt")),
    ("pacs.002.001.10", include_str!("pacs002.txt")),
    ("pacs.004.001.09", include_str!("pacs004.txt")),
    ("camt.053.001.08", include_str!("camt053.txt")),
    ("camt.052.001.08", include_str!("camt052.txt")),
    ("camt.054.001.08", include_str!("camt054.txt")),
    ("camt.056.001.08", include_str!("camt056.txt")),
    ("camt.029.001.09", include_str!("camt029.txt")),
    ("pain.001.001.09", include_str!("pain001.txt")),
    ("pain.002.001.10", include_str!("pain002.txt")),
    (HEADER_KEY, include_str!("head001.txt")),
];

/// The table of the AppHdr (head.001.001.02) of the families the source has a CBPR+ header
/// for: pacs.008, pacs.009 (core, cover and advice), camt.029, camt.052, camt.053, camt.054,
/// camt.056, pain.001 and pain.002. The source gives all of them the very same CBPR+ type.
const HEADER_KEY: &str =
    "head.001.001.02 (pacs.008, pacs.009, camt.029, camt.052, camt.053, camt.054, camt.056, pain.001, pain.002)";

/// Whether `doc`'s family has a CBPR+ header in the source (see [`HEADER_KEY`]): pacs.002,
/// pacs.004 and pacs.028 have none there.
fn has_header_table(doc: &Document) -> bool {
    matches!(
        doc,
        Document::Pacs008(_)
            | Document::Pacs009(_)
            | Document::Camt029(_)
            | Document::Camt052(_)
            | Document::Camt053(_)
            | Document::Camt054(_)
            | Document::Camt056(_)
            | Document::Pain001(_)
            | Document::Pain002(_)
    )
}

/// The CBPR+ messages whose schema restrictions are checked.
pub fn covered() -> impl Iterator<Item = &'static str> {
    TABLES.iter().map(|(id, _)| *id)
}

/// The table key of a Document under the AppHdr `hdr` (if any): its message definition, and
/// its variant. A pacs.009's Document tells its variant; a pacs.008's does not, so only a
/// header naming the STP service (`swift.cbprplus.stp.03`) picks the STP table, and a pacs.008
/// without one is held to the core table. An advice pacs.009 (`swift.cbprplus.adv.03`) is held
/// to the core table: the source has no table of its own for it.
fn key(doc: &Document, hdr: Option<&AppHdr>) -> String {
    let id = doc.msg_def_idr();
    match doc {
        Document::Pacs008(_) if hdr.is_some_and(super::is_stp) => format!("{id} stp"),
        Document::Pacs009(m) if m.is_cover() => format!("{id} cov"),
        Document::Pacs009(_) => format!("{id} core"),
        _ => id.to_owned(),
    }
}

/// How often a child element may occur.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Occurs {
    One,
    Optional,
    Many,
    OneOrMore,
}

impl Occurs {
    fn parse(s: &str) -> Option<Occurs> {
        Some(match s {
            "1" => Occurs::One,
            "?" => Occurs::Optional,
            "*" => Occurs::Many,
            "+" => Occurs::OneOrMore,
            _ => return None,
        })
    }

    fn mandatory(self) -> bool {
        matches!(self, Occurs::One | Occurs::OneOrMore)
    }

    fn single(self) -> bool {
        matches!(self, Occurs::One | Occurs::Optional)
    }
}

/// The character class of a CBPR+ text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chars {
    /// FIN-X: `[0-9a-zA-Z/\-?:().,'+ ]`.
    FinX,
    /// FIN-X plus `!#$%&*=^_`{|}~";<>@[\]`.
    Extended,
    /// FIN-X without `/` at either end and without `//`.
    FinXSlashes,
    /// No CBPR+ restriction on the characters.
    Any,
}

/// What a child element holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Spec {
    /// A complex type of the same table.
    Type(String),
    Text {
        chars: Chars,
        max: usize,
    },
    DateTime,
    Codes(Vec<String>),
    /// The base type, unchanged by CBPR+.
    Base,
}

#[derive(Debug, Clone)]
struct Child {
    name: String,
    occurs: Occurs,
    spec: Spec,
}

/// One kind's table: types by name, each with its children in schema order.
#[derive(Debug)]
struct Table {
    types: HashMap<String, Vec<Child>>,
}

/// Why a table line could not be read (a fault in this crate, caught by its unit tests).
#[derive(Debug)]
struct TableError(String);

impl Table {
    fn parse(text: &str) -> Result<Table, TableError> {
        let mut types: HashMap<String, Vec<Child>> = HashMap::new();
        let mut current: Option<String> = None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |why: &str| TableError(format!("line {}: {why}: {raw:?}", n + 1));
            if let Some(name) = line.strip_prefix("= ") {
                let name = name.trim().to_owned();
                if types.insert(name.clone(), Vec::new()).is_some() {
                    return Err(err("type defined twice"));
                }
                current = Some(name);
                continue;
            }
            let Some(ty) = &current else {
                return Err(err("element outside a type"));
            };
            let mut fields = line.split_whitespace();
            let (Some(name), Some(occurs), Some(spec), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(err("expected: name occurs spec"));
            };
            let occurs = Occurs::parse(occurs).ok_or_else(|| err("bad occurs"))?;
            let spec = Spec::parse(spec).ok_or_else(|| err("bad spec"))?;
            let children = types.get_mut(ty).expect("current type was inserted");
            if children.iter().any(|c| c.name == name) {
                return Err(err("element listed twice"));
            }
            children.push(Child {
                name: name.to_owned(),
                occurs,
                spec,
            });
        }
        let table = Table { types };
        table.check_references()?;
        Ok(table)
    }

    /// Every type a child names is defined, and the root type is.
    fn check_references(&self) -> Result<(), TableError> {
        if !self.types.contains_key("Document") {
            return Err(TableError("no Document type".into()));
        }
        for (ty, children) in &self.types {
            for c in children {
                if let Spec::Type(t) = &c.spec {
                    if !self.types.contains_key(t) {
                        return Err(TableError(format!("{ty}/{}: undefined type {t}", c.name)));
                    }
                }
            }
        }
        Ok(())
    }
}

impl Spec {
    fn parse(s: &str) -> Option<Spec> {
        if s == "base" {
            return Some(Spec::Base);
        }
        if s == "dtm" {
            return Some(Spec::DateTime);
        }
        if let Some(codes) = s.strip_prefix("c:") {
            return Some(Spec::Codes(codes.split(',').map(str::to_owned).collect()));
        }
        if let Some((class, max)) = s.split_once(':') {
            let chars = match class {
                "x" => Chars::FinX,
                "e" => Chars::Extended,
                "s" => Chars::FinXSlashes,
                "t" => Chars::Any,
                _ => return None,
            };
            let max = max.parse().ok().filter(|m| *m > 0)?;
            return Some(Spec::Text { chars, max });
        }
        let is_type = s.starts_with(|c: char| c.is_ascii_uppercase())
            && s.chars().all(|c| c.is_ascii_alphanumeric());
        is_type.then(|| Spec::Type(s.to_owned()))
    }
}

fn table(key: &str) -> Option<&'static Table> {
    static PARSED: OnceLock<Vec<(&'static str, Table)>> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        TABLES
            .iter()
            .map(|(id, text)| {
                // The tables are part of this crate and parsed by its tests.
                let table = Table::parse(text).unwrap_or_else(|e| panic!("{id}: {}", e.0));
                (*id, table)
            })
            .collect()
    });
    parsed.iter().find(|(id, _)| *id == key).map(|(_, t)| t)
}

/// The CBPR+ schema findings of a Document alone, as the schema check makes them, before
/// [`super::validate`] leaves out what a textual rule already reports. Empty for a kind not
/// [`covered`]. A pacs.008 alone is held to the core table (see [`message_findings`]).
pub fn findings(doc: &Document) -> Vec<Finding> {
    document(doc, None)
}

/// The CBPR+ schema findings of a business message's Document, under the table its AppHdr
/// picks (the STP table for a pacs.008 whose `BizSvc` is `swift.cbprplus.stp.03`), before
/// [`super::validate`] leaves out what a textual rule already reports.
pub fn message_findings(msg: &BusinessMessage) -> Vec<Finding> {
    document(&msg.document, msg.app_hdr.as_ref())
}

fn document(doc: &Document, hdr: Option<&AppHdr>) -> Vec<Finding> {
    let xml = doc.render();
    match super::rendered_tree(&xml) {
        Some(tree) => check(&tree, doc, hdr),
        None => Vec::new(),
    }
}

/// The CBPR+ schema findings of an AppHdr, rendered as `tree`, that heads `doc`: checked for
/// the header (head.001.001.02) of the families in [`HEADER_KEY`] only.
pub(super) fn check_header(tree: &Tree<'_>, doc: &Document) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    if !has_header_table(doc) {
        return f.0;
    }
    let Some(table) = table(HEADER_KEY) else {
        return f.0;
    };
    for &root in &tree.roots {
        let node = tree.node(root);
        let head_02 =
            tree.ns(root).as_deref() == Some("urn:iso:std:iso:20022:tech:xsd:head.001.001.02");
        if node.name == "AppHdr" && head_02 {
            element(&mut f, tree, table, root, "Document");
        }
    }
    f.0
}

/// The schema findings of `doc`'s rendered tree, if its kind has a table; `hdr` is the AppHdr
/// heading it, which picks a pacs.008's variant.
pub(super) fn check(tree: &Tree<'_>, doc: &Document, hdr: Option<&AppHdr>) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    let Some(table) = table(&key(doc, hdr)) else {
        return f.0;
    };
    for &root in &tree.roots {
        if tree.node(root).name == "Document" {
            element(&mut f, tree, table, root, "Document");
        }
    }
    f.0
}

/// Checks the children of `id`, whose CBPR+ type is `ty`.
fn element(f: &mut Findings, tree: &Tree<'_>, table: &Table, id: NodeId, ty: &str) {
    let children = &table.types[ty];
    // How often each of the type's children occurs, by its place in the type.
    let mut counts = vec![0u32; children.len()];
    // Where the last child was found: a message's elements come in schema order, so the next
    // one is looked for from there on first (the whole type is still searched).
    let mut at = 0;
    for c in tree.children(id) {
        let name = tree.node(c).name;
        let found = (at..children.len())
            .chain(0..at)
            .find(|&i| children[i].name == name);
        let Some(i) = found else {
            f.add(
                tree.path(c),
                "CBPR.SCHEMA.ELEMENT",
                format!("{name} is not in the CBPR+ {ty}"),
            );
            continue;
        };
        at = i;
        let child = &children[i];
        counts[i] += 1;
        if counts[i] == 2 && child.occurs.single() {
            f.add(
                tree.path(c),
                "CBPR.SCHEMA.OCCURS",
                format!("{name} occurs more than once; CBPR+ allows one"),
            );
        }
        match &child.spec {
            Spec::Type(t) => element(f, tree, table, c, t),
            leaf => value(f, tree, c, leaf),
        }
    }
    for (child, _) in children
        .iter()
        .zip(&counts)
        .filter(|(child, &count)| count == 0 && child.occurs.mandatory())
    {
        f.add(
            tree.child_path(id, &child.name),
            "CBPR.SCHEMA.MISSING",
            format!("{} is mandatory in CBPR+", child.name),
        );
    }
}

/// Checks a leaf's text against its CBPR+ type.
fn value(f: &mut Findings, tree: &Tree<'_>, id: NodeId, spec: &Spec) {
    let text = tree.text(id);
    match spec {
        Spec::Text { chars, max } => {
            let len = text.chars().count();
            if len > *max {
                f.add(
                    tree.path(id),
                    "CBPR.SCHEMA.LENGTH",
                    format!("{len} characters; CBPR+ allows at most {max}"),
                );
            }
            if let Some(problem) = chars_problem(text, *chars) {
                f.add(tree.path(id), "CBPR.SCHEMA.PATTERN", problem);
            }
        }
        Spec::DateTime => {
            if !has_cbpr_offset(text) {
                f.add(
                    tree.path(id),
                    "CBPR.SCHEMA.PATTERN",
                    format!("{text}: CBPR+ writes the offset as +hh:mm or -hh:mm (hours 00 to 14)"),
                );
            }
        }
        Spec::Codes(codes) => {
            if !codes.iter().any(|c| c == text) {
                f.add(
                    tree.path(id),
                    "CBPR.SCHEMA.CODE",
                    format!(
                        "{text:?} is not allowed in CBPR+; expected {}",
                        codes.join(", ")
                    ),
                );
            }
        }
        Spec::Base | Spec::Type(_) => {}
    }
}

fn fin_x(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '/' | '-' | '?' | ':' | '(' | ')' | '.' | ',' | '\'' | '+' | ' '
        )
}

/// The CBPR+ extended character set, as the CBPR+ schemas' pattern
/// ``[0-9a-zA-Z/\-\?:\(\)\.,'\+ !#$%&\*=^_`\{\|\}~";<>@\[\\\]]+`` has it: FIN-X (which has
/// no CR or LF) plus 22 characters. The textual rule `CBPR.CHARSET.EXTENDED` uses it too.
pub(crate) fn in_extended_set(c: char) -> bool {
    fin_x(c) || "!#$%&*=^_`{|}~\";<>@[\\]".contains(c)
}

fn chars_problem(text: &str, chars: Chars) -> Option<String> {
    let (ok, class): (fn(char) -> bool, &str) = match chars {
        Chars::Any => return None,
        Chars::FinX | Chars::FinXSlashes => (fin_x, "the FIN-X set"),
        Chars::Extended => (in_extended_set, "the CBPR+ extended set"),
    };
    if let Some(c) = text.chars().find(|&c| !ok(c)) {
        return Some(format!("character {c:?} is outside {class}"));
    }
    if chars == Chars::FinXSlashes {
        if text.starts_with('/') || text.ends_with('/') {
            return Some("CBPR+ allows no '/' at either end".into());
        }
        if text.contains("//") {
            return Some("CBPR+ allows no '//'".into());
        }
    }
    None
}

/// The CBPR+ date-time (and time) pattern `.*(\+|-)((0[0-9])|(1[0-4])):[0-5][0-9]`.
fn has_cbpr_offset(text: &str) -> bool {
    let b = text.as_bytes();
    let Some(at) = b.len().checked_sub(6) else {
        return false;
    };
    let d = |i: usize| b[at + i].is_ascii_digit();
    if !(matches!(b[at], b'+' | b'-') && d(1) && d(2) && b[at + 3] == b':' && d(5)) {
        return false;
    }
    let hours = (b[at + 1] - b'0') * 10 + (b[at + 2] - b'0');
    hours <= 14 && (b'0'..=b'5').contains(&b[at + 4])
}

/// `schema` without the findings a textual rule in `others` already makes: one at the same
/// path; for a missing element, one at its parent (`CBPR.PSTLADR.TWN_CTRY` reports a postal
/// address without a town at the address); and a second transaction, which `CBPR.TX.ONE`
/// reports at `NbOfTxs` ([`REPORTED_ELSEWHERE`]).
pub(super) fn without_overlaps(schema: Vec<Finding>, others: &[Finding]) -> Vec<Finding> {
    schema
        .into_iter()
        .filter(|s| {
            let (parent, last) = s.path.rsplit_once('/').unwrap_or(("", &s.path));
            let name = last.split('[').next().unwrap_or(last);
            let elsewhere = REPORTED_ELSEWHERE
                .iter()
                .any(|(el, rule)| *el == name && others.iter().any(|o| o.rule == *rule));
            !elsewhere
                && !others.iter().any(|o| {
                    o.path == s.path || (s.rule == "CBPR.SCHEMA.MISSING" && o.path == parent)
                })
        })
        .collect()
}

/// Elements whose schema finding a textual rule reports at another path: (element, rule).
pub const REPORTED_ELSEWHERE: &[(&str, &str)] = &[("CdtTrfTxInf", "CBPR.TX.ONE")];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_parses_and_every_type_is_reachable() {
        for (id, text) in TABLES {
            let table = Table::parse(text).unwrap_or_else(|e| panic!("{id}: {}", e.0));
            let mut seen = vec!["Document".to_owned()];
            let mut i = 0;
            while i < seen.len() {
                for c in &table.types[&seen[i]] {
                    if let Spec::Type(t) = &c.spec {
                        if !seen.contains(t) {
                            seen.push(t.clone());
                        }
                    }
                }
                i += 1;
            }
            let mut unused: Vec<&String> =
                table.types.keys().filter(|t| !seen.contains(t)).collect();
            unused.sort();
            assert!(unused.is_empty(), "{id}: types never used: {unused:?}");
        }
    }

    #[test]
    fn children_are_found_in_any_order_and_counted_and_missed() {
        let table =
            Table::parse("= Document\nA 1 Kid\n= Kid\nB 1 x:5\nC ? x:5\nD * x:5\nE 1 x:5\n")
                .unwrap();
        // C before B (found by looking back), C twice, D twice, an unknown F, E missing.
        let xml = "<Document><A><C>c</C><B>b</B><D>d</D><C>c</C><F>f</F><D>d</D></A></Document>";
        let tree = Tree::parse(xml, &crate::Limits::default()).unwrap();
        let mut f = Findings(Vec::new());
        element(&mut f, &tree, &table, tree.roots[0], "Document");
        let got: Vec<(&str, &str)> = f.0.iter().map(|x| (x.rule, x.path.as_str())).collect();
        assert_eq!(
            got,
            [
                ("CBPR.SCHEMA.OCCURS", "/Document/A/C[2]"),
                ("CBPR.SCHEMA.ELEMENT", "/Document/A/F"),
                ("CBPR.SCHEMA.MISSING", "/Document/A/E"),
            ],
            "{:#?}",
            f.0
        );
    }

    #[test]
    fn a_bad_table_is_refused() {
        assert!(Table::parse("= Document\nA 1 Missing\n").is_err());
        assert!(Table::parse("= Document\nA 2 base\n").is_err());
        assert!(Table::parse("= Document\nA 1 q:3\n").is_err());
        assert!(Table::parse("= Document\nA 1 base\nA ? base\n").is_err());
        assert!(Table::parse("A 1 base\n").is_err());
        assert!(Table::parse("= Other\n").is_err());
    }

    #[test]
    fn offsets() {
        assert!(has_cbpr_offset("2026-11-25T10:00:00+01:00"));
        assert!(has_cbpr_offset("2026-11-25T10:00:00.123-14:00"));
        assert!(has_cbpr_offset("10:00:00+00:00"));
        assert!(!has_cbpr_offset("2026-11-25T10:00:00Z"));
        assert!(!has_cbpr_offset("2026-11-25T10:00:00+15:00"));
        assert!(!has_cbpr_offset("2026-11-25T10:00:00+01:60"));
        assert!(!has_cbpr_offset("2026-11-25T10:00:00"));
        assert!(!has_cbpr_offset("+1:00"));
    }

    #[test]
    fn character_classes() {
        assert_eq!(chars_problem("ABC/1-2 (x)", Chars::FinX), None);
        assert!(chars_problem("a&b", Chars::FinX).is_some());
        assert_eq!(chars_problem("a&b [c] ~", Chars::Extended), None);
        assert!(chars_problem("é", Chars::Extended).is_some());
        assert!(chars_problem("line\nbreak", Chars::Extended).is_some());
        assert_eq!(chars_problem("AB/CD", Chars::FinXSlashes), None);
        assert!(chars_problem("/AB", Chars::FinXSlashes).is_some());
        assert!(chars_problem("AB/", Chars::FinXSlashes).is_some());
        assert!(chars_problem("A//B", Chars::FinXSlashes).is_some());
        assert_eq!(chars_problem("é\n", Chars::Any), None);
    }
}
