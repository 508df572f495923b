//! OAuth2 token endpoint (refresh-token grant) and the REST reads of supplier invoice requests
//! (`accountsPayable` v1 `supplierInvoiceRequests`): the request each simulated invoice was created from, an
//! object of its own with its own WID. Supplier invoices themselves have no REST resource.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::data::{COMPANIES, Invoice, Universe};

/// Issued access tokens and their expiry.
#[derive(Debug, Default)]
pub struct Tokens {
    issued: HashMap<String, Instant>,
    counter: u64,
}

impl Tokens {
    /// A new token valid for `ttl`.
    pub fn issue(&mut self, seed: u64, ttl: Duration) -> String {
        self.counter += 1;
        let token = format!(
            "wdsim_{:016x}{:08x}",
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ rand::random::<u64>(),
            self.counter
        );
        let now = Instant::now();
        // A ttl beyond what the clock can hold means "does not expire" (a century).
        let expires = now
            .checked_add(ttl)
            .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
            .unwrap_or(now);
        self.issued.insert(token.clone(), expires);
        token
    }

    /// Whether `token` is valid now.
    pub fn valid(&self, token: &str) -> bool {
        self.issued
            .get(token)
            .is_some_and(|exp| Instant::now() < *exp)
    }

    /// Forgets every token (the next REST call answers 401).
    pub fn revoke_all(&mut self) {
        self.issued.clear();
    }
}

/// Client credentials from HTTP Basic or from the form.
pub fn client_credentials(
    authorization: Option<&str>,
    form: &HashMap<String, String>,
) -> Option<(String, String)> {
    if let Some(basic) = authorization.and_then(|h| h.strip_prefix("Basic ")) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        return Some((id.to_string(), secret.to_string()));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

/// A currency amount; `value` is a JSON number written with its exact decimal digits.
#[derive(Debug, Serialize)]
pub struct Money {
    value: Box<RawValue>,
    currency: String,
}

fn money(d: Decimal, currency: &str) -> Money {
    Money {
        value: raw_number(&format!("{d:.2}")),
        currency: currency.to_string(),
    }
}

fn raw_number(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_string()).unwrap_or_default()
}

/// `{id, descriptor, href?}`.
#[derive(Debug, Serialize)]
pub struct Ref {
    id: String,
    descriptor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    href: Option<String>,
}

fn reference(id: impl Into<String>, descriptor: impl Into<String>) -> Ref {
    Ref {
        id: id.into(),
        descriptor: descriptor.into(),
        href: None,
    }
}

/// One invoice line.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineOut {
    id: String,
    descriptor: String,
    order: String,
    item_description: String,
    quantity: Box<RawValue>,
    unit_cost: Money,
    extended_amount: Money,
    spend_category: Ref,
}

/// A supplier invoice request as the REST API answers it. `invoiceNumber` is the number on the supplier's
/// invoice (the request has no Workday invoice number).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceRequestOut {
    id: String,
    descriptor: String,
    href: String,
    invoice_number: String,
    supplier: Ref,
    company: Ref,
    currency: Ref,
    invoice_date: String,
    due_date: String,
    status: Ref,
    control_total_amount: Money,
    tax_amount: Money,
    total_invoice_amount: Money,
    #[serde(skip_serializing_if = "Option::is_none")]
    memo: Option<String>,
    lines: Vec<LineOut>,
}

/// `{"data": [...], "total": N}`.
#[derive(Debug, Serialize)]
pub struct Collection<T> {
    /// The page.
    pub data: Vec<T>,
    /// All matches.
    pub total: u64,
}

/// The supplier invoice request `inv` was created from, as the REST API answers it. Its status follows what
/// became of it: an approved invoice's request is `Approved`, a canceled invoice's `Canceled`, the others are
/// `In Progress`.
pub fn invoice_request_json(u: &Universe, inv: &Invoice, base: &str) -> InvoiceRequestOut {
    let s = u.supplier(inv.supplier);
    let currency = s.currency();
    let (company_id, company_name, _) = COMPANIES[s.company];
    let lines = inv
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| LineOut {
            id: format!("{}-{}", inv.request_wid, i + 1),
            descriptor: l.description.to_string(),
            order: format!("{}", i + 1),
            item_description: l.description.to_string(),
            quantity: raw_number(&l.quantity.to_string()),
            unit_cost: money(l.unit_cost, currency),
            extended_amount: money(l.amount, currency),
            spend_category: reference(u.other_wid(l.spend_category.0), l.spend_category.1),
        })
        .collect();
    let status = match inv.key.status {
        "Approved" => "Approved",
        "Canceled" => "Canceled",
        _ => "In Progress",
    };
    InvoiceRequestOut {
        id: inv.request_wid.clone(),
        descriptor: format!("Supplier Invoice Request: {}", inv.supplier_invoice_number),
        href: format!("{base}/supplierInvoiceRequests/{}", inv.request_wid),
        invoice_number: inv.supplier_invoice_number.clone(),
        supplier: Ref {
            id: s.wid.clone(),
            descriptor: s.name.clone(),
            href: Some(format!("{base}/suppliers/{}", s.wid)),
        },
        company: reference(u.other_wid(company_id), company_name),
        currency: reference(u.other_wid(currency), currency),
        invoice_date: inv.key.invoice_date.format("%Y-%m-%d").to_string(),
        due_date: inv.key.due_date.format("%Y-%m-%d").to_string(),
        status: reference(u.other_wid(status), status),
        control_total_amount: money(inv.gross, currency),
        tax_amount: money(inv.tax, currency),
        total_invoice_amount: money(inv.gross, currency),
        memo: inv.memo.clone(),
        lines,
    }
}

/// `{"error": "...", "errors": [{"error": "..."}]}`.
pub fn error_json(message: &str) -> Value {
    json!({ "error": message, "errors": [ { "error": message } ] })
}
