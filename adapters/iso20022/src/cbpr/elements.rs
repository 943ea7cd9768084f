//! The CBPR+ rules that are about which elements stand together: party names, postal
//! addresses, remittance choices, creditor-agent instruction codes, status reports. They are
//! read off the rendered element tree, so one rule covers an element wherever a message family
//! places it (a debtor's address and an agent's alike), and each finding carries the path the
//! tree gives it.
//!
//! A rule that the guidelines (SR2025, and the November 2026 release) state for some families
//! only is applied to those families only ([`Family`]); the table in `cbpr.rs` and the crate
//! README name them, with the guideline rule each follows.

use super::{slash_problem, Findings};
use crate::xml::reader::{NodeId, Tree};

/// The message family (`pacs.008`) of the tree being walked; `head.001` for the AppHdr.
pub(super) type Family<'f> = &'f str;

/// The families whose agents must carry `Nm` and `PstlAdr` together (the guidelines' "Agent
/// Name Postal Address" rule).
const AGENT_NAME_FAMILIES: &[&str] = &["pacs.008", "pacs.009", "pacs.004"];

/// The families where structured and unstructured remittance are exclusive.
const REMITTANCE_FAMILIES: &[&str] = &["pacs.008", "pacs.009", "pacs.004", "pain.001"];

/// The account reports, whose entries and transactions share `Chrgs` and `Intrst`.
const REPORT_FAMILIES: &[&str] = &["camt.052", "camt.053", "camt.054"];

/// Rules on an element that has children, called once per such element.
pub(super) fn element_rules(f: &mut Findings, tree: &Tree<'_>, id: NodeId, family: Family<'_>) {
    let name = tree.node(id).name;
    if is_postal_address(tree, id) {
        hybrid_lines(f, tree, id);
        repeated_in_lines(f, tree, id);
    }
    match name {
        "FinInstnId" if AGENT_NAME_FAMILIES.contains(&family) => agent_name_address(f, tree, id),
        "RmtInf" if REMITTANCE_FAMILIES.contains(&family) => {
            exclusive(f, tree, id, ["Ustrd", "Strd"], "CBPR.RMTINF.EXCLUSIVE");
            structured_remittance_size(f, tree, id);
        }
        "CdtTrfTxInf" | "UndrlygCstmrCdtTrf" => transfer(f, tree, id, family),
        "TxInfAndSts" if family == "pacs.002" => rejection(f, tree, id),
        "Ntry" if family == "camt.054" => booked_entry_dates(f, tree, id),
        "Chrgs" if REPORT_FAMILIES.contains(&family) => {
            records_total(f, tree, id, "TtlChrgsAndTaxAmt", "CBPR.CHRGS.TOTAL")
        }
        "Intrst" if REPORT_FAMILIES.contains(&family) => {
            records_total(f, tree, id, "TtlIntrstAndTaxAmt", "CBPR.INTRST.TOTAL")
        }
        "OrgnlGrpInf" if family == "pacs.002" || family == "pacs.004" => {
            original_message_name(f, tree, id, family)
        }
        "PmtTpInf" if family == "pacs.008" || family == "pacs.009" => {
            gpi_service_level(f, tree, id)
        }
        "PmtInf" if family == "pain.001" => payment_information_id(f, tree, id),
        "TxInf" if family == "pacs.004" => return_transaction(f, tree, id),
        "TxInf" if family == "camt.056" => cancellation(f, tree, id),
        "Refs" if family.starts_with("camt.05") => {
            if let Some(instr_id) = child(tree, id, "InstrId") {
                if let Some(problem) = slash_problem(tree.text(instr_id)) {
                    f.add(tree.path(instr_id), "CBPR.INSTRID.FORMAT", problem);
                }
            }
        }
        _ => {}
    }
    let role = bic_identified_party(tree, id, family);
    // A party held to "no AnyBIC, then Nm" gets that finding alone for a missing name.
    let named_by_bic_rule =
        role.is_some() && descend(tree, id, &["Id", "OrgId", "AnyBIC"]).is_none();
    let not_a_party = matches!(name, "FinInstnId" | "BrnchId" | "RmtLctnDtls");
    if !named_by_bic_rule && !not_a_party && has(tree, id, "PstlAdr") {
        party_name_address(f, tree, id);
    }
    if let Some(exclusive) = role {
        party_name_or_bic(f, tree, id, exclusive);
    }
}

fn child(tree: &Tree<'_>, id: NodeId, name: &str) -> Option<NodeId> {
    tree.children(id).find(|&c| tree.node(c).name == name)
}

fn has(tree: &Tree<'_>, id: NodeId, name: &str) -> bool {
    child(tree, id, name).is_some()
}

/// The element at `path` below `id` (first of each name), if any.
fn descend(tree: &Tree<'_>, id: NodeId, path: &[&str]) -> Option<NodeId> {
    path.iter().try_fold(id, |at, name| child(tree, at, name))
}

/// Whether `id` is a postal address (`PostalAddress24`): a `PstlAdr`, except where a
/// remittance location names one (`RmtLctnDtls/PstlAdr` is a name and address, whose address
/// is its `Adr`).
pub(super) fn is_postal_address(tree: &Tree<'_>, id: NodeId) -> bool {
    match (tree.node(id).name, parents(tree, id)) {
        ("PstlAdr", [parent, _]) => parent != "RmtLctnDtls",
        ("Adr", [parent, grandparent]) => parent == "PstlAdr" && grandparent == "RmtLctnDtls",
        _ => false,
    }
}

/// The names of `id`'s parent and grandparent (empty where there is none).
fn parents<'t>(tree: &'t Tree<'_>, id: NodeId) -> [&'t str; 2] {
    let up = |id: NodeId| {
        let parent = tree.node(id).parent;
        ((parent as usize) < tree.nodes.len()).then_some(parent)
    };
    let p = up(id);
    let g = p.and_then(up);
    [p, g].map(|n| n.map_or("", |n| tree.node(n).name))
}

/// Structured address elements (all but `AdrLine`).
const ADDRESS_PARTS: &[&str] = &[
    "Dept",
    "SubDept",
    "StrtNm",
    "BldgNb",
    "BldgNm",
    "Flr",
    "PstBx",
    "Room",
    "PstCd",
    "TwnNm",
    "TwnLctnNm",
    "DstrctNm",
    "CtrySubDvsn",
    "Ctry",
];

/// CBPR.PSTLADR.HYBRID_LINES: a hybrid address (structured parts and address lines) has at
/// most two `AdrLine`s.
fn hybrid_lines(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    let lines: Vec<NodeId> = tree
        .children(id)
        .filter(|&c| tree.node(c).name == "AdrLine")
        .collect();
    let structured = tree
        .children(id)
        .any(|c| ADDRESS_PARTS.contains(&tree.node(c).name));
    if structured && lines.len() > 2 {
        f.add(
            tree.path(lines[2]),
            "CBPR.PSTLADR.HYBRID_LINES",
            format!(
                "{} address lines beside structured elements; a hybrid address allows two",
                lines.len()
            ),
        );
    }
}

/// CBPR.PSTLADR.DUPLICATE: what a structured element holds is not repeated in an address line.
/// Like the guideline's checkers, a value counts as repeated when it is a whole line or stands
/// in one between non-alphanumeric characters, and values under three characters (a country
/// code, a building number `1`) are left alone, as they occur in lines by chance.
fn repeated_in_lines(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    let lines: Vec<&str> = tree
        .children(id)
        .filter(|&c| tree.node(c).name == "AdrLine")
        .map(|c| tree.text(c))
        .collect();
    if lines.is_empty() {
        return;
    }
    for part in tree.children(id) {
        if !ADDRESS_PARTS.contains(&tree.node(part).name) {
            continue;
        }
        let value = tree.text(part);
        if value.chars().count() < 3 {
            continue;
        }
        if lines.iter().any(|line| contains_token(line, value)) {
            f.add(
                tree.path(part),
                "CBPR.PSTLADR.DUPLICATE",
                format!(
                    "{value:?} is repeated in an AdrLine; structured data is not repeated there"
                ),
            );
        }
    }
}

/// Whether `value` occurs in `line` with no letter or digit right before or after it.
fn contains_token(line: &str, value: &str) -> bool {
    line.match_indices(value).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + value.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// CBPR.AGENT.NM_PSTLADR: an agent's name and postal address come together or not at all.
/// The instructing and instructed agents are BIC only in CBPR+ and are not held to it.
fn agent_name_address(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    if matches!(parents(tree, id)[0], "InstgAgt" | "InstdAgt") {
        return;
    }
    match (has(tree, id, "Nm"), has(tree, id, "PstlAdr")) {
        (true, false) => f.add(
            tree.child_path(id, "PstlAdr"),
            "CBPR.AGENT.NM_PSTLADR",
            "an agent with a name needs its postal address (both or neither)",
        ),
        (false, true) => f.add(
            tree.child_path(id, "Nm"),
            "CBPR.AGENT.NM_PSTLADR",
            "an agent with a postal address needs its name (both or neither)",
        ),
        _ => {}
    }
}

/// CBPR.PARTY.NM_PSTLADR: a party with a postal address has a name.
fn party_name_address(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    if !has(tree, id, "Nm") {
        f.add(
            tree.child_path(id, "Nm"),
            "CBPR.PARTY.NM_PSTLADR",
            "a party with a postal address needs its name",
        );
    }
}

/// The parties the guidelines hold to "no `AnyBIC`, then `Nm`", and whether they also hold
/// them to "`AnyBIC`, then neither `Nm` nor `PstlAdr`" (`Some(true)`): the debtor and the
/// creditor of a customer transfer (pacs.008, the cover pacs.009's underlying transfer, the
/// return chain and original transaction of a pacs.004) and the originator of a status or
/// return reason (pacs.002, pacs.004).
fn bic_identified_party(tree: &Tree<'_>, id: NodeId, family: Family<'_>) -> Option<bool> {
    let name = tree.node(id).name;
    let [parent, grandparent] = parents(tree, id);
    if has(tree, id, "FinInstnId") {
        return None; // an agent (pacs.009 debtor and creditor are financial institutions)
    }
    match (family, name, parent, grandparent) {
        ("pacs.008", "Dbtr" | "Cdtr", "CdtTrfTxInf", _) => Some(true),
        ("pacs.009", "Dbtr" | "Cdtr", "UndrlygCstmrCdtTrf", _) => Some(true),
        ("pacs.004", "Pty", "Dbtr" | "Cdtr", "RtrChain") => Some(true),
        ("pacs.004", "Pty", "Dbtr" | "Cdtr", "OrgnlTxRef") => Some(false),
        ("pacs.002", "Orgtr", "StsRsnInf", _) | ("pacs.004", "Orgtr", "RtrRsnInf", _) => {
            Some(false)
        }
        _ => None,
    }
}

/// CBPR.PARTY.NM_ANYBIC (a party without `Id/OrgId/AnyBIC` is named) and, where
/// `exclusive`, CBPR.PARTY.ANYBIC_EXCLUSIVE (a party identified by `AnyBIC` has neither a
/// name nor a postal address: the BIC says both).
fn party_name_or_bic(f: &mut Findings, tree: &Tree<'_>, id: NodeId, exclusive: bool) {
    let any_bic = descend(tree, id, &["Id", "OrgId", "AnyBIC"]).is_some();
    if !any_bic && !has(tree, id, "Nm") {
        f.add(
            tree.child_path(id, "Nm"),
            "CBPR.PARTY.NM_ANYBIC",
            "a party without Id/OrgId/AnyBIC needs its name",
        );
    }
    if any_bic && exclusive {
        for tag in ["Nm", "PstlAdr"] {
            if let Some(c) = child(tree, id, tag) {
                f.add(
                    tree.path(c),
                    "CBPR.PARTY.ANYBIC_EXCLUSIVE",
                    format!("{tag} is not allowed beside Id/OrgId/AnyBIC"),
                );
            }
        }
    }
}

/// At most one of `tags` under `id`.
fn exclusive(f: &mut Findings, tree: &Tree<'_>, id: NodeId, tags: [&str; 2], rule: &'static str) {
    if let (Some(_), Some(second)) = (child(tree, id, tags[0]), child(tree, id, tags[1])) {
        f.add(
            tree.path(second),
            rule,
            format!("{} and {} are mutually exclusive", tags[0], tags[1]),
        );
    }
}

/// The rules on a credit transfer transaction (pacs.008, pacs.009 and its underlying customer
/// transfer, pain.001).
fn transfer(f: &mut Findings, tree: &Tree<'_>, id: NodeId, family: Family<'_>) {
    if family == "pacs.008" || family == "pacs.009" {
        exclusive(
            f,
            tree,
            id,
            ["RmtInf", "RltdRmtInf"],
            "CBPR.RLTDRMTINF.EXCLUSIVE",
        );
    }
    if matches!(family, "pacs.008" | "pacs.009" | "pain.001") {
        creditor_agent_instructions(f, tree, id);
    }
    if family == "pacs.009" && tree.node(id).name == "CdtTrfTxInf" {
        if let Some(e2e) = descend(tree, id, &["PmtId", "EndToEndId"]) {
            if let Some(problem) = end_to_end_problem(tree.text(e2e)) {
                f.add(tree.path(e2e), "CBPR.E2EID.FORMAT", problem);
            }
        }
    }
}

/// CBPR.E2EID.FORMAT (pacs.009): the first 16 characters, which travel on as an MT related
/// reference, neither start nor end with `/` and hold no `//`.
fn end_to_end_problem(id: &str) -> Option<String> {
    let head: String = id.chars().take(16).collect();
    if head.starts_with('/') {
        return Some("must not start with '/'".into());
    }
    if head.chars().count() == 16 && head.ends_with('/') {
        return Some("the 16th character must not be '/'".into());
    }
    if head.contains("//") {
        return Some("the first 16 characters must not contain '//'".into());
    }
    None
}

/// CBPR.INSTRFORCDTRAGT.UNIQUE (each code once) and CBPR.INSTRFORCDTRAGT.PAIRS (no HOLD
/// beside CHQB, no TELB beside PHOB) in pacs.008, pacs.009 and pain.001 (the pacs.009 code
/// list has neither pair, so only the first can apply there).
fn creditor_agent_instructions(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    let codes: Vec<(NodeId, &str)> = tree
        .children(id)
        .filter(|&c| tree.node(c).name == "InstrForCdtrAgt")
        .filter_map(|c| child(tree, c, "Cd").map(|cd| (cd, tree.text(cd))))
        .collect();
    let present = |code: &str| codes.iter().any(|(_, c)| *c == code);
    for (i, &(node, code)) in codes.iter().enumerate() {
        if codes[..i].iter().any(|(_, c)| *c == code) {
            f.add(
                tree.path(node),
                "CBPR.INSTRFORCDTRAGT.UNIQUE",
                format!("{code} is given twice; each code once"),
            );
        }
        let excluded_by = match code {
            "HOLD" => "CHQB",
            "TELB" => "PHOB",
            _ => continue,
        };
        if present(excluded_by) {
            f.add(
                tree.path(node),
                "CBPR.INSTRFORCDTRAGT.PAIRS",
                format!("{code} is not allowed beside {excluded_by}"),
            );
        }
    }
}

/// A rejected pacs.002 transaction: CBPR.STS.RJCT_REASON (it says why, `StsRsnInf/Rsn`) and
/// CBPR.STS.RJCT_FCTVDT (it has no effective settlement date: nothing settled).
fn rejection(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    let rejected = child(tree, id, "TxSts").is_some_and(|s| tree.text(s) == "RJCT");
    if !rejected {
        return;
    }
    let has_reason = tree
        .children(id)
        .filter(|&c| tree.node(c).name == "StsRsnInf")
        .any(|c| has(tree, c, "Rsn"));
    if !has_reason {
        f.add(
            format!("{}/StsRsnInf/Rsn", tree.path(id)),
            "CBPR.STS.RJCT_REASON",
            "a rejection (RJCT) needs StsRsnInf/Rsn",
        );
    }
    if let Some(date) = child(tree, id, "FctvIntrBkSttlmDt") {
        f.add(
            tree.path(date),
            "CBPR.STS.RJCT_FCTVDT",
            "a rejection (RJCT) has no effective interbank settlement date",
        );
    }
}

/// The AppHdr rules that compare with the Document's elements: CBPR.BAH.PRTY (`Prty` equals
/// the transaction's `PmtTpInf/InstrPrty`, pacs.008 / pacs.009) and CBPR.BAH.CPYDPLCT
/// (`CpyDplct` equals the report's `CpyDplctInd`, camt.052 / camt.053 / camt.054), each where
/// both are present.
pub(super) fn header_against_document(
    f: &mut Findings,
    prty: Option<&str>,
    cpy_dplct: Option<&str>,
    tree: &Tree<'_>,
) {
    let Some(&doc) = tree.roots.first() else {
        return;
    };
    let Some(message) = tree.children(doc).next() else {
        return;
    };
    for tx in tree.children(message) {
        let found = match tree.node(tx).name {
            "CdtTrfTxInf" => descend(tree, tx, &["PmtTpInf", "InstrPrty"]).map(|n| (n, prty)),
            "Rpt" | "Stmt" | "Ntfctn" => child(tree, tx, "CpyDplctInd").map(|n| (n, cpy_dplct)),
            _ => None,
        };
        let Some((node, Some(header))) = found else {
            continue;
        };
        let (path, rule) = if tree.node(node).name == "InstrPrty" {
            ("/AppHdr/Prty", "CBPR.BAH.PRTY")
        } else {
            ("/AppHdr/CpyDplct", "CBPR.BAH.CPYDPLCT")
        };
        let value = tree.text(node);
        if value != header {
            f.add(
                path,
                rule,
                format!(
                    "{header} differs from the Document's {value} at {}",
                    tree.path(node)
                ),
            );
        }
    }
}

/// CBPR.NTRY.BOOKED_DATE (camt.054): a booked entry (`Sts/Cd` BOOK) has a booking date, a
/// value date or both.
fn booked_entry_dates(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    let booked = descend(tree, id, &["Sts", "Cd"]).is_some_and(|c| tree.text(c) == "BOOK");
    if booked && !has(tree, id, "BookgDt") && !has(tree, id, "ValDt") {
        f.add(
            tree.child_path(id, "BookgDt"),
            "CBPR.NTRY.BOOKED_DATE",
            "a booked entry (BOOK) needs BookgDt or ValDt",
        );
    }
}

/// CBPR.CHRGS.TOTAL / CBPR.INTRST.TOTAL: the total of charges (`TtlChrgsAndTaxAmt`) or of
/// interest (`TtlIntrstAndTaxAmt`) and tax equals the sum of the records' amounts (`Rcrd/Amt`),
/// exactly. Without records there is nothing to add up; a record in another currency than the
/// total leaves the sum to a person (the guideline gives no conversion), so neither is reported.
/// A report-level `Intrst` has no total and is passed over.
fn records_total(
    f: &mut Findings,
    tree: &Tree<'_>,
    id: NodeId,
    total_tag: &str,
    rule: &'static str,
) {
    let Some(total_id) = child(tree, id, total_tag) else {
        return;
    };
    let records: Vec<NodeId> = tree
        .children(id)
        .filter(|&c| tree.node(c).name == "Rcrd")
        .filter_map(|r| child(tree, r, "Amt"))
        .collect();
    let Some(total) = amount_of(tree, total_id) else {
        return;
    };
    if records.is_empty() {
        return;
    }
    // i128: the sum of any number of i64 record amounts cannot overflow it in a bounded message.
    let mut sum: i128 = 0;
    for r in &records {
        match amount_of(tree, *r) {
            Some(a) if a.currency().alpha == total.currency().alpha => sum += i128::from(a.minor()),
            _ => return,
        }
    }
    if sum != i128::from(total.minor()) {
        let summed = i64::try_from(sum)
            .ok()
            .and_then(|m| crate::Amount::from_minor(m, total.currency()).ok())
            .map_or_else(
                || "more than an amount holds".to_owned(),
                |a| a.to_decimal_string(),
            );
        f.add(
            tree.path(total_id),
            rule,
            format!(
                "{total_tag} {} {} is not the sum of the {} record amount(s), {summed}",
                total.to_decimal_string(),
                total.currency().alpha,
                records.len()
            ),
        );
    }
}

/// The amount an element holds (`Ccy` attribute and decimal text), if it reads as one.
fn amount_of(tree: &Tree<'_>, id: NodeId) -> Option<crate::Amount> {
    let ccy = tree.attr(id, "Ccy").ok()??;
    let currency = crate::iso4217::lookup_any(&ccy)?;
    crate::Amount::parse(tree.text(id), currency).ok()
}

/// CBPR.PGNTN.PGNB (camt.052 / camt.053 / camt.054): page numbers start at 1 (the schema's
/// pattern allows `0`).
pub(super) fn page_number(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    let text = tree.text(id);
    if !text.is_empty() && text.bytes().all(|b| b == b'0') {
        f.add(
            tree.path(id),
            "CBPR.PGNTN.PGNB",
            format!("page number {text:?}; pages are numbered from 1"),
        );
    }
}

/// CBPR.ORGNLMSGNMID: what a status report (pacs.002) or a return (pacs.004) may answer.
fn original_message_name(f: &mut Findings, tree: &Tree<'_>, id: NodeId, family: Family<'_>) {
    let Some(node) = child(tree, id, "OrgnlMsgNmId") else {
        return;
    };
    let name = tree.text(node);
    let iso = |families: &[&str]| {
        families.iter().any(|fam| {
            name.strip_prefix(fam)
                .and_then(|rest| rest.strip_prefix(".001."))
                .is_some_and(|v| v.len() == 2 && v.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    let (ok, allowed) = if family == "pacs.002" {
        (
            iso(&["pacs.008", "pacs.009", "pacs.004", "pacs.003", "pacs.010"]),
            "pacs.008, pacs.009, pacs.004, pacs.003 or pacs.010 (.001.nn)",
        )
    } else {
        let mt = [
            "MT103", "MT202", "MT205", "MT900", "MT910", "MT940", "MT950",
        ];
        (
            iso(&["pacs.002", "pacs.008", "pacs.009", "camt.053", "camt.054"])
                || mt.contains(&name.replace(' ', "").as_str()),
            "pacs.002, pacs.008, pacs.009, camt.053, camt.054 (.001.nn), MT103, MT202, MT205, MT900, MT910, MT940 or MT950",
        )
    };
    if !ok {
        f.add(
            tree.path(node),
            "CBPR.ORGNLMSGNMID",
            format!("{name:?} is not a message a {family} answers; expected {allowed}"),
        );
    }
}

/// CBPR.SVCLVL.GPI (pacs.008, pacs.009): of the gpi service levels only G001 is carried in a
/// CBPR+ payment; G002 to G009 name other gpi services.
fn gpi_service_level(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    for level in tree.children(id).filter(|&c| tree.node(c).name == "SvcLvl") {
        let Some(cd) = child(tree, level, "Cd") else {
            continue;
        };
        let code = tree.text(cd);
        let other_gpi =
            code.len() == 4 && code.starts_with("G00") && matches!(code.as_bytes()[3], b'2'..=b'9');
        if other_gpi {
            f.add(
                tree.path(cd),
                "CBPR.SVCLVL.GPI",
                format!("{code} is not a CBPR+ payment's service level; the gpi one is G001"),
            );
        }
    }
}

/// The business data a structured remittance may hold in all, tags excluded.
const STRUCTURED_REMITTANCE_CHARS_MAX: usize = 9000;

/// CBPR.RMTINF.STRD_SIZE: all `Strd` occurrences of a remittance together hold at most 9,000
/// characters of data.
fn structured_remittance_size(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    let structured: Vec<NodeId> = tree
        .children(id)
        .filter(|&c| tree.node(c).name == "Strd")
        .collect();
    let total: usize = structured.iter().map(|&s| data_chars(tree, s)).sum();
    if total > STRUCTURED_REMITTANCE_CHARS_MAX {
        f.add(
            tree.path(structured[0]),
            "CBPR.RMTINF.STRD_SIZE",
            format!(
                "{total} characters of structured remittance; at most {STRUCTURED_REMITTANCE_CHARS_MAX} in all"
            ),
        );
    }
}

/// The characters of text under `id` (leaves only, trimmed), which is what the guidelines
/// count as business data.
fn data_chars(tree: &Tree<'_>, id: NodeId) -> usize {
    let mut children = tree.children(id).peekable();
    if children.peek().is_none() {
        return tree.text(id).trim().chars().count();
    }
    children.map(|c| data_chars(tree, c)).sum()
}

/// CBPR.PMTINFID (pain.001): the payment information identification is the message's own
/// (`GrpHdr/MsgId`).
fn payment_information_id(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    let parent = tree.node(id).parent;
    if (parent as usize) >= tree.nodes.len() {
        return;
    }
    let msg_id = descend(tree, parent, &["GrpHdr", "MsgId"]).map(|n| tree.text(n));
    let Some(pmt_inf_id) = child(tree, id, "PmtInfId") else {
        return;
    };
    if let Some(msg_id) = msg_id {
        if tree.text(pmt_inf_id) != msg_id {
            f.add(
                tree.path(pmt_inf_id),
                "CBPR.PMTINFID",
                format!("differs from GrpHdr/MsgId {msg_id:?}; CBPR+ makes them the same"),
            );
        }
    }
}

/// A pacs.004 transaction: CBPR.RTR.ORGNLTXREF (the original settlement date and amount are
/// stated once, in the transaction, not again in `OrgnlTxRef`) and CBPR.CHRG_BR.CRED (charge
/// bearer CRED needs `ChrgsInf`, as in a pacs.008).
fn return_transaction(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    for (own, again) in [
        ("OrgnlIntrBkSttlmDt", "IntrBkSttlmDt"),
        ("OrgnlIntrBkSttlmAmt", "IntrBkSttlmAmt"),
    ] {
        if !has(tree, id, own) {
            continue;
        }
        if let Some(node) = descend(tree, id, &["OrgnlTxRef", again]) {
            f.add(
                tree.path(node),
                "CBPR.RTR.ORGNLTXREF",
                format!("not allowed beside the transaction's {own}"),
            );
        }
    }
    let cred = child(tree, id, "ChrgBr").is_some_and(|c| tree.text(c) == "CRED");
    if cred && !has(tree, id, "ChrgsInf") {
        f.add(
            tree.child_path(id, "ChrgsInf"),
            "CBPR.CHRG_BR.CRED",
            "charge bearer CRED needs at least one ChrgsInf",
        );
    }
}

/// A camt.056 transaction: CBPR.CXLID.FORMAT and CBPR.CASEID.FORMAT (the cancellation and the
/// case identifications, which travel on as MT references, have no `/` at either end and no
/// `//`) and CBPR.RSN.NARR_ADDTLINF (a cancellation reason `NARR` says what in `AddtlInf`).
fn cancellation(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    for (path, rule) in [
        (&["CxlId"][..], "CBPR.CXLID.FORMAT"),
        (&["Case", "Id"][..], "CBPR.CASEID.FORMAT"),
    ] {
        if let Some(node) = descend(tree, id, path) {
            if let Some(problem) = slash_problem(tree.text(node)) {
                f.add(tree.path(node), rule, problem);
            }
        }
    }
    for reason in tree
        .children(id)
        .filter(|&c| tree.node(c).name == "CxlRsnInf")
    {
        let narrative =
            descend(tree, reason, &["Rsn", "Cd"]).is_some_and(|c| tree.text(c) == "NARR");
        if narrative && !has(tree, reason, "AddtlInf") {
            f.add(
                tree.child_path(reason, "AddtlInf"),
                "CBPR.RSN.NARR_ADDTLINF",
                "reason NARR needs AddtlInf (the narrative)",
            );
        }
    }
}
