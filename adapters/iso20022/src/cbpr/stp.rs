//! The rules of the STP variant of the CBPR+ pacs.008 (business service
//! `swift.cbprplus.stp.03`), on top of the core pacs.008's. Its Document is a pacs.008.001.08
//! like any other: only the AppHdr's `BizSvc` tells it apart, so these rules apply to a
//! business message whose header names the STP service, and never to a Document alone.
//!
//! | rule | what |
//! |---|---|
//! | `CBPR.STP.DBTR_CDTR_IBAN` | when the debtor agent's and the creditor agent's BICs are both of the IBAN countries the guideline lists, or both of one of its country couples (ES/AD, FR/MC, IT/SM, IT/VA), the debtor and the creditor have `Nm` and their accounts an `IBAN` |
//! | `CBPR.STP.AGENT_BIC` | every agent (`FinInstnId`) is identified by `BICFI` |
//! | `CBPR.STP.CDTRACCT` | the creditor's account is given |
//! | `CBPR.STP.AGENT_NM_PSTLADR` | no agent carries a name or a postal address (it is identified, not described) |
//! | `CBPR.STP.INSTR` | no `InstrForCdtrAgt` and no `InstrForNxtAgt` (free-format instructions stop straight-through processing) |
//!
//! Sources (public): the first rule is the guideline's formal rules "Debtor Creditor IBAN" and
//! "Debtor Creditor ES/AD", "FR/MC", "IT/SM", "IT/VA" (SR2025 and 2026 STP guidelines, as the
//! `cbpr-usage-rules` package encodes them); the others are the STP message layout as that
//! package's STP examples show it against the core ones (its minimal STP example, mandatory
//! elements only, has both agents' `BICFI` and `CdtrAcct`, where the core one has neither; its
//! maximal STP example, every element the STP schema allows, has no agent name or address and
//! neither instruction element, where the core one has them), and the types that the public
//! `GoPlasmatic/MXMessage` generates from the CBPR+ STP XSD (`src/document/
//! pacs_008_001_08_stp.rs`: an agent's `FinInstnId` is a mandatory `BICFI` with an optional
//! clearing member id and LEI, `CdtrAcct` is mandatory, the transaction has no instruction
//! elements).
//!
//! What else the STP schema cuts (an agent's branch, proprietary codes, structured
//! remittance) is the STP schema table's (`schema/pacs008stp.txt`), which the same header
//! picks; where one of these rules reports a fault, the table's finding is left out.

use super::Findings;
use crate::xml::reader::{NodeId, Tree};

/// The business service of the STP variant.
pub(super) const BUSINESS_SERVICE: &str = "swift.cbprplus.stp.03";

/// The countries of the guideline's "Debtor Creditor IBAN" rule, as it lists them.
const IBAN_COUNTRIES: &[&str] = &[
    "AT", "BE", "BG", "BV", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GF", "GI", "GP",
    "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MQ", "MT", "NL", "NO", "PL", "PM",
    "PT", "RE", "RO", "SE", "SI", "SJ", "SK",
];

/// The guideline's country couples: a payment between agents of one couple is a domestic one.
const COUNTRY_COUPLES: &[[&str; 2]] = &[["ES", "AD"], ["FR", "MC"], ["IT", "SM"], ["IT", "VA"]];

/// The STP rules over the rendered tree of a pacs.008. A finding at a path another rule has
/// already reported is left out (one fault, one finding); `CBPR.AGENT.NM_PSTLADR` (name and
/// address together or neither) is replaced by `CBPR.STP.AGENT_NM_PSTLADR` (neither).
pub(super) fn rules(f: &mut Findings, tree: &Tree<'_>) {
    let mut stp = Findings(Vec::new());
    for &root in &tree.roots {
        visit(&mut stp, tree, root);
    }
    f.0.retain(|x| x.rule != "CBPR.AGENT.NM_PSTLADR");
    let mut known: Vec<String> = f.0.iter().map(|x| x.path.clone()).collect();
    for finding in stp.0 {
        if !known.contains(&finding.path) {
            known.push(finding.path.clone());
            f.0.push(finding);
        }
    }
}

fn visit(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    match tree.node(id).name {
        "CdtTrfTxInf" => transaction(f, tree, id),
        "FinInstnId" => {
            if child(tree, id, "BICFI").is_none() {
                f.add(
                    tree.child_path(id, "BICFI"),
                    "CBPR.STP.AGENT_BIC",
                    "an agent of an STP pacs.008 is identified by its BIC",
                );
            }
            for tag in ["Nm", "PstlAdr"] {
                if let Some(c) = child(tree, id, tag) {
                    f.add(
                        tree.path(c),
                        "CBPR.STP.AGENT_NM_PSTLADR",
                        format!("an agent of an STP pacs.008 has no {tag}"),
                    );
                }
            }
        }
        _ => {}
    }
    for c in tree.children(id) {
        visit(f, tree, c);
    }
}

fn child(tree: &Tree<'_>, id: NodeId, name: &str) -> Option<NodeId> {
    tree.children(id).find(|&c| tree.node(c).name == name)
}

fn descend(tree: &Tree<'_>, id: NodeId, path: &[&str]) -> Option<NodeId> {
    path.iter().try_fold(id, |at, name| child(tree, at, name))
}

/// The rules of one transaction (`CdtTrfTxInf`).
fn transaction(f: &mut Findings, tree: &Tree<'_>, tx: NodeId) {
    // The agents' BICs themselves are `CBPR.STP.AGENT_BIC`'s, at each `FinInstnId`.
    let country = |tag: &str| {
        descend(tree, tx, &[tag, "FinInstnId", "BICFI"]).and_then(|b| tree.text(b).get(4..6))
    };
    let countries = [country("DbtrAgt"), country("CdtrAgt")];
    if child(tree, tx, "CdtrAcct").is_none() {
        f.add(
            tree.child_path(tx, "CdtrAcct"),
            "CBPR.STP.CDTRACCT",
            "an STP pacs.008 gives the creditor's account",
        );
    }
    for tag in ["InstrForCdtrAgt", "InstrForNxtAgt"] {
        if let Some(c) = child(tree, tx, tag) {
            f.add(
                tree.path(c),
                "CBPR.STP.INSTR",
                format!("an STP pacs.008 has no {tag}"),
            );
        }
    }
    if let [Some(dbtr_agt), Some(cdtr_agt)] = countries {
        if let Some(area) = domestic_area(dbtr_agt, cdtr_agt) {
            names_and_ibans(f, tree, tx, &area);
        }
    }
}

/// The guideline's area both agents' countries belong to, if any: its IBAN countries or one of
/// its country couples, named for the finding.
fn domestic_area(a: &str, b: &str) -> Option<String> {
    if IBAN_COUNTRIES.contains(&a) && IBAN_COUNTRIES.contains(&b) {
        return Some("both of the guideline's IBAN countries".to_owned());
    }
    COUNTRY_COUPLES
        .iter()
        .find(|couple| couple.contains(&a) && couple.contains(&b))
        .map(|[x, y]| format!("both of the country couple {x}/{y}"))
}

/// CBPR.STP.DBTR_CDTR_IBAN: the debtor and the creditor named, their accounts by IBAN.
fn names_and_ibans(f: &mut Findings, tree: &Tree<'_>, tx: NodeId, area: &str) {
    for (party, account) in [("Dbtr", "DbtrAcct"), ("Cdtr", "CdtrAcct")] {
        if let Some(p) = child(tree, tx, party) {
            if child(tree, p, "Nm").is_none() {
                f.add(
                    tree.child_path(p, "Nm"),
                    "CBPR.STP.DBTR_CDTR_IBAN",
                    format!("agents {area}: the {party} is identified by a name"),
                );
            }
        }
        let iban = descend(tree, tx, &[account, "Id", "IBAN"]);
        if iban.is_none() {
            // Where the account is, its identification; else the missing account.
            let at = match descend(tree, tx, &[account, "Id"]) {
                Some(id) => tree.child_path(id, "IBAN"),
                None => tree.child_path(tx, account),
            };
            f.add(
                at,
                "CBPR.STP.DBTR_CDTR_IBAN",
                format!("agents {area}: the {account} is identified by an IBAN"),
            );
        }
    }
}
