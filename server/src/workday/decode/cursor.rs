//! A forward-only cursor over an XML body: child elements by namespace URI, text, attributes, skipping.
//!
//! It wraps quick-xml's [`NsReader`] over a byte slice, so events borrow from the body (no copies for element
//! names) and namespaces are resolved by URI: a `wd:`, `bsvc:` or default-namespace element in
//! `urn:com.workday/bsvc` is the same element. Errors carry the byte offset where decoding failed.

use std::borrow::Cow;
use std::str::FromStr as _;

use chrono::NaiveDate;
use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use rust_decimal::Decimal;

use crate::workday::ops::{BSVC_NS, SOAP_ENV_NS};

/// Where and why decoding failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset in the body.
    pub offset: u64,
    /// What was wrong.
    pub message: String,
}

/// The namespace an element or attribute resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    /// `urn:com.workday/bsvc`.
    Wd,
    /// The SOAP 1.1 envelope namespace.
    Env,
    /// Some other namespace.
    Other,
    /// No namespace (unprefixed, no default namespace in scope).
    None,
}

impl Ns {
    fn of(r: &ResolveResult<'_>) -> Self {
        match r {
            ResolveResult::Bound(ns) if ns.as_ref() == BSVC_NS.as_bytes() => Self::Wd,
            ResolveResult::Bound(ns) if ns.as_ref() == SOAP_ENV_NS.as_bytes() => Self::Env,
            ResolveResult::Bound(_) => Self::Other,
            ResolveResult::Unbound => Self::None,
            // An undeclared prefix: quick-xml reports it here rather than failing the event.
            ResolveResult::Unknown(_) => Self::Other,
        }
    }
}

/// An element that was just opened.
#[derive(Debug)]
pub struct El<'a> {
    /// Its namespace.
    pub ns: Ns,
    /// Its start tag (name and attributes), borrowed from the body.
    pub start: BytesStart<'a>,
}

impl El<'_> {
    /// Its local name.
    pub fn local(&self) -> &[u8] {
        self.start.local_name().into_inner()
    }

    /// Whether it is `wd:{local}`.
    pub fn is(&self, local: &str) -> bool {
        self.ns == Ns::Wd && self.local() == local.as_bytes()
    }

    /// Its local name for messages.
    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(self.start.name().into_inner()).into_owned()
    }
}

/// The cursor. Not part of the stable API; public only so that [`super::Record`] can name it.
///
/// In lenient mode (while a record is decoded) a value that does not parse — a decimal, date, boolean or
/// number — is not an error at once: the element has been read to its end, so the cursor is still in step
/// with the document; the first such error is kept ([`Self::take_deferred`]) and the value reads as absent.
/// The page reader then skips that one record and reports it. Errors of the XML itself always end decoding.
#[derive(Debug)]
pub struct Cursor<'a> {
    reader: NsReader<&'a [u8]>,
    lenient: bool,
    deferred: Option<DecodeError>,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `body`.
    pub(crate) fn new(body: &'a [u8]) -> Self {
        let mut reader = NsReader::from_reader(body);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.trim_text(false);
        config.check_end_names = true;
        Self {
            reader,
            lenient: false,
            deferred: None,
        }
    }

    /// Switches lenient mode (see the type's documentation).
    pub(crate) fn set_lenient(&mut self, lenient: bool) {
        self.lenient = lenient;
    }

    /// Notes that the record being read is not valid (a value, or a required part, is wrong) while the
    /// document itself is fine; the first such error of a record is kept.
    pub(crate) fn invalid(&mut self, message: impl Into<String>) {
        let e = self.err(message);
        if self.deferred.is_none() {
            self.deferred = Some(e);
        }
    }

    /// The first [`Self::invalid`] error since the last call.
    pub(crate) fn take_deferred(&mut self) -> Option<DecodeError> {
        self.deferred.take()
    }

    /// A value that does not parse: kept for later in lenient mode (the value reads as absent), an error
    /// otherwise.
    fn bad_value<T>(&mut self, message: String) -> Result<Option<T>, DecodeError> {
        if self.lenient {
            self.invalid(message);
            Ok(None)
        } else {
            Err(self.err(message))
        }
    }

    /// An error at the current position.
    pub(crate) fn err(&self, message: impl Into<String>) -> DecodeError {
        DecodeError {
            offset: self.reader.buffer_position(),
            message: message.into(),
        }
    }

    fn xml_err(&self, e: quick_xml::Error) -> DecodeError {
        // quick-xml records where the offending markup starts; some errors found at the end of the input
        // leave it at 0, so fall back to how far the reader got.
        let at = self.reader.error_position();
        DecodeError {
            offset: if at == 0 {
                self.reader.buffer_position()
            } else {
                at
            },
            message: format!("not well-formed XML: {e}"),
        }
    }

    /// The next child element of the element being read, or `None` at that element's end tag.
    pub(crate) fn child(&mut self) -> Result<Option<El<'a>>, DecodeError> {
        loop {
            let (ns, event) = match self.reader.read_resolved_event() {
                Ok((r, e)) => (Ns::of(&r), e),
                Err(e) => return Err(self.xml_err(e)),
            };
            match event {
                Event::Start(start) => return Ok(Some(El { ns, start })),
                Event::End(_) => return Ok(None),
                Event::Eof => {
                    return Err(self.err("the document ends before its elements are closed"));
                }
                // Only whitespace belongs between elements; other text there is ignored.
                _ => {}
            }
        }
    }

    /// The first element of the document (after the declaration, comments and whitespace).
    pub(crate) fn root(&mut self) -> Result<El<'a>, DecodeError> {
        loop {
            let (ns, event) = match self.reader.read_resolved_event() {
                Ok((r, e)) => (Ns::of(&r), e),
                Err(e) => return Err(self.xml_err(e)),
            };
            match event {
                Event::Start(start) => return Ok(El { ns, start }),
                Event::Eof => return Err(self.err("the body is empty: no XML element")),
                Event::End(_) => return Err(self.err("unexpected end tag before the root element")),
                Event::Text(t) => {
                    let text = t
                        .decode()
                        .map_err(|_| self.err("text is not valid UTF-8"))?;
                    if !text.trim().is_empty() {
                        return Err(self.err("text before the root element: this is not XML"));
                    }
                }
                _ => {}
            }
        }
    }

    /// Reads to the end of the document, checking that nothing but whitespace and comments follows.
    pub(crate) fn finish(&mut self) -> Result<(), DecodeError> {
        loop {
            match self.reader.read_event() {
                Ok(Event::Eof) => return Ok(()),
                Ok(Event::Text(t)) => {
                    let text = t
                        .decode()
                        .map_err(|_| self.err("text is not valid UTF-8"))?;
                    if !text.trim().is_empty() {
                        return Err(self.err("content after the end of the document"));
                    }
                }
                Ok(Event::Comment(_) | Event::PI(_)) => {}
                Ok(_) => return Err(self.err("content after the end of the document")),
                Err(e) => return Err(self.xml_err(e)),
            }
        }
    }

    /// Skips the rest of the element `el` (which was just opened), whatever it holds.
    pub(crate) fn skip(&mut self, el: &El<'_>) -> Result<(), DecodeError> {
        self.reader
            .read_to_end(el.start.name())
            .map(|_| ())
            .map_err(|e| self.xml_err(e))
    }

    /// Skips every remaining child of the current element, up to and including its end tag.
    pub(crate) fn skip_rest(&mut self) -> Result<(), DecodeError> {
        while let Some(el) = self.child()? {
            self.skip(&el)?;
        }
        Ok(())
    }

    /// The text of the element just opened (entity and character references resolved, trimmed), up to and
    /// including its end tag. Child elements inside it are skipped. Borrowed from the body when the text is
    /// one plain run (the common case), so numbers and dates are parsed without a copy.
    pub(crate) fn text_ref(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        let mut first: Option<Cow<'a, str>> = None;
        let mut owned: Option<String> = None;
        fn push<'a>(first: &mut Option<Cow<'a, str>>, owned: &mut Option<String>, piece: &str) {
            let buf =
                owned.get_or_insert_with(|| first.take().map(Cow::into_owned).unwrap_or_default());
            buf.push_str(piece);
        }
        loop {
            let event = self.reader.read_event().map_err(|e| self.xml_err(e))?;
            match event {
                Event::Text(t) => {
                    let piece = t
                        .decode()
                        .map_err(|_| self.err("text is not valid UTF-8"))?;
                    if first.is_none() && owned.is_none() {
                        first = Some(piece);
                    } else {
                        push(&mut first, &mut owned, &piece);
                    }
                }
                Event::CData(c) => {
                    let piece = c
                        .decode()
                        .map_err(|_| self.err("CDATA is not valid UTF-8"))?;
                    push(&mut first, &mut owned, &piece);
                }
                Event::GeneralRef(r) => {
                    if let Some(ch) = r.resolve_char_ref().map_err(|e| self.xml_err(e))? {
                        push(&mut first, &mut owned, ch.encode_utf8(&mut [0u8; 4]));
                    } else {
                        let name = r
                            .decode()
                            .map_err(|_| self.err("entity name is not UTF-8"))?;
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => push(&mut first, &mut owned, s),
                            None => return Err(self.err(format!("unknown entity `&{name};`"))),
                        }
                    }
                }
                Event::Start(s) => {
                    self.reader
                        .read_to_end(s.name())
                        .map_err(|e| self.xml_err(e))?;
                }
                Event::End(_) => break,
                Event::Eof => return Err(self.err("the document ends inside an element")),
                _ => {}
            }
        }
        Ok(match (owned, first) {
            (Some(o), _) => {
                let t = o.trim();
                if t.len() == o.len() {
                    Cow::Owned(o)
                } else {
                    Cow::Owned(t.to_string())
                }
            }
            (None, Some(Cow::Borrowed(b))) => Cow::Borrowed(b.trim()),
            (None, Some(Cow::Owned(o))) => Cow::Owned(o.trim().to_string()),
            (None, None) => Cow::Borrowed(""),
        })
    }

    /// [`Self::text_ref`] as an owned string.
    pub(crate) fn text(&mut self) -> Result<String, DecodeError> {
        Ok(self.text_ref()?.into_owned())
    }

    /// Like [`Self::text`], `None` when empty.
    pub(crate) fn opt_text(&mut self) -> Result<Option<String>, DecodeError> {
        let t = self.text()?;
        Ok(if t.is_empty() { None } else { Some(t) })
    }

    /// A decimal amount (`1234.50`, `-3`, `1.5E2`).
    pub(crate) fn decimal(&mut self, what: &str) -> Result<Option<Decimal>, DecodeError> {
        let t = self.text_ref()?;
        if t.is_empty() {
            return Ok(None);
        }
        match parse_decimal(&t) {
            Some(d) => Ok(Some(d)),
            None => self.bad_value(format!("{what} `{}` is not a decimal number", clip(&t))),
        }
    }

    /// An `xsd:date` (`2024-05-01`, also with a zone suffix such as `-07:00` or `Z`, or an `xsd:dateTime`).
    pub(crate) fn date(&mut self, what: &str) -> Result<Option<NaiveDate>, DecodeError> {
        let t = self.text_ref()?;
        if t.is_empty() {
            return Ok(None);
        }
        match parse_date(&t) {
            Some(d) => Ok(Some(d)),
            None => self.bad_value(format!("{what} `{}` is not a date", clip(&t))),
        }
    }

    /// An `xsd:boolean`.
    pub(crate) fn boolean(&mut self, what: &str) -> Result<Option<bool>, DecodeError> {
        let t = self.text_ref()?;
        match t.as_ref() {
            "" => Ok(None),
            "1" | "true" => Ok(Some(true)),
            "0" | "false" => Ok(Some(false)),
            _ => self.bad_value(format!("{what} `{}` is not a boolean", clip(&t))),
        }
    }

    /// An unsigned integer.
    pub(crate) fn number(&mut self, what: &str) -> Result<Option<u32>, DecodeError> {
        let t = self.text_ref()?;
        if t.is_empty() {
            return Ok(None);
        }
        // Workday sends counts as decimals in some versions (`3.0`).
        let int = t.strip_suffix(".0").unwrap_or(&t);
        match int.parse::<u32>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => self.bad_value(format!("{what} `{}` is not a whole number", clip(&t))),
        }
    }

    /// The value of the attribute `local` of `el` in the Workday namespace or in no namespace, borrowed when
    /// it has no references to resolve.
    pub(crate) fn attr_ref<'e>(
        &self,
        el: &'e El<'_>,
        local: &str,
    ) -> Result<Option<Cow<'e, str>>, DecodeError> {
        for attr in el.start.attributes().with_checks(false) {
            let attr = attr.map_err(|e| self.err(format!("bad attribute: {e}")))?;
            if attr.key.local_name().into_inner() != local.as_bytes() {
                continue;
            }
            let (ns, _) = self.reader.resolve_attribute(attr.key);
            if !matches!(Ns::of(&ns), Ns::Wd | Ns::None) {
                continue;
            }
            return attr
                .unescape_value()
                .map(Some)
                .map_err(|e| self.err(format!("bad value of attribute {local}: {e}")));
        }
        Ok(None)
    }

    /// [`Self::attr_ref`] as an owned string.
    pub(crate) fn attr(&self, el: &El<'_>, local: &str) -> Result<Option<String>, DecodeError> {
        Ok(self.attr_ref(el, local)?.map(Cow::into_owned))
    }
}

/// Parses a decimal in plain or scientific notation.
pub(crate) fn parse_decimal(t: &str) -> Option<Decimal> {
    let t = t.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.contains(['e', 'E']) {
        Decimal::from_scientific(t).ok()
    } else {
        Decimal::from_str(t).ok()
    }
}

/// Parses the date part of an `xsd:date` or `xsd:dateTime`.
pub(crate) fn parse_date(t: &str) -> Option<NaiveDate> {
    let t = t.trim();
    let (date, rest) = (t.get(..10)?, t.get(10..)?);
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let zone_ok = rest.is_empty()
        || rest == "Z"
        || rest.starts_with('T')
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.as_bytes()[3] == b':');
    zone_ok.then_some(date)
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_accept_workday_forms() {
        let d = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        for ok in [
            "2024-05-01",
            "2024-05-01-07:00",
            "2024-05-01Z",
            "2024-05-01T10:00:00.000-07:00",
        ] {
            assert_eq!(parse_date(ok), Some(d), "{ok}");
        }
        for bad in ["2024-5-1", "01/05/2024", "2024-05-01junk", "", "2024-13-01"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_decimal("1234.10").unwrap().to_string(), "1234.10");
        assert_eq!(parse_decimal("-0.01").unwrap().to_string(), "-0.01");
        assert_eq!(parse_decimal("1.5E2").unwrap(), Decimal::from(150));
        assert!(parse_decimal("12,50").is_none());
        assert!(parse_decimal("NaN").is_none());
    }

    #[test]
    fn namespaces_resolve_by_uri_not_prefix() {
        let xml = br#"<a xmlns:x="urn:com.workday/bsvc" xmlns="urn:com.workday/bsvc"><x:One>1</x:One><Two>2</Two><y:Three xmlns:y="urn:other">3</y:Three></a>"#;
        let mut c = Cursor::new(xml);
        let root = c.root().unwrap();
        assert!(root.is("a"));
        let one = c.child().unwrap().unwrap();
        assert!(one.is("One"));
        assert_eq!(c.text().unwrap(), "1");
        let two = c.child().unwrap().unwrap();
        assert!(two.is("Two"));
        c.skip(&two).unwrap();
        let three = c.child().unwrap().unwrap();
        assert_eq!(three.ns, Ns::Other);
        c.skip(&three).unwrap();
        assert!(c.child().unwrap().is_none());
        c.finish().unwrap();
    }

    #[test]
    fn text_resolves_references_and_reports_offsets() {
        let xml = b"<a>Smith &amp; Sons&#xa;Ltd<b>ignored</b></a>";
        let mut c = Cursor::new(xml);
        c.root().unwrap();
        assert_eq!(c.text().unwrap(), "Smith & Sons\nLtd");
        let bad = b"<a>1<2</a>";
        let mut c = Cursor::new(bad);
        c.root().unwrap();
        let e = c.text().unwrap_err();
        assert!(e.offset >= 4, "{e:?}");
    }
}
