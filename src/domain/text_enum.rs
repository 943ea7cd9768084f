//! Enums stored as text (DESIGN.md decision 8): every kind and status has one Rust type, one
//! spelling per value in code, SQL (where a CHECK constraint lists the same spellings) and
//! JSON, and an unknown spelling read back is an error, never a silent default.

/// Declares a fieldless enum with `ALL`, `as_str`, `parse`, `Display`, and serde as its text.
/// Each variant is `Name => "text"`, optionally followed by `| "alias"` spellings that are
/// read (from configuration written for older versions) but never written.
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value for a spelling (or an accepted alias); `None` when unknown.
            pub fn parse(value: &str) -> Option<Self> {
                match value {
                    $($text $(| $alias)* => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The spellings, for error messages and CHECK constraints.
            pub fn spellings() -> String {
                [$($text),+].join(", ")
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(value: &str) -> Result<Self, String> {
                $name::parse(value).ok_or_else(|| {
                    format!("unknown {} {value:?} (expected one of: {})", stringify!($name), $name::spellings())
                })
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl ::std::convert::TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                value.parse()
            }
        }

        // Read and written as text by the store; an unknown spelling read back is a decode
        // error naming it.
        impl ::sqlx::Type<::sqlx::Any> for $name {
            fn type_info() -> ::sqlx::any::AnyTypeInfo {
                <String as ::sqlx::Type<::sqlx::Any>>::type_info()
            }
            fn compatible(ty: &::sqlx::any::AnyTypeInfo) -> bool {
                <String as ::sqlx::Type<::sqlx::Any>>::compatible(ty)
            }
        }

        impl<'r> ::sqlx::Decode<'r, ::sqlx::Any> for $name {
            fn decode(
                value: ::sqlx::any::AnyValueRef<'r>,
            ) -> Result<Self, ::sqlx::error::BoxDynError> {
                let text = <String as ::sqlx::Decode<'r, ::sqlx::Any>>::decode(value)?;
                Ok(text.parse::<$name>()?)
            }
        }

        impl<'q> ::sqlx::Encode<'q, ::sqlx::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <::sqlx::Any as ::sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<::sqlx::encode::IsNull, ::sqlx::error::BoxDynError> {
                let text: &'q str = self.as_str();
                <&'q str as ::sqlx::Encode<'q, ::sqlx::Any>>::encode(text, buf)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

crate::text_enum! {
    /// A rail: how settlements reach a kind of counterparty. A new rail adds its name here
    /// (and to the CHECK constraints), its folder under `rails/`, and one registration line.
    pub enum Rail {
        /// ISO 20022 (pacs.008 + head.001) to a correspondent bank over HTTPS with mutual TLS.
        Bank => "bank" | "iso20022",
        /// ISO 8583 (0200 credit, 0420 reversal) to a mobile-money switch over a persistent link.
        Wallet => "wallet" | "iso8583",
    }
}

#[cfg(test)]
mod tests {
    use super::Rail;

    #[test]
    fn spellings_round_trip_and_aliases_are_read_not_written() {
        for rail in Rail::ALL {
            assert_eq!(Rail::parse(rail.as_str()), Some(*rail));
        }
        assert_eq!(Rail::parse("iso20022"), Some(Rail::Bank));
        assert_eq!(Rail::parse("iso8583"), Some(Rail::Wallet));
        assert_eq!(Rail::Wallet.to_string(), "wallet");
        let err = "switch".parse::<Rail>().unwrap_err();
        assert!(err.contains("bank, wallet"), "{err}");
        let json: Rail = serde_json::from_str("\"iso8583\"").unwrap();
        assert_eq!(serde_json::to_string(&json).unwrap(), "\"wallet\"");
    }
}
