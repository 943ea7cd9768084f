//! A party's structured postal address.
//!
//! The parts are those of ISO 20022 `PostalAddress24` with its lengths (the `Max*Text` types
//! of pacs.008.001.08), without address lines: CBPR+ stops accepting unstructured addresses
//! with its November 2026 release, and a structured or hybrid one needs at least a town and
//! a country. So an address here always has both; the other parts are optional.

use super::CountryCode;
use serde::{Deserialize, Serialize};

/// One optional text part of an address: its name in the ledger event and its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressPart {
    Department,
    SubDepartment,
    StreetName,
    BuildingNumber,
    BuildingName,
    Floor,
    PostBox,
    Room,
    PostCode,
    TownLocationName,
    DistrictName,
    CountrySubDivision,
}

impl AddressPart {
    /// Every optional part, in the order of the schema.
    pub const ALL: [AddressPart; 12] = [
        AddressPart::Department,
        AddressPart::SubDepartment,
        AddressPart::StreetName,
        AddressPart::BuildingNumber,
        AddressPart::BuildingName,
        AddressPart::Floor,
        AddressPart::PostBox,
        AddressPart::Room,
        AddressPart::PostCode,
        AddressPart::TownLocationName,
        AddressPart::DistrictName,
        AddressPart::CountrySubDivision,
    ];

    /// The part's key in the ledger event (and in the stored settlement).
    pub fn json_name(self) -> &'static str {
        match self {
            AddressPart::Department => "department",
            AddressPart::SubDepartment => "sub_department",
            AddressPart::StreetName => "street_name",
            AddressPart::BuildingNumber => "building_number",
            AddressPart::BuildingName => "building_name",
            AddressPart::Floor => "floor",
            AddressPart::PostBox => "post_box",
            AddressPart::Room => "room",
            AddressPart::PostCode => "post_code",
            AddressPart::TownLocationName => "town_location_name",
            AddressPart::DistrictName => "district_name",
            AddressPart::CountrySubDivision => "country_sub_division",
        }
    }

    /// Most characters, as `PostalAddress24` types the element (Max16/35/70Text).
    pub fn chars_max(self) -> usize {
        match self {
            AddressPart::BuildingNumber | AddressPart::PostBox | AddressPart::PostCode => 16,
            AddressPart::BuildingName
            | AddressPart::TownLocationName
            | AddressPart::DistrictName
            | AddressPart::CountrySubDivision => 35,
            AddressPart::Department
            | AddressPart::SubDepartment
            | AddressPart::StreetName
            | AddressPart::Floor
            | AddressPart::Room => 70,
        }
    }
}

/// Most characters of a town name (`TwnNm`, Max35Text).
pub const TOWN_NAME_CHARS_MAX: usize = 35;

/// A structured postal address with at least a town and a country. Texts are as the ledger
/// gave them (trimmed, checked for length and control characters); the bank rail converts
/// them to the CBPR+ character set when it renders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_box: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_code: Option<String>,
    pub town_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub town_location_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_sub_division: Option<String>,
    pub country: CountryCode,
}

impl PostalAddress {
    /// An address of a town and a country alone.
    pub fn new(town_name: String, country: CountryCode) -> Self {
        PostalAddress {
            department: None,
            sub_department: None,
            street_name: None,
            building_number: None,
            building_name: None,
            floor: None,
            post_box: None,
            room: None,
            post_code: None,
            town_name,
            town_location_name: None,
            district_name: None,
            country_sub_division: None,
            country,
        }
    }

    /// One optional part, if given.
    pub fn part(&self, part: AddressPart) -> Option<&str> {
        self.slot(part).as_deref()
    }

    /// Sets one optional part.
    pub fn set_part(&mut self, part: AddressPart, value: Option<String>) {
        *self.slot_mut(part) = value;
    }

    fn slot(&self, part: AddressPart) -> &Option<String> {
        match part {
            AddressPart::Department => &self.department,
            AddressPart::SubDepartment => &self.sub_department,
            AddressPart::StreetName => &self.street_name,
            AddressPart::BuildingNumber => &self.building_number,
            AddressPart::BuildingName => &self.building_name,
            AddressPart::Floor => &self.floor,
            AddressPart::PostBox => &self.post_box,
            AddressPart::Room => &self.room,
            AddressPart::PostCode => &self.post_code,
            AddressPart::TownLocationName => &self.town_location_name,
            AddressPart::DistrictName => &self.district_name,
            AddressPart::CountrySubDivision => &self.country_sub_division,
        }
    }

    fn slot_mut(&mut self, part: AddressPart) -> &mut Option<String> {
        match part {
            AddressPart::Department => &mut self.department,
            AddressPart::SubDepartment => &mut self.sub_department,
            AddressPart::StreetName => &mut self.street_name,
            AddressPart::BuildingNumber => &mut self.building_number,
            AddressPart::BuildingName => &mut self.building_name,
            AddressPart::Floor => &mut self.floor,
            AddressPart::PostBox => &mut self.post_box,
            AddressPart::Room => &mut self.room,
            AddressPart::PostCode => &mut self.post_code,
            AddressPart::TownLocationName => &mut self.town_location_name,
            AddressPart::DistrictName => &mut self.district_name,
            AddressPart::CountrySubDivision => &mut self.country_sub_division,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_set_and_read_by_name() {
        let mut address = PostalAddress::new("Berlin".into(), CountryCode::parse("DE").unwrap());
        for (i, part) in AddressPart::ALL.into_iter().enumerate() {
            address.set_part(part, Some(format!("v{i}")));
        }
        for (i, part) in AddressPart::ALL.into_iter().enumerate() {
            assert_eq!(address.part(part), Some(format!("v{i}").as_str()));
        }
        let json = serde_json::to_value(&address).unwrap();
        for part in AddressPart::ALL {
            assert!(json.get(part.json_name()).is_some(), "{}", part.json_name());
        }
        assert_eq!(json["town_name"], "Berlin");
        assert_eq!(json["country"], "DE");
        let back: PostalAddress = serde_json::from_value(json).unwrap();
        assert_eq!(back, address);
    }
}
