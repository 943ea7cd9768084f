//! The hardened reader: quick-xml events into a compact, borrowed element tree.
//!
//! Why a tree and not a pull parser per type: ISO 20022 documents are small (a few KB) and
//! typed reading wants look-ahead (optional elements, choices). The tree is one `Vec` of nodes
//! that borrow names and text from the input, so building it costs about one pass of the
//! event loop. Statements, which can be large, are read entry by entry instead (see `camt`).
//!
//! Refusals: any DOCTYPE (and so any entity declaration), unknown entity references (quick-xml
//! only expands the five predefined ones and character references), input over
//! `message_bytes_max`, nesting over `depth_max`.

use std::borrow::Cow;
use std::cell::Cell;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::error::{Error, InvalidValue, Result, XResult};
use crate::types::Leaf;
use crate::Limits;

pub(crate) type NodeId = u32;
const NONE: NodeId = u32::MAX;

pub(crate) struct Node<'a> {
    /// Local name (without prefix).
    pub name: &'a str,
    /// Namespace prefix as written (`""` for none). The namespace itself is resolved on demand
    /// ([`Tree::ns`]): only document roots need it, so the reader does not track scopes.
    pub prefix: &'a str,
    /// Start tag content after `<` (name and attributes), for reading attributes on demand.
    pub start: &'a str,
    pub text: Cow<'a, str>,
    pub parent: NodeId,
    pub first_child: NodeId,
    pub last_child: NodeId,
    pub next: NodeId,
    /// Byte span of the whole element in the input, for keeping parts as raw XML.
    pub span_start: u32,
    pub span_end: u32,
    pub used: Cell<bool>,
}

pub(crate) struct Tree<'a> {
    pub src: &'a str,
    pub nodes: Vec<Node<'a>>,
    /// Top-level elements. Well-formed XML has one; "AppHdr + Document side by side" has two.
    pub roots: Vec<NodeId>,
    /// Same-name sibling positions, for paths (computed on first use).
    positions: std::cell::OnceCell<Vec<(u32, bool)>>,
}

fn syntax(offset: u64, message: impl ToString) -> Error {
    Error::Syntax {
        offset,
        message: message.to_string(),
    }
}

fn as_str<'a>(bytes: Cow<'a, [u8]>, offset: u64) -> Result<Cow<'a, str>> {
    match bytes {
        Cow::Borrowed(b) => std::str::from_utf8(b)
            .map(Cow::Borrowed)
            .map_err(|e| syntax(offset, e)),
        Cow::Owned(b) => String::from_utf8(b)
            .map(Cow::Owned)
            .map_err(|e| syntax(offset, e)),
    }
}

/// The start tag's content (name and attributes) as a slice of the input: the event lends it
/// only for its own lifetime, the tree needs it for the input's.
fn tag_content(src: &str, at: u64, len: usize) -> Result<&str> {
    if src.as_bytes().get(at as usize) == Some(&b'<') {
        return src
            .get(at as usize + 1..at as usize + 1 + len)
            .ok_or_else(|| syntax(at, "internal: start tag out of bounds"));
    }
    let lt = src
        .get(at as usize..)
        .and_then(|rest| rest.find('<'))
        .map(|i| at as usize + i + 1)
        .ok_or_else(|| syntax(at, "internal: start tag not found"))?;
    src.get(lt..lt + len)
        .ok_or_else(|| syntax(at, "internal: start tag out of bounds"))
}

impl<'a> Tree<'a> {
    /// Parses `src` into a tree, enforcing `limits`.
    pub fn parse(src: &'a str, limits: &Limits) -> Result<Tree<'a>> {
        if src.len() > limits.message_bytes_max {
            return Err(Error::TooLarge {
                bytes: src.len(),
                limit: limits.message_bytes_max,
            });
        }
        let mut reader = Reader::from_str(src);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        let mut tree = Tree {
            src,
            nodes: Vec::with_capacity(src.len() / 24),
            roots: Vec::new(),
            positions: std::cell::OnceCell::new(),
        };
        let mut stack: Vec<NodeId> = Vec::with_capacity(16);
        let mut root_seen = false;
        loop {
            let before = reader.buffer_position();
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(e) => {
                    let message = e.to_string();
                    return Err(syntax(reader.error_position(), message));
                }
            };
            match event {
                Event::Start(e) => {
                    root_seen = true;
                    let name_len = e.name().as_ref().len();
                    let start = tag_content(src, before, e.len())?;
                    let id = tree.push(&start[..name_len], start, &stack, before);
                    stack.push(id);
                    if stack.len() > limits.depth_max {
                        return Err(Error::TooDeep {
                            path: tree.path(id),
                            limit: limits.depth_max,
                        });
                    }
                }
                Event::Empty(e) => {
                    root_seen = true;
                    let name_len = e.name().as_ref().len();
                    let start = tag_content(src, before, e.len())?;
                    let id = tree.push(&start[..name_len], start, &stack, before);
                    tree.nodes[id as usize].span_end = reader.buffer_position() as u32;
                    if stack.len() + 1 > limits.depth_max {
                        return Err(Error::TooDeep {
                            path: tree.path(id),
                            limit: limits.depth_max,
                        });
                    }
                }
                Event::End(_) => {
                    if let Some(id) = stack.pop() {
                        tree.nodes[id as usize].span_end = reader.buffer_position() as u32;
                    }
                }
                Event::Text(t) => {
                    // The text is a slice of `src` (valid UTF-8, cut at ASCII `>` / `<`), so it
                    // is borrowed as is unless it holds references to resolve.
                    let raw = src
                        .get(before as usize..before as usize + t.len())
                        .ok_or_else(|| syntax(before, "internal: text out of bounds"))?;
                    let text = if raw.bytes().any(|b| b == b'&') {
                        quick_xml::escape::unescape(raw).map_err(|e| syntax(before, e))?
                    } else {
                        Cow::Borrowed(raw)
                    };
                    tree.add_text(&stack, text, before)?;
                }
                Event::CData(t) => {
                    let text = as_str(t.into_inner(), before)?;
                    tree.add_text(&stack, text, before)?;
                }
                Event::DocType(_) => return Err(Error::DtdRefused { offset: before }),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => {
                    // quick-xml reports a clean end even with elements left open; a truncated
                    // message must not pass for a complete one.
                    if let Some(&open) = stack.last() {
                        return Err(syntax(
                            src.len() as u64,
                            format!("input ends inside <{}>", tree.nodes[open as usize].name),
                        ));
                    }
                    break;
                }
            }
        }
        if !root_seen {
            return Err(syntax(0, "no root element"));
        }
        Ok(tree)
    }

    fn push(&mut self, qname: &'a str, start: &'a str, stack: &[NodeId], at: u64) -> NodeId {
        // Names are short: a byte loop beats the generic searcher's set-up.
        let (prefix, name) = match qname.bytes().position(|b| b == b':') {
            Some(i) => (&qname[..i], &qname[i + 1..]),
            None => ("", qname),
        };
        let id = self.nodes.len() as NodeId;
        let parent = stack.last().copied().unwrap_or(NONE);
        self.nodes.push(Node {
            name,
            prefix,
            start,
            text: Cow::Borrowed(""),
            parent,
            first_child: NONE,
            last_child: NONE,
            next: NONE,
            span_start: at as u32,
            span_end: at as u32,
            used: Cell::new(false),
        });
        if parent == NONE {
            self.roots.push(id);
        } else {
            let p = &mut self.nodes[parent as usize];
            let prev = p.last_child;
            p.last_child = id;
            if prev == NONE {
                p.first_child = id;
            } else {
                self.nodes[prev as usize].next = id;
            }
        }
        id
    }

    fn add_text(&mut self, stack: &[NodeId], text: Cow<'a, str>, at: u64) -> Result<()> {
        let blank = text
            .bytes()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        let Some(&id) = stack.last() else {
            if blank {
                return Ok(());
            }
            return Err(syntax(at, "text outside the root element"));
        };
        let node = &mut self.nodes[id as usize];
        // Indentation between children repeats for every child; keeping only the first blank
        // run (borrowed, no copy) keeps containers cheap and leaves a blank leaf's value intact.
        if blank && !node.text.is_empty() {
            return Ok(());
        }
        if node.text.is_empty() {
            node.text = text;
        } else {
            node.text.to_mut().push_str(&text);
        }
        Ok(())
    }

    pub fn node(&self, id: NodeId) -> &Node<'a> {
        &self.nodes[id as usize]
    }

    /// The element's namespace: the nearest declaration of its prefix on it or an ancestor.
    /// `Some("")` for an unprefixed element with no default namespace; `None` for an undeclared
    /// prefix.
    pub fn ns(&self, id: NodeId) -> Option<String> {
        let prefix = self.node(id).prefix;
        self.resolve_from(id, prefix)
            .or_else(|| prefix.is_empty().then(String::new))
    }

    /// The namespace `prefix` is bound to by an `xmlns` attribute of this element, if any.
    fn declared(&self, id: NodeId, prefix: &str) -> Option<String> {
        let n = self.node(id);
        if !n.start.contains("xmlns") {
            return None;
        }
        let name_len = n
            .start
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(n.start.len());
        let start = quick_xml::events::BytesStart::from_content(n.start, name_len);
        for a in start.attributes().flatten() {
            let key = a.key.as_ref();
            let matches = if prefix.is_empty() {
                key == b"xmlns"
            } else {
                key.strip_prefix(b"xmlns:") == Some(prefix.as_bytes())
            };
            if matches {
                return a.unescape_value().ok().map(|v| v.into_owned());
            }
        }
        None
    }

    pub fn children(&self, id: NodeId) -> Children<'_, 'a> {
        Children {
            tree: self,
            next: self.node(id).first_child,
        }
    }

    /// The element's text content as written (entity references resolved).
    pub fn text(&self, id: NodeId) -> &str {
        &self.node(id).text
    }

    /// `/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/PmtId`: the position index is shown only
    /// where an element has same-name siblings.
    pub fn path(&self, id: NodeId) -> String {
        // Sibling positions are computed once per tree, so that reporting many elements (unread
        // ones, validator findings) stays linear even under a parent with huge numbers of
        // same-name children.
        let positions = self.positions.get_or_init(|| self.sibling_positions());
        let mut parts = Vec::new();
        let mut cur = id;
        while cur != NONE {
            let n = self.node(cur);
            match positions[cur as usize] {
                (pos, true) => parts.push(format!("{}[{pos}]", n.name)),
                (_, false) => parts.push(n.name.to_owned()),
            }
            cur = n.parent;
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    /// For every node: its 1-based position among same-name siblings, and whether it has any.
    fn sibling_positions(&self) -> Vec<(u32, bool)> {
        let mut counts: std::collections::HashMap<(NodeId, &str), u32> =
            std::collections::HashMap::new();
        let mut out: Vec<(u32, bool)> = self
            .nodes
            .iter()
            .map(|n| {
                let c = counts.entry((n.parent, n.name)).or_insert(0);
                *c += 1;
                (*c, false)
            })
            .collect();
        for (i, n) in self.nodes.iter().enumerate() {
            out[i].1 = counts.get(&(n.parent, n.name)).copied().unwrap_or(0) > 1;
        }
        out
    }

    /// The path of a child named `name` that is absent under `parent`.
    pub fn child_path(&self, parent: NodeId, name: &str) -> String {
        format!("{}/{}", self.path(parent), name)
    }

    pub fn attr(&self, id: NodeId, name: &str) -> Result<Option<String>> {
        let n = self.node(id);
        let name_len = n
            .start
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(n.start.len());
        let start = quick_xml::events::BytesStart::from_content(n.start, name_len);
        for a in start.attributes() {
            let a =
                a.map_err(|e| self.invalid(id, InvalidValue::new("attribute", "", e.to_string())))?;
            if a.key.local_name().as_ref() == name.as_bytes() {
                let v = a.unescape_value().map_err(|e| {
                    self.invalid(id, InvalidValue::new("attribute", name, e.to_string()))
                })?;
                return Ok(Some(v.into_owned()));
            }
        }
        Ok(None)
    }

    pub fn invalid(&self, id: NodeId, source: InvalidValue) -> Box<Error> {
        Box::new(Error::Invalid {
            path: self.path(id),
            source,
        })
    }

    /// Raw XML of an element, exactly as in the input.
    pub fn raw(&self, id: NodeId) -> &'a str {
        let n = self.node(id);
        &self.src[n.span_start as usize..n.span_end as usize]
    }

    /// Raw XML of an element that reads the same on its own: namespace prefixes used inside it
    /// but declared on ancestors (the default namespace included) are declared again on it.
    /// Without this, a part cut out of an envelope would change namespace when written
    /// elsewhere.
    pub fn raw_self_contained(&self, id: NodeId) -> String {
        let raw = self.raw(id);
        let mut prefixes: Vec<&str> = Vec::new();
        self.collect_prefixes(id, &mut prefixes);
        let mut decls = String::new();
        for prefix in prefixes {
            if self.declared(id, prefix).is_some() {
                continue;
            }
            let parent = self.node(id).parent;
            let uri = if parent == NONE {
                None
            } else {
                self.resolve_from(parent, prefix)
            };
            match (prefix.is_empty(), uri) {
                (true, uri) => {
                    decls.push_str(" xmlns=\"");
                    decls.push_str(&escape_attr(uri.as_deref().unwrap_or("")));
                    decls.push('"');
                }
                (false, Some(uri)) => {
                    decls.push_str(" xmlns:");
                    decls.push_str(prefix);
                    decls.push_str("=\"");
                    decls.push_str(&escape_attr(&uri));
                    decls.push('"');
                }
                // Undeclared everywhere: nothing to copy.
                (false, None) => {}
            }
        }
        if decls.is_empty() {
            return raw.to_owned();
        }
        let n = self.node(id);
        let qname_len = n
            .start
            .find(|c: char| c.is_ascii_whitespace() || c == '/')
            .unwrap_or(n.start.len());
        let at = 1 + qname_len;
        let mut out = String::with_capacity(raw.len() + decls.len());
        out.push_str(&raw[..at]);
        out.push_str(&decls);
        out.push_str(&raw[at..]);
        out
    }

    fn collect_prefixes<'s>(&'s self, id: NodeId, out: &mut Vec<&'s str>) {
        let prefix = self.node(id).prefix;
        if !out.contains(&prefix) {
            out.push(prefix);
        }
        for c in self.children(id) {
            self.collect_prefixes(c, out);
        }
    }

    /// The namespace `prefix` is bound to at element `id` (declared on it or an ancestor).
    fn resolve_from(&self, id: NodeId, prefix: &str) -> Option<String> {
        let mut cur = id;
        while cur != NONE {
            if let Some(uri) = self.declared(cur, prefix) {
                return Some(uri);
            }
            cur = self.node(cur).parent;
        }
        None
    }

    /// Marks an element and everything inside it as read.
    pub fn mark_subtree(&self, id: NodeId) {
        self.node(id).used.set(true);
        for c in self.children(id) {
            self.mark_subtree(c);
        }
    }

    /// Elements nobody read, outermost only. Reading marks a parent before its children, so
    /// an element is an outermost unread one exactly when it is unread and its parent is read
    /// (or it is a root): one pass in document order.
    pub fn unread(&self) -> Vec<NodeId> {
        let mut out = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let parent_read = n.parent == NONE || self.nodes[n.parent as usize].used.get();
            if !n.used.get() && parent_read {
                out.push(i as NodeId);
            }
        }
        out
    }

    /// A sequential reader over `parent`'s children, in schema order.
    pub fn seq(&self, parent: NodeId) -> Seq<'_, 'a> {
        self.node(parent).used.set(true);
        Seq {
            tree: self,
            parent,
            cursor: self.node(parent).first_child,
        }
    }
}

pub(crate) struct Children<'t, 'a> {
    tree: &'t Tree<'a>,
    next: NodeId,
}

impl Iterator for Children<'_, '_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NONE {
            return None;
        }
        let cur = self.next;
        self.next = self.tree.node(cur).next;
        Some(cur)
    }
}

/// Name equality, checking length and last byte first: most candidates differ there (tags share
/// prefixes such as `Dbtr`/`DbtrAcct`/`DbtrAgt`), which saves a `memcmp` call per candidate.
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Tags are short: an inline byte loop, not a call to `memcmp`.
    a.len() == b.len() && a.last() == b.last() && a.iter().zip(b).all(|(x, y)| x == y)
}

fn escape_attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// Reads a parent's children in schema order. Each lookup searches forward from the cursor;
/// children skipped on the way stay unread, and strict mode reports them.
pub(crate) struct Seq<'t, 'a> {
    pub tree: &'t Tree<'a>,
    pub parent: NodeId,
    cursor: NodeId,
}

/// Typed reading of an element (the counterpart of `writer::Render`).
pub(crate) trait FromXml: Sized {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> XResult<Self>;
}

impl<T: Leaf> FromXml for T {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        tree.node(id).used.set(true);
        if tree.node(id).first_child != NONE {
            return Err(tree.invalid(
                id,
                InvalidValue::new(
                    "element",
                    tree.node(id).name,
                    "expected text, found child elements",
                ),
            ));
        }
        T::from_text(tree.text(id)).map_err(|e| tree.invalid(id, e))
    }
}

impl Seq<'_, '_> {
    fn find(&mut self, name: &str) -> Option<NodeId> {
        let mut cur = self.cursor;
        while cur != NONE {
            let n = self.tree.node(cur);
            if same_name(n.name, name) {
                self.cursor = n.next;
                return Some(cur);
            }
            cur = n.next;
        }
        None
    }

    /// The next child named `name`, if any, without reading it as a type.
    pub fn opt_node(&mut self, name: &str) -> Option<NodeId> {
        let id = self.find(name)?;
        self.tree.node(id).used.set(true);
        Some(id)
    }

    pub fn req_node(&mut self, name: &str) -> XResult<NodeId> {
        self.opt_node(name).ok_or_else(|| {
            Box::new(Error::Missing {
                path: self.tree.child_path(self.parent, name),
            })
        })
    }

    pub fn opt<T: FromXml>(&mut self, name: &str) -> XResult<Option<T>> {
        match self.find(name) {
            Some(id) => T::from_xml(self.tree, id).map(Some),
            None => Ok(None),
        }
    }

    pub fn req<T: FromXml>(&mut self, name: &str) -> XResult<T> {
        match self.find(name) {
            Some(id) => T::from_xml(self.tree, id),
            None => Err(Error::Missing {
                path: self.tree.child_path(self.parent, name),
            }
            .into()),
        }
    }

    /// One or more children named `name`.
    pub fn some<T: FromXml>(&mut self, name: &str) -> XResult<Vec<T>> {
        let v = self.many(name, usize::MAX)?;
        if v.is_empty() {
            return Err(Error::Missing {
                path: self.tree.child_path(self.parent, name),
            }
            .into());
        }
        Ok(v)
    }

    /// All consecutive children named `name` (at most `max`).
    pub fn many<T: FromXml>(&mut self, name: &str, max: usize) -> XResult<Vec<T>> {
        let mut out = Vec::new();
        let Some(first) = self.find(name) else {
            return Ok(out);
        };
        out.push(T::from_xml(self.tree, first)?);
        while self.cursor != NONE && same_name(self.tree.node(self.cursor).name, name) {
            let id = self.cursor;
            self.cursor = self.tree.node(id).next;
            if out.len() == max {
                let count = out.len()
                    + 1
                    + self
                        .tree
                        .children(self.parent)
                        .skip_while(|&c| c != self.cursor)
                        .filter(|&c| self.tree.node(c).name == name)
                        .count();
                return Err(Error::TooMany {
                    path: self.tree.path(id),
                    count,
                    max,
                }
                .into());
            }
            out.push(T::from_xml(self.tree, id)?);
        }
        Ok(out)
    }
}
