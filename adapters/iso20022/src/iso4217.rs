//! The ISO 4217 currency table: every active code of ISO 4217 List One, with its numeric code,
//! its minor-unit exponent and its name.
//!
//! The table is a snapshot of List One as in force in 2026: it includes the codes introduced
//! recently (SLE 2022, VED 2021, ZWG 2024, XCG 2025) and leaves out the codes withdrawn by then
//! (HRK, SLL, ZWL, ANG, BGN, CUC, ...). A code missing here is refused, never guessed.
//!
//! ## Codes without minor units
//!
//! Funds, precious metals and the testing / no-currency codes (XAU, XAG, XPD, XPT, XBA..XBD, XDR,
//! XSU, XUA, XTS, XXX) have "N.A." as minor unit in ISO 4217. [`Currency::minor_units`] keeps
//! that fact as `None`. For amounts, [`Currency::exponent`] gives such codes
//! [`NO_MINOR_UNIT_EXPONENT`] = 5, the most fraction digits the ISO 20022 amount types can carry
//! (`fractionDigits="5"`): every amount a valid document can hold in these codes is read exactly,
//! and none is rounded. Rendering always writes those 5 digits (`"1.50000"` XAU).

use std::fmt;

/// One ISO 4217 currency.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Currency {
    /// Alphabetic code, three capital letters (`"EUR"`).
    pub alpha: &'static str,
    /// Numeric code (`978` for EUR); printed with three digits on the wire (`"008"`).
    pub numeric: u16,
    /// Minor-unit exponent from ISO 4217 (`Some(2)` for EUR, `Some(0)` for JPY, `None` for
    /// "N.A." codes such as XAU).
    pub minor_units: Option<u8>,
    /// The currency's name as ISO 4217 lists it.
    pub name: &'static str,
}

/// Exponent used for amounts in currencies whose ISO 4217 minor unit is "N.A." (see the module
/// documentation for why 5).
pub const NO_MINOR_UNIT_EXPONENT: u8 = 5;

impl Currency {
    /// Number of decimal digits an amount in this currency has: the minor-unit exponent, or
    /// [`NO_MINOR_UNIT_EXPONENT`] for "N.A." codes.
    pub const fn exponent(&self) -> u8 {
        match self.minor_units {
            Some(e) => e,
            None => NO_MINOR_UNIT_EXPONENT,
        }
    }

    /// Whether the code is in the active list ([`ALL`]), as opposed to [`HISTORIC`].
    pub fn is_active(&self) -> bool {
        lookup(self.alpha).is_some_and(|c| std::ptr::eq(c, self))
    }

    /// The numeric code as written on the wire: three digits, zero-padded (`"008"`).
    pub fn numeric_str(&self) -> String {
        format!("{:03}", self.numeric)
    }
}

/// JSON form: the alphabetic code.
impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.alpha)
    }
}

/// JSON in: the alphabetic code of an active or historic currency (as the XML reader reads a
/// `Ccy` element), as the table's own entry.
impl<'de> serde::Deserialize<'de> for &'static Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::de::from_str(deserializer, "an ISO 4217 currency code string", |s| {
            lookup_any(s).ok_or_else(|| {
                crate::error::InvalidValue::new("currency", s, "not an ISO 4217 code")
            })
        })
    }
}

/// JSON in: as `&'static Currency`, copied out of the table.
impl<'de> serde::Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let c = <&'static Currency>::deserialize(deserializer)?;
        Ok(Currency {
            alpha: c.alpha,
            numeric: c.numeric,
            minor_units: c.minor_units,
            name: c.name,
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.alpha)
    }
}

const fn c(
    alpha: &'static str,
    numeric: u16,
    minor_units: Option<u8>,
    name: &'static str,
) -> Currency {
    Currency {
        alpha,
        numeric,
        minor_units,
        name,
    }
}

/// Every active currency, sorted by alphabetic code.
pub static ALL: &[Currency] = &[
    c("AED", 784, Some(2), "UAE Dirham"),
    c("AFN", 971, Some(2), "Afghani"),
    c("ALL", 8, Some(2), "Lek"),
    c("AMD", 51, Some(2), "Armenian Dram"),
    c("AOA", 973, Some(2), "Kwanza"),
    c("ARS", 32, Some(2), "Argentine Peso"),
    c("AUD", 36, Some(2), "Australian Dollar"),
    c("AWG", 533, Some(2), "Aruban Florin"),
    c("AZN", 944, Some(2), "Azerbaijan Manat"),
    c("BAM", 977, Some(2), "Convertible Mark"),
    c("BBD", 52, Some(2), "Barbados Dollar"),
    c("BDT", 50, Some(2), "Taka"),
    c("BHD", 48, Some(3), "Bahraini Dinar"),
    c("BIF", 108, Some(0), "Burundi Franc"),
    c("BMD", 60, Some(2), "Bermudian Dollar"),
    c("BND", 96, Some(2), "Brunei Dollar"),
    c("BOB", 68, Some(2), "Boliviano"),
    c("BOV", 984, Some(2), "Mvdol"),
    c("BRL", 986, Some(2), "Brazilian Real"),
    c("BSD", 44, Some(2), "Bahamian Dollar"),
    c("BTN", 64, Some(2), "Ngultrum"),
    c("BWP", 72, Some(2), "Pula"),
    c("BYN", 933, Some(2), "Belarusian Ruble"),
    c("BZD", 84, Some(2), "Belize Dollar"),
    c("CAD", 124, Some(2), "Canadian Dollar"),
    c("CDF", 976, Some(2), "Congolese Franc"),
    c("CHE", 947, Some(2), "WIR Euro"),
    c("CHF", 756, Some(2), "Swiss Franc"),
    c("CHW", 948, Some(2), "WIR Franc"),
    c("CLF", 990, Some(4), "Unidad de Fomento"),
    c("CLP", 152, Some(0), "Chilean Peso"),
    c("CNY", 156, Some(2), "Yuan Renminbi"),
    c("COP", 170, Some(2), "Colombian Peso"),
    c("COU", 970, Some(2), "Unidad de Valor Real"),
    c("CRC", 188, Some(2), "Costa Rican Colon"),
    c("CUP", 192, Some(2), "Cuban Peso"),
    c("CVE", 132, Some(2), "Cabo Verde Escudo"),
    c("CZK", 203, Some(2), "Czech Koruna"),
    c("DJF", 262, Some(0), "Djibouti Franc"),
    c("DKK", 208, Some(2), "Danish Krone"),
    c("DOP", 214, Some(2), "Dominican Peso"),
    c("DZD", 12, Some(2), "Algerian Dinar"),
    c("EGP", 818, Some(2), "Egyptian Pound"),
    c("ERN", 232, Some(2), "Nakfa"),
    c("ETB", 230, Some(2), "Ethiopian Birr"),
    c("EUR", 978, Some(2), "Euro"),
    c("FJD", 242, Some(2), "Fiji Dollar"),
    c("FKP", 238, Some(2), "Falkland Islands Pound"),
    c("GBP", 826, Some(2), "Pound Sterling"),
    c("GEL", 981, Some(2), "Lari"),
    c("GHS", 936, Some(2), "Ghana Cedi"),
    c("GIP", 292, Some(2), "Gibraltar Pound"),
    c("GMD", 270, Some(2), "Dalasi"),
    c("GNF", 324, Some(0), "Guinean Franc"),
    c("GTQ", 320, Some(2), "Quetzal"),
    c("GYD", 328, Some(2), "Guyana Dollar"),
    c("HKD", 344, Some(2), "Hong Kong Dollar"),
    c("HNL", 340, Some(2), "Lempira"),
    c("HTG", 332, Some(2), "Gourde"),
    c("HUF", 348, Some(2), "Forint"),
    c("IDR", 360, Some(2), "Rupiah"),
    c("ILS", 376, Some(2), "New Israeli Sheqel"),
    c("INR", 356, Some(2), "Indian Rupee"),
    c("IQD", 368, Some(3), "Iraqi Dinar"),
    c("IRR", 364, Some(2), "Iranian Rial"),
    c("ISK", 352, Some(0), "Iceland Krona"),
    c("JMD", 388, Some(2), "Jamaican Dollar"),
    c("JOD", 400, Some(3), "Jordanian Dinar"),
    c("JPY", 392, Some(0), "Yen"),
    c("KES", 404, Some(2), "Kenyan Shilling"),
    c("KGS", 417, Some(2), "Som"),
    c("KHR", 116, Some(2), "Riel"),
    c("KMF", 174, Some(0), "Comorian Franc"),
    c("KPW", 408, Some(2), "North Korean Won"),
    c("KRW", 410, Some(0), "Won"),
    c("KWD", 414, Some(3), "Kuwaiti Dinar"),
    c("KYD", 136, Some(2), "Cayman Islands Dollar"),
    c("KZT", 398, Some(2), "Tenge"),
    c("LAK", 418, Some(2), "Lao Kip"),
    c("LBP", 422, Some(2), "Lebanese Pound"),
    c("LKR", 144, Some(2), "Sri Lanka Rupee"),
    c("LRD", 430, Some(2), "Liberian Dollar"),
    c("LSL", 426, Some(2), "Loti"),
    c("LYD", 434, Some(3), "Libyan Dinar"),
    c("MAD", 504, Some(2), "Moroccan Dirham"),
    c("MDL", 498, Some(2), "Moldovan Leu"),
    c("MGA", 969, Some(2), "Malagasy Ariary"),
    c("MKD", 807, Some(2), "Denar"),
    c("MMK", 104, Some(2), "Kyat"),
    c("MNT", 496, Some(2), "Tugrik"),
    c("MOP", 446, Some(2), "Pataca"),
    c("MRU", 929, Some(2), "Ouguiya"),
    c("MUR", 480, Some(2), "Mauritius Rupee"),
    c("MVR", 462, Some(2), "Rufiyaa"),
    c("MWK", 454, Some(2), "Malawi Kwacha"),
    c("MXN", 484, Some(2), "Mexican Peso"),
    c("MXV", 979, Some(2), "Mexican Unidad de Inversion (UDI)"),
    c("MYR", 458, Some(2), "Malaysian Ringgit"),
    c("MZN", 943, Some(2), "Mozambique Metical"),
    c("NAD", 516, Some(2), "Namibia Dollar"),
    c("NGN", 566, Some(2), "Naira"),
    c("NIO", 558, Some(2), "Cordoba Oro"),
    c("NOK", 578, Some(2), "Norwegian Krone"),
    c("NPR", 524, Some(2), "Nepalese Rupee"),
    c("NZD", 554, Some(2), "New Zealand Dollar"),
    c("OMR", 512, Some(3), "Rial Omani"),
    c("PAB", 590, Some(2), "Balboa"),
    c("PEN", 604, Some(2), "Sol"),
    c("PGK", 598, Some(2), "Kina"),
    c("PHP", 608, Some(2), "Philippine Peso"),
    c("PKR", 586, Some(2), "Pakistan Rupee"),
    c("PLN", 985, Some(2), "Zloty"),
    c("PYG", 600, Some(0), "Guarani"),
    c("QAR", 634, Some(2), "Qatari Rial"),
    c("RON", 946, Some(2), "Romanian Leu"),
    c("RSD", 941, Some(2), "Serbian Dinar"),
    c("RUB", 643, Some(2), "Russian Ruble"),
    c("RWF", 646, Some(0), "Rwanda Franc"),
    c("SAR", 682, Some(2), "Saudi Riyal"),
    c("SBD", 90, Some(2), "Solomon Islands Dollar"),
    c("SCR", 690, Some(2), "Seychelles Rupee"),
    c("SDG", 938, Some(2), "Sudanese Pound"),
    c("SEK", 752, Some(2), "Swedish Krona"),
    c("SGD", 702, Some(2), "Singapore Dollar"),
    c("SHP", 654, Some(2), "Saint Helena Pound"),
    c("SLE", 925, Some(2), "Leone"),
    c("SOS", 706, Some(2), "Somali Shilling"),
    c("SRD", 968, Some(2), "Surinam Dollar"),
    c("SSP", 728, Some(2), "South Sudanese Pound"),
    c("STN", 930, Some(2), "Dobra"),
    c("SVC", 222, Some(2), "El Salvador Colon"),
    c("SYP", 760, Some(2), "Syrian Pound"),
    c("SZL", 748, Some(2), "Lilangeni"),
    c("THB", 764, Some(2), "Baht"),
    c("TJS", 972, Some(2), "Somoni"),
    c("TMT", 934, Some(2), "Turkmenistan New Manat"),
    c("TND", 788, Some(3), "Tunisian Dinar"),
    c("TOP", 776, Some(2), "Pa'anga"),
    c("TRY", 949, Some(2), "Turkish Lira"),
    c("TTD", 780, Some(2), "Trinidad and Tobago Dollar"),
    c("TWD", 901, Some(2), "New Taiwan Dollar"),
    c("TZS", 834, Some(2), "Tanzanian Shilling"),
    c("UAH", 980, Some(2), "Hryvnia"),
    c("UGX", 800, Some(0), "Uganda Shilling"),
    c("USD", 840, Some(2), "US Dollar"),
    c("USN", 997, Some(2), "US Dollar (Next day)"),
    c(
        "UYI",
        940,
        Some(0),
        "Uruguay Peso en Unidades Indexadas (UI)",
    ),
    c("UYU", 858, Some(2), "Peso Uruguayo"),
    c("UYW", 927, Some(4), "Unidad Previsional"),
    c("UZS", 860, Some(2), "Uzbekistan Sum"),
    c("VED", 926, Some(2), "Bolivar Soberano"),
    c("VES", 928, Some(2), "Bolivar Soberano"),
    c("VND", 704, Some(0), "Dong"),
    c("VUV", 548, Some(0), "Vatu"),
    c("WST", 882, Some(2), "Tala"),
    c("XAF", 950, Some(0), "CFA Franc BEAC"),
    c("XAG", 961, None, "Silver"),
    c("XAU", 959, None, "Gold"),
    c(
        "XBA",
        955,
        None,
        "Bond Markets Unit European Composite Unit (EURCO)",
    ),
    c(
        "XBB",
        956,
        None,
        "Bond Markets Unit European Monetary Unit (E.M.U.-6)",
    ),
    c(
        "XBC",
        957,
        None,
        "Bond Markets Unit European Unit of Account 9 (E.U.A.-9)",
    ),
    c(
        "XBD",
        958,
        None,
        "Bond Markets Unit European Unit of Account 17 (E.U.A.-17)",
    ),
    c("XCD", 951, Some(2), "East Caribbean Dollar"),
    c("XCG", 532, Some(2), "Caribbean Guilder"),
    c("XDR", 960, None, "SDR (Special Drawing Right)"),
    c("XOF", 952, Some(0), "CFA Franc BCEAO"),
    c("XPD", 964, None, "Palladium"),
    c("XPF", 953, Some(0), "CFP Franc"),
    c("XPT", 962, None, "Platinum"),
    c("XSU", 994, None, "Sucre"),
    c(
        "XTS",
        963,
        None,
        "Codes specifically reserved for testing purposes",
    ),
    c("XUA", 965, None, "ADB Unit of Account"),
    c(
        "XXX",
        999,
        None,
        "The codes assigned for transactions where no currency is involved",
    ),
    c("YER", 886, Some(2), "Yemeni Rial"),
    c("ZAR", 710, Some(2), "Rand"),
    c("ZMW", 967, Some(2), "Zambian Kwacha"),
    c("ZWG", 924, Some(2), "Zimbabwe Gold"),
];

/// Withdrawn codes (ISO 4217 List Three) that documents may still carry where the schemas allow
/// historic currencies (`ActiveOrHistoricCurrencyCode`: account currencies, instructed amounts,
/// charges), with the exponent they had. Sorted by alphabetic code. Not exhaustive: the euro
/// legacy currencies and the codes withdrawn since 2000.
pub static HISTORIC: &[Currency] = &[
    c("ADP", 20, Some(0), "Andorran Peseta"),
    c("AFA", 4, Some(2), "Afghani"),
    c("ANG", 532, Some(2), "Netherlands Antillean Guilder"),
    c("ATS", 40, Some(2), "Schilling"),
    c("AZM", 31, Some(2), "Azerbaijanian Manat"),
    c("BEF", 56, Some(0), "Belgian Franc"),
    c("BGL", 100, Some(2), "Lev"),
    c("BGN", 975, Some(2), "Bulgarian Lev"),
    c("BYR", 974, Some(0), "Belarusian Ruble"),
    c("CSD", 891, Some(2), "Serbian Dinar"),
    c("CUC", 931, Some(2), "Peso Convertible"),
    c("CYP", 196, Some(2), "Cyprus Pound"),
    c("DEM", 276, Some(2), "Deutsche Mark"),
    c("EEK", 233, Some(2), "Kroon"),
    c("ESP", 724, Some(0), "Spanish Peseta"),
    c("FIM", 246, Some(2), "Markka"),
    c("FRF", 250, Some(2), "French Franc"),
    c("GHC", 288, Some(2), "Cedi"),
    c("GRD", 300, Some(0), "Drachma"),
    c("HRK", 191, Some(2), "Kuna"),
    c("IEP", 372, Some(2), "Irish Pound"),
    c("ITL", 380, Some(0), "Italian Lira"),
    c("LTL", 440, Some(2), "Lithuanian Litas"),
    c("LUF", 442, Some(0), "Luxembourg Franc"),
    c("LVL", 428, Some(2), "Latvian Lats"),
    c("MGF", 450, Some(0), "Malagasy Franc"),
    c("MRO", 478, Some(2), "Ouguiya"),
    c("MTL", 470, Some(2), "Maltese Lira"),
    c("MZM", 508, Some(2), "Mozambique Metical"),
    c("NLG", 528, Some(2), "Netherlands Guilder"),
    c("PTE", 620, Some(0), "Portuguese Escudo"),
    c("ROL", 642, Some(2), "Leu"),
    c("SDD", 736, Some(2), "Sudanese Dinar"),
    c("SIT", 705, Some(2), "Tolar"),
    c("SKK", 703, Some(2), "Slovak Koruna"),
    c("SLL", 694, Some(2), "Leone"),
    c("SRG", 740, Some(2), "Surinam Guilder"),
    c("STD", 678, Some(2), "Dobra"),
    c("TMM", 795, Some(2), "Turkmenistan Manat"),
    c("TRL", 792, Some(0), "Old Turkish Lira"),
    c("VEB", 862, Some(2), "Bolivar"),
    c("VEF", 937, Some(2), "Bolivar"),
    c("XEU", 954, None, "European Currency Unit (E.C.U)"),
    c("ZMK", 894, Some(2), "Zambian Kwacha"),
    c("ZWD", 716, Some(2), "Zimbabwe Dollar"),
    c("ZWL", 932, Some(2), "Zimbabwe Dollar"),
];

/// The currency with this alphabetic code (exact, upper case), if it is active.
pub fn lookup(alpha: &str) -> Option<&'static Currency> {
    let key = code_key(alpha)?;
    ALL.binary_search_by_key(&key, |c| code_key(c.alpha).unwrap_or(0))
        .ok()
        .map(|i| &ALL[i])
}

/// A three-byte code as one integer that sorts like the text: each probe of the binary search is
/// an integer comparison instead of a string comparison.
#[inline]
fn code_key(alpha: &str) -> Option<u32> {
    match *alpha.as_bytes() {
        [a, b, c] => Some(u32::from_be_bytes([0, a, b, c])),
        _ => None,
    }
}

/// The currency with this alphabetic code, active or (failing that) historic ([`HISTORIC`]).
/// Reading documents uses this; building amounts in code uses [`lookup`].
pub fn lookup_any(alpha: &str) -> Option<&'static Currency> {
    lookup(alpha).or_else(|| {
        HISTORIC
            .binary_search_by(|c| c.alpha.cmp(alpha))
            .ok()
            .map(|i| &HISTORIC[i])
    })
}

/// The currency with this numeric code, if it is active.
pub fn by_numeric(numeric: u16) -> Option<&'static Currency> {
    ALL.iter().find(|c| c.numeric == numeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_well_formed() {
        for pair in ALL.windows(2) {
            assert!(
                pair[0].alpha < pair[1].alpha,
                "{} before {}",
                pair[0].alpha,
                pair[1].alpha
            );
        }
        let mut numerics: Vec<u16> = ALL.iter().map(|c| c.numeric).collect();
        numerics.sort_unstable();
        numerics.dedup();
        assert_eq!(numerics.len(), ALL.len(), "numeric codes are unique");
        for c in ALL {
            assert!(c.alpha.len() == 3 && c.alpha.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(c.numeric > 0 && c.numeric < 1000);
            assert!(c.minor_units.is_none_or(|e| e <= 4), "{}", c.alpha);
            assert!(!c.name.is_empty());
        }
        assert!(ALL.len() > 170, "the full list, not a sample");
    }

    #[test]
    fn known_exponents() {
        let cases = [
            ("JPY", 0),
            ("KRW", 0),
            ("CLP", 0),
            ("XOF", 0),
            ("USD", 2),
            ("EUR", 2),
            ("GBP", 2),
            ("KWD", 3),
            ("BHD", 3),
            ("OMR", 3),
            ("TND", 3),
            ("JOD", 3),
            ("IQD", 3),
            ("LYD", 3),
            ("CLF", 4),
            ("UYW", 4),
            ("XAU", NO_MINOR_UNIT_EXPONENT),
        ];
        for (code, e) in cases {
            assert_eq!(lookup(code).map(|c| c.exponent()), Some(e), "{code}");
        }
        assert_eq!(lookup("XAU").and_then(|c| c.minor_units), None);
    }

    #[test]
    fn lookups() {
        assert_eq!(lookup("EUR").map(|c| c.numeric), Some(978));
        assert_eq!(by_numeric(392).map(|c| c.alpha), Some("JPY"));
        assert_eq!(
            by_numeric(8).map(|c| c.numeric_str()),
            Some("008".to_string())
        );
        assert!(lookup("eur").is_none());
        assert!(lookup("HRK").is_none(), "withdrawn in 2023");
        assert_eq!(lookup_any("HRK").map(|c| c.is_active()), Some(false));
        assert_eq!(lookup_any("EUR").map(|c| c.is_active()), Some(true));
        for h in HISTORIC {
            assert!(
                lookup(h.alpha).is_none(),
                "{} is both active and historic",
                h.alpha
            );
        }
        for pair in HISTORIC.windows(2) {
            assert!(pair[0].alpha < pair[1].alpha);
        }
        assert!(lookup("ZZZ").is_none());
        assert!(by_numeric(0).is_none());
        for c in ALL {
            assert_eq!(lookup(c.alpha), Some(c));
            assert_eq!(by_numeric(c.numeric), Some(c));
        }
    }
}
