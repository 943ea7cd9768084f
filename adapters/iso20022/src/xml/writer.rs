//! The writer: typed values to XML, compact and deterministic (no indentation, fixed element
//! order from the schema, one namespace declaration on each document root).

use crate::amount::Amount;
use crate::types::Leaf;

/// The XML declaration every rendered document starts with.
pub(crate) const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

pub(crate) struct Out {
    /// The document being written. A `String` rather than quick-xml's `Writer<Vec<u8>>`: values
    /// are written straight into it and escaped in place when needed, with no copy through a
    /// scratch buffer and no UTF-8 re-validation at the end. Attribute values are escaped with
    /// quick-xml's `escape`.
    buf: String,
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

impl Out {
    pub fn new(capacity: usize) -> Self {
        Out {
            buf: String::with_capacity(capacity),
        }
    }

    pub fn declaration(&mut self) {
        self.buf.push_str(DECLARATION);
    }

    /// Element names are the schema's own ASCII tags: nothing to escape.
    pub fn start(&mut self, name: &str) {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
    }

    pub fn start_ns(&mut self, name: &str, namespace: &str) {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push_str(" xmlns=\"");
        self.buf.push_str(&quick_xml::escape::escape(namespace));
        self.buf.push_str("\">");
    }

    pub fn end(&mut self, name: &str) {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    pub fn leaf<T: Leaf>(&mut self, name: &str, value: &T) {
        self.start(name);
        let from = self.buf.len();
        value.write_text(&mut self.buf);
        self.escape_from(from);
        self.end(name);
    }

    pub fn text(&mut self, name: &str, text: &str) {
        self.start(name);
        let from = self.buf.len();
        self.buf.push_str(text);
        self.escape_from(from);
        self.end(name);
    }

    /// Escapes, in place, the text written since byte `from`: `&`, `<` and `>` as entities,
    /// and carriage return as `&#13;` so that it survives the line-end normalization of other
    /// readers. Most values need nothing and are left as written.
    fn escape_from(&mut self, from: usize) {
        let special = |b: &u8| matches!(b, b'&' | b'<' | b'>' | b'\r');
        if !self.buf.as_bytes()[from..].iter().any(special) {
            return;
        }
        let raw = self.buf.split_off(from);
        for c in raw.chars() {
            match c {
                '&' => self.buf.push_str("&amp;"),
                '<' => self.buf.push_str("&lt;"),
                '>' => self.buf.push_str("&gt;"),
                '\r' => self.buf.push_str("&#13;"),
                c => self.buf.push(c),
            }
        }
    }

    pub fn amount(&mut self, name: &str, amount: &Amount) {
        // The currency code comes from the ISO 4217 table (three capital letters) and the
        // amount is digits and a point: nothing to escape.
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push_str(" Ccy=\"");
        self.buf.push_str(amount.currency().alpha);
        self.buf.push_str("\">");
        amount.write_decimal(&mut self.buf);
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
        self.buf.push_str(xml);
    }

    pub fn finish(self) -> String {
        self.buf
    }
}

impl ToXml for Amount {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.amount(name, self);
    }
}
