//! The operations: request validation (criteria, references, Response_Filter), record selection and paging,
//! and the response page.

use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use rust_decimal::Decimal;

use super::data::{COMPANIES, Universe};
use super::parse::Node;
use super::schema::{self, Generation};
use super::wire::{self, Invalid, Results, WD, Xml};

/// A read operation of the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Get_Suppliers.
    Suppliers,
    /// Get_Supplier_Invoices.
    Invoices,
    /// Get_Supplier_Invoice_Adjustments.
    Adjustments,
    /// Get_Purchase_Orders.
    PurchaseOrders,
    /// Get_Payments.
    Payments,
}

impl Op {
    /// From the request element's local name.
    pub fn from_request(name: &str) -> Option<Self> {
        Some(match name {
            "Get_Suppliers_Request" => Self::Suppliers,
            "Get_Supplier_Invoices_Request" => Self::Invoices,
            "Get_Supplier_Invoice_Adjustments_Request" => Self::Adjustments,
            "Get_Purchase_Orders_Request" => Self::PurchaseOrders,
            "Get_Payments_Request" => Self::Payments,
            _ => return None,
        })
    }

    /// Operation name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Suppliers => "Get_Suppliers",
            Self::Invoices => "Get_Supplier_Invoices",
            Self::Adjustments => "Get_Supplier_Invoice_Adjustments",
            Self::PurchaseOrders => "Get_Purchase_Orders",
            Self::Payments => "Get_Payments",
        }
    }

    /// The web service that serves it.
    pub fn service(self) -> &'static str {
        match self {
            Self::Payments => "Settlement_Services",
            _ => "Resource_Management",
        }
    }
}

/// Which optional parts of each record the `Response_Group` asked for. Without a `Response_Group` Workday
/// returns every group; with one, an absent flag is false.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    /// `Include_Reference`: the record's own `*_Reference`.
    pub reference: bool,
    /// `Include_Payment_Group_Data` (Get_Payments): `Payment_Group_Data` (date, currency, type).
    pub payment_group: bool,
}

impl Default for Group {
    fn default() -> Self {
        Self {
            reference: true,
            payment_group: true,
        }
    }
}

/// A validated request.
#[derive(Debug, Clone)]
pub struct Query {
    /// Operation.
    pub op: Op,
    /// Records by reference, in request order (already resolved to indices).
    pub references: Option<Vec<u32>>,
    /// Criteria, when not by reference.
    pub criteria: Criteria,
    /// Page (1-based).
    pub page: u32,
    /// Count (1–999).
    pub count: u32,
    /// As_Of_Entry_DateTime as sent.
    pub as_of: Option<String>,
    /// As_Of_Effective_Date as sent.
    pub as_of_effective: Option<String>,
    /// What the Response_Group asked for.
    pub group: Group,
    /// The request's `Request_References` or `Request_Criteria`, echoed in the response.
    pub echo_selection: Option<Node>,
    /// The request's `Response_Group`, echoed in the response.
    pub echo_group: Option<Node>,
    /// A canonical text of the selection, for caching.
    pub cache_key: String,
}

/// Criteria of all operations (unused ones stay empty). Lists mean "any of".
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    /// Supplier / payee indices.
    pub suppliers: Vec<u32>,
    /// Company indices.
    pub companies: Vec<usize>,
    /// Updated window.
    pub updated: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    /// Invoice / purchase order / payment date window.
    pub date: (Option<NaiveDate>, Option<NaiveDate>),
    /// Due date window.
    pub due: (Option<NaiveDate>, Option<NaiveDate>),
    /// Supplier status (`ACTIVE`, `INACTIVE`).
    pub supplier_status: Vec<String>,
    /// Supplier category IDs.
    pub category: Vec<String>,
    /// The PO an invoice refers to (Document_Number).
    pub po: Option<String>,
    /// `Purchase_Order_Number` of Get_Purchase_Orders.
    pub po_number: Option<String>,
    /// `Invoice_On_Hold`.
    pub on_hold: Option<bool>,
    /// `External_PO_Number` (no simulated invoice has one).
    pub external_po: Option<String>,
    /// Invoice `Document_Status_ID`s.
    pub document_status: Vec<String>,
    /// `Payment_Type_ID`s.
    pub payment_types: Vec<String>,
    /// `Payment_Status_ID`s.
    pub payment_status: Vec<String>,
    /// `Currency_ID`s.
    pub currencies: Vec<String>,
    /// Payment amount equal to / greater than / less than.
    pub amount: (Option<Decimal>, Option<Decimal>, Option<Decimal>),
}

/// An XPath made of steps such as `Request_Criteria[1]`.
type Steps = Vec<String>;

fn steps(base: &[String], step: &str) -> Steps {
    let mut v = base.to_vec();
    v.push(step.to_string());
    v
}

struct Ctx<'a> {
    u: &'a Universe,
    root: String,
    errors: Vec<Invalid>,
}

impl Ctx<'_> {
    fn xpath(&self, parts: &[String]) -> String {
        let mut s = format!("/wd:{}[1]", self.root);
        for p in parts {
            s.push_str("/wd:");
            s.push_str(p);
        }
        s
    }

    fn invalid(&mut self, message: String, parts: &[String]) {
        let xpath = self.xpath(parts);
        self.errors.push(Invalid {
            detail: message.clone(),
            message,
            xpath,
        });
    }

    /// Checks `node`'s children against `seq`; returns those that fit, reports the others.
    fn sequence<'n>(
        &mut self,
        node: &'n Node,
        seq: &[schema::Item],
        at: &[String],
    ) -> Vec<(schema::Item, &'n Node, Steps)> {
        let (ok, bad) = schema::check(node, seq);
        for m in bad {
            self.invalid(m.message, &steps(at, &m.step));
        }
        ok.into_iter()
            .map(|m| (m.item, m.node, steps(at, &m.step)))
            .collect()
    }

    /// A criterion Workday has but the simulator does not evaluate: refused, never silently ignored.
    fn unsupported(&mut self, name: &str, parts: &[String]) {
        self.invalid(
            format!("{name} is valid here but the simulator does not evaluate it"),
            parts,
        );
    }

    fn date(&mut self, n: &Node, parts: &[String]) -> Option<NaiveDate> {
        let d = n
            .text
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        if d.is_none() {
            self.invalid(format!("Invalid date value: '{}'", n.text), parts);
        }
        d
    }

    fn datetime(&mut self, n: &Node, parts: &[String]) -> Option<DateTime<Utc>> {
        let t = n.text.as_str();
        let parsed = DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|d| Utc.from_utc_datetime(&d))
            })
            .or_else(|| {
                t.get(..10)
                    .filter(|_| t.len() == 10 || t.len() == 16 || t.ends_with('Z'))
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|d| Utc.from_utc_datetime(&d))
            });
        if parsed.is_none() {
            self.invalid(format!("Invalid dateTime value: '{t}'"), parts);
        }
        parsed
    }

    fn boolean(&mut self, n: &Node, parts: &[String]) -> Option<bool> {
        let b = schema::boolean(&n.text);
        if b.is_none() {
            self.invalid(
                format!(
                    "cvc-datatype-valid.1.2.1: '{}' is not a valid value for 'boolean'.",
                    n.text
                ),
                parts,
            );
        }
        b
    }

    fn decimal(&mut self, n: &Node, parts: &[String]) -> Option<Decimal> {
        let d = n.text.parse::<Decimal>().ok();
        if d.is_none() {
            self.invalid(
                format!(
                    "cvc-datatype-valid.1.2.1: '{}' is not a valid value for 'decimal'.",
                    n.text
                ),
                parts,
            );
        }
        d
    }

    /// The IDs of a reference: (type, value). A reference holds `ID` elements only.
    fn ids(&mut self, n: &Node, parts: &[String]) -> Vec<(String, String)> {
        let ids: Vec<_> = self
            .sequence(n, schema::REFERENCE, parts)
            .into_iter()
            .map(|(_, c, _)| {
                (
                    c.attr(WD, "type").unwrap_or_default().to_string(),
                    c.text.clone(),
                )
            })
            .collect();
        if ids.is_empty() {
            self.invalid("A reference must contain at least one ID".into(), parts);
        }
        ids
    }

    /// The value of the ID of type `id_type` in a reference, else Workday's "Invalid ID value".
    fn id_of(&mut self, n: &Node, parts: &[String], id_type: &str) -> Option<String> {
        let ids = self.ids(n, parts);
        match ids.into_iter().find(|(t, _)| t == id_type) {
            Some((_, v)) => Some(v),
            None => {
                self.invalid(format!("{} needs an ID of type {id_type}", n.name), parts);
                None
            }
        }
    }

    /// Like [`Self::id_of`], restricted to `allowed` values.
    fn code_of(
        &mut self,
        n: &Node,
        parts: &[String],
        id_type: &str,
        allowed: &[&str],
    ) -> Option<String> {
        let v = self.id_of(n, parts, id_type)?;
        if allowed.contains(&v.as_str()) {
            Some(v)
        } else {
            self.invalid(
                format!("Invalid ID value.  '{v}' is not a valid ID value for type = '{id_type}'"),
                parts,
            );
            None
        }
    }

    /// Resolves a reference with `find`, reporting Workday's "Invalid ID value" when nothing matches.
    fn resolve(
        &mut self,
        n: &Node,
        parts: &[String],
        find: impl Fn(&Universe, &str, &str) -> Option<u32>,
    ) -> Option<u32> {
        let ids = self.ids(n, parts);
        for (t, v) in &ids {
            if let Some(i) = find(self.u, t, v) {
                return Some(i);
            }
        }
        if let Some((t, v)) = ids.first() {
            self.invalid(
                format!("Invalid ID value.  '{v}' is not a valid ID value for type = '{t}'"),
                parts,
            );
        }
        None
    }
}

/// Resolves (ID type, value) to a record index.
type Finder = fn(&Universe, &str, &str) -> Option<u32>;

fn supplier_finder(u: &Universe, t: &str, v: &str) -> Option<u32> {
    u.find_supplier(t, v)
}

fn company_finder(_: &Universe, t: &str, v: &str) -> Option<u32> {
    (t == "Company_Reference_ID")
        .then(|| COMPANIES.iter().position(|c| c.0 == v))
        .flatten()
        .map(|i| i as u32)
}

/// Validates the request element of `op`: the schema first (names, order, occurrences), then the values.
pub fn parse_query(u: &Universe, op: Op, req: &Node) -> Result<Query, Vec<Invalid>> {
    let mut cx = Ctx {
        u,
        root: req.name.clone(),
        errors: Vec::new(),
    };
    let mut query = Query {
        op,
        references: None,
        criteria: Criteria::default(),
        page: 1,
        count: 100,
        as_of: None,
        as_of_effective: None,
        group: Group::default(),
        echo_selection: None,
        echo_group: None,
        cache_key: String::new(),
    };
    for (item, part, at) in cx.sequence(req, schema::REQUEST, &[]) {
        match item.name {
            "Request_References" => {
                query.references = Some(references(&mut cx, op, part, &at));
                query.echo_selection = Some(part.clone());
            }
            "Request_Criteria" => {
                query.criteria = criteria(&mut cx, op, part, &at);
                query.echo_selection = Some(part.clone());
            }
            "Response_Filter" => response_filter(&mut cx, part, &at, &mut query),
            _ => {
                query.group = response_group(&mut cx, op, part, &at);
                query.echo_group = Some(part.clone());
            }
        }
    }
    if !cx.errors.is_empty() {
        return Err(cx.errors);
    }
    query.cache_key = format!("{:?}|{:?}|{:?}", op, query.references, query.criteria);
    Ok(query)
}

fn response_filter(cx: &mut Ctx<'_>, part: &Node, at: &[String], q: &mut Query) {
    for (item, f, path) in cx.sequence(part, schema::RESPONSE_FILTER, at) {
        match item.name {
            "Page" => match f.text.parse::<u32>() {
                Ok(p) if p >= 1 => q.page = p,
                _ => cx.invalid(
                    format!(
                        "Page Number cannot be zero. Page must be a whole number of at least 1, got '{}'",
                        f.text
                    ),
                    &path,
                ),
            },
            "Count" => match f.text.parse::<u32>() {
                Ok(c) if (1..=999).contains(&c) => q.count = c,
                _ => cx.invalid(
                    format!(
                        "The value of Count must be between 1 and 999, got '{}'",
                        f.text
                    ),
                    &path,
                ),
            },
            "As_Of_Entry_DateTime" => {
                if cx.datetime(f, &path).is_some() {
                    q.as_of = Some(f.text.clone());
                }
            }
            _ => {
                if cx.date(f, &path).is_some() {
                    q.as_of_effective = Some(f.text.clone());
                }
            }
        }
    }
}

fn response_group(cx: &mut Ctx<'_>, op: Op, part: &Node, at: &[String]) -> Group {
    let seq = match op {
        Op::Payments => schema::PAYMENTS_RESPONSE_GROUP,
        _ => schema::RESOURCE_RESPONSE_GROUP,
    };
    let mut group = Group {
        reference: false,
        payment_group: false,
    };
    for (item, f, path) in cx.sequence(part, seq, at) {
        let on = cx.boolean(f, &path).unwrap_or(false);
        match item.name {
            "Include_Reference" => group.reference = on,
            "Include_Payment_Group_Data" => group.payment_group = on,
            // Attachments, bank and payroll data: the simulated records have none.
            _ => {}
        }
    }
    group
}

/// The ID types each kind of reference accepts. A payment reference (`Payment_WWS_Reference`, a
/// `Reporting_Transaction`) is known to take `WID` only.
fn accepted_id_types(op: Op) -> &'static [&'static str] {
    match op {
        Op::Suppliers => &["WID", "Supplier_ID", "Supplier_Reference_ID"],
        Op::Invoices => &["WID", "Supplier_Invoice_Reference_ID"],
        Op::Adjustments => &["WID", "Supplier_Invoice_Adjustment_Reference_ID"],
        Op::PurchaseOrders => &["WID", "Document_Number"],
        Op::Payments => &["WID"],
    }
}

fn references(cx: &mut Ctx<'_>, op: Op, part: &Node, at: &[String]) -> Vec<u32> {
    let (seq, find): (&[schema::Item], Finder) = match op {
        Op::Suppliers => (schema::SUPPLIER_REFERENCES, supplier_finder),
        Op::Invoices => (schema::INVOICE_REFERENCES, |u, t, v| u.find_invoice(t, v)),
        Op::Adjustments => (schema::ADJUSTMENT_REFERENCES, |u, t, v| {
            u.find_adjustment(t, v)
        }),
        Op::PurchaseOrders => (schema::PO_REFERENCES, |u, t, v| u.find_po(t, v)),
        Op::Payments => (schema::PAYMENT_REFERENCES, |u, t, v| u.find_payment(t, v)),
    };
    let accepted = accepted_id_types(op);
    let mut out = Vec::new();
    for (_, r, path) in cx.sequence(part, seq, at) {
        let unknown_type = r
            .children
            .iter()
            .filter(|c| c.ns == WD && c.name == "ID")
            .map(|c| c.attr(WD, "type").unwrap_or_default())
            .find(|t| !accepted.contains(t));
        if let Some(t) = unknown_type {
            cx.invalid(
                format!(
                    "Invalid ID type '{t}' for {}: this reference accepts {}",
                    r.name,
                    accepted.join(", ")
                ),
                &path,
            );
            continue;
        }
        if let Some(i) = cx.resolve(r, &path, find) {
            out.push(i);
        }
    }
    out
}

fn criteria(cx: &mut Ctx<'_>, op: Op, part: &Node, at: &[String]) -> Criteria {
    let mut c = Criteria::default();
    let children = match op {
        Op::Suppliers => cx.sequence(part, schema::SUPPLIER_CRITERIA, at),
        Op::Invoices => cx.sequence(part, schema::INVOICE_CRITERIA, at),
        Op::Adjustments => cx.sequence(part, schema::ADJUSTMENT_CRITERIA, at),
        Op::PurchaseOrders => cx.sequence(part, schema::PO_CRITERIA, at),
        Op::Payments => {
            // Get_Payments nests its criteria in one of four kinds; the simulator evaluates the general one.
            let mut inner = Vec::new();
            for (item, n, path) in cx.sequence(part, schema::PAYMENT_CRITERIA, at) {
                if item.name == "General_Payment_Criteria" {
                    inner.extend(cx.sequence(n, schema::GENERAL_PAYMENT_CRITERIA, &path));
                } else {
                    cx.unsupported(item.name, &path);
                }
            }
            inner
        }
    };
    for (item, n, path) in children {
        match (op, item.name) {
            (Op::Suppliers | Op::PurchaseOrders, "Updated_From_Date") => {
                c.updated.0 = cx.datetime(n, &path)
            }
            (Op::Suppliers | Op::PurchaseOrders, "Updated_To_Date") => {
                c.updated.1 = cx.datetime(n, &path)
            }
            (Op::Suppliers | Op::Invoices | Op::Adjustments, "Supplier_Status_Reference") => {
                if let Some(v) = cx.code_of(
                    n,
                    &path,
                    "Business_Entity_Status_Value_ID",
                    &["ACTIVE", "INACTIVE"],
                ) {
                    c.supplier_status.push(v);
                }
            }
            (Op::Suppliers, "Supplier_Category_Reference") => {
                let known: Vec<&str> = super::data::CATEGORIES.iter().map(|k| k.0).collect();
                if let Some(v) = cx.code_of(n, &path, "Supplier_Category_ID", &known) {
                    c.category.push(v);
                }
            }
            (Op::Invoices | Op::Adjustments | Op::PurchaseOrders, "Supplier_Reference")
            | (Op::Payments, "Payee_Reference") => {
                if let Some(k) = cx.resolve(n, &path, supplier_finder) {
                    c.suppliers.push(k);
                }
            }
            (Op::Invoices | Op::Adjustments | Op::Payments, "Company_Reference") => {
                if let Some(i) = cx.resolve(n, &path, company_finder) {
                    c.companies.push(i as usize);
                }
            }
            (Op::Invoices | Op::Adjustments, "Invoice_Date_On_or_After")
            | (Op::PurchaseOrders, "Purchase_Order_Date_On_or_After")
            | (Op::Payments, "Payment_Date_on_Date_Or_After") => c.date.0 = cx.date(n, &path),
            (Op::Invoices | Op::Adjustments, "Invoice_Date_On_or_Before")
            | (Op::PurchaseOrders, "Purchase_Order_Date_On_or_Before")
            | (Op::Payments, "Payment_Date_on_Date_Or_Before") => c.date.1 = cx.date(n, &path),
            (Op::Invoices, "Invoice_Due_Date_On_or_After")
            | (Op::PurchaseOrders, "Due_Date_On_or_After") => c.due.0 = cx.date(n, &path),
            (Op::Invoices, "Invoice_Due_Date_On_or_Before")
            | (Op::PurchaseOrders, "Due_Date_On_or_Before") => c.due.1 = cx.date(n, &path),
            (Op::Invoices, "Purchase_Order_Reference") => {
                c.po = cx.id_of(n, &path, "Document_Number")
            }
            (Op::Invoices | Op::Adjustments, "Invoice_On_Hold") => c.on_hold = cx.boolean(n, &path),
            (Op::Invoices | Op::Adjustments, "External_PO_Number") => {
                c.external_po = Some(n.text.clone())
            }
            (Op::Invoices, "Invoice_Status_Reference") => {
                if let Some(v) = cx.code_of(
                    n,
                    &path,
                    "Document_Status_ID",
                    &["Approved", "In_Progress", "Draft", "Canceled"],
                ) {
                    c.document_status.push(v);
                }
            }
            (Op::PurchaseOrders, "Purchase_Order_Number") => c.po_number = Some(n.text.clone()),
            (Op::Payments, "Payment_Type_Reference") => {
                if let Some(v) = cx.code_of(n, &path, "Payment_Type_ID", &["ACH", "Check", "Wire"])
                {
                    c.payment_types.push(v);
                }
            }
            (Op::Payments, "Payment_Status_Reference") => {
                if let Some(v) =
                    cx.code_of(n, &path, "Payment_Status_ID", &["Complete", "In_Progress"])
                {
                    c.payment_status.push(v);
                }
            }
            (Op::Payments, "Currency_Reference") => {
                let known: Vec<&str> = COMPANIES.iter().map(|co| co.2).collect();
                if let Some(v) = cx.code_of(n, &path, "Currency_ID", &known) {
                    c.currencies.push(v);
                }
            }
            (Op::Payments, "Payment_Amount_Equal_To") => c.amount.0 = cx.decimal(n, &path),
            (Op::Payments, "Payment_Amount_Greater_Than") => c.amount.1 = cx.decimal(n, &path),
            (Op::Payments, "Payment_Amount_Less_Than") => c.amount.2 = cx.decimal(n, &path),
            (_, name) => cx.unsupported(name, &path),
        }
    }
    let windows = [
        (
            "Updated_From_Date",
            c.updated.0.zip(c.updated.1).is_some_and(|(a, b)| a > b),
        ),
        (
            "date window",
            c.date.0.zip(c.date.1).is_some_and(|(a, b)| a > b),
        ),
        (
            "due date window",
            c.due.0.zip(c.due.1).is_some_and(|(a, b)| a > b),
        ),
    ];
    for (what, reversed) in windows {
        if reversed {
            cx.invalid(
                format!("The start of the {what} must be on or before its end"),
                &[at.join("/")],
            );
        }
    }
    c
}

/// The records a query selects, as indices.
#[derive(Debug, Clone)]
pub enum Selection {
    /// A contiguous range.
    Range(Range<u32>),
    /// A list.
    List(Arc<Vec<u32>>),
}

impl Selection {
    /// How many.
    pub fn len(&self) -> usize {
        match self {
            Self::Range(r) => r.len(),
            Self::List(l) => l.len(),
        }
    }

    /// Whether none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th index.
    pub fn get(&self, i: usize) -> u32 {
        match self {
            Self::Range(r) => r.start + i as u32,
            Self::List(l) => l[i],
        }
    }
}

fn within<T: PartialOrd>(v: T, w: &(Option<T>, Option<T>)) -> bool {
    w.0.as_ref().is_none_or(|a| v >= *a) && w.1.as_ref().is_none_or(|b| v <= *b)
}

fn any_of<T: PartialEq + ?Sized, U: AsRef<T>>(list: &[U], v: &T) -> bool {
    list.is_empty() || list.iter().any(|x| x.as_ref() == v)
}

/// Evaluates the selection (by reference or by criteria; there is no invoice-number filter).
pub fn select(u: &Universe, q: &Query) -> Selection {
    if let Some(refs) = &q.references {
        return Selection::List(Arc::new(refs.clone()));
    }
    let c = &q.criteria;
    let mut suppliers = c.suppliers.clone();
    suppliers.sort_unstable();
    suppliers.dedup();
    let all_suppliers = || 0..u.supplier_count();
    let owners = |suppliers: Vec<u32>| -> Box<dyn Iterator<Item = u32>> {
        if suppliers.is_empty() {
            Box::new(all_suppliers())
        } else {
            Box::new(suppliers.into_iter())
        }
    };
    let company_ok =
        |k: u32| c.companies.is_empty() || c.companies.contains(&u.supplier(k).company);
    match q.op {
        Op::Suppliers => {
            if c.updated == (None, None) && c.supplier_status.is_empty() && c.category.is_empty() {
                return Selection::Range(all_suppliers());
            }
            Selection::List(Arc::new(
                all_suppliers()
                    .filter(|&k| {
                        let s = u.supplier(k);
                        within(s.updated_at, &c.updated)
                            && any_of(&c.supplier_status, s.status)
                            && any_of(&c.category, s.category.0)
                    })
                    .collect(),
            ))
        }
        Op::Invoices => {
            let unfiltered = c.companies.is_empty()
                && c.supplier_status.is_empty()
                && c.date == (None, None)
                && c.due == (None, None)
                && c.po.is_none()
                && c.on_hold.is_none()
                && c.external_po.is_none()
                && c.document_status.is_empty();
            if unfiltered && suppliers.is_empty() {
                return Selection::Range(0..u.invoice_count());
            }
            let mut out = Vec::new();
            for k in owners(suppliers) {
                let range = u.invoices_of(k);
                if unfiltered {
                    out.extend(range);
                    continue;
                }
                let s = u.supplier(k);
                if !company_ok(k) || !any_of(&c.supplier_status, s.status) {
                    continue;
                }
                // No simulated invoice carries an External_PO_Number.
                if c.external_po.is_some() {
                    continue;
                }
                let pos = u.pos_of(k);
                for (j, g) in range.enumerate() {
                    let key = u.invoice_key(k, j as u32, s.terms.2, pos.len() as u32);
                    let po = key.po_local.map(|l| format!("PO-{:07}", pos.start + l + 1));
                    if within(key.invoice_date, &c.date)
                        && within(key.due_date, &c.due)
                        && c.po.as_ref().is_none_or(|p| po.as_ref() == Some(p))
                        && c.on_hold.is_none_or(|h| h == key.on_hold)
                        && any_of(&c.document_status, key.status)
                    {
                        out.push(g);
                    }
                }
            }
            Selection::List(Arc::new(out))
        }
        Op::Adjustments => {
            let unfiltered = c.companies.is_empty()
                && c.supplier_status.is_empty()
                && c.date == (None, None)
                && c.on_hold.is_none()
                && c.external_po.is_none();
            if unfiltered && suppliers.is_empty() {
                return Selection::Range(0..u.adjustment_count());
            }
            let mut out = Vec::new();
            for k in owners(suppliers) {
                let range = u.adjustments_of(k);
                if unfiltered {
                    out.extend(range);
                    continue;
                }
                let s = u.supplier(k);
                // No simulated adjustment is on hold or carries an External_PO_Number.
                if !company_ok(k)
                    || !any_of(&c.supplier_status, s.status)
                    || c.on_hold == Some(true)
                    || c.external_po.is_some()
                {
                    continue;
                }
                out.extend(range.filter(|&g| within(u.adjustment(g).date, &c.date)));
            }
            Selection::List(Arc::new(out))
        }
        Op::PurchaseOrders => {
            let unfiltered = c.updated == (None, None)
                && c.date == (None, None)
                && c.due == (None, None)
                && c.po_number.is_none();
            if unfiltered && suppliers.is_empty() {
                return Selection::Range(0..u.po_count());
            }
            let mut out = Vec::new();
            for k in owners(suppliers) {
                for g in u.pos_of(k) {
                    if unfiltered {
                        out.push(g);
                        continue;
                    }
                    let po = u.purchase_order(g);
                    if within(po.updated_at, &c.updated)
                        && within(po.document_date, &c.date)
                        && within(po.due_date, &c.due)
                        && c.po_number
                            .as_ref()
                            .is_none_or(|n| *n == po.document_number)
                    {
                        out.push(g);
                    }
                }
            }
            Selection::List(Arc::new(out))
        }
        Op::Payments => {
            let unfiltered = c.companies.is_empty()
                && c.date == (None, None)
                && c.payment_types.is_empty()
                && c.payment_status.is_empty()
                && c.currencies.is_empty()
                && c.amount == (None, None, None);
            if unfiltered && suppliers.is_empty() {
                return Selection::Range(0..u.payment_count());
            }
            let mut out = Vec::new();
            for k in owners(suppliers) {
                if !company_ok(k) || !any_of(&c.currencies, u.supplier(k).currency()) {
                    continue;
                }
                for g in u.payments_of(k) {
                    if unfiltered {
                        out.push(g);
                        continue;
                    }
                    let p = u.payment(g);
                    let (eq, gt, lt) = c.amount;
                    if within(p.date, &c.date)
                        && any_of(&c.payment_types, p.payment_type)
                        && any_of(&c.payment_status, p.status)
                        && eq.is_none_or(|a| p.amount == a)
                        && gt.is_none_or(|a| p.amount > a)
                        && lt.is_none_or(|a| p.amount < a)
                    {
                        out.push(g);
                    }
                }
            }
            Selection::List(Arc::new(out))
        }
    }
}

/// What shapes the records of an answer besides the query.
#[derive(Debug, Clone, Copy)]
pub struct Shape<'a> {
    /// The version answered in (`bsvc:version`, else the URL's).
    pub version: &'a str,
    /// Whether the request's `Workday_Common_Header` asked for reference descriptors.
    pub descriptors: bool,
    /// Suppliers written without any `Supplier_ID` (odd records a client must get past).
    pub suppliers_without_id: &'a [u32],
}

/// Writes the response page of `q` over `sel`: the request echoed (`Request_References` or
/// `Request_Criteria`, `Response_Filter` with the as-of values in force, `Response_Group`), then
/// `Response_Results`, then `Response_Data` unless the page is empty.
pub fn render(u: &Universe, q: &Query, shape: &Shape<'_>, sel: &Selection) -> String {
    let version = shape.version;
    let generation = Generation::of(version);
    let total = sel.len() as u64;
    let count = u64::from(q.count);
    let total_pages = total.div_ceil(count);
    let start = (u64::from(q.page) - 1) * count;
    let end = (start + count).min(total);
    let on_page = end.saturating_sub(start);
    let mut x = Xml::with_capacity(512 + on_page as usize * 3000).descriptors(shape.descriptors);
    let effective = q
        .as_of_effective
        .clone()
        .unwrap_or_else(|| wire::date_text(u.anchor()));
    let entry = q
        .as_of
        .clone()
        .unwrap_or_else(|| wire::datetime_text(Utc::now()));
    let filter = [
        ("As_Of_Effective_Date", effective),
        ("As_Of_Entry_DateTime", entry),
        ("Page", q.page.to_string()),
        ("Count", q.count.to_string()),
    ];
    wire::response_head(
        &mut x,
        q.op.name(),
        version,
        &wire::Echo {
            selection: q.echo_selection.as_ref(),
            filter: &filter,
            group: q.echo_group.as_ref(),
        },
        Results {
            total_results: total,
            total_pages,
            page_results: on_page,
            page: u64::from(q.page),
        },
    );
    if on_page > 0 {
        x.open("Response_Data");
        let with_ref = q.group.reference;
        for i in start..end {
            let idx = sel.get(i as usize);
            match q.op {
                Op::Suppliers => wire::supplier(
                    &mut x,
                    u,
                    &u.supplier(idx),
                    wire::SupplierShape {
                        with_reference: with_ref,
                        generation,
                        without_id: shape.suppliers_without_id.contains(&idx),
                    },
                ),
                Op::Invoices => wire::invoice(&mut x, u, &u.invoice(idx), with_ref, generation),
                Op::Adjustments => {
                    wire::adjustment(&mut x, u, &u.adjustment(idx), with_ref, generation)
                }
                Op::PurchaseOrders => {
                    wire::purchase_order(&mut x, u, &u.purchase_order(idx), with_ref)
                }
                Op::Payments => {
                    wire::payment(&mut x, u, &u.payment(idx), with_ref, q.group.payment_group)
                }
            }
        }
        x.close("Response_Data");
    }
    wire::response_tail(&mut x, q.op.name());
    x.finish()
}
