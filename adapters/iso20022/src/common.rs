//! Components shared by several messages: agents, parties, accounts, addresses, remittance,
//! settlement instructions, status reasons, supplementary data.
//!
//! Field names are the schema's element tags in snake case (`fin_instn_id` is `<FinInstnId>`),
//! so the ISO 20022 message definition reports read directly as documentation for them.
//! Structs are `#[non_exhaustive]` so that elements can be added without breaking callers: build
//! them with their constructor or `Default`, then assign the optional fields.

use crate::amount::Amount;
use crate::error::{Error, InvalidValue, Result};
use crate::iso4217::{self, Currency};
use crate::types::*;
use crate::xml::reader::{FromXml, NodeId, Tree};
use crate::xml::writer::{Out, ToXml};
use crate::xml::xml_struct;

/// A choice between an external code (at most `CD` characters) and a proprietary text, as in
/// `ServiceLevel8Choice`, `AccountSchemeName1Choice`, `StatusReason6Choice`, ...
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq, Hash)]
pub enum CodeOrProprietary<const CD: usize> {
    /// `<Cd>`: a code from an ISO external code list, kept as written.
    Cd(Text<CD>),
    /// `<Prtry>`: a proprietary value.
    Prtry(Max35Text),
}

impl<const CD: usize> CodeOrProprietary<CD> {
    /// A `<Cd>` choice.
    pub fn code(code: &str) -> Result<Self, InvalidValue> {
        Ok(Self::Cd(Text::new(code)?))
    }

    /// The code, if this is the `<Cd>` choice.
    pub fn as_code(&self) -> Option<&str> {
        match self {
            Self::Cd(c) => Some(c.as_str()),
            Self::Prtry(_) => None,
        }
    }
}

/// Reads a choice element: exactly one of the listed children.
pub(crate) fn choice(
    tree: &Tree<'_>,
    id: NodeId,
    names: &[&str],
) -> crate::error::XResult<(NodeId, usize)> {
    tree.node(id).used.set(true);
    let mut found = None;
    for c in tree.children(id) {
        if let Some(i) = names.iter().position(|n| *n == tree.node(c).name) {
            if found.is_some() {
                return Err(Error::Structure {
                    path: tree.path(id),
                    message: format!("choice of {} holds more than one", names.join("/")),
                }
                .into());
            }
            found = Some((c, i));
        }
    }
    found.ok_or_else(|| {
        Box::new(Error::Structure {
            path: tree.path(id),
            message: format!("choice of {} holds none", names.join("/")),
        })
    })
}

impl<const CD: usize> FromXml for CodeOrProprietary<CD> {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
        match choice(tree, id, &["Cd", "Prtry"])? {
            (c, 0) => Ok(Self::Cd(Text::from_xml(tree, c)?)),
            (c, _) => Ok(Self::Prtry(Max35Text::from_xml(tree, c)?)),
        }
    }
}

impl<const CD: usize> ToXml for CodeOrProprietary<CD> {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        match self {
            Self::Cd(c) => out.leaf("Cd", c),
            Self::Prtry(p) => out.leaf("Prtry", p),
        }
        out.end(name);
    }
}

/// A choice between a code from a closed ISO list and a proprietary value, as in
/// `AddressType3Choice`, `ReferredDocumentType3Choice` and `CreditorReferenceType1Choice`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub enum CodeChoice<C, P> {
    /// `<Cd>`.
    Cd(C),
    /// `<Prtry>`.
    Prtry(P),
}

impl<C: FromXml, P: FromXml> FromXml for CodeChoice<C, P> {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
        match choice(tree, id, &["Cd", "Prtry"])? {
            (c, 0) => Ok(Self::Cd(C::from_xml(tree, c)?)),
            (c, _) => Ok(Self::Prtry(P::from_xml(tree, c)?)),
        }
    }
}

impl<C: ToXml, P: ToXml> ToXml for CodeChoice<C, P> {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        match self {
            Self::Cd(c) => c.to_xml(out, "Cd"),
            Self::Prtry(p) => p.to_xml(out, "Prtry"),
        }
        out.end(name);
    }
}

impl FromXml for Amount {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
        tree.node(id).used.set(true);
        let ccy = tree
            .attr(id, "Ccy")?
            .ok_or_else(|| Error::MissingAttribute {
                path: tree.path(id),
                attribute: "Ccy",
            })?;
        let currency = iso4217::lookup(&ccy).ok_or_else(|| {
            tree.invalid(
                id,
                InvalidValue::new("currency", &ccy, "not an active ISO 4217 code"),
            )
        })?;
        Amount::parse(tree.text(id), currency).map_err(|e| tree.invalid(id, e))
    }
}

impl crate::types::Leaf for &'static Currency {
    fn from_text(text: &str) -> Result<Self, InvalidValue> {
        iso4217::lookup_any(text)
            .ok_or_else(|| InvalidValue::new("currency", text, "not an ISO 4217 code"))
    }
    fn write_text(&self, out: &mut String) {
        out.push_str(self.alpha);
    }
}

/// Raw XML kept exactly as written (the content of a SplmtryData `<Envlp>`, a signature).
///
/// The text is the element's markup as it appeared in the input, except that namespace
/// declarations it relied on from outside (its prefixes, or the default namespace, declared on
/// ancestors) are added to its start tag, so that it means the same wherever it is written.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq, Hash)]
pub struct RawXml(String);

/// JSON in: the markup as a string, which must be one element with nothing around it, every
/// prefix declared, and the namespaces it uses declared on its own root (so that it is written
/// into a document and read back unchanged).
impl<'de> serde::Deserialize<'de> for RawXml {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let xml = String::deserialize(deserializer)?;
        RawXml::check_standalone(&xml).map_err(serde::de::Error::custom)?;
        Ok(RawXml(xml))
    }
}

impl RawXml {
    /// Checks that `xml` is one well-formed element (with the crate's default limits) and keeps
    /// it as given.
    pub fn new(xml: impl Into<String>) -> Result<Self> {
        let xml = xml.into();
        Tree::parse(&xml, &crate::Limits::default())?;
        Ok(RawXml(xml))
    }

    /// The markup.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What raw XML from outside the reader (JSON) must be so that it is written into a
    /// document and read back unchanged, as the reader itself keeps raw parts: one element and
    /// nothing around it, every prefix declared, and the namespaces it uses declared on its own
    /// root (the default one included: `xmlns="..."`, or `xmlns=""` for none). Without the last
    /// rule an element would take the namespace of wherever it is written.
    pub(crate) fn check_standalone(xml: &str) -> std::result::Result<(), String> {
        let tree = Tree::parse(xml, &crate::Limits::default()).map_err(|e| e.to_string())?;
        let root = match tree.roots.as_slice() {
            [root] => *root,
            _ => return Err("raw XML must be exactly one element".into()),
        };
        let node = tree.node(root);
        if node.span_start != 0 || node.span_end as usize != xml.len() {
            return Err(
                "raw XML must be one element with nothing before or after it (no declaration, comment or space)"
                    .into(),
            );
        }
        for id in 0..tree.nodes.len() {
            let id = id as NodeId;
            if tree.ns(id).is_none() {
                return Err(format!(
                    "{}: undeclared namespace prefix {:?}",
                    tree.path(id),
                    tree.node(id).prefix
                ));
            }
        }
        if tree.raw_self_contained(root) != xml {
            return Err(format!(
                "<{}> must declare the namespaces used inside it on itself (for unprefixed elements: xmlns=\"...\", or xmlns=\"\" for none)",
                node.name
            ));
        }
        Ok(())
    }
}

xml_struct! {
    /// `SupplementaryData1`: free-form data, kept as raw XML.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct SupplementaryData {
        /// `<PlcAndNm>`: where the data belongs.
        plc_and_nm: opt Max350Text = "PlcAndNm",
        /// `<Envlp>`: the free-form content.
        envlp: req Envelope = "Envlp",
    }
}

/// `SupplementaryDataEnvelope1`: one element of any namespace, kept raw.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Envelope(pub RawXml);

impl FromXml for Envelope {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
        tree.mark_subtree(id);
        let mut children = tree.children(id);
        let (Some(first), None) = (children.next(), children.next()) else {
            return Err(Error::Structure {
                path: tree.path(id),
                message: "an envelope holds exactly one element".into(),
            }
            .into());
        };
        Ok(Envelope(RawXml(tree.raw_self_contained(first))))
    }
}

impl ToXml for Envelope {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        out.raw(self.0.as_str());
        out.end(name);
    }
}

xml_struct! {
    /// `PostalAddress24`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct PostalAddress {
        /// `<AdrTp>`: a type code, or a proprietary type.
        adr_tp: opt AddressType = "AdrTp",
        /// `<Dept>`.
        dept: opt Max70Text = "Dept",
        /// `<SubDept>`.
        sub_dept: opt Max70Text = "SubDept",
        /// `<StrtNm>`.
        strt_nm: opt Max70Text = "StrtNm",
        /// `<BldgNb>`.
        bldg_nb: opt Max16Text = "BldgNb",
        /// `<BldgNm>`.
        bldg_nm: opt Max35Text = "BldgNm",
        /// `<Flr>`.
        flr: opt Max70Text = "Flr",
        /// `<PstBx>`.
        pst_bx: opt Max16Text = "PstBx",
        /// `<Room>`.
        room: opt Max70Text = "Room",
        /// `<PstCd>`.
        pst_cd: opt Max16Text = "PstCd",
        /// `<TwnNm>`.
        twn_nm: opt Max35Text = "TwnNm",
        /// `<TwnLctnNm>`.
        twn_lctn_nm: opt Max35Text = "TwnLctnNm",
        /// `<DstrctNm>`.
        dstrct_nm: opt Max35Text = "DstrctNm",
        /// `<CtrySubDvsn>`.
        ctry_sub_dvsn: opt Max35Text = "CtrySubDvsn",
        /// `<Ctry>`.
        ctry: opt CountryCode = "Ctry",
        /// `<AdrLine>`, at most 7.
        adr_line: many Max70Text = "AdrLine" max 7,
    }
}

/// `AddressType3Choice`.
pub type AddressType = CodeChoice<AddressType2, GenericIdentification30>;

xml_struct! {
    /// `GenericIdentification30`: a proprietary code with its issuer.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct GenericIdentification30 {
        /// `<Id>`.
        id: req Exact4AlphaNumeric = "Id",
        /// `<Issr>`.
        issr: req Max35Text = "Issr",
        /// `<SchmeNm>`.
        schme_nm: opt Max35Text = "SchmeNm",
    }
}

xml_struct! {
    /// `Contact4`: how to reach a party.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct Contact {
        /// `<NmPrfx>`.
        nm_prfx: opt NamePrefix = "NmPrfx",
        /// `<Nm>`.
        nm: opt Max140Text = "Nm",
        /// `<PhneNb>`.
        phne_nb: opt PhoneNumber = "PhneNb",
        /// `<MobNb>`.
        mob_nb: opt PhoneNumber = "MobNb",
        /// `<FaxNb>`.
        fax_nb: opt PhoneNumber = "FaxNb",
        /// `<EmailAdr>`.
        email_adr: opt Max2048Text = "EmailAdr",
        /// `<EmailPurp>`.
        email_purp: opt Max35Text = "EmailPurp",
        /// `<JobTitl>`.
        job_titl: opt Max35Text = "JobTitl",
        /// `<Rspnsblty>`.
        rspnsblty: opt Max35Text = "Rspnsblty",
        /// `<Dept>`.
        dept: opt Max70Text = "Dept",
        /// `<Othr>`: other channels.
        othr: many OtherContact = "Othr",
        /// `<PrefrdMtd>`.
        prefrd_mtd: opt PreferredContactMethod = "PrefrdMtd",
    }
}

xml_struct! {
    /// `OtherContact1`: a contact channel the code list does not name.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct OtherContact {
        /// `<ChanlTp>`.
        chanl_tp: req Max4Text = "ChanlTp",
        /// `<Id>`.
        id: opt Max128Text = "Id",
    }
}

impl FromXml for Box<Contact> {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
        Contact::from_xml(tree, id).map(Box::new)
    }
}

impl ToXml for Box<Contact> {
    fn to_xml(&self, out: &mut Out, name: &str) {
        Contact::to_xml(self, out, name);
    }
}

xml_struct! {
    /// `RegulatoryReporting3`: information a regulator asks to travel with the payment.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct RegulatoryReporting {
        /// `<DbtCdtRptgInd>`.
        dbt_cdt_rptg_ind: opt RegulatoryReportingType = "DbtCdtRptgInd",
        /// `<Authrty>`.
        authrty: opt RegulatoryAuthority = "Authrty",
        /// `<Dtls>`.
        dtls: many StructuredRegulatoryReporting = "Dtls",
    }
}

xml_struct! {
    /// `RegulatoryAuthority2`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct RegulatoryAuthority {
        /// `<Nm>`.
        nm: opt Max140Text = "Nm",
        /// `<Ctry>`.
        ctry: opt CountryCode = "Ctry",
    }
}

xml_struct! {
    /// `StructuredRegulatoryReporting3`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct StructuredRegulatoryReporting {
        /// `<Tp>`.
        tp: opt Max35Text = "Tp",
        /// `<Dt>`.
        dt: opt IsoDate = "Dt",
        /// `<Ctry>`.
        ctry: opt CountryCode = "Ctry",
        /// `<Cd>`.
        cd: opt Max10Text = "Cd",
        /// `<Amt>`.
        amt: opt Amount = "Amt",
        /// `<Inf>`.
        inf: many Max35Text = "Inf",
    }
}

// Postal addresses are boxed where they appear: large (15 fields) and often absent, they would
// otherwise make every party and agent, and so every transaction, several times larger to move.
impl FromXml for Box<PostalAddress> {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
        PostalAddress::from_xml(tree, id).map(Box::new)
    }
}

impl ToXml for Box<PostalAddress> {
    fn to_xml(&self, out: &mut Out, name: &str) {
        PostalAddress::to_xml(self, out, name);
    }
}

impl PostalAddress {
    /// An address with town and country, the CBPR+ structured minimum.
    pub fn town_country(twn_nm: Max35Text, ctry: CountryCode) -> Self {
        PostalAddress {
            twn_nm: Some(twn_nm),
            ctry: Some(ctry),
            ..Default::default()
        }
    }
}

xml_struct! {
    /// `ClearingSystemMemberIdentification2`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct ClearingSystemMemberId {
        /// `<ClrSysId>`: `Cd` from ExternalClearingSystemIdentification1Code (5) or `Prtry`.
        clr_sys_id: opt CodeOrProprietary<5> = "ClrSysId",
        /// `<MmbId>`.
        mmb_id: req Max35Text = "MmbId",
    }
}

xml_struct! {
    /// `GenericFinancialIdentification1`, also the shape of `GenericOrganisationIdentification1`
    /// and `GenericPersonIdentification1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct GenericId {
        /// `<Id>`.
        id: req Max35Text = "Id",
        /// `<SchmeNm>`.
        schme_nm: opt CodeOrProprietary<4> = "SchmeNm",
        /// `<Issr>`.
        issr: opt Max35Text = "Issr",
    }
}

xml_struct! {
    /// `FinancialInstitutionIdentification18`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct FinInstnId {
        /// `<BICFI>`.
        bicfi: opt Bic = "BICFI",
        /// `<ClrSysMmbId>`.
        clr_sys_mmb_id: opt ClearingSystemMemberId = "ClrSysMmbId",
        /// `<LEI>`.
        lei: opt Lei = "LEI",
        /// `<Nm>`.
        nm: opt Max140Text = "Nm",
        /// `<PstlAdr>`.
        pstl_adr: opt Box<PostalAddress> = "PstlAdr",
        /// `<Othr>`.
        othr: opt GenericId = "Othr",
    }
}

xml_struct! {
    /// `BranchData3`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct BranchData {
        /// `<Id>`.
        id: opt Max35Text = "Id",
        /// `<LEI>`.
        lei: opt Lei = "LEI",
        /// `<Nm>`.
        nm: opt Max140Text = "Nm",
        /// `<PstlAdr>`.
        pstl_adr: opt Box<PostalAddress> = "PstlAdr",
    }
}

xml_struct! {
    /// `BranchAndFinancialInstitutionIdentification6`: an agent (a bank).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct Agent {
        /// `<FinInstnId>`.
        fin_instn_id: req FinInstnId = "FinInstnId",
        /// `<BrnchId>`.
        brnch_id: opt BranchData = "BrnchId",
    }
}

impl Agent {
    /// An agent identified by its BIC alone (the CBPR+ norm).
    pub fn bic(bic: Bic) -> Self {
        Agent {
            fin_instn_id: FinInstnId {
                bicfi: Some(bic),
                ..Default::default()
            },
            brnch_id: None,
        }
    }

    /// The agent's BIC, if it has one.
    pub fn bicfi(&self) -> Option<&Bic> {
        self.fin_instn_id.bicfi.as_ref()
    }
}

xml_struct! {
    /// `DateAndPlaceOfBirth1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct DateAndPlaceOfBirth {
        /// `<BirthDt>`.
        birth_dt: req IsoDate = "BirthDt",
        /// `<PrvcOfBirth>`.
        prvc_of_birth: opt Max35Text = "PrvcOfBirth",
        /// `<CityOfBirth>`.
        city_of_birth: req Max35Text = "CityOfBirth",
        /// `<CtryOfBirth>`.
        ctry_of_birth: req CountryCode = "CtryOfBirth",
    }
}

xml_struct! {
    /// `OrganisationIdentification29`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct OrgId {
        /// `<AnyBIC>`.
        any_bic: opt Bic = "AnyBIC",
        /// `<LEI>`.
        lei: opt Lei = "LEI",
        /// `<Othr>`.
        othr: many GenericId = "Othr",
    }
}

xml_struct! {
    /// `PersonIdentification13`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct PrvtId {
        /// `<DtAndPlcOfBirth>`.
        dt_and_plc_of_birth: opt DateAndPlaceOfBirth = "DtAndPlcOfBirth",
        /// `<Othr>`.
        othr: many GenericId = "Othr",
    }
}

/// `Party38Choice`: an organisation or a private person.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub enum PartyId {
    /// `<OrgId>`.
    OrgId(OrgId),
    /// `<PrvtId>`.
    PrvtId(PrvtId),
}

impl FromXml for PartyId {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
        match choice(tree, id, &["OrgId", "PrvtId"])? {
            (c, 0) => Ok(PartyId::OrgId(OrgId::from_xml(tree, c)?)),
            (c, _) => Ok(PartyId::PrvtId(PrvtId::from_xml(tree, c)?)),
        }
    }
}

impl ToXml for PartyId {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        match self {
            PartyId::OrgId(o) => o.to_xml(out, "OrgId"),
            PartyId::PrvtId(p) => p.to_xml(out, "PrvtId"),
        }
        out.end(name);
    }
}

xml_struct! {
    /// `PartyIdentification135`: a debtor, creditor, ultimate party or initiating party.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct Party {
        /// `<Nm>`.
        nm: opt Max140Text = "Nm",
        /// `<PstlAdr>`.
        pstl_adr: opt Box<PostalAddress> = "PstlAdr",
        /// `<Id>`.
        id: opt PartyId = "Id",
        /// `<CtryOfRes>`.
        ctry_of_res: opt CountryCode = "CtryOfRes",
        /// `<CtctDtls>`.
        ctct_dtls: opt Box<Contact> = "CtctDtls",
    }
}

impl Party {
    /// A party known by name only.
    pub fn named(nm: Max140Text) -> Self {
        Party {
            nm: Some(nm),
            ..Default::default()
        }
    }

    /// Sets the organisation LEI (`Id/OrgId/LEI`), keeping other organisation identifiers.
    pub fn set_lei(&mut self, lei: Lei) {
        match &mut self.id {
            Some(PartyId::OrgId(o)) => o.lei = Some(lei),
            _ => {
                self.id = Some(PartyId::OrgId(OrgId {
                    lei: Some(lei),
                    ..Default::default()
                }))
            }
        }
    }

    /// The organisation LEI (`Id/OrgId/LEI`), if any.
    pub fn lei(&self) -> Option<&Lei> {
        match &self.id {
            Some(PartyId::OrgId(o)) => o.lei.as_ref(),
            _ => None,
        }
    }

    /// The organisation BIC (`Id/OrgId/AnyBIC`), if any.
    pub fn any_bic(&self) -> Option<&Bic> {
        match &self.id {
            Some(PartyId::OrgId(o)) => o.any_bic.as_ref(),
            _ => None,
        }
    }
}

xml_struct! {
    /// `GenericAccountIdentification1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct GenericAccountId {
        /// `<Id>`.
        id: req Max34Text = "Id",
        /// `<SchmeNm>`: `Cd` from ExternalAccountIdentification1Code (e.g. `BBAN`) or `Prtry`.
        schme_nm: opt CodeOrProprietary<4> = "SchmeNm",
        /// `<Issr>`.
        issr: opt Max35Text = "Issr",
    }
}

/// `AccountIdentification4Choice`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub enum AccountId {
    /// `<IBAN>`.
    Iban(Iban),
    /// `<Othr>`.
    Othr(GenericAccountId),
}

impl FromXml for AccountId {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
        match choice(tree, id, &["IBAN", "Othr"])? {
            (c, 0) => Ok(AccountId::Iban(Iban::from_xml(tree, c)?)),
            (c, _) => Ok(AccountId::Othr(GenericAccountId::from_xml(tree, c)?)),
        }
    }
}

impl ToXml for AccountId {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        match self {
            AccountId::Iban(i) => out.leaf("IBAN", i),
            AccountId::Othr(o) => o.to_xml(out, "Othr"),
        }
        out.end(name);
    }
}

xml_struct! {
    /// `CashAccount38`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct CashAccount {
        /// `<Id>`.
        id: req AccountId = "Id",
        /// `<Tp>`: `Cd` from ExternalCashAccountType1Code or `Prtry`.
        tp: opt CodeOrProprietary<4> = "Tp",
        /// `<Ccy>`.
        ccy: opt &'static Currency = "Ccy",
        /// `<Nm>`.
        nm: opt Max70Text = "Nm",
        /// `<Prxy>`: a proxy (alias) of the account, such as a phone number or e-mail.
        prxy: opt ProxyAccount = "Prxy",
    }
}

xml_struct! {
    /// `ProxyAccountIdentification1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct ProxyAccount {
        /// `<Tp>`: `Cd` from ExternalProxyAccountType1Code or `Prtry`.
        tp: opt CodeOrProprietary<4> = "Tp",
        /// `<Id>`.
        id: req Max2048Text = "Id",
    }
}

impl CashAccount {
    /// An account identified by IBAN.
    pub fn iban(iban: Iban) -> Self {
        Self::with_id(AccountId::Iban(iban))
    }

    /// An account identified by another scheme (`Othr/Id`, optional `Othr/SchmeNm`).
    pub fn other(id: Max34Text, schme_nm: Option<CodeOrProprietary<4>>) -> Self {
        Self::with_id(AccountId::Othr(GenericAccountId {
            id,
            schme_nm,
            issr: None,
        }))
    }

    /// An account with the given identification and nothing else.
    pub fn with_id(id: AccountId) -> Self {
        CashAccount {
            id,
            tp: None,
            ccy: None,
            nm: None,
            prxy: None,
        }
    }

    /// The IBAN or other identifier, as text.
    pub fn id_str(&self) -> &str {
        match &self.id {
            AccountId::Iban(i) => i.as_str(),
            AccountId::Othr(o) => o.id.as_str(),
        }
    }
}

xml_struct! {
    /// `RemittanceInformation16`: unstructured lines and structured remittance.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct RemittanceInfo {
        /// `<Ustrd>` lines.
        ustrd: many Max140Text = "Ustrd",
        /// `<Strd>`: structured remittance (documents, amounts, creditor reference).
        strd: many crate::remittance::StructuredRemittance = "Strd",
    }
}

xml_struct! {
    /// `RemittanceInformation2`: unstructured lines only (a pacs.009's own remittance, as
    /// opposed to that of the customer transfer it covers).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct UnstructuredRemittance {
        /// `<Ustrd>` lines.
        ustrd: many Max140Text = "Ustrd",
    }
}

impl RemittanceInfo {
    /// One unstructured line.
    pub fn unstructured(line: Max140Text) -> Self {
        RemittanceInfo {
            ustrd: vec![line],
            strd: Vec::new(),
        }
    }
}

xml_struct! {
    /// `SettlementInstruction7` (pacs.008) / `SettlementInstruction7` (pacs.009).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct SettlementInstruction {
        /// `<SttlmMtd>`.
        sttlm_mtd: req SettlementMethod = "SttlmMtd",
        /// `<SttlmAcct>`.
        sttlm_acct: opt CashAccount = "SttlmAcct",
        /// `<ClrSys>`: `Cd` (ExternalCashClearingSystem1Code, 3) or `Prtry`.
        clr_sys: opt CodeOrProprietary<3> = "ClrSys",
        /// `<InstgRmbrsmntAgt>`.
        instg_rmbrsmnt_agt: opt Agent = "InstgRmbrsmntAgt",
        /// `<InstgRmbrsmntAgtAcct>`.
        instg_rmbrsmnt_agt_acct: opt CashAccount = "InstgRmbrsmntAgtAcct",
        /// `<InstdRmbrsmntAgt>`.
        instd_rmbrsmnt_agt: opt Agent = "InstdRmbrsmntAgt",
        /// `<InstdRmbrsmntAgtAcct>`.
        instd_rmbrsmnt_agt_acct: opt CashAccount = "InstdRmbrsmntAgtAcct",
        /// `<ThrdRmbrsmntAgt>`.
        thrd_rmbrsmnt_agt: opt Agent = "ThrdRmbrsmntAgt",
        /// `<ThrdRmbrsmntAgtAcct>`.
        thrd_rmbrsmnt_agt_acct: opt CashAccount = "ThrdRmbrsmntAgtAcct",
    }
}

impl SettlementInstruction {
    /// A settlement instruction with only its method.
    pub fn method(sttlm_mtd: SettlementMethod) -> Self {
        SettlementInstruction {
            sttlm_mtd,
            sttlm_acct: None,
            clr_sys: None,
            instg_rmbrsmnt_agt: None,
            instg_rmbrsmnt_agt_acct: None,
            instd_rmbrsmnt_agt: None,
            instd_rmbrsmnt_agt_acct: None,
            thrd_rmbrsmnt_agt: None,
            thrd_rmbrsmnt_agt_acct: None,
        }
    }
}

xml_struct! {
    /// `PaymentTypeInformation28` (interbank).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct PaymentTypeInfo {
        /// `<InstrPrty>`.
        instr_prty: opt Priority = "InstrPrty",
        /// `<ClrChanl>`.
        clr_chanl: opt ClearingChannel = "ClrChanl",
        /// `<SvcLvl>`: `Cd` from ExternalServiceLevel1Code or `Prtry`.
        svc_lvl: many CodeOrProprietary<4> = "SvcLvl",
        /// `<LclInstrm>`.
        lcl_instrm: opt CodeOrProprietary<35> = "LclInstrm",
        /// `<CtgyPurp>`.
        ctgy_purp: opt CodeOrProprietary<4> = "CtgyPurp",
    }
}

xml_struct! {
    /// `SettlementDateTimeIndication1`: when the debit and the credit took place.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct SettlementTimeIndication {
        /// `<DbtDtTm>`.
        dbt_dt_tm: opt IsoDateTime = "DbtDtTm",
        /// `<CdtDtTm>`.
        cdt_dt_tm: opt IsoDateTime = "CdtDtTm",
    }
}

xml_struct! {
    /// `SettlementTimeRequest2`: times by which, from which or until which to settle.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct SettlementTimeRequest {
        /// `<CLSTm>`: the CLS settlement time.
        cls_tm: opt IsoTime = "CLSTm",
        /// `<TillTm>`.
        till_tm: opt IsoTime = "TillTm",
        /// `<FrTm>`.
        fr_tm: opt IsoTime = "FrTm",
        /// `<RjctTm>`.
        rjct_tm: opt IsoTime = "RjctTm",
    }
}

xml_struct! {
    /// `PaymentTypeInformation27`: the payment type as original transaction references repeat
    /// it (adds the direct debit sequence type).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct OriginalPaymentTypeInfo {
        /// `<InstrPrty>`.
        instr_prty: opt Priority = "InstrPrty",
        /// `<ClrChanl>`.
        clr_chanl: opt ClearingChannel = "ClrChanl",
        /// `<SvcLvl>`: `Cd` from ExternalServiceLevel1Code or `Prtry`.
        svc_lvl: many CodeOrProprietary<4> = "SvcLvl",
        /// `<LclInstrm>`.
        lcl_instrm: opt CodeOrProprietary<35> = "LclInstrm",
        /// `<SeqTp>`.
        seq_tp: opt SequenceType = "SeqTp",
        /// `<CtgyPurp>`.
        ctgy_purp: opt CodeOrProprietary<4> = "CtgyPurp",
    }
}

xml_struct! {
    /// `TransactionParties7`: the parties of a transaction, as a return lists them back
    /// (`RtrChain`).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct TransactionParties {
        /// `<UltmtDbtr>`.
        ultmt_dbtr: opt PartyOrAgent = "UltmtDbtr",
        /// `<Dbtr>`.
        dbtr: req PartyOrAgent = "Dbtr",
        /// `<InitgPty>`.
        initg_pty: opt PartyOrAgent = "InitgPty",
        /// `<DbtrAgt>`.
        dbtr_agt: opt Agent = "DbtrAgt",
        /// `<PrvsInstgAgt1>`.
        prvs_instg_agt1: opt Agent = "PrvsInstgAgt1",
        /// `<PrvsInstgAgt2>`.
        prvs_instg_agt2: opt Agent = "PrvsInstgAgt2",
        /// `<PrvsInstgAgt3>`.
        prvs_instg_agt3: opt Agent = "PrvsInstgAgt3",
        /// `<IntrmyAgt1>`.
        intrmy_agt1: opt Agent = "IntrmyAgt1",
        /// `<IntrmyAgt2>`.
        intrmy_agt2: opt Agent = "IntrmyAgt2",
        /// `<IntrmyAgt3>`.
        intrmy_agt3: opt Agent = "IntrmyAgt3",
        /// `<CdtrAgt>`.
        cdtr_agt: opt Agent = "CdtrAgt",
        /// `<Cdtr>`.
        cdtr: req PartyOrAgent = "Cdtr",
        /// `<UltmtCdtr>`.
        ultmt_cdtr: opt PartyOrAgent = "UltmtCdtr",
    }
}

impl TransactionParties {
    /// The chain with its two required parties.
    pub fn new(dbtr: PartyOrAgent, cdtr: PartyOrAgent) -> Self {
        TransactionParties {
            ultmt_dbtr: None,
            dbtr,
            initg_pty: None,
            dbtr_agt: None,
            prvs_instg_agt1: None,
            prvs_instg_agt2: None,
            prvs_instg_agt3: None,
            intrmy_agt1: None,
            intrmy_agt2: None,
            intrmy_agt3: None,
            cdtr_agt: None,
            cdtr,
            ultmt_cdtr: None,
        }
    }
}

xml_struct! {
    /// `PaymentTypeInformation26`: the payment type a customer gives in an initiation (no
    /// clearing channel).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct InitiationPaymentTypeInfo {
        /// `<InstrPrty>`.
        instr_prty: opt Priority = "InstrPrty",
        /// `<SvcLvl>`: `Cd` from ExternalServiceLevel1Code or `Prtry`.
        svc_lvl: many CodeOrProprietary<4> = "SvcLvl",
        /// `<LclInstrm>`.
        lcl_instrm: opt CodeOrProprietary<35> = "LclInstrm",
        /// `<CtgyPurp>`.
        ctgy_purp: opt CodeOrProprietary<4> = "CtgyPurp",
    }
}

xml_struct! {
    /// `Charges7`: an amount of charges taken by an agent.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct Charges {
        /// `<Amt>`.
        amt: req Amount = "Amt",
        /// `<Agt>`.
        agt: req Agent = "Agt",
    }
}

xml_struct! {
    /// `StatusReasonInformation12`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct StatusReason {
        /// `<Orgtr>`: who gave the status.
        orgtr: opt Party = "Orgtr",
        /// `<Rsn>`: `Cd` from ExternalStatusReason1Code (e.g. `AC01`, `AM04`, `NARR`), kept as
        /// written, or `Prtry`.
        rsn: opt CodeOrProprietary<4> = "Rsn",
        /// `<AddtlInf>` lines.
        addtl_inf: many Max105Text = "AddtlInf",
    }
}

impl StatusReason {
    /// A reason given by its code.
    pub fn code(code: &str) -> Result<Self, InvalidValue> {
        Ok(StatusReason {
            rsn: Some(CodeOrProprietary::code(code)?),
            ..Default::default()
        })
    }

    /// The reason code, if given as `<Cd>`.
    pub fn reason_code(&self) -> Option<&str> {
        self.rsn.as_ref().and_then(|r| r.as_code())
    }
}

/// `DateAndDateTime2Choice`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub enum DateOrDateTime {
    /// `<Dt>`.
    Dt(IsoDate),
    /// `<DtTm>`.
    DtTm(IsoDateTime),
}

impl FromXml for DateOrDateTime {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
        match choice(tree, id, &["Dt", "DtTm"])? {
            (c, 0) => Ok(DateOrDateTime::Dt(IsoDate::from_xml(tree, c)?)),
            (c, _) => Ok(DateOrDateTime::DtTm(IsoDateTime::from_xml(tree, c)?)),
        }
    }
}

impl ToXml for DateOrDateTime {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        match self {
            DateOrDateTime::Dt(d) => out.leaf("Dt", d),
            DateOrDateTime::DtTm(d) => out.leaf("DtTm", d),
        }
        out.end(name);
    }
}

/// Reads `NbOfTxs` and checks it against the number of transactions found.
pub(crate) fn check_nb_of_txs(
    tree: &Tree<'_>,
    id: NodeId,
    found: usize,
) -> crate::error::XResult<()> {
    let text = tree.text(id);
    let valid = !text.is_empty() && text.len() <= 15 && text.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(tree.invalid(
            id,
            InvalidValue::new("Max15NumericText", text, "1 to 15 digits"),
        ));
    }
    if text.parse::<usize>().ok() != Some(found) {
        return Err(tree.invalid(
            id,
            InvalidValue::new(
                "NbOfTxs",
                text,
                format!("the message holds {found} transaction(s)"),
            ),
        ));
    }
    Ok(())
}

/// `Party40Choice`: a party or an agent.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub enum PartyOrAgent {
    /// `<Pty>`.
    Pty(Party),
    /// `<Agt>`.
    Agt(Agent),
}

impl FromXml for PartyOrAgent {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
        match choice(tree, id, &["Pty", "Agt"])? {
            (c, 0) => Ok(PartyOrAgent::Pty(Party::from_xml(tree, c)?)),
            (c, _) => Ok(PartyOrAgent::Agt(Agent::from_xml(tree, c)?)),
        }
    }
}

impl ToXml for PartyOrAgent {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        match self {
            PartyOrAgent::Pty(p) => p.to_xml(out, "Pty"),
            PartyOrAgent::Agt(a) => a.to_xml(out, "Agt"),
        }
        out.end(name);
    }
}

xml_struct! {
    /// `Case5`: an investigation case.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct Case {
        /// `<Id>`.
        id: req Max35Text = "Id",
        /// `<Cretr>`: who created the case.
        cretr: req PartyOrAgent = "Cretr",
        /// `<ReopCaseIndctn>`.
        reop_case_indctn: opt bool = "ReopCaseIndctn",
    }
}

xml_struct! {
    /// `CaseAssignment5`: who assigns an investigation to whom (camt.056, camt.029).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct CaseAssignment {
        /// `<Id>`: the assignment identification (the message's own reference).
        id: req Max35Text = "Id",
        /// `<Assgnr>`.
        assgnr: req PartyOrAgent = "Assgnr",
        /// `<Assgne>`.
        assgne: req PartyOrAgent = "Assgne",
        /// `<CreDtTm>`.
        cre_dt_tm: req IsoDateTime = "CreDtTm",
    }
}

xml_struct! {
    /// `OriginalGroupInformation29`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct OriginalGroupInfo {
        /// `<OrgnlMsgId>`.
        orgnl_msg_id: req Max35Text = "OrgnlMsgId",
        /// `<OrgnlMsgNmId>`.
        orgnl_msg_nm_id: req Max35Text = "OrgnlMsgNmId",
        /// `<OrgnlCreDtTm>`.
        orgnl_cre_dt_tm: opt IsoDateTime = "OrgnlCreDtTm",
    }
}

/// Implements [`crate::message::Message`] for a message type whose `read`, `write` and
/// `msg_id` are inherent methods.
macro_rules! message_impl {
    ($ty:ty, $msg_id:expr) => {
        impl crate::message::Message for $ty {
            const NAMESPACE: &'static str = NAMESPACE;
            const ROOT: &'static str = ROOT;
            fn read(
                tree: &crate::xml::reader::Tree<'_>,
                id: crate::xml::reader::NodeId,
            ) -> crate::error::XResult<Self> {
                <$ty as crate::xml::reader::FromXml>::from_xml(tree, id)
            }
            fn write(&self, out: &mut crate::xml::writer::Out) {
                crate::xml::writer::ToXml::to_xml(self, out, ROOT)
            }
            fn msg_id(&self) -> Option<&str> {
                let f: fn(&$ty) -> Option<&str> = $msg_id;
                f(self)
            }
        }
    };
}
pub(crate) use message_impl;

xml_struct! {
    /// `OriginalTransactionReference28`: key elements of the original transaction, as a status
    /// report, return, status request, recall or resolution repeats them.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct OriginalTransactionRef {
        /// `<IntrBkSttlmAmt>`.
        intr_bk_sttlm_amt: opt Amount = "IntrBkSttlmAmt",
        /// `<Amt>`.
        amt: opt crate::pain001::InstructedAmount = "Amt",
        /// `<IntrBkSttlmDt>`.
        intr_bk_sttlm_dt: opt IsoDate = "IntrBkSttlmDt",
        /// `<ReqdColltnDt>`.
        reqd_colltn_dt: opt IsoDate = "ReqdColltnDt",
        /// `<ReqdExctnDt>`.
        reqd_exctn_dt: opt DateOrDateTime = "ReqdExctnDt",
        /// `<CdtrSchmeId>`: the creditor's scheme identification (direct debits).
        cdtr_schme_id: opt Party = "CdtrSchmeId",
        /// `<SttlmInf>`.
        sttlm_inf: opt SettlementInstruction = "SttlmInf",
        /// `<PmtTpInf>`.
        pmt_tp_inf: opt OriginalPaymentTypeInfo = "PmtTpInf",
        /// `<PmtMtd>`.
        pmt_mtd: opt OriginalPaymentMethod = "PmtMtd",
        /// `<MndtRltdInf>`: the mandate of a direct debit.
        mndt_rltd_inf: opt Box<MandateRelatedInfo> = "MndtRltdInf",
        /// `<RmtInf>`.
        rmt_inf: opt RemittanceInfo = "RmtInf",
        /// `<UltmtDbtr>`.
        ultmt_dbtr: opt PartyOrAgent = "UltmtDbtr",
        /// `<Dbtr>`.
        dbtr: opt PartyOrAgent = "Dbtr",
        /// `<DbtrAcct>`.
        dbtr_acct: opt CashAccount = "DbtrAcct",
        /// `<DbtrAgt>`.
        dbtr_agt: opt Agent = "DbtrAgt",
        /// `<DbtrAgtAcct>`.
        dbtr_agt_acct: opt CashAccount = "DbtrAgtAcct",
        /// `<CdtrAgt>`.
        cdtr_agt: opt Agent = "CdtrAgt",
        /// `<CdtrAgtAcct>`.
        cdtr_agt_acct: opt CashAccount = "CdtrAgtAcct",
        /// `<Cdtr>`.
        cdtr: opt PartyOrAgent = "Cdtr",
        /// `<CdtrAcct>`.
        cdtr_acct: opt CashAccount = "CdtrAcct",
        /// `<UltmtCdtr>`.
        ultmt_cdtr: opt PartyOrAgent = "UltmtCdtr",
        /// `<Purp>`.
        purp: opt CodeOrProprietary<4> = "Purp",
    }
}

/// `MandateSetupReason1Choice`: `Cd` from ExternalMandateSetupReason1Code, kept as written, or
/// a proprietary reason (up to 70 characters).
pub type MandateSetupReason = CodeChoice<Text<4>, Max70Text>;

xml_struct! {
    /// `FrequencyPeriod1`: a number of times per period.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct FrequencyPeriod {
        /// `<Tp>`: the period.
        tp: req Frequency = "Tp",
        /// `<CntPerPrd>`: how many times in it, kept as written.
        cnt_per_prd: req DecimalNumber = "CntPerPrd",
    }
}

xml_struct! {
    /// `FrequencyAndMoment1`: a period and the point in it.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct FrequencyAndMoment {
        /// `<Tp>`: the period.
        tp: req Frequency = "Tp",
        /// `<PtInTm>`: the day (or other point) in it.
        pt_in_tm: req Exact2Numeric = "PtInTm",
    }
}

/// `Frequency36Choice`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub enum FrequencyChoice {
    /// `<Tp>`.
    Tp(Frequency),
    /// `<Prd>`.
    Prd(FrequencyPeriod),
    /// `<PtInTm>`.
    PtInTm(FrequencyAndMoment),
}

impl FromXml for FrequencyChoice {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
        match choice(tree, id, &["Tp", "Prd", "PtInTm"])? {
            (c, 0) => Ok(FrequencyChoice::Tp(Frequency::from_xml(tree, c)?)),
            (c, 1) => Ok(FrequencyChoice::Prd(FrequencyPeriod::from_xml(tree, c)?)),
            (c, _) => Ok(FrequencyChoice::PtInTm(FrequencyAndMoment::from_xml(
                tree, c,
            )?)),
        }
    }
}

impl ToXml for FrequencyChoice {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        match self {
            FrequencyChoice::Tp(t) => out.leaf("Tp", t),
            FrequencyChoice::Prd(p) => p.to_xml(out, "Prd"),
            FrequencyChoice::PtInTm(p) => p.to_xml(out, "PtInTm"),
        }
        out.end(name);
    }
}

xml_struct! {
    /// `AmendmentInformationDetails13`: what a mandate was before its amendment.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct AmendmentInfo {
        /// `<OrgnlMndtId>`.
        orgnl_mndt_id: opt Max35Text = "OrgnlMndtId",
        /// `<OrgnlCdtrSchmeId>`.
        orgnl_cdtr_schme_id: opt Party = "OrgnlCdtrSchmeId",
        /// `<OrgnlCdtrAgt>`.
        orgnl_cdtr_agt: opt Agent = "OrgnlCdtrAgt",
        /// `<OrgnlCdtrAgtAcct>`.
        orgnl_cdtr_agt_acct: opt CashAccount = "OrgnlCdtrAgtAcct",
        /// `<OrgnlDbtr>`.
        orgnl_dbtr: opt Party = "OrgnlDbtr",
        /// `<OrgnlDbtrAcct>`.
        orgnl_dbtr_acct: opt CashAccount = "OrgnlDbtrAcct",
        /// `<OrgnlDbtrAgt>`.
        orgnl_dbtr_agt: opt Agent = "OrgnlDbtrAgt",
        /// `<OrgnlDbtrAgtAcct>`.
        orgnl_dbtr_agt_acct: opt CashAccount = "OrgnlDbtrAgtAcct",
        /// `<OrgnlFnlColltnDt>`.
        orgnl_fnl_colltn_dt: opt IsoDate = "OrgnlFnlColltnDt",
        /// `<OrgnlFrqcy>`.
        orgnl_frqcy: opt FrequencyChoice = "OrgnlFrqcy",
        /// `<OrgnlRsn>`.
        orgnl_rsn: opt MandateSetupReason = "OrgnlRsn",
        /// `<OrgnlTrckgDays>`.
        orgnl_trckg_days: opt Exact2Numeric = "OrgnlTrckgDays",
    }
}

xml_struct! {
    /// `MandateRelatedInformation14`: the direct debit mandate an original transaction ran
    /// under.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct MandateRelatedInfo {
        /// `<MndtId>`.
        mndt_id: opt Max35Text = "MndtId",
        /// `<DtOfSgntr>`.
        dt_of_sgntr: opt IsoDate = "DtOfSgntr",
        /// `<AmdmntInd>`: whether the mandate was amended.
        amdmnt_ind: opt bool = "AmdmntInd",
        /// `<AmdmntInfDtls>`.
        amdmnt_inf_dtls: opt AmendmentInfo = "AmdmntInfDtls",
        /// `<ElctrncSgntr>`.
        elctrnc_sgntr: opt Max1025Text = "ElctrncSgntr",
        /// `<FrstColltnDt>`.
        frst_colltn_dt: opt IsoDate = "FrstColltnDt",
        /// `<FnlColltnDt>`.
        fnl_colltn_dt: opt IsoDate = "FnlColltnDt",
        /// `<Frqcy>`.
        frqcy: opt FrequencyChoice = "Frqcy",
        /// `<Rsn>`.
        rsn: opt MandateSetupReason = "Rsn",
        /// `<TrckgDays>`.
        trckg_days: opt Exact2Numeric = "TrckgDays",
    }
}

// Mandate details are rare outside direct debits and hold two parties, two agents and three
// accounts: boxed, so that an original transaction reference without them stays small to move.
impl FromXml for Box<MandateRelatedInfo> {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
        MandateRelatedInfo::from_xml(tree, id).map(Box::new)
    }
}

impl ToXml for Box<MandateRelatedInfo> {
    fn to_xml(&self, out: &mut Out, name: &str) {
        MandateRelatedInfo::to_xml(self, out, name);
    }
}
