//! Deterministic sample messages, for conformance runs (render, then validate against the
//! official XSDs), benchmarks and examples.
//!
//! `seed` picks one message: the same seed gives the same message on every machine. Over a few
//! hundred seeds every optional element is present in some and absent in others, every
//! currency exponent appears, and texts range from 1 character to their maximum length with
//! characters that need escaping (`&`, `<`, `>`, quotes).

// Non-exhaustive structs are built the way callers outside the crate must build them: from
// `Default`, then field by field.
#![allow(clippy::field_reassign_with_default)]

use crate::amount::Amount;
use crate::common::*;
use crate::head::{AppHdr, HeaderParty, RelatedHeader};
use crate::iso4217;
use crate::message::BusinessMessage;
use crate::pacs002::{self, OriginalGroupStatus, Pacs002, TransactionStatusInfo};
use crate::pacs008::{
    self, CreditTransfer, GroupHeader, InstructionForCreditorAgent, InstructionForNextAgent,
    Pacs008, PaymentId,
};
use crate::types::*;

/// A small deterministic generator (SplitMix64): no dependency, same output everywhere.
#[derive(Debug, Clone)]
pub struct Gen(u64);

const TEXT_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-?:().,'+ &<>\"";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const UPPER_DIGIT: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const DIGITS: &[u8] = b"0123456789";

impl Gen {
    /// A generator for one seed.
    pub fn new(seed: u64) -> Self {
        Gen(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability one half.
    pub fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    fn chars(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| char::from(alphabet[self.range(0, alphabet.len() as u64 - 1) as usize]))
            .collect()
    }

    /// Text of 1 to `MAX` characters, often short, sometimes at the maximum, not starting or
    /// ending with a space.
    pub fn text<const MAX: usize>(&mut self) -> Text<MAX> {
        let len = match self.range(0, 9) {
            0 => MAX,
            1 => 1,
            _ => self.range(1, MAX.min(24) as u64) as usize,
        };
        let mut s = self.chars(TEXT_CHARS, len);
        // Leading/trailing blanks are legal but would make round trips depend on whitespace
        // handling, which is not what these samples test.
        s = s.replace(' ', "_");
        Text::new(s).expect(GEN)
    }

    /// One of `values`, each equally likely.
    pub fn pick<T: Copy>(&mut self, values: &[T]) -> T {
        values[self.range(0, values.len() as u64 - 1) as usize]
    }

    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        if self.coin() {
            Some(f(self))
        } else {
            None
        }
    }

    fn vec<T>(&mut self, max: u64, mut f: impl FnMut(&mut Self) -> T) -> Vec<T> {
        let n = self.range(0, max);
        (0..n).map(|_| f(self)).collect()
    }

    /// A BIC of 8 or 11 characters.
    pub fn bic(&mut self) -> Bic {
        let mut s =
            self.chars(UPPER_DIGIT, 4) + &self.chars(UPPER, 2) + &self.chars(UPPER_DIGIT, 2);
        if self.coin() {
            s += &self.chars(UPPER_DIGIT, 3);
        }
        Bic::new(s).expect(GEN)
    }

    /// A UETR.
    pub fn uetr(&mut self) -> Uetr {
        let mut s = self.chars(HEX, 32);
        s.replace_range(12..13, "4");
        let variant = char::from(b"89ab"[self.range(0, 3) as usize]);
        s.replace_range(16..17, &variant.to_string());
        let s = format!(
            "{}-{}-{}-{}-{}",
            &s[0..8],
            &s[8..12],
            &s[12..16],
            &s[16..20],
            &s[20..32]
        );
        Uetr::new(s).expect(GEN)
    }

    /// A date in 2000..2099.
    pub fn date(&mut self) -> IsoDate {
        let y = self.range(2000, 2099);
        let m = self.range(1, 12);
        let d = self.range(1, 28);
        IsoDate::new(&format!("{y:04}-{m:02}-{d:02}")).expect(GEN)
    }

    /// A date-time with an offset (`Z`, `+hh:mm` or `-hh:mm`) and sometimes a fraction.
    pub fn date_time(&mut self) -> IsoDateTime {
        let d = self.date();
        let (h, mi, s) = (self.range(0, 23), self.range(0, 59), self.range(0, 59));
        let frac = match self.range(0, 2) {
            0 => String::new(),
            1 => format!(".{:03}", self.range(0, 999)),
            _ => format!(".{:06}", self.range(0, 999_999)),
        };
        let off = match self.range(0, 2) {
            0 => "Z".to_owned(),
            1 => format!(
                "+{:02}:{:02}",
                self.range(0, 14),
                [0, 30, 45][self.range(0, 2) as usize]
            ),
            _ => format!(
                "-{:02}:{:02}",
                self.range(0, 12),
                [0, 30][self.range(0, 1) as usize]
            ),
        };
        let off = if off.starts_with("+14") {
            "+14:00".to_owned()
        } else {
            off
        };
        IsoDateTime::new(format!("{d}T{h:02}:{mi:02}:{s:02}{frac}{off}")).expect(GEN)
    }

    /// An amount in a random active currency, of up to 15 significant digits.
    pub fn amount(&mut self) -> Amount {
        let ccy = &iso4217::ALL[self.range(0, iso4217::ALL.len() as u64 - 1) as usize];
        let digits = self.range(1, 15) as u32;
        let minor = self.range(0, 10u64.pow(digits) - 1) as i64;
        Amount::from_minor(minor, ccy).expect(GEN)
    }

    fn country(&mut self) -> CountryCode {
        CountryCode::new(self.chars(UPPER, 2)).expect(GEN)
    }

    fn iban(&mut self) -> Iban {
        let len = self.range(1, 30) as usize;
        let s =
            self.chars(UPPER, 2) + &self.chars(b"0123456789", 2) + &self.chars(UPPER_DIGIT, len);
        Iban::new(s).expect(GEN)
    }

    fn lei(&mut self) -> Lei {
        Lei::new(self.chars(UPPER_DIGIT, 18) + &self.chars(b"0123456789", 2)).expect(GEN)
    }

    fn code<const CD: usize>(&mut self) -> CodeOrProprietary<CD> {
        if self.coin() {
            let len = self.range(1, CD as u64) as usize;
            CodeOrProprietary::Cd(Text::new(self.chars(UPPER_DIGIT, len)).expect(GEN))
        } else {
            CodeOrProprietary::Prtry(self.text())
        }
    }

    fn postal_address(&mut self) -> PostalAddress {
        let mut a = PostalAddress::default();
        a.adr_tp = self.opt(|g| {
            if g.coin() {
                CodeChoice::Cd(
                    [
                        AddressType2::Addr,
                        AddressType2::Pbox,
                        AddressType2::Home,
                        AddressType2::Bizz,
                        AddressType2::Mlto,
                        AddressType2::Dlvy,
                    ][g.range(0, 5) as usize],
                )
            } else {
                CodeChoice::Prtry(GenericIdentification30 {
                    id: Exact4AlphaNumeric::new(g.chars(UPPER_DIGIT, 4)).expect(GEN),
                    issr: g.text(),
                    schme_nm: g.opt(Gen::text),
                })
            }
        });
        a.dept = self.opt(Gen::text);
        a.sub_dept = self.opt(Gen::text);
        a.strt_nm = self.opt(Gen::text);
        a.bldg_nb = self.opt(Gen::text);
        a.bldg_nm = self.opt(Gen::text);
        a.flr = self.opt(Gen::text);
        a.pst_bx = self.opt(Gen::text);
        a.room = self.opt(Gen::text);
        a.pst_cd = self.opt(Gen::text);
        a.twn_nm = self.opt(Gen::text);
        a.twn_lctn_nm = self.opt(Gen::text);
        a.dstrct_nm = self.opt(Gen::text);
        a.ctry_sub_dvsn = self.opt(Gen::text);
        a.ctry = self.opt(Gen::country);
        a.adr_line = self.vec(7, Gen::text);
        a
    }

    fn generic_id(&mut self) -> GenericId {
        GenericId {
            id: self.text(),
            schme_nm: self.opt(Gen::code),
            issr: self.opt(Gen::text),
        }
    }

    /// An agent: usually a BIC alone, sometimes every identification element.
    pub fn agent(&mut self) -> Agent {
        if self.range(0, 3) > 0 {
            return Agent::bic(self.bic());
        }
        let mut f = FinInstnId::default();
        f.bicfi = self.opt(Gen::bic);
        f.clr_sys_mmb_id = self.opt(|g| ClearingSystemMemberId {
            clr_sys_id: g.opt(Gen::code),
            mmb_id: g.text(),
        });
        f.lei = self.opt(Gen::lei);
        f.nm = self.opt(Gen::text);
        f.pstl_adr = self.opt(Gen::postal_address).map(Box::new);
        f.othr = self.opt(Gen::generic_id);
        let mut a = Agent::default();
        a.fin_instn_id = f;
        a.brnch_id = self.opt(|g| {
            let mut b = BranchData::default();
            b.id = g.opt(Gen::text);
            b.lei = g.opt(Gen::lei);
            b.nm = g.opt(Gen::text);
            b.pstl_adr = g.opt(Gen::postal_address).map(Box::new);
            b
        });
        a
    }

    /// A party with any combination of its elements.
    pub fn party(&mut self) -> Party {
        let mut p = Party::default();
        p.nm = self.opt(Gen::text);
        p.pstl_adr = self.opt(Gen::postal_address).map(Box::new);
        p.id = self.opt(|g| {
            if g.coin() {
                let mut o = OrgId::default();
                o.any_bic = g.opt(Gen::bic);
                o.lei = g.opt(Gen::lei);
                o.othr = g.vec(2, Gen::generic_id);
                PartyId::OrgId(o)
            } else {
                let mut p = PrvtId::default();
                p.dt_and_plc_of_birth = g.opt(|g| DateAndPlaceOfBirth {
                    birth_dt: g.date(),
                    prvc_of_birth: g.opt(Gen::text),
                    city_of_birth: g.text(),
                    ctry_of_birth: g.country(),
                });
                p.othr = g.vec(2, Gen::generic_id);
                PartyId::PrvtId(p)
            }
        });
        p.ctry_of_res = self.opt(Gen::country);
        if self.range(0, 3) == 0 {
            p.ctct_dtls = Some(Box::new(self.contact()));
        }
        p
    }

    fn phone(&mut self) -> PhoneNumber {
        let cc = self.range(1, 3) as usize;
        let len = self.range(1, 30) as usize;
        PhoneNumber::new(format!(
            "+{}-{}",
            self.chars(DIGITS, cc),
            self.chars(b"0123456789()+-", len)
        ))
        .expect(GEN)
    }

    /// Contact details with any combination of their elements.
    pub fn contact(&mut self) -> Contact {
        let mut c = Contact::default();
        c.nm_prfx = self.opt(|g| {
            [
                NamePrefix::Doct,
                NamePrefix::Madm,
                NamePrefix::Miss,
                NamePrefix::Mist,
                NamePrefix::Miks,
            ][g.range(0, 4) as usize]
        });
        c.nm = self.opt(Gen::text);
        c.phne_nb = self.opt(Gen::phone);
        c.mob_nb = self.opt(Gen::phone);
        c.fax_nb = self.opt(Gen::phone);
        c.email_adr = self.opt(Gen::text);
        c.email_purp = self.opt(Gen::text);
        c.job_titl = self.opt(Gen::text);
        c.rspnsblty = self.opt(Gen::text);
        c.dept = self.opt(Gen::text);
        c.othr = self.vec(2, |g| OtherContact {
            chanl_tp: g.text(),
            id: g.opt(Gen::text),
        });
        c.prefrd_mtd = self.opt(|g| {
            [
                PreferredContactMethod::Lett,
                PreferredContactMethod::Mail,
                PreferredContactMethod::Phon,
                PreferredContactMethod::Faxx,
                PreferredContactMethod::Cell,
            ][g.range(0, 4) as usize]
        });
        c
    }

    fn typed_amount(&mut self) -> crate::remittance::TypedAmount {
        crate::remittance::TypedAmount {
            tp: self.opt(Gen::code),
            amt: self.amount(),
        }
    }

    /// Structured remittance with any combination of the typed elements.
    // Long on purpose: one line per optional element, in schema order, each there or not by seed.
    pub fn structured_remittance(&mut self) -> crate::remittance::StructuredRemittance {
        use crate::remittance::*;
        let mut r = StructuredRemittance::default();
        r.rfrd_doc_inf = self.vec(3, |g| {
            let mut d = ReferredDocument::default();
            d.tp = g.opt(|g| ReferredDocumentType {
                cd_or_prtry: if g.coin() {
                    CodeChoice::Cd(
                        [
                            DocumentType6::Cinv,
                            DocumentType6::Cren,
                            DocumentType6::Debn,
                            DocumentType6::Soac,
                            DocumentType6::Puor,
                        ][g.range(0, 4) as usize],
                    )
                } else {
                    CodeChoice::Prtry(g.text())
                },
                issr: g.opt(Gen::text),
            });
            d.nb = g.opt(Gen::text);
            d.rltd_dt = g.opt(Gen::date);
            d.line_dtls = g.vec(2, |g| DocumentLine {
                id: (0..g.range(1, 2))
                    .map(|_| {
                        let mut i = DocumentLineId::default();
                        i.tp = g.opt(|g| DocumentLineType {
                            cd_or_prtry: g.code(),
                            issr: g.opt(Gen::text),
                        });
                        i.nb = g.opt(Gen::text);
                        i.rltd_dt = g.opt(Gen::date);
                        i
                    })
                    .collect(),
                desc: g.opt(Gen::text),
                amt: g.opt(|g| {
                    let mut a = RemittanceAmount::default();
                    a.due_pybl_amt = g.opt(Gen::amount);
                    a.rmtd_amt = g.opt(Gen::amount);
                    a
                }),
            });
            d
        });
        r.rfrd_doc_amt = self.opt(|g| {
            let mut a = RemittanceAmount::default();
            a.due_pybl_amt = g.opt(Gen::amount);
            a.dscnt_apld_amt = g.vec(2, Gen::typed_amount);
            a.cdt_note_amt = g.opt(Gen::amount);
            a.tax_amt = g.vec(2, Gen::typed_amount);
            a.adjstmnt_amt_and_rsn = g.vec(2, |g| DocumentAdjustment {
                amt: g.amount(),
                cdt_dbt_ind: g.opt(|g| {
                    if g.coin() {
                        CreditDebit::Crdt
                    } else {
                        CreditDebit::Dbit
                    }
                }),
                rsn: g.opt(Gen::text),
                addtl_inf: g.opt(Gen::text),
            });
            a.rmtd_amt = g.opt(Gen::amount);
            a
        });
        r.cdtr_ref_inf = self.opt(|g| {
            let mut c = CreditorReference::default();
            c.tp = g.opt(|g| CreditorReferenceType {
                cd_or_prtry: if g.coin() {
                    CodeChoice::Cd(
                        [
                            DocumentType3::Scor,
                            DocumentType3::Radm,
                            DocumentType3::Rpin,
                        ][g.range(0, 2) as usize],
                    )
                } else {
                    CodeChoice::Prtry(g.text())
                },
                issr: g.opt(Gen::text),
            });
            c.r#ref = g.opt(Gen::text);
            c
        });
        r.invcr = self.opt(Gen::party);
        r.invcee = self.opt(Gen::party);
        if self.range(0, 3) == 0 {
            r.tax_rmt = Some(self.remittance_tax());
        }
        if self.range(0, 3) == 0 {
            r.grnshmt_rmt = Some(Garnishment {
                tp: GarnishmentType {
                    cd_or_prtry: self.code(),
                    issr: self.opt(Gen::text),
                },
                grnshee: self.opt(Gen::party),
                grnshmt_admstr: self.opt(Gen::party),
                ref_nb: self.opt(Gen::text),
                dt: self.opt(Gen::date),
                rmtd_amt: self.opt(Gen::amount),
                fmly_mdcl_insrnc_ind: self.opt(Gen::coin),
                mplyee_termntn_ind: self.opt(Gen::coin),
            });
        }
        r.addtl_rmt_inf = self.vec(3, Gen::text);
        r
    }

    /// Regulatory reporting with any combination of its elements.
    pub fn regulatory_reporting(&mut self) -> RegulatoryReporting {
        let mut r = RegulatoryReporting::default();
        r.dbt_cdt_rptg_ind = self.opt(|g| {
            [
                RegulatoryReportingType::Cred,
                RegulatoryReportingType::Debt,
                RegulatoryReportingType::Both,
            ][g.range(0, 2) as usize]
        });
        r.authrty = self.opt(|g| {
            let mut a = RegulatoryAuthority::default();
            a.nm = g.opt(Gen::text);
            a.ctry = g.opt(Gen::country);
            a
        });
        r.dtls = self.vec(2, |g| {
            let mut d = StructuredRegulatoryReporting::default();
            d.tp = g.opt(Gen::text);
            d.dt = g.opt(Gen::date);
            d.ctry = g.opt(Gen::country);
            d.cd = g.opt(Gen::text);
            d.amt = g.opt(Gen::amount);
            d.inf = g.vec(2, Gen::text);
            d
        });
        r
    }

    /// An `xs:time`, with or without fraction and offset.
    pub fn time(&mut self) -> IsoTime {
        let (h, mi, s) = (self.range(0, 23), self.range(0, 59), self.range(0, 59));
        let frac = if self.coin() {
            format!(".{:03}", self.range(0, 999))
        } else {
            String::new()
        };
        let off = ["", "Z", "+01:00", "-05:30"][self.range(0, 3) as usize];
        IsoTime::new(format!("{h:02}:{mi:02}:{s:02}{frac}{off}")).expect(GEN)
    }

    fn settlement_time_indication(&mut self) -> SettlementTimeIndication {
        let mut t = SettlementTimeIndication::default();
        t.dbt_dt_tm = self.opt(Gen::date_time);
        t.cdt_dt_tm = self.opt(Gen::date_time);
        t
    }

    fn settlement_time_request(&mut self) -> SettlementTimeRequest {
        let mut t = SettlementTimeRequest::default();
        t.cls_tm = self.opt(Gen::time);
        t.till_tm = self.opt(Gen::time);
        t.fr_tm = self.opt(Gen::time);
        t.rjct_tm = self.opt(Gen::time);
        t
    }

    fn tax_period(&mut self) -> crate::tax::TaxPeriod {
        let mut p = crate::tax::TaxPeriod::default();
        p.yr = self.opt(Gen::date);
        p.tp = self.opt(|g| {
            [
                TaxRecordPeriod::Mm01,
                TaxRecordPeriod::Qtr4,
                TaxRecordPeriod::Hlf2,
            ][g.range(0, 2) as usize]
        });
        p.fr_to_dt = self.opt(|g| crate::tax::DatePeriod {
            fr_dt: g.date(),
            to_dt: g.date(),
        });
        p
    }

    fn tax_record(&mut self) -> crate::tax::TaxRecord {
        let mut r = crate::tax::TaxRecord::default();
        r.tp = self.opt(Gen::text);
        r.ctgy = self.opt(Gen::text);
        r.ctgy_dtls = self.opt(Gen::text);
        r.dbtr_sts = self.opt(Gen::text);
        r.cert_id = self.opt(Gen::text);
        r.frms_cd = self.opt(Gen::text);
        r.prd = self.opt(Gen::tax_period);
        r.tax_amt = self.opt(|g| {
            let mut a = crate::tax::TaxAmount::default();
            a.rate = g.opt(|g| {
                let (int_len, frac_len) = (g.range(1, 3) as usize, g.range(1, 8) as usize);
                let int = g.chars(DIGITS, int_len);
                let frac = g.chars(DIGITS, frac_len);
                PercentageRate::new(format!("{int}.{frac}")).expect(GEN)
            });
            a.taxbl_base_amt = g.opt(Gen::amount);
            a.ttl_amt = g.opt(Gen::amount);
            a.dtls = g.vec(2, |g| crate::tax::TaxRecordDetails {
                prd: g.opt(Gen::tax_period),
                amt: g.amount(),
            });
            a
        });
        r.addtl_inf = self.opt(Gen::text);
        r
    }

    fn tax_debtor(&mut self) -> crate::tax::TaxDebtor {
        let mut d = crate::tax::TaxDebtor::default();
        d.tax_id = self.opt(Gen::text);
        d.regn_id = self.opt(Gen::text);
        d.tax_tp = self.opt(Gen::text);
        d.authstn = self.opt(|g| {
            let mut a = crate::tax::TaxAuthorisation::default();
            a.titl = g.opt(Gen::text);
            a.nm = g.opt(Gen::text);
            a
        });
        d
    }

    fn tax_creditor(&mut self) -> crate::tax::TaxCreditor {
        let mut c = crate::tax::TaxCreditor::default();
        c.tax_id = self.opt(Gen::text);
        c.regn_id = self.opt(Gen::text);
        c.tax_tp = self.opt(Gen::text);
        c
    }

    fn number(&mut self) -> Number {
        let len = self.range(1, 18) as usize;
        Number::new(self.chars(DIGITS, len)).expect(GEN)
    }

    /// Tax information on a transaction.
    pub fn tax(&mut self) -> crate::tax::TaxInformation {
        let mut t = crate::tax::TaxInformation::default();
        t.cdtr = self.opt(Gen::tax_creditor);
        t.dbtr = self.opt(Gen::tax_debtor);
        t.admstn_zone = self.opt(Gen::text);
        t.ref_nb = self.opt(Gen::text);
        t.mtd = self.opt(Gen::text);
        t.ttl_taxbl_base_amt = self.opt(Gen::amount);
        t.ttl_tax_amt = self.opt(Gen::amount);
        t.dt = self.opt(Gen::date);
        t.seq_nb = self.opt(Gen::number);
        t.rcrd = self.vec(2, Gen::tax_record);
        t
    }

    /// Tax remitted in structured remittance: a transaction's tax information plus the
    /// ultimate debtor.
    fn remittance_tax(&mut self) -> crate::tax::RemittanceTax {
        let t = self.tax();
        crate::tax::RemittanceTax {
            cdtr: t.cdtr,
            dbtr: t.dbtr,
            ultmt_dbtr: self.opt(Gen::tax_debtor),
            admstn_zone: t.admstn_zone,
            ref_nb: t.ref_nb,
            mtd: t.mtd,
            ttl_taxbl_base_amt: t.ttl_taxbl_base_amt,
            ttl_tax_amt: t.ttl_tax_amt,
            dt: t.dt,
            seq_nb: t.seq_nb,
            rcrd: t.rcrd,
        }
    }

    /// Where separately sent remittance information is.
    pub fn remittance_location(&mut self) -> crate::remittance::RemittanceLocation {
        use crate::remittance::*;
        let mut l = RemittanceLocation::default();
        l.rmt_id = self.opt(Gen::text);
        l.rmt_lctn_dtls = self.vec(2, |g| RemittanceLocationData {
            mtd: [
                RemittanceLocationMethod::Faxi,
                RemittanceLocationMethod::Edic,
                RemittanceLocationMethod::Urid,
                RemittanceLocationMethod::Emal,
                RemittanceLocationMethod::Post,
                RemittanceLocationMethod::Smsm,
            ][g.range(0, 5) as usize],
            elctrnc_adr: g.opt(Gen::text),
            pstl_adr: g.opt(|g| NameAndAddress {
                nm: g.text(),
                adr: g.postal_address(),
            }),
        });
        l
    }

    /// An exchange rate: up to 11 digits, up to 10 of them after the point.
    pub fn rate(&mut self) -> BaseOneRate {
        let int_digits = self.range(1, 6) as usize;
        let frac_digits = self.range(0, 10.min(11 - int_digits) as u64) as usize;
        let mut s = self.chars(DIGITS, int_digits);
        if frac_digits > 0 {
            s.push('.');
            s += &self.chars(DIGITS, frac_digits);
        }
        BaseOneRate::new(s).expect(GEN)
    }

    /// An account by IBAN or other identification, with optional type, currency and name.
    pub fn account(&mut self) -> CashAccount {
        let mut a = if self.coin() {
            CashAccount::iban(self.iban())
        } else {
            let mut a = CashAccount::other(self.text(), self.opt(Gen::code));
            if let AccountId::Othr(o) = &mut a.id {
                o.issr = self.opt(Gen::text);
            }
            a
        };
        a.tp = self.opt(Gen::code);
        a.ccy = self.opt(|g| &iso4217::ALL[g.range(0, iso4217::ALL.len() as u64 - 1) as usize]);
        a.nm = self.opt(Gen::text);
        if self.range(0, 3) == 0 {
            a.prxy = Some(ProxyAccount {
                tp: self.opt(Gen::code),
                id: self.text(),
            });
        }
        a
    }

    fn settlement(&mut self) -> SettlementInstruction {
        let mtd = [
            SettlementMethod::Inda,
            SettlementMethod::Inga,
            SettlementMethod::Cove,
            SettlementMethod::Clrg,
        ][self.range(0, 3) as usize];
        let mut s = SettlementInstruction::method(mtd);
        s.sttlm_acct = self.opt(Gen::account);
        s.clr_sys = self.opt(Gen::code);
        s.instg_rmbrsmnt_agt = self.opt(Gen::agent);
        s.instg_rmbrsmnt_agt_acct = self.opt(Gen::account);
        s.instd_rmbrsmnt_agt = self.opt(Gen::agent);
        s.instd_rmbrsmnt_agt_acct = self.opt(Gen::account);
        s.thrd_rmbrsmnt_agt = self.opt(Gen::agent);
        s.thrd_rmbrsmnt_agt_acct = self.opt(Gen::account);
        s
    }

    fn payment_type(&mut self) -> PaymentTypeInfo {
        let mut p = PaymentTypeInfo::default();
        p.instr_prty = self.opt(|g| {
            if g.coin() {
                Priority::High
            } else {
                Priority::Norm
            }
        });
        p.clr_chanl = self.opt(|g| {
            [
                ClearingChannel::Rtgs,
                ClearingChannel::Rtns,
                ClearingChannel::Mpns,
                ClearingChannel::Book,
            ][g.range(0, 3) as usize]
        });
        p.svc_lvl = self.vec(2, Gen::code);
        p.lcl_instrm = self.opt(Gen::code);
        p.ctgy_purp = self.opt(Gen::code);
        p
    }

    fn initiation_payment_type(&mut self) -> InitiationPaymentTypeInfo {
        let mut p = InitiationPaymentTypeInfo::default();
        p.instr_prty = self.opt(|g| {
            if g.coin() {
                Priority::High
            } else {
                Priority::Norm
            }
        });
        p.svc_lvl = self.vec(2, Gen::code);
        p.lcl_instrm = self.opt(Gen::code);
        p.ctgy_purp = self.opt(Gen::code);
        p
    }

    fn supplementary(&mut self) -> SupplementaryData {
        let raw = format!(
            "<Extra xmlns=\"urn:example:extra\"><Note>{}</Note></Extra>",
            self.range(0, 1_000_000)
        );
        SupplementaryData {
            plc_and_nm: self.opt(Gen::text),
            envlp: Envelope(RawXml::new(raw).expect(GEN)),
        }
    }

    fn status_reason(&mut self) -> StatusReason {
        let mut r = StatusReason::default();
        r.orgtr = self.opt(Gen::party);
        r.rsn = self.opt(Gen::code);
        r.addtl_inf = self.vec(2, Gen::text);
        r
    }
}

/// The generators only build values inside their type's constraints; a failure is a bug here.
const GEN: &str = "sample generator built a value outside its type's constraints";

/// A pacs.008.001.08 with one transaction.
pub fn pacs008(seed: u64) -> Pacs008 {
    let g = &mut Gen::new(seed);
    let mut h = GroupHeader::new(g.text(), g.date_time(), g.settlement());
    h.btch_bookg = g.opt(Gen::coin);
    h.ttl_intr_bk_sttlm_amt = g.opt(Gen::amount);
    h.intr_bk_sttlm_dt = g.opt(Gen::date);
    h.pmt_tp_inf = g.opt(Gen::payment_type);
    h.instg_agt = g.opt(Gen::agent);
    h.instd_agt = g.opt(Gen::agent);
    let t = g.credit_transfer();
    if g.coin() {
        h.ctrl_sum = Amount::control_sum([&t.intr_bk_sttlm_amt]);
    }
    let mut m = Pacs008::new(h, t);
    m.splmtry_data = g.vec(1, Gen::supplementary);
    m
}

impl Gen {
    /// The one transaction of a pacs.008.
    fn credit_transfer(&mut self) -> CreditTransfer {
        let g = self;
        let mut pmt_id = PaymentId::new(g.text(), g.text(), g.text(), g.uetr());
        if g.range(0, 3) == 0 {
            pmt_id.instr_id = None;
            pmt_id.tx_id = None;
            pmt_id.uetr = None;
        }
        pmt_id.clr_sys_ref = g.opt(Gen::text);
        let chrg_br = [
            ChargeBearer::Debt,
            ChargeBearer::Cred,
            ChargeBearer::Shar,
            ChargeBearer::Slev,
        ][g.range(0, 3) as usize];
        let amount = g.amount();
        let mut t = CreditTransfer::new(
            pmt_id,
            amount,
            chrg_br,
            g.party(),
            g.agent(),
            g.agent(),
            g.party(),
        );
        t.pmt_tp_inf = g.opt(Gen::payment_type);
        t.intr_bk_sttlm_dt = g.opt(Gen::date);
        t.sttlm_prty = g.opt(|g| g.pick(SettlementPriority::ALL));
        t.sttlm_tm_indctn = g.opt(Gen::settlement_time_indication);
        t.sttlm_tm_req = g.opt(Gen::settlement_time_request);
        t.accptnc_dt_tm = g.opt(Gen::date_time);
        t.poolg_adjstmnt_dt = g.opt(Gen::date);
        t.instd_amt = g.opt(Gen::amount);
        t.xchg_rate = g.opt(Gen::rate);
        t.chrgs_inf = g.vec(2, |g| Charges {
            amt: g.amount(),
            agt: g.agent(),
        });
        g.agent_chain(&mut t);
        t.ultmt_dbtr = g.opt(Gen::party);
        t.initg_pty = g.opt(Gen::party);
        t.dbtr_acct = g.opt(Gen::account);
        t.dbtr_agt_acct = g.opt(Gen::account);
        t.cdtr_agt_acct = g.opt(Gen::account);
        t.cdtr_acct = g.opt(Gen::account);
        t.ultmt_cdtr = g.opt(Gen::party);
        t.instr_for_cdtr_agt = g.vec(2, Gen::creditor_agent_instruction);
        t.instr_for_nxt_agt = g.vec(2, Gen::next_agent_instruction);
        t.purp = g.opt(Gen::code);
        t.rgltry_rptg = g.vec(2, Gen::regulatory_reporting);
        if g.range(0, 3) == 0 {
            t.tax = Some(g.tax());
        }
        t.rltd_rmt_inf = g.vec(2, Gen::remittance_location);
        t.rmt_inf = g.opt(|g| {
            let mut r = RemittanceInfo::default();
            r.ustrd = g.vec(3, Gen::text);
            r.strd = g.vec(1, Gen::structured_remittance);
            r
        });
        t.splmtry_data = g.vec(1, Gen::supplementary);
        t
    }

    /// The previous instructing, instructing, instructed and intermediary agents of a
    /// pacs.008 transaction, each agent with or without its account.
    fn agent_chain(&mut self, t: &mut CreditTransfer) {
        t.prvs_instg_agt1 = self.opt(Gen::agent);
        t.prvs_instg_agt1_acct = self.opt(Gen::account);
        t.prvs_instg_agt2 = self.opt(Gen::agent);
        t.prvs_instg_agt2_acct = self.opt(Gen::account);
        t.prvs_instg_agt3 = self.opt(Gen::agent);
        t.prvs_instg_agt3_acct = self.opt(Gen::account);
        t.instg_agt = self.opt(Gen::agent);
        t.instd_agt = self.opt(Gen::agent);
        t.intrmy_agt1 = self.opt(Gen::agent);
        t.intrmy_agt1_acct = self.opt(Gen::account);
        t.intrmy_agt2 = self.opt(Gen::agent);
        t.intrmy_agt2_acct = self.opt(Gen::account);
        t.intrmy_agt3 = self.opt(Gen::agent);
        t.intrmy_agt3_acct = self.opt(Gen::account);
    }

    fn creditor_agent_instruction(&mut self) -> InstructionForCreditorAgent {
        InstructionForCreditorAgent {
            cd: self.opt(|g| {
                [
                    CreditorAgentInstruction::Chqb,
                    CreditorAgentInstruction::Hold,
                    CreditorAgentInstruction::Phob,
                    CreditorAgentInstruction::Telb,
                ][g.range(0, 3) as usize]
            }),
            instr_inf: self.opt(Gen::text),
        }
    }

    fn next_agent_instruction(&mut self) -> InstructionForNextAgent {
        InstructionForNextAgent {
            cd: self.opt(|g| {
                if g.coin() {
                    NextAgentInstruction::Phoa
                } else {
                    NextAgentInstruction::Tela
                }
            }),
            instr_inf: self.opt(Gen::text),
        }
    }
}

/// A pacs.002.001.10 with zero to three transaction statuses.
pub fn pacs002(seed: u64) -> Pacs002 {
    let g = &mut Gen::new(seed.wrapping_add(1 << 32));
    let mut h = pacs002::GroupHeader::new(g.text(), g.date_time());
    h.instg_agt = g.opt(Gen::agent);
    h.instd_agt = g.opt(Gen::agent);
    let mut m = Pacs002::new(h);
    m.orgnl_grp_inf_and_sts = g.vec(2, |g| {
        let mut o =
            OriginalGroupStatus::new(g.text(), Max35Text::new(pacs008::MSG_DEF_IDR).expect(GEN));
        o.orgnl_cre_dt_tm = g.opt(Gen::date_time);
        o.grp_sts = g.opt(status);
        o.sts_rsn_inf = g.vec(2, Gen::status_reason);
        o
    });
    m.tx_inf_and_sts = g.vec(3, |g| {
        let mut t = TransactionStatusInfo::default();
        t.sts_id = g.opt(Gen::text);
        t.orgnl_grp_inf = g.opt(|g| OriginalGroupInfo {
            orgnl_msg_id: g.text(),
            orgnl_msg_nm_id: g.text(),
            orgnl_cre_dt_tm: g.opt(Gen::date_time),
        });
        t.orgnl_instr_id = g.opt(Gen::text);
        t.orgnl_end_to_end_id = g.opt(Gen::text);
        t.orgnl_tx_id = g.opt(Gen::text);
        t.orgnl_uetr = g.opt(Gen::uetr);
        t.tx_sts = g.opt(status);
        t.sts_rsn_inf = g.vec(2, Gen::status_reason);
        t.chrgs_inf = g.vec(1, |g| Charges {
            amt: g.amount(),
            agt: g.agent(),
        });
        t.accptnc_dt_tm = g.opt(Gen::date_time);
        t.fctv_intr_bk_sttlm_dt = g.opt(|g| {
            if g.coin() {
                DateOrDateTime::Dt(g.date())
            } else {
                DateOrDateTime::DtTm(g.date_time())
            }
        });
        t.acct_svcr_ref = g.opt(Gen::text);
        t.clr_sys_ref = g.opt(Gen::text);
        t.instg_agt = g.opt(Gen::agent);
        t.instd_agt = g.opt(Gen::agent);
        t.orgnl_tx_ref = g.opt(orgnl_tx_ref);
        t.splmtry_data = g.vec(1, Gen::supplementary);
        t
    });
    m.splmtry_data = g.vec(1, Gen::supplementary);
    m
}

fn status(g: &mut Gen) -> TransactionStatus {
    let known = [
        "ACSP", "ACCC", "ACSC", "RJCT", "PDNG", "ACTC", "ACWC", "XYZ",
    ];
    let code = known[g.range(0, known.len() as u64 - 1) as usize];
    code.parse().unwrap_or(TransactionStatus::Pdng)
}

fn header_party(g: &mut Gen) -> HeaderParty {
    if g.range(0, 3) > 0 {
        HeaderParty::FiId(g.agent())
    } else {
        HeaderParty::OrgId(g.party())
    }
}

/// A head.001.001.02 AppHdr for a message of the given definition.
pub fn app_hdr(seed: u64, msg_def_idr: &str) -> AppHdr {
    let g = &mut Gen::new(seed.wrapping_add(2 << 32));
    let def = Max35Text::new(msg_def_idr).expect(GEN);
    let mut h = AppHdr::new(
        header_party(g),
        header_party(g),
        g.text(),
        def,
        g.date_time(),
    );
    h.char_set = g.opt(Gen::text);
    h.biz_svc = g.opt(|g| {
        if g.coin() {
            Max35Text::new("swift.cbprplus.03").expect(GEN)
        } else {
            g.text()
        }
    });
    h.biz_prcg_dt = g.opt(Gen::date_time);
    h.mkt_prctc = g.opt(|g| crate::head::MarketPractice {
        regy: g.text(),
        id: g.text(),
    });
    h.sgntr = g.opt(|g| {
        let xml = format!(
            "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignatureValue>{}</ds:SignatureValue></ds:Signature>",
            g.range(0, u64::MAX / 2)
        );
        Envelope(RawXml::new(xml).expect(GEN))
    });
    h.cpy_dplct = g.opt(|g| {
        [
            CopyDuplicate::Codu,
            CopyDuplicate::Copy,
            CopyDuplicate::Dupl,
        ][g.range(0, 2) as usize]
    });
    h.pssbl_dplct = g.opt(Gen::coin);
    h.prty = g.opt(Gen::text);
    h.rltd = g.vec(2, |g| {
        let mut r = RelatedHeader::new(
            header_party(g),
            header_party(g),
            g.text(),
            g.text(),
            g.date_time(),
        );
        r.biz_svc = g.opt(Gen::text);
        r.pssbl_dplct = g.opt(Gen::coin);
        r
    });
    h
}

fn agent_or_party(g: &mut Gen) -> PartyOrAgent {
    if g.coin() {
        PartyOrAgent::Agt(g.agent())
    } else {
        PartyOrAgent::Pty(g.party())
    }
}

fn case(g: &mut Gen) -> Case {
    Case {
        id: g.text(),
        cretr: agent_or_party(g),
        reop_case_indctn: g.opt(Gen::coin),
    }
}

fn assignment(g: &mut Gen) -> CaseAssignment {
    CaseAssignment {
        id: g.text(),
        assgnr: agent_or_party(g),
        assgne: agent_or_party(g),
        cre_dt_tm: g.date_time(),
    }
}

fn orgnl_grp_inf(g: &mut Gen) -> OriginalGroupInfo {
    OriginalGroupInfo {
        orgnl_msg_id: g.text(),
        orgnl_msg_nm_id: g.text(),
        orgnl_cre_dt_tm: g.opt(Gen::date_time),
    }
}

fn underlying(g: &mut Gen) -> crate::pacs009::UnderlyingCustomerCreditTransfer {
    let mut u = crate::pacs009::UnderlyingCustomerCreditTransfer::new(
        g.party(),
        g.agent(),
        g.agent(),
        g.party(),
    );
    u.ultmt_dbtr = g.opt(Gen::party);
    u.initg_pty = g.opt(Gen::party);
    u.dbtr_acct = g.opt(Gen::account);
    u.dbtr_agt_acct = g.opt(Gen::account);
    u.prvs_instg_agt1 = g.opt(Gen::agent);
    u.intrmy_agt1 = g.opt(Gen::agent);
    u.intrmy_agt1_acct = g.opt(Gen::account);
    u.cdtr_agt_acct = g.opt(Gen::account);
    u.cdtr_acct = g.opt(Gen::account);
    u.ultmt_cdtr = g.opt(Gen::party);
    u.rmt_inf = g.opt(|g| {
        let mut r = RemittanceInfo::default();
        r.ustrd = g.vec(2, Gen::text);
        r.strd = g.vec(1, Gen::structured_remittance);
        r
    });
    u.instd_amt = g.opt(Gen::amount);
    u
}

/// A pacs.009.001.08; every third seed is a cover payment (with `UndrlygCstmrCdtTrf`).
pub fn pacs009(seed: u64) -> crate::pacs009::Pacs009 {
    use crate::pacs009::{FiCreditTransfer, InstructionForCreditorAgent, Pacs009};
    let g = &mut Gen::new(seed.wrapping_add(3 << 32));
    let mut h = GroupHeader::new(g.text(), g.date_time(), g.settlement());
    h.intr_bk_sttlm_dt = g.opt(Gen::date);
    h.instg_agt = g.opt(Gen::agent);
    h.instd_agt = g.opt(Gen::agent);
    let pmt_id = PaymentId::new(g.text(), g.text(), g.text(), g.uetr());
    let mut t = FiCreditTransfer::new(pmt_id, g.amount(), g.agent(), g.agent());
    t.pmt_tp_inf = g.opt(Gen::payment_type);
    t.intr_bk_sttlm_dt = g.opt(Gen::date);
    t.sttlm_prty = g.opt(|g| g.pick(SettlementPriority::ALL));
    t.sttlm_tm_indctn = g.opt(Gen::settlement_time_indication);
    t.sttlm_tm_req = g.opt(Gen::settlement_time_request);
    t.prvs_instg_agt1 = g.opt(Gen::agent);
    t.instg_agt = g.opt(Gen::agent);
    t.instd_agt = g.opt(Gen::agent);
    t.intrmy_agt1 = g.opt(Gen::agent);
    t.intrmy_agt1_acct = g.opt(Gen::account);
    t.ultmt_dbtr = g.opt(Gen::agent);
    t.dbtr_acct = g.opt(Gen::account);
    t.dbtr_agt = g.opt(Gen::agent);
    t.cdtr_agt = g.opt(Gen::agent);
    t.cdtr_acct = g.opt(Gen::account);
    t.ultmt_cdtr = g.opt(Gen::agent);
    t.instr_for_cdtr_agt = g.vec(2, |g| InstructionForCreditorAgent {
        cd: g.opt(|g| {
            if g.coin() {
                FiCreditorAgentInstruction::Phob
            } else {
                FiCreditorAgentInstruction::Telb
            }
        }),
        instr_inf: g.opt(Gen::text),
    });
    t.purp = g.opt(Gen::code);
    t.rmt_inf = g.opt(|g| {
        let mut r = UnstructuredRemittance::default();
        r.ustrd = g.vec(2, Gen::text);
        r
    });
    if seed % 3 == 0 {
        t.undrlyg_cstmr_cdt_trf = Some(underlying(g));
    }
    t.splmtry_data = g.vec(1, Gen::supplementary);
    Pacs009::new(h, t)
}

/// A pacs.004.001.09 with one to three returned transactions.
pub fn pacs004(seed: u64) -> crate::pacs004::Pacs004 {
    use crate::pacs004::{GroupHeader, OriginalGroupReturn, Pacs004, ReturnTransaction};
    let g = &mut Gen::new(seed.wrapping_add(4 << 32));
    let mut h = GroupHeader::new(g.text(), g.date_time(), g.settlement());
    h.grp_rtr = g.opt(Gen::coin);
    h.ttl_rtrd_intr_bk_sttlm_amt = g.opt(Gen::amount);
    h.intr_bk_sttlm_dt = g.opt(Gen::date);
    h.instg_agt = g.opt(Gen::agent);
    let tx = |g: &mut Gen| {
        let mut t = ReturnTransaction::new(g.amount());
        t.rtr_id = g.opt(Gen::text);
        t.orgnl_grp_inf = g.opt(orgnl_grp_inf);
        t.orgnl_instr_id = g.opt(Gen::text);
        t.orgnl_end_to_end_id = g.opt(Gen::text);
        t.orgnl_tx_id = g.opt(Gen::text);
        t.orgnl_uetr = g.opt(Gen::uetr);
        t.orgnl_intr_bk_sttlm_amt = g.opt(Gen::amount);
        t.orgnl_intr_bk_sttlm_dt = g.opt(Gen::date);
        t.intr_bk_sttlm_dt = g.opt(Gen::date);
        t.sttlm_tm_indctn = g.opt(Gen::settlement_time_indication);
        t.rtrd_instd_amt = g.opt(Gen::amount);
        t.xchg_rate = g.opt(Gen::rate);
        t.compstn_amt = g.opt(Gen::amount);
        t.chrg_br = g.opt(|g| {
            if g.coin() {
                ChargeBearer::Cred
            } else {
                ChargeBearer::Shar
            }
        });
        t.chrgs_inf = g.vec(1, |g| Charges {
            amt: g.amount(),
            agt: g.agent(),
        });
        t.instg_agt = g.opt(Gen::agent);
        t.instd_agt = g.opt(Gen::agent);
        t.rtr_chain = g.opt(|g| {
            let mut c = TransactionParties::new(agent_or_party(g), agent_or_party(g));
            c.ultmt_dbtr = g.opt(agent_or_party);
            c.initg_pty = g.opt(agent_or_party);
            c.dbtr_agt = g.opt(Gen::agent);
            c.prvs_instg_agt1 = g.opt(Gen::agent);
            c.intrmy_agt1 = g.opt(Gen::agent);
            c.intrmy_agt2 = g.opt(Gen::agent);
            c.cdtr_agt = g.opt(Gen::agent);
            c.ultmt_cdtr = g.opt(agent_or_party);
            c
        });
        t.rtr_rsn_inf = g.vec(2, Gen::status_reason);
        t.orgnl_tx_ref = g.opt(orgnl_tx_ref);
        t
    };
    let first = tx(g);
    let mut m = Pacs004::new(h, first);
    let more = g.range(0, 2);
    for _ in 0..more {
        let t = tx(g);
        m.tx_inf.push(t);
    }
    m.orgnl_grp_inf = g.opt(|g| {
        let mut o = OriginalGroupReturn {
            orgnl_msg_id: g.text(),
            orgnl_msg_nm_id: g.text(),
            orgnl_cre_dt_tm: g.opt(Gen::date_time),
            rtr_rsn_inf: Vec::new(),
        };
        o.rtr_rsn_inf = g.vec(1, Gen::status_reason);
        o
    });
    m
}

/// A pacs.028.001.03 status request.
pub fn pacs028(seed: u64) -> crate::pacs028::Pacs028 {
    use crate::pacs028::{OriginalGroupRequest, Pacs028, StatusRequestTransaction};
    let g = &mut Gen::new(seed.wrapping_add(5 << 32));
    let mut h = pacs002::GroupHeader::new(g.text(), g.date_time());
    h.instg_agt = g.opt(Gen::agent);
    h.instd_agt = g.opt(Gen::agent);
    let mut t = StatusRequestTransaction::default();
    t.sts_req_id = g.opt(Gen::text);
    t.orgnl_grp_inf = g.opt(orgnl_grp_inf);
    t.orgnl_instr_id = g.opt(Gen::text);
    t.orgnl_end_to_end_id = g.opt(Gen::text);
    t.orgnl_tx_id = g.opt(Gen::text);
    t.orgnl_uetr = g.opt(Gen::uetr);
    t.accptnc_dt_tm = g.opt(Gen::date_time);
    t.clr_sys_ref = g.opt(Gen::text);
    t.instg_agt = g.opt(Gen::agent);
    t.instd_agt = g.opt(Gen::agent);
    t.orgnl_tx_ref = g.opt(orgnl_tx_ref);
    let mut m = Pacs028::new(h, t);
    m.orgnl_grp_inf = g.vec(2, |g| OriginalGroupRequest {
        orgnl_msg_id: g.text(),
        orgnl_msg_nm_id: g.text(),
        orgnl_cre_dt_tm: g.opt(Gen::date_time),
    });
    m
}

/// A camt.056.001.08 recall.
pub fn camt056(seed: u64) -> crate::camt056::Camt056 {
    use crate::camt056::{Camt056, CancellationTransaction, OriginalGroupCancellation};
    let g = &mut Gen::new(seed.wrapping_add(6 << 32));
    let mut t = CancellationTransaction::default();
    t.cxl_id = g.opt(Gen::text);
    t.case = g.opt(case);
    t.orgnl_grp_inf = g.opt(orgnl_grp_inf);
    t.orgnl_instr_id = g.opt(Gen::text);
    t.orgnl_end_to_end_id = g.opt(Gen::text);
    t.orgnl_tx_id = g.opt(Gen::text);
    t.orgnl_uetr = g.opt(Gen::uetr);
    t.orgnl_clr_sys_ref = g.opt(Gen::text);
    t.orgnl_intr_bk_sttlm_amt = g.opt(Gen::amount);
    t.orgnl_intr_bk_sttlm_dt = g.opt(Gen::date);
    t.assgnr = g.opt(Gen::agent);
    t.assgne = g.opt(Gen::agent);
    t.cxl_rsn_inf = g.vec(2, Gen::status_reason);
    t.orgnl_tx_ref = g.opt(orgnl_tx_ref);
    t.splmtry_data = g.vec(1, Gen::supplementary);
    let mut m = Camt056::new(assignment(g), t);
    m.case = g.opt(case);
    m.undrlyg[0].orgnl_grp_inf_and_cxl = g.opt(|g| OriginalGroupCancellation {
        grp_cxl_id: g.opt(Gen::text),
        case: g.opt(case),
        orgnl_msg_id: g.text(),
        orgnl_msg_nm_id: g.text(),
        orgnl_cre_dt_tm: g.opt(Gen::date_time),
        grp_cxl: g.opt(Gen::coin),
        cxl_rsn_inf: g.vec(1, Gen::status_reason),
    });
    m
}

/// A camt.029.001.09 resolution of investigation.
pub fn camt029(seed: u64) -> crate::camt029::Camt029 {
    use crate::camt029::{
        Camt029, CancellationDetails, CancellationStatusTransaction, InvestigationStatus,
        OriginalGroupCancellationStatus,
    };
    let g = &mut Gen::new(seed.wrapping_add(7 << 32));
    let sts = match g.range(0, 3) {
        0 => InvestigationStatus::Conf(
            Max4Text::new(["CNCL", "RJCR", "PDCR", "IPAY"][g.range(0, 3) as usize]).expect(GEN),
        ),
        1 => InvestigationStatus::RjctdMod((0..g.range(1, 2)).map(|_| g.code()).collect()),
        2 => InvestigationStatus::DplctOf(case(g)),
        _ => InvestigationStatus::AssgnmtCxlConf(g.coin()),
    };
    let mut m = Camt029::new(assignment(g), sts);
    m.rslvd_case = g.opt(case);
    m.cxl_dtls = g.vec(2, |g| {
        let mut d = CancellationDetails::default();
        d.orgnl_grp_inf_and_sts = g.opt(|g| OriginalGroupCancellationStatus {
            orgnl_grp_cxl_id: g.opt(Gen::text),
            rslvd_case: g.opt(case),
            orgnl_msg_id: g.text(),
            orgnl_msg_nm_id: g.text(),
            orgnl_cre_dt_tm: g.opt(Gen::date_time),
            cxl_sts_rsn_inf: g.vec(1, Gen::status_reason),
        });
        d.tx_inf_and_sts = g.vec(2, |g| {
            let mut t = CancellationStatusTransaction::default();
            t.cxl_sts_id = g.opt(Gen::text);
            t.rslvd_case = g.opt(case);
            t.orgnl_grp_inf = g.opt(orgnl_grp_inf);
            t.orgnl_instr_id = g.opt(Gen::text);
            t.orgnl_end_to_end_id = g.opt(Gen::text);
            t.orgnl_tx_id = g.opt(Gen::text);
            t.orgnl_clr_sys_ref = g.opt(Gen::text);
            t.orgnl_uetr = g.opt(Gen::uetr);
            t.tx_cxl_sts = g.opt(|g| {
                [
                    CancellationStatus::Rjcr,
                    CancellationStatus::Accr,
                    CancellationStatus::Pdcr,
                ][g.range(0, 2) as usize]
            });
            t.cxl_sts_rsn_inf = g.vec(2, Gen::status_reason);
            t.orgnl_intr_bk_sttlm_amt = g.opt(Gen::amount);
            t.orgnl_intr_bk_sttlm_dt = g.opt(Gen::date);
            t.assgnr = g.opt(agent_or_party);
            t.assgne = g.opt(agent_or_party);
            t.orgnl_tx_ref = g.opt(orgnl_tx_ref);
            t
        });
        d
    });
    m.splmtry_data = g.vec(1, Gen::supplementary);
    m
}

fn reported_account(g: &mut Gen) -> crate::statement::ReportedAccount {
    let a = g.account();
    let mut r = crate::statement::ReportedAccount::new(a.id);
    r.tp = a.tp;
    r.ccy = a.ccy;
    r.nm = a.nm;
    r.ownr = g.opt(Gen::party);
    r.svcr = g.opt(Gen::agent);
    r
}

fn bank_tx_code(g: &mut Gen) -> crate::statement::BankTransactionCode {
    use crate::statement::*;
    let mut c = BankTransactionCode::default();
    if g.coin() {
        c.domn = Some(BankTransactionDomain {
            cd: Max4Text::new("PMNT").expect(GEN),
            fmly: BankTransactionFamily {
                cd: Max4Text::new(["RCDT", "ICDT", "RRCT"][g.range(0, 2) as usize]).expect(GEN),
                sub_fmly_cd: Max4Text::new(["XBCT", "ESCT", "DMCT"][g.range(0, 2) as usize])
                    .expect(GEN),
            },
        });
    }
    if c.domn.is_none() || g.coin() {
        c.prtry = Some(ProprietaryBankTransactionCode {
            cd: g.text(),
            issr: g.opt(Gen::text),
        });
    }
    c
}

fn date_or_time(g: &mut Gen) -> DateOrDateTime {
    if g.coin() {
        DateOrDateTime::Dt(g.date())
    } else {
        DateOrDateTime::DtTm(g.date_time())
    }
}

fn credit_debit(g: &mut Gen) -> CreditDebit {
    if g.coin() {
        CreditDebit::Crdt
    } else {
        CreditDebit::Dbit
    }
}

/// Digits of an exact decimal: 1 to 15 before the point, up to 17 after it, 18 in all (the
/// `DecimalNumber` facets), often with the 2 decimals of a sum of money.
fn decimal_digits(g: &mut Gen) -> String {
    let int_digits = g.range(1, 15) as usize;
    let frac_digits = match g.range(0, 3) {
        0 => 0,
        1 => g.range(1, 17.min(18 - int_digits) as u64) as usize,
        _ => 2,
    };
    let mut s = g.chars(DIGITS, int_digits);
    if frac_digits > 0 {
        s.push('.');
        s += &g.chars(DIGITS, frac_digits);
    }
    s
}

fn decimal_number(g: &mut Gen) -> DecimalNumber {
    DecimalNumber::new(decimal_digits(g)).expect(GEN)
}

fn entry_count(g: &mut Gen) -> Max15NumericText {
    let len = g.range(1, 15) as usize;
    Max15NumericText::new(g.chars(DIGITS, len)).expect(GEN)
}

fn net_entry(g: &mut Gen) -> crate::statement::AmountAndDirection {
    crate::statement::AmountAndDirection {
        amt: NonNegativeDecimalNumber::new(decimal_digits(g)).expect(GEN),
        cdt_dbt_ind: credit_debit(g),
    }
}

fn number_and_sum(g: &mut Gen) -> crate::statement::NumberAndSum {
    crate::statement::NumberAndSum {
        nb_of_ntries: g.opt(entry_count),
        sum: g.opt(decimal_number),
    }
}

/// A transactions summary with any combination of its totals.
fn transactions_summary(g: &mut Gen) -> crate::statement::TotalTransactions {
    use crate::statement::*;
    let mut t = TotalTransactions::default();
    t.ttl_ntries = g.opt(|g| NumberAndSumWithNet {
        nb_of_ntries: g.opt(entry_count),
        sum: g.opt(decimal_number),
        ttl_net_ntry: g.opt(net_entry),
    });
    t.ttl_cdt_ntries = g.opt(number_and_sum);
    t.ttl_dbt_ntries = g.opt(number_and_sum);
    t.ttl_ntries_per_bk_tx_cd = g.vec(2, |g| {
        let mut c = TotalsPerBankTransactionCode::new(bank_tx_code(g));
        c.nb_of_ntries = g.opt(entry_count);
        c.sum = g.opt(decimal_number);
        c.ttl_net_ntry = g.opt(net_entry);
        c.cdt_ntries = g.opt(number_and_sum);
        c.dbt_ntries = g.opt(number_and_sum);
        c.fcst_ind = g.opt(Gen::coin);
        c.dt = g.opt(date_or_time);
        c
    });
    t
}

/// Codes from ExternalReturnReason1Code.
const RETURN_REASONS: [&str; 12] = [
    "AC01", "AC04", "AC06", "AG01", "AM05", "BE04", "CUST", "FOCR", "MD07", "MS02", "MS03", "NARR",
];

fn return_reason(g: &mut Gen) -> crate::statement::PaymentReturnReason {
    let mut r = crate::statement::PaymentReturnReason::default();
    r.orgnl_bk_tx_cd = g.opt(bank_tx_code);
    r.orgtr = g.opt(Gen::party);
    r.rsn = g.opt(|g| {
        if g.range(0, 3) > 0 {
            let code = RETURN_REASONS[g.range(0, RETURN_REASONS.len() as u64 - 1) as usize];
            CodeOrProprietary::code(code).expect(GEN)
        } else {
            CodeOrProprietary::Prtry(g.text())
        }
    });
    r.addtl_inf = g.vec(2, Gen::text);
    r
}

fn transaction_dates(g: &mut Gen) -> crate::statement::TransactionDates {
    use crate::statement::*;
    let mut d = TransactionDates::default();
    d.accptnc_dt_tm = g.opt(Gen::date_time);
    d.trad_actvty_ctrctl_sttlm_dt = g.opt(Gen::date);
    d.trad_dt = g.opt(Gen::date);
    d.intr_bk_sttlm_dt = g.opt(Gen::date);
    d.start_dt = g.opt(Gen::date);
    d.end_dt = g.opt(Gen::date);
    d.tx_dt_tm = g.opt(Gen::date_time);
    d.prtry = g.vec(2, |g| ProprietaryDate {
        tp: g.text(),
        dt: date_or_time(g),
    });
    d
}

/// An ISIN with a right check digit.
fn isin(g: &mut Gen) -> Isin {
    let body = g.chars(UPPER, 2) + &g.chars(UPPER_DIGIT, 9);
    (0..10)
        .map(|d| Isin::new(format!("{body}{d}")).expect(GEN))
        .find(Isin::checksum_ok)
        .expect("one check digit of ten satisfies the Luhn check")
}

/// Codes from ExternalFinancialInstrumentIdentificationType1Code.
const SECURITY_ID_TYPES: [&str; 6] = ["BLOM", "CUSP", "RICC", "SEDL", "TICK", "VALO"];

fn security_id(g: &mut Gen) -> crate::statement::SecurityIdentification {
    use crate::statement::*;
    let mut s = SecurityIdentification::default();
    s.isin = g.opt(isin);
    s.othr_id = g.vec(2, |g| OtherSecurityId {
        id: g.text(),
        sfx: g.opt(Gen::text),
        tp: if g.coin() {
            let code = SECURITY_ID_TYPES[g.range(0, SECURITY_ID_TYPES.len() as u64 - 1) as usize];
            CodeOrProprietary::code(code).expect(GEN)
        } else {
            CodeOrProprietary::Prtry(g.text())
        },
    });
    s.desc = g.opt(Gen::text);
    s
}

/// One statement entry.
pub fn entry(g: &mut Gen) -> crate::statement::Entry {
    use crate::statement::*;
    let cd = [CreditDebit::Crdt, CreditDebit::Dbit][g.range(0, 1) as usize];
    let sts = CodeOrProprietary::code(["BOOK", "PDNG", "INFO"][g.range(0, 2) as usize]).expect(GEN);
    let mut e = Entry::new(g.amount(), cd, sts, bank_tx_code(g));
    e.ntry_ref = g.opt(Gen::text);
    e.rvsl_ind = g.opt(Gen::coin);
    e.bookg_dt = g.opt(date_or_time);
    e.val_dt = g.opt(date_or_time);
    e.acct_svcr_ref = g.opt(Gen::text);
    e.ntry_dtls = g.vec(1, |g| {
        let mut d = EntryDetails::default();
        d.tx_dtls = g.vec(2, entry_transaction);
        d
    });
    e.addtl_ntry_inf = g.opt(Gen::text);
    if g.range(0, 3) == 0 {
        e.chrgs = Some(entry_charges(g));
    }
    if g.range(0, 3) == 0 {
        e.intrst = Some(entry_interest(g));
    }
    e
}

/// One transaction of a statement entry.
fn entry_transaction(g: &mut Gen) -> crate::statement::EntryTransaction {
    use crate::statement::*;
    let mut t = EntryTransaction::default();
    t.refs = g.opt(|g| {
        let mut r = TransactionRefs::default();
        r.msg_id = g.opt(Gen::text);
        r.acct_svcr_ref = g.opt(Gen::text);
        r.instr_id = g.opt(Gen::text);
        r.end_to_end_id = g.opt(Gen::text);
        r.uetr = g.opt(Gen::uetr);
        r.tx_id = g.opt(Gen::text);
        r.clr_sys_ref = g.opt(Gen::text);
        r
    });
    t.amt = g.opt(Gen::amount);
    t.cdt_dbt_ind = g.opt(|g| {
        if g.coin() {
            CreditDebit::Crdt
        } else {
            CreditDebit::Dbit
        }
    });
    t.bk_tx_cd = g.opt(bank_tx_code);
    t.rltd_pties = g.opt(|g| {
        let mut p = RelatedParties::default();
        p.dbtr = g.opt(agent_or_party);
        p.dbtr_acct = g.opt(Gen::account);
        p.cdtr = g.opt(agent_or_party);
        p.cdtr_acct = g.opt(Gen::account);
        p
    });
    t.rltd_agts = g.opt(|g| {
        let mut a = RelatedAgents::default();
        a.dbtr_agt = g.opt(Gen::agent);
        a.cdtr_agt = g.opt(Gen::agent);
        a
    });
    t.purp = g.opt(Gen::code);
    t.rmt_inf = g.opt(|g| {
        let mut r = RemittanceInfo::default();
        r.ustrd = g.vec(2, Gen::text);
        r.strd = g.vec(1, Gen::structured_remittance);
        r
    });
    t.rltd_dts = g.opt(transaction_dates);
    // Securities transactions are rare on a cash account: about one in eight.
    if g.range(0, 7) == 0 {
        t.fin_instrm_id = Some(security_id(g));
    }
    t.rtr_inf = g.opt(return_reason);
    t.addtl_tx_inf = g.opt(Gen::text);
    // Charges and interest on about one transaction (and entry) in four.
    if g.range(0, 3) == 0 {
        t.chrgs = Some(entry_charges(g));
    }
    if g.range(0, 3) == 0 {
        t.intrst = Some(entry_interest(g));
    }
    t
}

/// Up to three record amounts in one currency, small enough that their sum is an amount too,
/// and that sum: a total CBPR+ accepts (`CBPR.CHRGS.TOTAL`, `CBPR.INTRST.TOTAL`).
fn record_amounts(g: &mut Gen) -> (Vec<Amount>, Amount) {
    let ccy = &iso4217::ALL[g.range(0, iso4217::ALL.len() as u64 - 1) as usize];
    let amounts: Vec<Amount> = g.vec(3, |g| {
        Amount::from_minor(g.range(0, 999_999_999) as i64, ccy).expect(GEN)
    });
    let total = amounts.iter().map(Amount::minor).sum();
    (amounts, Amount::from_minor(total, ccy).expect(GEN))
}

fn percentage(g: &mut Gen) -> PercentageRate {
    let (int_len, frac_len) = (g.range(1, 3) as usize, g.range(1, 8) as usize);
    let int = g.chars(DIGITS, int_len);
    let frac = g.chars(DIGITS, frac_len);
    PercentageRate::new(format!("{int}.{frac}")).expect(GEN)
}

fn tax_charges(g: &mut Gen) -> crate::statement::TaxCharges {
    let mut t = crate::statement::TaxCharges::default();
    t.id = g.opt(Gen::text);
    t.rate = g.opt(percentage);
    t.amt = g.opt(Gen::amount);
    t
}

fn entry_charges(g: &mut Gen) -> crate::statement::EntryCharges {
    use crate::statement::*;
    let (amounts, total) = record_amounts(g);
    let mut c = EntryCharges::default();
    c.ttl_chrgs_and_tax_amt = g.coin().then_some(total);
    c.rcrd = amounts
        .into_iter()
        .map(|amt| {
            let mut r = ChargesRecord::new(amt);
            r.cdt_dbt_ind = g.opt(credit_debit);
            r.chrg_incl_ind = g.opt(Gen::coin);
            r.tp = g.opt(|g| {
                if g.coin() {
                    ChargeType::Cd(g.text())
                } else {
                    ChargeType::Prtry(ProprietaryId {
                        id: g.text(),
                        issr: g.opt(Gen::text),
                    })
                }
            });
            r.rate = g.opt(percentage);
            r.br = g.opt(|g| {
                [
                    ChargeBearer::Debt,
                    ChargeBearer::Cred,
                    ChargeBearer::Shar,
                    ChargeBearer::Slev,
                ][g.range(0, 3) as usize]
            });
            r.agt = g.opt(Gen::agent);
            r.tax = g.opt(tax_charges);
            r
        })
        .collect();
    c
}

fn entry_interest(g: &mut Gen) -> crate::statement::EntryInterest {
    use crate::statement::*;
    let (amounts, total) = record_amounts(g);
    let mut i = EntryInterest::default();
    i.ttl_intrst_and_tax_amt = g.coin().then_some(total);
    i.rcrd = amounts
        .into_iter()
        .map(|amt| {
            let mut r = InterestRecord::new(amt, credit_debit(g));
            r.tp = g.opt(|g| {
                if g.coin() {
                    InterestType::Cd(g.pick(InterestTypeCode::ALL))
                } else {
                    InterestType::Prtry(g.text())
                }
            });
            r.rate = g.opt(|g| {
                InterestRate::new(if g.coin() {
                    RateType::Pctg(percentage(g))
                } else {
                    RateType::Othr(g.text())
                })
            });
            r.fr_to_dt = g.opt(|g| DateTimePeriod {
                fr_dt_tm: g.date_time(),
                to_dt_tm: g.date_time(),
            });
            r.rsn = g.opt(Gen::text);
            r.tax = g.opt(tax_charges);
            r
        })
        .collect();
    i
}

fn report(
    g: &mut Gen,
    kind: crate::statement::ReportKind,
    entries: usize,
) -> crate::statement::AccountReport {
    use crate::statement::*;
    let mut r = AccountReport::new(g.text(), reported_account(g));
    r.pgntn = g.opt(|g| Pagination {
        pg_nb: PageNumber(g.range(1, 99_999) as u32),
        last_pg_ind: g.coin(),
    });
    r.elctrnc_seq_nb = g.opt(|g| g.range(0, 999_999_999_999) as i64);
    r.lgl_seq_nb = g.opt(|g| g.range(0, 999) as i64);
    r.cre_dt_tm = g.opt(Gen::date_time);
    r.fr_to_dt = g.opt(|g| DateTimePeriod {
        fr_dt_tm: g.date_time(),
        to_dt_tm: g.date_time(),
    });
    r.cpy_dplct_ind = g.opt(|g| {
        [
            CopyDuplicate::Codu,
            CopyDuplicate::Copy,
            CopyDuplicate::Dupl,
        ][g.range(0, 2) as usize]
    });
    r.rltd_acct = g.opt(Gen::account);
    let balances = match kind {
        ReportKind::Statement => g.range(1, 3),
        ReportKind::Report => g.range(0, 2),
        ReportKind::Notification => 0,
    };
    for _ in 0..balances {
        let code = ["OPBD", "CLBD", "ITBD", "CLAV"][g.range(0, 3) as usize];
        let cd = if g.coin() {
            CreditDebit::Crdt
        } else {
            CreditDebit::Dbit
        };
        let amt = g.amount();
        let dt = date_or_time(g);
        r.bal.push(Balance::new(code, amt, cd, dt).expect(GEN));
    }
    r.txs_summry = g.opt(transactions_summary);
    r.ntry = (0..entries).map(|_| entry(g)).collect();
    r.addtl_inf = g.opt(Gen::text);
    r
}

fn report_header(g: &mut Gen) -> crate::statement::GroupHeader {
    use crate::statement::*;
    let mut h = GroupHeader::new(g.text(), g.date_time());
    h.msg_rcpt = g.opt(Gen::party);
    h.msg_pgntn = g.opt(|g| Pagination {
        pg_nb: PageNumber(g.range(1, 99) as u32),
        last_pg_ind: g.coin(),
    });
    h.orgnl_biz_qry = g.opt(|g| OriginalBusinessQuery {
        msg_id: g.text(),
        msg_nm_id: g.opt(|g| {
            if g.coin() {
                Max35Text::new("camt.060.001.05").expect(GEN)
            } else {
                g.text()
            }
        }),
        cre_dt_tm: g.opt(Gen::date_time),
    });
    h.addtl_inf = g.opt(Gen::text);
    h
}

/// A camt.053.001.08 statement with one report of `entries` entries.
pub fn camt053(seed: u64, entries: usize) -> crate::statement::Camt053 {
    use crate::statement::*;
    let g = &mut Gen::new(seed.wrapping_add(8 << 32));
    let h = report_header(g);
    Camt053::new(h, report(g, ReportKind::Statement, entries))
}

/// A camt.052.001.08 report with one or two account reports.
pub fn camt052(seed: u64) -> crate::statement::Camt052 {
    use crate::statement::*;
    let g = &mut Gen::new(seed.wrapping_add(9 << 32));
    let h = report_header(g);
    let n = g.range(0, 3) as usize;
    let mut m = Camt052::new(h, report(g, ReportKind::Report, n));
    if g.coin() {
        let n = g.range(0, 2) as usize;
        m.reports.push(report(g, ReportKind::Report, n));
    }
    m
}

/// A camt.054.001.08 notification.
pub fn camt054(seed: u64) -> crate::statement::Camt054 {
    use crate::statement::*;
    let g = &mut Gen::new(seed.wrapping_add(10 << 32));
    let h = report_header(g);
    let n = g.range(0, 3) as usize;
    Camt054::new(h, report(g, ReportKind::Notification, n))
}

/// A pain.001.001.09 with one or two payment instructions.
// Long on purpose: one line per optional element, in schema order, each there or not by seed.
pub fn pain001(seed: u64) -> crate::pain001::Pain001 {
    use crate::pain001::*;
    let g = &mut Gen::new(seed.wrapping_add(11 << 32));
    let mut h = GroupHeader::new(g.text(), g.date_time(), g.party());
    h.authstn = g.vec(2, |g| {
        if g.coin() {
            CodeChoice::Cd(g.pick(Authorisation::ALL))
        } else {
            CodeChoice::Prtry(g.text())
        }
    });
    h.fwdg_agt = g.opt(Gen::agent);
    let transfer = |g: &mut Gen| {
        let amt = if g.range(0, 3) > 0 {
            InstructedAmount::InstdAmt(g.amount())
        } else {
            InstructedAmount::EqvtAmt(EquivalentAmount {
                amt: g.amount(),
                ccy_of_trf: &crate::iso4217::ALL
                    [g.range(0, crate::iso4217::ALL.len() as u64 - 1) as usize],
            })
        };
        let mut t = Transfer::new(g.text(), amt);
        t.pmt_id.instr_id = g.opt(Gen::text);
        t.pmt_id.uetr = g.opt(Gen::uetr);
        t.pmt_tp_inf = g.opt(Gen::initiation_payment_type);
        t.chrg_br = g.opt(|g| {
            [
                ChargeBearer::Debt,
                ChargeBearer::Cred,
                ChargeBearer::Shar,
                ChargeBearer::Slev,
            ][g.range(0, 3) as usize]
        });
        t.xchg_rate_inf = g.opt(|g| {
            let mut x = ExchangeRateInfo::default();
            x.unit_ccy = g.opt(|g| {
                &crate::iso4217::ALL[g.range(0, crate::iso4217::ALL.len() as u64 - 1) as usize]
            });
            x.xchg_rate = g.opt(Gen::rate);
            x.rate_tp = g.opt(|g| {
                [
                    ExchangeRateType::Spot,
                    ExchangeRateType::Sale,
                    ExchangeRateType::Agrd,
                ][g.range(0, 2) as usize]
            });
            x.ctrct_id = g.opt(Gen::text);
            x
        });
        t.ultmt_dbtr = g.opt(Gen::party);
        t.intrmy_agt1 = g.opt(Gen::agent);
        t.intrmy_agt1_acct = g.opt(Gen::account);
        t.intrmy_agt2 = g.opt(Gen::agent);
        t.intrmy_agt2_acct = g.opt(Gen::account);
        t.intrmy_agt3 = g.opt(Gen::agent);
        t.intrmy_agt3_acct = g.opt(Gen::account);
        t.cdtr_agt = g.opt(Gen::agent);
        t.cdtr = g.opt(Gen::party);
        t.cdtr_acct = g.opt(Gen::account);
        t.ultmt_cdtr = g.opt(Gen::party);
        t.instr_for_dbtr_agt = g.opt(Gen::text);
        t.purp = g.opt(Gen::code);
        t.rgltry_rptg = g.vec(2, Gen::regulatory_reporting);
        if g.range(0, 3) == 0 {
            t.tax = Some(g.tax());
        }
        t.rltd_rmt_inf = g.vec(2, Gen::remittance_location);
        t.rmt_inf = g.opt(|g| {
            let mut r = RemittanceInfo::default();
            r.ustrd = g.vec(2, Gen::text);
            r.strd = g.vec(1, Gen::structured_remittance);
            r
        });
        if g.range(0, 3) == 0 {
            t.chq_instr = Some(Box::new(cheque(g)));
        }
        t
    };
    let instruction = |g: &mut Gen| {
        let first = transfer(g);
        let mut p = PaymentInstruction::new(
            g.text(),
            date_or_time(g),
            g.party(),
            g.account(),
            g.agent(),
            first,
        );
        p.pmt_mtd =
            [PaymentMethod::Trf, PaymentMethod::Chk, PaymentMethod::Tra][g.range(0, 2) as usize];
        p.btch_bookg = g.opt(Gen::coin);
        p.pmt_tp_inf = g.opt(Gen::initiation_payment_type);
        p.dbtr_agt_acct = g.opt(Gen::account);
        p.instr_for_dbtr_agt = g.opt(Gen::text);
        p.ultmt_dbtr = g.opt(Gen::party);
        p.chrg_br = g.opt(|g| {
            if g.coin() {
                ChargeBearer::Debt
            } else {
                ChargeBearer::Slev
            }
        });
        p.chrgs_acct = g.opt(Gen::account);
        p.chrgs_acct_agt = g.opt(Gen::agent);
        p.poolg_adjstmnt_dt = g.opt(Gen::date);
        let more = g.range(0, 2);
        for _ in 0..more {
            let t = transfer(g);
            p.cdt_trf_tx_inf.push(t);
        }
        if g.coin() {
            p.ctrl_sum = p.control_sum();
        }
        p
    };
    let first = instruction(g);
    let mut m = Pain001::new(h, first);
    if g.coin() {
        let p = instruction(g);
        m.pmt_inf.push(p);
    }
    if g.coin() {
        m.grp_hdr.ctrl_sum = Amount::control_sum(m.transfers().map(|t| t.amt.amount()));
    }
    m.splmtry_data = g.vec(1, Gen::supplementary);
    m
}

/// A pain.002.001.10 status report.
pub fn pain002(seed: u64) -> crate::pain002::Pain002 {
    use crate::pain002::*;
    let g = &mut Gen::new(seed.wrapping_add(12 << 32));
    let mut h = GroupHeader::new(g.text(), g.date_time());
    h.initg_pty = g.opt(Gen::party);
    h.fwdg_agt = g.opt(Gen::agent);
    h.dbtr_agt = g.opt(Gen::agent);
    h.cdtr_agt = g.opt(Gen::agent);
    let mut o = OriginalGroupStatus::new(
        g.text(),
        Max35Text::new(crate::pain001::MSG_DEF_IDR).expect(GEN),
    );
    o.orgnl_cre_dt_tm = g.opt(Gen::date_time);
    o.grp_sts = g.opt(status);
    o.sts_rsn_inf = g.vec(1, Gen::status_reason);
    let mut m = Pain002::new(h, o);
    m.orgnl_pmt_inf_and_sts = g.vec(2, |g| {
        let mut p = OriginalPaymentInstructionStatus::new(g.text());
        p.pmt_inf_sts = g.opt(status);
        p.sts_rsn_inf = g.vec(1, Gen::status_reason);
        p.tx_inf_and_sts = g.vec(2, |g| {
            let mut t = TransactionStatusInfo::default();
            t.sts_id = g.opt(Gen::text);
            t.orgnl_instr_id = g.opt(Gen::text);
            t.orgnl_end_to_end_id = g.opt(Gen::text);
            t.orgnl_uetr = g.opt(Gen::uetr);
            t.tx_sts = g.opt(status);
            t.sts_rsn_inf = g.vec(2, Gen::status_reason);
            t.chrgs_inf = g.vec(1, |g| Charges {
                amt: g.amount(),
                agt: g.agent(),
            });
            t.accptnc_dt_tm = g.opt(Gen::date_time);
            t.acct_svcr_ref = g.opt(Gen::text);
            t.clr_sys_ref = g.opt(Gen::text);
            t
        });
        p
    });
    m
}

fn orgnl_tx_ref(g: &mut Gen) -> OriginalTransactionRef {
    let mut r = OriginalTransactionRef::default();
    r.intr_bk_sttlm_amt = g.opt(Gen::amount);
    r.amt = g.opt(|g| crate::pain001::InstructedAmount::InstdAmt(g.amount()));
    r.intr_bk_sttlm_dt = g.opt(Gen::date);
    r.reqd_colltn_dt = g.opt(Gen::date);
    r.reqd_exctn_dt = g.opt(date_or_time);
    if g.range(0, 3) == 0 {
        r.cdtr_schme_id = Some(g.party());
    }
    r.sttlm_inf = g.opt(Gen::settlement);
    r.pmt_tp_inf = g.opt(|g| {
        let p = g.payment_type();
        let mut o = OriginalPaymentTypeInfo::default();
        o.instr_prty = p.instr_prty;
        o.clr_chanl = p.clr_chanl;
        o.svc_lvl = p.svc_lvl;
        o.lcl_instrm = p.lcl_instrm;
        o.seq_tp = g.opt(|g| {
            [
                SequenceType::Frst,
                SequenceType::Rcur,
                SequenceType::Fnal,
                SequenceType::Ooff,
                SequenceType::Rpre,
            ][g.range(0, 4) as usize]
        });
        o.ctgy_purp = p.ctgy_purp;
        o
    });
    r.pmt_mtd = g.opt(|g| {
        [
            OriginalPaymentMethod::Chk,
            OriginalPaymentMethod::Trf,
            OriginalPaymentMethod::Dd,
            OriginalPaymentMethod::Tra,
        ][g.range(0, 3) as usize]
    });
    r.rmt_inf = g.opt(|g| {
        let mut i = RemittanceInfo::default();
        i.ustrd = g.vec(2, Gen::text);
        i
    });
    r.ultmt_dbtr = g.opt(agent_or_party);
    r.dbtr = g.opt(agent_or_party);
    r.dbtr_acct = g.opt(Gen::account);
    r.dbtr_agt = g.opt(Gen::agent);
    r.cdtr_agt = g.opt(Gen::agent);
    r.cdtr = g.opt(agent_or_party);
    r.cdtr_acct = g.opt(Gen::account);
    r.ultmt_cdtr = g.opt(agent_or_party);
    r.purp = g.opt(Gen::code);
    if g.range(0, 3) == 0 {
        r.mndt_rltd_inf = Some(Box::new(mandate(g)));
    }
    r
}

fn name_and_address(g: &mut Gen) -> crate::remittance::NameAndAddress {
    crate::remittance::NameAndAddress {
        nm: g.text(),
        adr: g.postal_address(),
    }
}

/// Cheque instructions with any combination of their elements.
fn cheque(g: &mut Gen) -> crate::pain001::Cheque {
    let mut c = crate::pain001::Cheque::default();
    c.chq_tp = g.opt(|g| g.pick(ChequeType::ALL));
    c.chq_nb = g.opt(Gen::text);
    c.chq_fr = g.opt(name_and_address);
    c.dlvry_mtd = g.opt(|g| {
        if g.coin() {
            CodeChoice::Cd(g.pick(ChequeDelivery::ALL))
        } else {
            CodeChoice::Prtry(g.text())
        }
    });
    c.dlvr_to = g.opt(name_and_address);
    c.instr_prty = g.opt(|g| g.pick(Priority::ALL));
    c.chq_mtrty_dt = g.opt(Gen::date);
    c.frms_cd = g.opt(Gen::text);
    c.memo_fld = g.vec(2, Gen::text);
    c.rgnl_clr_zone = g.opt(Gen::text);
    c.prt_lctn = g.opt(Gen::text);
    c.sgntr = g.vec(5, Gen::text);
    c
}

fn exact2(g: &mut Gen) -> Exact2Numeric {
    Exact2Numeric::new(g.chars(DIGITS, 2)).expect(GEN)
}

fn frequency(g: &mut Gen) -> FrequencyChoice {
    match g.range(0, 2) {
        0 => FrequencyChoice::Tp(g.pick(Frequency::ALL)),
        1 => FrequencyChoice::Prd(FrequencyPeriod {
            tp: g.pick(Frequency::ALL),
            cnt_per_prd: decimal_number(g),
        }),
        _ => FrequencyChoice::PtInTm(FrequencyAndMoment {
            tp: g.pick(Frequency::ALL),
            pt_in_tm: exact2(g),
        }),
    }
}

fn mandate_reason(g: &mut Gen) -> MandateSetupReason {
    if g.coin() {
        CodeChoice::Cd(g.text())
    } else {
        CodeChoice::Prtry(g.text())
    }
}

/// Mandate details with any combination of their elements.
fn mandate(g: &mut Gen) -> MandateRelatedInfo {
    let mut m = MandateRelatedInfo::default();
    m.mndt_id = g.opt(Gen::text);
    m.dt_of_sgntr = g.opt(Gen::date);
    m.amdmnt_ind = g.opt(Gen::coin);
    m.amdmnt_inf_dtls = g.opt(|g| {
        let mut a = AmendmentInfo::default();
        a.orgnl_mndt_id = g.opt(Gen::text);
        a.orgnl_cdtr_schme_id = g.opt(Gen::party);
        a.orgnl_cdtr_agt = g.opt(Gen::agent);
        a.orgnl_cdtr_agt_acct = g.opt(Gen::account);
        a.orgnl_dbtr = g.opt(Gen::party);
        a.orgnl_dbtr_acct = g.opt(Gen::account);
        a.orgnl_dbtr_agt = g.opt(Gen::agent);
        a.orgnl_dbtr_agt_acct = g.opt(Gen::account);
        a.orgnl_fnl_colltn_dt = g.opt(Gen::date);
        a.orgnl_frqcy = g.opt(frequency);
        a.orgnl_rsn = g.opt(mandate_reason);
        a.orgnl_trckg_days = g.opt(exact2);
        a
    });
    m.elctrnc_sgntr = g.opt(Gen::text);
    m.frst_colltn_dt = g.opt(Gen::date);
    m.fnl_colltn_dt = g.opt(Gen::date);
    m.frqcy = g.opt(frequency);
    m.rsn = g.opt(mandate_reason);
    m.trckg_days = g.opt(exact2);
    m
}

/// One document of every kind this crate types, for a seed.
pub fn all_documents(seed: u64) -> Vec<crate::message::Document> {
    vec![
        pacs008(seed).into(),
        pacs009(seed).into(),
        pacs002(seed).into(),
        pacs004(seed).into(),
        pacs028(seed).into(),
        camt056(seed).into(),
        camt029(seed).into(),
        camt053(seed, (seed % 4) as usize).into(),
        camt052(seed).into(),
        camt054(seed).into(),
        pain001(seed).into(),
        pain002(seed).into(),
    ]
}

/// A business message: AppHdr + pacs.008 (even seeds) or pacs.002 (odd seeds).
pub fn business_message(seed: u64) -> BusinessMessage {
    if seed % 2 == 0 {
        BusinessMessage::new(app_hdr(seed, pacs008::MSG_DEF_IDR), pacs008(seed))
    } else {
        BusinessMessage::new(app_hdr(seed, pacs002::MSG_DEF_IDR), pacs002(seed))
    }
}
