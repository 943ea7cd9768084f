//! Compact text for what a run holds per row: a run over a million settlements keeps a
//! million candidates and a million entries in memory at once, each with several ids and
//! keys, so a few bytes per field decide whether the run fits its memory budget.
//!
//! - [`Text`]: a value of one row (a settlement id, a UETR): boxed, 16 bytes beside its
//!   characters where a `String` takes 24.
//! - [`Shared`]: a value many rows repeat (a currency, a counterparty, an account): one copy
//!   per distinct value, shared through an [`Interner`] while the rows are read.

use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Text of one row. See the module documentation.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text(Box<str>);

/// Text many rows share. See the module documentation.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shared(Arc<str>);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Shared {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Shared {
    fn default() -> Self {
        Shared(Arc::from(""))
    }
}

macro_rules! text_like {
    ($t:ident) => {
        impl Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl From<&str> for $t {
            fn from(s: &str) -> Self {
                $t(s.into())
            }
        }

        impl From<String> for $t {
            fn from(s: String) -> Self {
                $t(s.into())
            }
        }

        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                &*self.0 == other
            }
        }
    };
}

text_like!(Text);
text_like!(Shared);

/// Hands out one [`Shared`] per distinct value (for the rows of one read).
#[derive(Default)]
pub struct Interner(HashSet<Arc<str>>);

impl Interner {
    pub fn get(&mut self, value: &str) -> Shared {
        if let Some(known) = self.0.get(value) {
            return Shared(known.clone());
        }
        let new: Arc<str> = Arc::from(value);
        self.0.insert(new.clone());
        Shared(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_copy_per_distinct_value() {
        let mut interner = Interner::default();
        let (a, b, c) = (
            interner.get("EUR"),
            interner.get("EUR"),
            interner.get("USD"),
        );
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!((a.as_str(), c.as_str()), ("EUR", "USD"));
        assert_ne!(a, c);
        assert_eq!(Text::from("st-1").to_string(), "st-1");
    }
}
