//! The writer: typed values to XML through quick-xml, compact and deterministic (no
//! indentation, fixed element order from the schema, one namespace declaration on each
//! document root).

use quick_xml::events::{BytesDecl, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::amount::Amount;
use crate::types::Leaf;

pub(crate) struct Out {
    w: Writer<Vec<u8>>,
    scratch: String,
}

/// Typed writing of an element (the counterpart of `reader::FromXml`).
pub(crate) trait ToXml {
    fn to_xml(&self, out: &mut Out, name: &str);
}

impl<T: Leaf> ToXml for T {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.leaf(name, self);
    }
}

// Writing into a `Vec<u8>` cannot fail (no I/O), so the writer's `io::Result`s are ignored.
impl Out {
    pub fn new(capacity: usize) -> Self {
        Out {
            w: Writer::new(Vec::with_capacity(capacity)),
            scratch: String::with_capacity(64),
        }
    }

    pub fn declaration(&mut self) {
        let _ = self
            .w
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    }

    /// Element names are the schema's own ASCII tags, so plain tags are pushed straight into
    /// the writer's buffer; events (with their escaping) are kept for attributes and text.
    pub fn start(&mut self, name: &str) {
        let buf = self.w.get_mut();
        buf.push(b'<');
        buf.extend_from_slice(name.as_bytes());
        buf.push(b'>');
    }

    pub fn start_ns(&mut self, name: &str, namespace: &str) {
        let mut s = BytesStart::new(name);
        s.push_attribute(("xmlns", namespace));
        let _ = self.w.write_event(Event::Start(s));
    }

    pub fn end(&mut self, name: &str) {
        let buf = self.w.get_mut();
        buf.extend_from_slice(b"</");
        buf.extend_from_slice(name.as_bytes());
        buf.push(b'>');
    }

    pub fn leaf<T: Leaf>(&mut self, name: &str, value: &T) {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        value.write_text(&mut text);
        self.text(name, &text);
        self.scratch = text;
    }

    pub fn text(&mut self, name: &str, text: &str) {
        self.start(name);
        let escaped = escape_text(text);
        self.w.get_mut().extend_from_slice(&escaped);
        self.end(name);
    }

    pub fn amount(&mut self, name: &str, amount: &Amount) {
        let mut s = BytesStart::new(name);
        s.push_attribute(("Ccy", amount.currency().alpha));
        let _ = self.w.write_event(Event::Start(s));
        let text = amount.to_decimal_string();
        let _ = self
            .w
            .write_event(Event::Text(BytesText::from_escaped(text)));
        self.end(name);
    }

    pub fn opt<T: ToXml>(&mut self, name: &str, value: &Option<T>) {
        if let Some(v) = value {
            v.to_xml(self, name);
        }
    }

    pub fn many<T: ToXml>(&mut self, name: &str, values: &[T]) {
        for v in values {
            v.to_xml(self, name);
        }
    }

    /// Writes already-serialized XML unchanged (SplmtryData envelopes, signatures).
    pub fn raw(&mut self, xml: &str) {
        self.w.get_mut().extend_from_slice(xml.as_bytes());
    }

    pub fn finish(self) -> String {
        // Only `&str` inputs were written, so the buffer is UTF-8.
        String::from_utf8(self.w.into_inner()).unwrap_or_default()
    }
}

/// Escapes element text: `&`, `<` and `>` as entities, and carriage return as `&#13;` so that
/// it survives the line-end normalization of other readers. Most values need nothing, and are
/// passed through without a copy.
fn escape_text(text: &str) -> BytesText<'_> {
    let special = |b: &u8| matches!(b, b'&' | b'<' | b'>' | b'\r');
    if !text.as_bytes().iter().any(special) {
        return BytesText::from_escaped(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    BytesText::from_escaped(out)
}

impl ToXml for Amount {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.amount(name, self);
    }
}
