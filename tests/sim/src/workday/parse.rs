//! Reading incoming SOAP requests: a small namespace-resolved tree (requests are small), then the checks
//! Workday makes: envelope, WS-Security UsernameToken with PasswordText, the request element and its version.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::wire::{SOAP_ENV, WD};

/// WS-Security extension namespace.
pub const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// `Type` of a clear-text password.
pub const PASSWORD_TEXT: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";

/// An element with its namespace URI, attributes and children.
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// Namespace URI (empty: none).
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Attributes: (namespace URI, local name, value).
    pub attrs: Vec<(String, String, String)>,
    /// Child elements.
    pub children: Vec<Node>,
    /// Concatenated text content (trimmed).
    pub text: String,
}

impl Node {
    /// Whether it is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The first child `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// The attribute `local` in namespace `ns` (empty: none).
    pub fn attr(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, l, _)| n == ns && l == local)
            .map(|(_, _, v)| v.as_str())
    }
}

fn ns_of(r: &ResolveResult<'_>) -> String {
    match r {
        ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
        _ => String::new(),
    }
}

/// Parses a request body into its root element. Errors are plain messages for a fault.
pub fn parse_tree(body: &[u8]) -> Result<Node, String> {
    let mut reader = NsReader::from_reader(body);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Node> = Vec::new();
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map(|(r, e)| (ns_of(&r), e))
            .map_err(|e| {
                format!(
                    "the request is not well-formed XML at byte {}: {e}",
                    reader.error_position()
                )
            })?;
        match event {
            Event::Start(start) => {
                let mut node = Node {
                    ns,
                    name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                    ..Default::default()
                };
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| format!("bad attribute: {e}"))?;
                    if attr.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (ans, local) = reader.resolve_attribute(attr.key);
                    let value = attr
                        .unescape_value()
                        .map_err(|e| format!("bad attribute value: {e}"))?;
                    node.attrs.push((
                        ns_of(&ans),
                        String::from_utf8_lossy(local.as_ref()).into_owned(),
                        value.into_owned(),
                    ));
                }
                stack.push(node);
            }
            Event::End(_) => {
                let mut node = stack.pop().ok_or("unbalanced end tag")?;
                node.text = node.text.trim().to_string();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text
                        .push_str(&t.decode().map_err(|e| format!("bad text: {e}"))?);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text
                        .push_str(&t.decode().map_err(|e| format!("bad CDATA: {e}"))?);
                }
            }
            Event::GeneralRef(r) => {
                let s = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| e.to_string())?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity &{name};"))?
                            .to_string()
                    }
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::Eof => return Err("the request ends before its elements are closed".into()),
            _ => {}
        }
    }
}

/// What the WS-Security header said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsernameToken {
    /// `wsse:Username`, e.g. `isu@acme_dpt1`.
    pub username: String,
    /// `wsse:Password` text.
    pub password: String,
}

/// A checked request: the security token, Workday's common header and the `{Op}_Request` element.
#[derive(Debug)]
pub struct SoapRequest {
    /// The token, if the header had a complete one with a PasswordText password.
    pub token: Option<UsernameToken>,
    /// `Workday_Common_Header`, when sent.
    pub common_header: Option<Node>,
    /// The request element (in `urn:com.workday/bsvc`).
    pub request: Node,
}

/// Checks the envelope and extracts the token and request element.
pub fn soap_request(root: Node) -> Result<SoapRequest, String> {
    if !root.is(SOAP_ENV, "Envelope") {
        return Err(format!(
            "expected a SOAP 1.1 Envelope ({SOAP_ENV}), got {{{}}}{}",
            root.ns, root.name
        ));
    }
    let token = root
        .child(SOAP_ENV, "Header")
        .and_then(|h| h.child(WSSE, "Security"))
        .and_then(|s| s.child(WSSE, "UsernameToken"))
        .and_then(|t| {
            let username = t.child(WSSE, "Username")?.text.clone();
            let password = t.child(WSSE, "Password")?;
            // The Type attribute is unqualified; PasswordText is what Workday accepts.
            let ty = password.attr("", "Type").unwrap_or(PASSWORD_TEXT);
            (ty == PASSWORD_TEXT).then(|| UsernameToken {
                username,
                password: password.text.clone(),
            })
        });
    let common_header = root
        .child(SOAP_ENV, "Header")
        .and_then(|h| h.child(WD, "Workday_Common_Header"))
        .cloned();
    let body = root
        .children
        .into_iter()
        .find(|c| c.is(SOAP_ENV, "Body"))
        .ok_or("the Envelope has no Body")?;
    let request = body
        .children
        .into_iter()
        .next()
        .ok_or("the Body is empty")?;
    if request.ns != WD {
        return Err(format!(
            "the request element {{{}}}{} is not in the {WD} namespace",
            request.ns, request.name
        ));
    }
    Ok(SoapRequest {
        token,
        common_header,
        request,
    })
}
