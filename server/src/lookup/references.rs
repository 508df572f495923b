//! Finding the invoice and purchase order numbers a ticket's text quotes.
//!
//! Patterns are regular expressions (configurable, `enrichment.invoice_patterns` / `enrichment.po_patterns`);
//! a pattern with a capture group contributes the group, one without contributes the whole match. A leading
//! `#` is never part of a number (`#88213` quotes `88213`). Candidates keep the order in which the text first
//! quotes them — subject before description — without repeats, and at most [`MAX_CANDIDATES`] are kept, so a
//! pasted statement cannot cost hundreds of lookups.
//!
//! The default invoice pattern takes every token that holds a digit and looks like a document number
//! (`INV-2026-0042`, `88213`, `SI-000123`, `2026/INV/17`): which tokens are invoices is decided by the invoice
//! index, not by guessing at a supplier's numbering. The default purchase order pattern takes the number after
//! `PO` (`PO 4711`, `P.O. #4711`, `PO-000123`, whose whole token is also a candidate).

use regex::Regex;

/// Candidates kept per ticket, per kind.
pub const MAX_CANDIDATES: usize = 50;

/// Text read per ticket (subject and description together), in bytes; the rest is not searched.
pub const MAX_TEXT_BYTES: usize = 20_000;

/// The default invoice number pattern: a token with at least one digit, made of letters, digits and the
/// separators `- / _ .` (not ending in a separator), at least 3 characters long.
pub const DEFAULT_INVOICE_PATTERN: &str =
    r"(?:^|[^\w/-])#?([A-Za-z0-9](?:[A-Za-z0-9/_.-]*[A-Za-z0-9])?)";

/// The default purchase order pattern: `PO`, `P.O.` or `purchase order`, an optional `#`, `no.` or `number`
/// and separator, then the number.
pub const DEFAULT_PO_PATTERN: &str = r"(?i)\b(?:P\.?O\.?|purchase\s+order)\s*(?:#|no\.?|number|nr\.?)?\s*[:#-]?\s*([A-Z0-9](?:[A-Z0-9/_-]*[A-Z0-9])?)";

/// Compiled patterns.
#[derive(Debug, Clone)]
pub struct ReferencePatterns {
    invoice: Vec<Regex>,
    po: Vec<Regex>,
}

/// A pattern that does not compile; names the key and the pattern's position in it.
#[derive(Debug, thiserror::Error)]
#[error("{key}[{index}]: not a valid regular expression: {message}")]
pub struct PatternError {
    /// The configuration key.
    pub key: &'static str,
    /// The pattern's position in the list.
    pub index: usize,
    /// What is wrong.
    pub message: String,
}

fn compile(key: &'static str, patterns: &[String]) -> Result<Vec<Regex>, PatternError> {
    patterns
        .iter()
        .enumerate()
        .map(|(index, p)| {
            regex::RegexBuilder::new(p)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| PatternError {
                    key,
                    index,
                    message: e
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                })
        })
        .collect()
}

/// The numbers one ticket quotes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quoted {
    /// Invoice number candidates, in order of first appearance.
    pub invoices: Vec<String>,
    /// Purchase order number candidates, in order of first appearance.
    pub purchase_orders: Vec<String>,
}

impl Quoted {
    /// Whether the text quotes nothing that could be looked up.
    pub fn is_empty(&self) -> bool {
        self.invoices.is_empty() && self.purchase_orders.is_empty()
    }
}

impl ReferencePatterns {
    /// Compiles the configured patterns.
    pub fn new(invoice: &[String], po: &[String]) -> Result<Self, PatternError> {
        Ok(Self {
            invoice: compile("enrichment.invoice_patterns", invoice)?,
            po: compile("enrichment.po_patterns", po)?,
        })
    }

    /// The defaults ([`DEFAULT_INVOICE_PATTERN`], [`DEFAULT_PO_PATTERN`]).
    pub fn defaults() -> Self {
        Self::new(
            &[DEFAULT_INVOICE_PATTERN.to_string()],
            &[DEFAULT_PO_PATTERN.to_string()],
        )
        .expect("the default patterns compile")
    }

    /// The candidates in `texts` (read in order: subject, then description).
    pub fn find(&self, texts: &[&str]) -> Quoted {
        let mut text = String::new();
        for t in texts {
            let room = MAX_TEXT_BYTES.saturating_sub(text.len());
            if room == 0 {
                break;
            }
            let mut end = t.len().min(room);
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            text.push_str(&t[..end]);
            text.push('\n');
        }
        Quoted {
            invoices: candidates(&self.invoice, &text, true),
            purchase_orders: candidates(&self.po, &text, false),
        }
    }
}

/// Matches of `patterns` in `text` in order of position, deduplicated case-insensitively. With
/// `need_digit`, only tokens of 3 characters or more holding a digit count.
fn candidates(patterns: &[Regex], text: &str, need_digit: bool) -> Vec<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    for re in patterns {
        for caps in re.captures_iter(text) {
            let Some(m) = caps.get(1).or_else(|| caps.get(0)) else {
                continue;
            };
            let token = m.as_str().trim().trim_start_matches('#');
            let token = token.trim_end_matches(['.', '-', '/', '_']);
            if token.is_empty() || token.len() > 64 {
                continue;
            }
            if need_digit && (token.len() < 3 || !token.bytes().any(|b| b.is_ascii_digit())) {
                continue;
            }
            found.push((m.start(), token.to_string()));
        }
    }
    found.sort_by_key(|(at, _)| *at);
    let mut seen = std::collections::HashSet::new();
    found
        .into_iter()
        .map(|(_, t)| t)
        .filter(|t| seen.insert(t.to_lowercase()))
        .take(MAX_CANDIDATES)
        .collect()
}

/// The last run of digits of `number`, without leading zeros (`INV-2026-0042` → `42`); `None` when it has no
/// digit. Used to match a number quoted in short form within one supplier's invoices.
pub fn trailing_digits(number: &str) -> Option<String> {
    let bytes = number.as_bytes();
    let end = bytes.iter().rposition(u8::is_ascii_digit)? + 1;
    let start = bytes[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let digits = number[start..end].trim_start_matches('0');
    Some(if digits.is_empty() { "0" } else { digits }.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_find_the_forms_suppliers_quote_in_order() {
        let q = ReferencePatterns::defaults().find(&[
            "Unpaid invoice INV-2026-0042 (PO 4711)",
            "Hello, see also #88213 and SI-000123. Amount: 18,250.00 EUR on 2026-11-03.",
        ]);
        assert_eq!(
            &q.invoices[..4],
            ["INV-2026-0042", "4711", "88213", "SI-000123"],
            "{:?}",
            q.invoices
        );
        assert_eq!(q.purchase_orders, ["4711"]);
        assert!(!q.invoices.iter().any(|c| c == "PO"), "{:?}", q.invoices);
    }

    #[test]
    fn repeats_are_dropped_case_insensitively_and_the_count_is_capped() {
        let many: String = (0..200).map(|i| format!("X-{i:04} ")).collect();
        let q = ReferencePatterns::defaults().find(&["inv-1 INV-1 inv-1", &many]);
        assert_eq!(q.invoices[0], "inv-1");
        assert_eq!(
            q.invoices
                .iter()
                .filter(|c| c.eq_ignore_ascii_case("inv-1"))
                .count(),
            1
        );
        assert_eq!(q.invoices.len(), MAX_CANDIDATES);
    }

    #[test]
    fn purchase_order_forms() {
        let p = ReferencePatterns::defaults();
        for (text, po) in [
            ("P.O. #4711", "4711"),
            ("po no. 4711-A", "4711-A"),
            ("Purchase Order: PO-000123", "PO-000123"),
            ("PO-000123", "000123"),
        ] {
            assert_eq!(
                p.find(&[text]).purchase_orders.first().map(String::as_str),
                Some(po),
                "{text}"
            );
        }
    }

    #[test]
    fn a_custom_pattern_with_a_group_and_a_bad_one() {
        let p = ReferencePatterns::new(&[r"Rechnung\s+(\d+)".into()], &[]).unwrap();
        assert_eq!(p.find(&["Rechnung 12345 und 999"]).invoices, ["12345"]);
        let err = ReferencePatterns::new(&["(".into()], &[]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("enrichment.invoice_patterns[0]: not a valid regular expression"),
            "{err}"
        );
    }

    #[test]
    fn long_text_is_cut_at_a_char_boundary() {
        let text = "é".repeat(MAX_TEXT_BYTES);
        let q = ReferencePatterns::defaults().find(&[&text, "INV-9999"]);
        assert!(q.invoices.is_empty());
    }

    #[test]
    fn trailing_digit_groups() {
        assert_eq!(trailing_digits("INV-2026-0042").as_deref(), Some("42"));
        assert_eq!(trailing_digits("88213").as_deref(), Some("88213"));
        assert_eq!(trailing_digits("A-000").as_deref(), Some("0"));
        assert_eq!(trailing_digits("INV-12A"), Some("12".into()));
        assert_eq!(trailing_digits("none"), None);
    }
}
