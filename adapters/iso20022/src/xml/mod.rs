//! XML plumbing: the hardened reader and the deterministic writer.

pub(crate) mod reader;
pub(crate) mod writer;

/// Defines a struct for an XSD sequence, with its reader and writer. Fields are listed in
/// schema order, each as `name: req T = "Tag"`, `name: opt T = "Tag"`,
/// `name: many T = "Tag"`, `name: many T = "Tag" max 7` (bounds 2, 3, 5, 7, 10) or
/// `name: some T = "Tag"` (one or more); reading and writing both follow that order, which is what makes
/// the output schema-valid and deterministic.
macro_rules! xml_struct {
    (
        $(#[$m:meta])*
        pub struct $name:ident {
            $( $(#[$fm:meta])* $field:ident : $kind:ident $ty:ty = $tag:literal $(max $max:tt)? ),* $(,)?
        }
    ) => {
        xml_struct!(@struct [$(#[$m])*] $name [] $( $(#[$fm])* $field : $kind $ty = $tag $(max $max)? , )*);

        impl $crate::xml::reader::FromXml for $name {
            fn from_xml(tree: &$crate::xml::reader::Tree<'_>, id: $crate::xml::reader::NodeId) -> $crate::error::XResult<Self> {
                #[allow(unused_mut, unused_variables)]
                let mut seq = tree.seq(id);
                Ok($name {
                    $( $field: xml_struct!(@read seq $kind $tag $($max)?), )*
                })
            }
        }

        impl $name {
            /// Writes the children, in schema order.
            #[allow(dead_code)]
            pub(crate) fn write_fields(&self, out: &mut $crate::xml::writer::Out) {
                $( xml_struct!(@write out self.$field, $kind $tag); )*
            }
        }

        impl $crate::xml::writer::ToXml for $name {
            fn to_xml(&self, out: &mut $crate::xml::writer::Out, name: &str) {
                out.start(name);
                self.write_fields(out);
                out.end(name);
            }
        }
    };
    // The struct itself, one field at a time, so that each kind gets its serde attributes:
    // JSON in accepts exactly what JSON out writes (absent `opt` / `many` read as None / empty)
    // and refuses what the XML reader refuses (unknown fields, `some` empty, `max` exceeded).
    (@struct [$($m:tt)*] $name:ident [$($done:tt)*]) => {
        $($m)*
        #[serde(deny_unknown_fields)]
        pub struct $name { $($done)* }
    };
    (@struct $m:tt $name:ident [$($done:tt)*] $(#[$fm:meta])* $field:ident : req $ty:ty = $tag:literal , $($rest:tt)*) => {
        xml_struct!(@struct $m $name [$($done)* $(#[$fm])* pub $field: $ty,] $($rest)*);
    };
    (@struct $m:tt $name:ident [$($done:tt)*] $(#[$fm:meta])* $field:ident : opt $ty:ty = $tag:literal , $($rest:tt)*) => {
        xml_struct!(@struct $m $name [$($done)* $(#[$fm])* pub $field: Option<$ty>,] $($rest)*);
    };
    (@struct $m:tt $name:ident [$($done:tt)*] $(#[$fm:meta])* $field:ident : many $ty:ty = $tag:literal , $($rest:tt)*) => {
        xml_struct!(@struct $m $name [$($done)* $(#[$fm])* #[serde(default)] pub $field: Vec<$ty>,] $($rest)*);
    };
    // A `deserialize_with` path is a string the macro cannot build from the bound, so each bound
    // the schema uses has its own arm (and function in `crate::de`); another bound does not
    // match any arm and fails to compile.
    (@struct $m:tt $name:ident [$($done:tt)*] $(#[$fm:meta])* $field:ident : many $ty:ty = $tag:literal max 2 , $($rest:tt)*) => {
        xml_struct!(@struct $m $name [$($done)* $(#[$fm])* #[serde(default, deserialize_with = "crate::de::at_most_2")] pub $field: Vec<$ty>,] $($rest)*);
    };
    (@struct $m:tt $name:ident [$($done:tt)*] $(#[$fm:meta])* $field:ident : many $ty:ty = $tag:literal max 3 , $($rest:tt)*) => {
        xml_struct!(@struct $m $name [$($done)* $(#[$fm])* #[serde(default, deserialize_with = "crate::de::at_most_3")] pub $field: Vec<$ty>,] $($rest)*);
    };
    (@struct $m:tt $name:ident [$($done:tt)*] $(#[$fm:meta])* $field:ident : many $ty:ty = $tag:literal max 5 , $($rest:tt)*) => {
        xml_struct!(@struct $m $name [$($done)* $(#[$fm])* #[serde(default, deserialize_with = "crate::de::at_most_5")] pub $field: Vec<$ty>,] $($rest)*);
    };
    (@struct $m:tt $name:ident [$($done:tt)*] $(#[$fm:meta])* $field:ident : many $ty:ty = $tag:literal max 7 , $($rest:tt)*) => {
        xml_struct!(@struct $m $name [$($done)* $(#[$fm])* #[serde(default, deserialize_with = "crate::de::at_most_7")] pub $field: Vec<$ty>,] $($rest)*);
    };
    (@struct $m:tt $name:ident [$($done:tt)*] $(#[$fm:meta])* $field:ident : many $ty:ty = $tag:literal max 10 , $($rest:tt)*) => {
        xml_struct!(@struct $m $name [$($done)* $(#[$fm])* #[serde(default, deserialize_with = "crate::de::at_most_10")] pub $field: Vec<$ty>,] $($rest)*);
    };
    (@struct $m:tt $name:ident [$($done:tt)*] $(#[$fm:meta])* $field:ident : some $ty:ty = $tag:literal , $($rest:tt)*) => {
        xml_struct!(@struct $m $name [$($done)* $(#[$fm])* #[serde(deserialize_with = "crate::de::non_empty")] pub $field: Vec<$ty>,] $($rest)*);
    };
    (@read $seq:ident req $tag:literal) => { $seq.req($tag)? };
    (@read $seq:ident opt $tag:literal) => { $seq.opt($tag)? };
    (@read $seq:ident many $tag:literal) => { $seq.many($tag, usize::MAX)? };
    (@read $seq:ident many $tag:literal $max:expr) => { $seq.many($tag, $max)? };
    (@read $seq:ident some $tag:literal) => { $seq.some($tag)? };
    (@write $out:ident $value:expr, req $tag:literal) => { $crate::xml::writer::ToXml::to_xml(&$value, $out, $tag) };
    (@write $out:ident $value:expr, opt $tag:literal) => { $out.opt($tag, &$value) };
    (@write $out:ident $value:expr, many $tag:literal) => { $out.many($tag, &$value) };
    (@write $out:ident $value:expr, some $tag:literal) => { $out.many($tag, &$value) };
}
pub(crate) use xml_struct;
