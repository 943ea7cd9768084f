//! What the bank rail renders: every pacs.008 + head.001, and the pacs.028 status request about
//! it, reads back with the same content.
//! With `CORRIDOR_RENDER_DIR` set, the parts are also written there, one file per document,
//! for the CI step that validates them against the official XSDs with xmllint.

mod common;

use corridor::config::Config;
use corridor::domain::Settlement;
use corridor::intake::event;
use corridor::routing;
use serde_json::json;

const CONFIG: &str = r#"
[gateway]
bic = "CORRGB2LXXX"
[[banks]]
id = "b"
bic = "DEUTDEFFXXX"
endpoint = "https://127.0.0.1:1/mx"
ca_file = "ca.pem"
cert_file = "c.pem"
key_file = "k.pem"
[[banks]]
id = "cover"
bic = "CHASUS33XXX"
endpoint = "https://127.0.0.1:2/mx"
ca_file = "ca.pem"
cert_file = "c.pem"
key_file = "k.pem"
settlement_method = "COVE"
charge_bearer = "DEBT"
[[routes]]
currencies = ["USD"]
rail = "bank"
counterparty = "cover"
[[routes]]
rail = "bank"
counterparty = "b"
"#;

/// A broad spread of what ledgers send: currencies with 0, 2 and 3 decimals, IBAN and other
/// accounts, with and without agents, LEIs, countries, remittance and dates.
fn settlements() -> Vec<Settlement> {
    let currencies = [
        ("EUR", "1234.56"),
        ("JPY", "150000"),
        ("KWD", "12.345"),
        ("USD", "0.01"),
        ("GBP", "99999999.99"),
        ("CHF", "7"),
    ];
    let creditors = [
        json!({"name": "Jane Roe", "account": {"iban": "FR1420041010050500013M02606"}, "agent": {"bic": "BNPAFRPPXXX"}, "country": "FR",
               "address": {"street_name": "Rue de Rivoli", "building_number": "10", "post_code": "75001", "town_name": "Paris", "country": "FR"}}),
        json!({"name": "Widget Inc", "account": {"other": "123456789", "scheme": "BBAN"}, "agent": {"bic": "CHASUS33"}, "lei": "5493001KJTIIGC8Y1R12",
               "address": {"department": "Accounts Receivable", "street_name": "Park Avenue", "building_number": "270", "floor": "12",
                           "post_code": "10017", "town_name": "New York", "country_sub_division": "NY", "country": "US"}}),
        json!({"name": "Acme KK", "account": {"other": "0012345", "scheme": "Local clearing"},
               "address": {"town_name": "Tokyo", "district_name": "Chiyoda", "country": "JP"}}),
        // Every part, each at its longest, with characters that must be escaped or converted.
        json!({"name": "O'Neil & Sons (UK) Ltd.", "account": {"iban": "GB29NWBK60161331926819"},
               "address": {"department": "D".repeat(70), "sub_department": "Payments & <Treasury>", "street_name": "S".repeat(70),
                           "building_number": "1234567890123456", "building_name": "B".repeat(35), "floor": "F".repeat(70),
                           "post_box": "PO Box 12", "room": "R".repeat(70), "post_code": "EC4N 7BE", "town_name": "T".repeat(35),
                           "town_location_name": "City of London", "district_name": "Q".repeat(35),
                           "country_sub_division": "Greater London", "country": "GB"}}),
        json!({"name": "Jürgen Groß Ærø Łódź № 5", "account": {"iban": "DE89370400440532013000"}, "country": "DE",
               "address": {"street_name": "Königstraße", "building_number": "5a", "post_code": "70173", "town_name": "Düsseldorf", "country": "DE"}}),
    ];
    let mut out = Vec::new();
    for (i, (currency, amount)) in currencies.iter().enumerate() {
        for (j, creditor) in creditors.iter().enumerate() {
            let mut value = json!({
                "event_id": format!("render-{i}-{j}"),
                "type": "settlement.requested",
                "amount": amount,
                "currency": currency,
                "debtor": {"name": "Nordwind Logistik AG", "account": {"iban": "DE89370400440532013000"}, "agent": {"bic": "COBADEFFXXX"}, "country": "DE",
                           "address": {"street_name": "Am Sandtorkai", "building_number": "50", "post_code": "20457", "town_name": "Hamburg", "country": "DE"}},
                "creditor": creditor,
            });
            if j % 2 == 0 {
                value["remittance_info"] = json!(format!("Invoice {i}{j}/2026"));
                value["execution_date"] = json!("2026-12-01");
            }
            let parsed = event::parse_json(value).unwrap();
            let settlement = event::to_settlement("l", &parsed).unwrap();
            event::check_for_bank(&settlement).unwrap();
            out.push(settlement);
        }
    }
    out
}

fn part<'a>(xml: &'a str, element: &str) -> &'a str {
    let start = xml
        .find(&format!("<{element} "))
        .or_else(|| xml.find(&format!("<{element}>")))
        .unwrap_or_else(|| panic!("no <{element}> in {xml}"));
    let end_tag = format!("</{element}>");
    let end = xml.rfind(&end_tag).unwrap() + end_tag.len();
    &xml[start..end]
}

#[test]
fn rendered_messages_read_back_and_are_written_for_xsd_validation() {
    let config = Config::from_toml(CONFIG, Vec::new()).unwrap();
    let out_dir = std::env::var_os("CORRIDOR_RENDER_DIR").map(std::path::PathBuf::from);
    if let Some(dir) = &out_dir {
        std::fs::create_dir_all(dir).unwrap();
    }
    let all = settlements();
    assert_eq!(all.len(), 30);
    for (n, settlement) in all.iter().enumerate() {
        let route = routing::route(&config, settlement).unwrap();
        let outbound = corridor::rails::bank::prepare(
            &config.gateway.bic,
            config.bank(&route.counterparty).unwrap(),
            settlement,
        )
        .unwrap();
        let xml = String::from_utf8(outbound.body.clone()).unwrap();
        let message = iso20022::BusinessMessage::parse(&xml).unwrap();
        let iso20022::Document::Pacs008(doc) = &message.document else {
            panic!("not a pacs.008")
        };
        // What we send passes the CBPR+ usage rules, not only the schema.
        let findings = iso20022::cbpr::validate(&message);
        assert!(findings.is_empty(), "{findings:?}");

        // The identifiers stored are the identifiers sent.
        assert_eq!(message.msg_id(), Some(outbound.msg_id.as_str()));
        assert_eq!(message.uetr().map(|u| u.as_str()), outbound.uetr.as_deref());
        assert_eq!(message.end_to_end_id(), Some(settlement.id.as_str()));
        assert_eq!(message.biz_msg_idr(), Some(outbound.biz_msg_idr.as_str()));
        // The amount is exact and carries the currency's own decimals.
        let amount_text = settlement.amount.to_decimal_string();
        assert!(
            xml.contains(&format!(
                "Ccy=\"{}\">{amount_text}<",
                settlement.amount.currency()
            )),
            "{xml}"
        );
        assert_eq!(doc.cdt_trf_tx_inf.len(), 1, "one transaction per pacs.008");
        // CBPR+ layout: the group header holds MsgId, CreDtTm, NbOfTxs and SttlmInf; the
        // agents and the settlement date are in the transaction.
        let group = part(&xml, "GrpHdr");
        assert!(
            !group.contains("InstgAgt") && !group.contains("InstdAgt"),
            "{group}"
        );
        let tx = &doc.cdt_trf_tx_inf[0];
        let bank = config.bank(&route.counterparty).unwrap();
        assert_eq!(
            tx.instg_agt
                .as_ref()
                .and_then(|a| a.bicfi())
                .map(|b| b.as_str()),
            Some(config.gateway.bic.as_str())
        );
        assert_eq!(
            tx.instd_agt
                .as_ref()
                .and_then(|a| a.bicfi())
                .map(|b| b.as_str()),
            Some(bank.bic.as_str())
        );
        assert!(tx.intr_bk_sttlm_dt.is_some());
        assert_eq!(
            message
                .app_hdr
                .as_ref()
                .unwrap()
                .biz_svc
                .as_ref()
                .unwrap()
                .as_str(),
            "swift.cbprplus.03"
        );
        // Both parties have a structured address: the event's, in the CBPR+ character set.
        for (mx, party) in [
            (&tx.dbtr, &settlement.debtor),
            (&tx.cdtr, &settlement.creditor),
        ] {
            let given = party.address.as_ref().unwrap();
            let rendered = mx.pstl_adr.as_ref().expect("PstlAdr");
            assert_eq!(
                rendered.twn_nm.as_ref().map(|t| t.as_str().to_string()),
                Some(corridor::rails::bank::to_cbpr_text(&given.town_name))
            );
            assert_eq!(
                rendered.ctry.as_ref().map(|c| c.as_str()),
                Some(given.country.as_str())
            );
            assert_eq!(
                rendered.strt_nm.as_ref().map(|t| t.as_str().to_string()),
                given
                    .street_name
                    .as_deref()
                    .map(corridor::rails::bank::to_cbpr_text)
            );
            assert_eq!(
                rendered.pst_cd.as_ref().map(|t| t.as_str()),
                given.post_code.as_deref()
            );
            assert!(rendered.adr_line.is_empty(), "structured, no address lines");
        }
        assert_eq!(
            doc.cdt_trf_tx_inf[0].intr_bk_sttlm_amt.minor(),
            settlement.amount.minor()
        );
        assert!(xml.contains(&format!("<SttlmMtd>{}</SttlmMtd>", bank.settlement_method)));
        assert!(xml.contains(&format!("<ChrgBr>{}</ChrgBr>", bank.charge_bearer)));
        // The status request about it names it: the original's MsgId, creation time and
        // references, in the transaction, with the agents.
        let request =
            corridor::rails::bank::status_request(&config.gateway.bic, bank, &outbound).unwrap();
        let request_xml = String::from_utf8(request.body.clone()).unwrap();
        let asked =
            iso20022::BusinessMessage::parse_with(&request_xml, &iso20022::ParseOptions::strict())
                .unwrap();
        assert!(iso20022::cbpr::validate(&asked).is_empty());
        let iso20022::Document::Pacs028(req) = &asked.document else {
            panic!("not a pacs.028")
        };
        let tx = &req.tx_inf[0];
        let group = tx.orgnl_grp_inf.as_ref().unwrap();
        assert_eq!(group.orgnl_msg_id.as_str(), outbound.msg_id);
        assert_eq!(group.orgnl_msg_nm_id.as_str(), "pacs.008.001.08");
        assert_eq!(group.orgnl_cre_dt_tm, Some(doc.grp_hdr.cre_dt_tm.clone()));
        assert_eq!(
            tx.orgnl_uetr.as_ref().map(|u| u.as_str()),
            outbound.uetr.as_deref()
        );
        assert_eq!(
            tx.orgnl_end_to_end_id.as_ref().map(|e| e.as_str()),
            Some(settlement.id.as_str())
        );
        assert_ne!(
            request.msg_id, outbound.msg_id,
            "a status request has its own MsgId"
        );
        if let Some(dir) = &out_dir {
            std::fs::write(
                dir.join(format!("{n:03}.head.001.001.02.xml")),
                part(&xml, "AppHdr"),
            )
            .unwrap();
            std::fs::write(
                dir.join(format!("{n:03}.pacs.008.001.08.xml")),
                part(&xml, "Document"),
            )
            .unwrap();
            std::fs::write(
                dir.join(format!("{n:03}.pacs.028.001.03.xml")),
                part(&request_xml, "Document"),
            )
            .unwrap();
        }
    }
}

#[test]
fn free_text_is_converted_to_the_cbpr_character_set() {
    use corridor::rails::bank::to_cbpr_text;
    assert_eq!(to_cbpr_text("Jürgen Groß"), "Jurgen Gross");
    assert_eq!(to_cbpr_text("Ærø Łódź"), "AEro Lodz");
    assert_eq!(
        to_cbpr_text("O'Neil & Sons (UK) Ltd."),
        "O'Neil & Sons (UK) Ltd."
    );
    assert_eq!(to_cbpr_text("№ 5\tüber"), "No 5 uber");
    assert_eq!(to_cbpr_text("東京"), "..");
}
