//! The four operations: request validation (criteria, references, Response_Filter), record selection and
//! paging, and the response page.

use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone as _, Utc};

use super::data::{COMPANIES, Universe};
use super::parse::Node;
use super::wire::{self, Invalid, Results, WD, Xml};

/// A read operation of the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Get_Suppliers.
    Suppliers,
    /// Get_Supplier_Invoices.
    Invoices,
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
    /// A canonical text of the selection, for caching.
    pub cache_key: String,
}

/// Criteria of all operations (unused ones stay empty).
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    /// Supplier / payee indices.
    pub suppliers: Vec<u32>,
    /// Company index.
    pub company: Option<usize>,
    /// Updated window.
    pub updated: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    /// Invoice / document / payment date window.
    pub date: (Option<NaiveDate>, Option<NaiveDate>),
    /// Due date window.
    pub due: (Option<NaiveDate>, Option<NaiveDate>),
    /// Supplier status.
    pub status: Option<String>,
    /// Supplier category.
    pub category: Option<String>,
    /// PO document number.
    pub po: Option<String>,
}

struct Ctx<'a> {
    u: &'a Universe,
    root: String,
    errors: Vec<Invalid>,
}

impl Ctx<'_> {
    fn xpath(&self, parts: &[&str]) -> String {
        let mut s = format!("/wd:{}[1]", self.root);
        for p in parts {
            s.push_str(&format!("/wd:{p}[1]"));
        }
        s
    }

    fn invalid(&mut self, message: String, parts: &[&str]) {
        let xpath = self.xpath(parts);
        self.errors.push(Invalid {
            detail: message.clone(),
            message,
            xpath,
        });
    }

    fn date(&mut self, n: &Node, parts: &[&str]) -> Option<NaiveDate> {
        let d = n
            .text
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        if d.is_none() {
            self.invalid(format!("Invalid date value: '{}'", n.text), parts);
        }
        d
    }

    fn datetime(&mut self, n: &Node, parts: &[&str]) -> Option<DateTime<Utc>> {
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

    /// The IDs of a reference: (type, value).
    fn ids(&mut self, n: &Node, parts: &[&str]) -> Vec<(String, String)> {
        let ids: Vec<_> = n
            .children
            .iter()
            .filter(|c| c.is(WD, "ID"))
            .map(|c| {
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

    /// Resolves a reference with `find`, reporting Workday's "Invalid ID value" when nothing matches.
    fn resolve(
        &mut self,
        n: &Node,
        parts: &[&str],
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

/// Validates the request element of `op`.
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
        cache_key: String::new(),
    };
    let allowed_groups = [
        "Request_References",
        "Request_Criteria",
        "Response_Filter",
        "Response_Group",
    ];
    let mut seen_selection = false;
    for part in &req.children {
        if part.ns != WD || !allowed_groups.contains(&part.name.as_str()) {
            cx.invalid(
                format!("Invalid element {} in {}", part.name, req.name),
                &[part.name.as_str()],
            );
            continue;
        }
        match part.name.as_str() {
            "Request_References" => {
                if seen_selection {
                    cx.invalid(
                        "Request_References and Request_Criteria are exclusive".into(),
                        &["Request_References"],
                    );
                }
                seen_selection = true;
                query.references = Some(references(&mut cx, op, part));
            }
            "Request_Criteria" => {
                if seen_selection {
                    cx.invalid(
                        "Request_References and Request_Criteria are exclusive".into(),
                        &["Request_Criteria"],
                    );
                }
                seen_selection = true;
                query.criteria = criteria(&mut cx, op, part);
            }
            "Response_Filter" => response_filter(&mut cx, part, &mut query),
            _ => {}
        }
    }
    if !cx.errors.is_empty() {
        return Err(cx.errors);
    }
    query.cache_key = format!("{:?}|{:?}|{:?}", op, query.references, query.criteria);
    Ok(query)
}

fn response_filter(cx: &mut Ctx<'_>, part: &Node, q: &mut Query) {
    for f in &part.children {
        let path = ["Response_Filter", f.name.as_str()];
        match f.name.as_str() {
            "Page" => match f.text.parse::<u32>() {
                Ok(p) if p >= 1 => q.page = p,
                _ => cx.invalid(
                    format!(
                        "Page must be a whole number of at least 1, got '{}'",
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
            "As_Of_Effective_Date" => {
                cx.date(f, &path);
            }
            other => cx.invalid(format!("Invalid element {other} in Response_Filter"), &path),
        }
    }
}

fn references(cx: &mut Ctx<'_>, op: Op, part: &Node) -> Vec<u32> {
    let (element, find): (&str, Finder) = match op {
        Op::Suppliers => ("Supplier_Reference", supplier_finder),
        Op::Invoices => ("Supplier_Invoice_Reference", |u, t, v| u.find_invoice(t, v)),
        Op::PurchaseOrders => ("Purchase_Order_Reference", |u, t, v| u.find_po(t, v)),
        Op::Payments => ("Payment_Reference", |u, t, v| u.find_payment(t, v)),
    };
    let mut out = Vec::new();
    for r in &part.children {
        let path = ["Request_References", r.name.as_str()];
        if !r.is(WD, element) {
            cx.invalid(
                format!(
                    "Invalid element {} in Request_References (expected {element})",
                    r.name
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

fn criteria(cx: &mut Ctx<'_>, op: Op, part: &Node) -> Criteria {
    let mut c = Criteria::default();
    let mut children: Vec<(&Node, Vec<&str>)> = part
        .children
        .iter()
        .map(|n| (n, vec!["Request_Criteria", n.name.as_str()]))
        .collect();
    if op == Op::Payments {
        // Get_Payments nests its criteria in General_Payment_Criteria.
        let mut inner = Vec::new();
        for (n, path) in children {
            if n.is(WD, "General_Payment_Criteria") {
                inner.extend(n.children.iter().map(|m| {
                    (
                        m,
                        vec![
                            "Request_Criteria",
                            "General_Payment_Criteria",
                            m.name.as_str(),
                        ],
                    )
                }));
            } else {
                cx.invalid(
                    format!("Invalid element {} in Request_Criteria", n.name),
                    &path,
                );
            }
        }
        children = inner;
    }
    for (n, path) in children {
        let name = n.name.as_str();
        match (op, name) {
            (Op::Suppliers | Op::PurchaseOrders, "Updated_From_Date") => {
                c.updated.0 = cx.datetime(n, &path)
            }
            (Op::Suppliers | Op::PurchaseOrders, "Updated_To_Date") => {
                c.updated.1 = cx.datetime(n, &path)
            }
            (Op::Suppliers, "Supplier_Status_Reference") => {
                let ids = cx.ids(n, &path);
                match ids.iter().find(|(t, _)| t == "Business_Entity_Status_Value_ID") {
                    Some((_, v)) if v == "ACTIVE" || v == "INACTIVE" => c.status = Some(v.clone()),
                    Some((_, v)) => cx.invalid(
                        format!("Invalid ID value.  '{v}' is not a valid ID value for type = 'Business_Entity_Status_Value_ID'"),
                        &path,
                    ),
                    None => cx.invalid("Supplier_Status_Reference needs a Business_Entity_Status_Value_ID".into(), &path),
                }
            }
            (Op::Suppliers, "Supplier_Category_Reference") => {
                let ids = cx.ids(n, &path);
                match ids.iter().find(|(t, _)| t == "Supplier_Category_ID") {
                    Some((_, v)) if super::data::CATEGORIES.iter().any(|k| k.0 == v) => {
                        c.category = Some(v.clone())
                    }
                    _ => cx.invalid("Invalid Supplier_Category_Reference".into(), &path),
                }
            }
            (Op::Invoices | Op::PurchaseOrders, "Supplier_Reference")
            | (Op::Payments, "Payee_Reference") => {
                if let Some(k) = cx.resolve(n, &path, supplier_finder) {
                    c.suppliers.push(k);
                }
            }
            (Op::Invoices | Op::Payments, "Company_Reference") => {
                c.company = cx.resolve(n, &path, company_finder).map(|i| i as usize);
            }
            (Op::Invoices, "Invoice_Date_On_or_After") => c.date.0 = cx.date(n, &path),
            (Op::Invoices, "Invoice_Date_On_or_Before") => c.date.1 = cx.date(n, &path),
            (Op::Invoices, "Invoice_Due_Date_On_or_After") => c.due.0 = cx.date(n, &path),
            (Op::Invoices, "Invoice_Due_Date_On_or_Before") => c.due.1 = cx.date(n, &path),
            (Op::Invoices, "Purchase_Order_Reference") => {
                let ids = cx.ids(n, &path);
                match ids.iter().find(|(t, _)| t == "Document_Number") {
                    Some((_, v)) => c.po = Some(v.clone()),
                    None => cx.invalid(
                        "Purchase_Order_Reference needs a Document_Number".into(),
                        &path,
                    ),
                }
            }
            (Op::PurchaseOrders, "Document_Date_On_or_After") => c.date.0 = cx.date(n, &path),
            (Op::PurchaseOrders, "Document_Date_On_or_Before") => c.date.1 = cx.date(n, &path),
            (Op::Payments, "Payment_Date_on_Date_Or_After") => c.date.0 = cx.date(n, &path),
            (Op::Payments, "Payment_Date_on_Date_Or_Before") => c.date.1 = cx.date(n, &path),
            _ => cx.invalid(
                format!("Invalid element {name} in the criteria of {}", op.name()),
                &path,
            ),
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
                &["Request_Criteria"],
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

/// Evaluates the selection (by reference or by criteria; there is no invoice-number filter).
pub fn select(u: &Universe, q: &Query) -> Selection {
    if let Some(refs) = &q.references {
        return Selection::List(Arc::new(refs.clone()));
    }
    let c = &q.criteria;
    let suppliers: Vec<u32> = if c.suppliers.is_empty() {
        Vec::new()
    } else {
        let mut s = c.suppliers.clone();
        s.sort_unstable();
        s.dedup();
        s
    };
    let all_suppliers = || 0..u.supplier_count();
    match q.op {
        Op::Suppliers => {
            if c.updated == (None, None) && c.status.is_none() && c.category.is_none() {
                return Selection::Range(all_suppliers());
            }
            Selection::List(Arc::new(
                all_suppliers()
                    .filter(|&k| {
                        let s = u.supplier(k);
                        within(s.updated_at, &c.updated)
                            && c.status.as_deref().is_none_or(|st| st == s.status)
                            && c.category.as_deref().is_none_or(|cat| cat == s.category.0)
                    })
                    .collect(),
            ))
        }
        Op::Invoices => {
            let unfiltered = c.company.is_none()
                && c.date == (None, None)
                && c.due == (None, None)
                && c.po.is_none();
            if unfiltered && suppliers.is_empty() {
                return Selection::Range(0..u.invoice_count());
            }
            let ks: Box<dyn Iterator<Item = u32>> = if suppliers.is_empty() {
                Box::new(all_suppliers())
            } else {
                Box::new(suppliers.into_iter())
            };
            let mut out = Vec::new();
            for k in ks {
                let range = u.invoices_of(k);
                if unfiltered {
                    out.extend(range);
                    continue;
                }
                let s = u.supplier(k);
                if c.company.is_some_and(|co| co != s.company) {
                    continue;
                }
                let pos = u.pos_of(k);
                for (j, g) in range.enumerate() {
                    let key = u.invoice_key(k, j as u32, s.terms.2, pos.len() as u32);
                    let po = key.po_local.map(|l| format!("PO-{:07}", pos.start + l + 1));
                    if within(key.invoice_date, &c.date)
                        && within(key.due_date, &c.due)
                        && c.po.as_ref().is_none_or(|p| po.as_ref() == Some(p))
                    {
                        out.push(g);
                    }
                }
            }
            Selection::List(Arc::new(out))
        }
        Op::PurchaseOrders => {
            let unfiltered = c.updated == (None, None) && c.date == (None, None);
            if unfiltered && suppliers.is_empty() {
                return Selection::Range(0..u.po_count());
            }
            let ks: Box<dyn Iterator<Item = u32>> = if suppliers.is_empty() {
                Box::new(all_suppliers())
            } else {
                Box::new(suppliers.into_iter())
            };
            let mut out = Vec::new();
            for k in ks {
                for g in u.pos_of(k) {
                    if unfiltered {
                        out.push(g);
                        continue;
                    }
                    let po = u.purchase_order(g);
                    if within(po.updated_at, &c.updated) && within(po.document_date, &c.date) {
                        out.push(g);
                    }
                }
            }
            Selection::List(Arc::new(out))
        }
        Op::Payments => {
            let unfiltered = c.company.is_none() && c.date == (None, None);
            if unfiltered && suppliers.is_empty() {
                return Selection::Range(0..u.payment_count());
            }
            let ks: Box<dyn Iterator<Item = u32>> = if suppliers.is_empty() {
                Box::new(all_suppliers())
            } else {
                Box::new(suppliers.into_iter())
            };
            let mut out = Vec::new();
            for k in ks {
                if c.company.is_some_and(|co| co != u.supplier(k).company) {
                    continue;
                }
                for g in u.payments_of(k) {
                    if unfiltered || within(u.payment(g).date, &c.date) {
                        out.push(g);
                    }
                }
            }
            Selection::List(Arc::new(out))
        }
    }
}

/// Writes the response page of `q` over `sel`.
pub fn render(u: &Universe, q: &Query, version: &str, sel: &Selection) -> String {
    let total = sel.len() as u64;
    let count = u64::from(q.count);
    let total_pages = total.div_ceil(count);
    let start = (u64::from(q.page) - 1) * count;
    let end = (start + count).min(total);
    let on_page = end.saturating_sub(start);
    let mut x = Xml::with_capacity(512 + on_page as usize * 3000);
    let mut filter = Vec::new();
    if let Some(a) = &q.as_of {
        filter.push(("As_Of_Entry_DateTime", a.clone()));
    }
    filter.push(("Page", q.page.to_string()));
    filter.push(("Count", q.count.to_string()));
    wire::response_head(
        &mut x,
        q.op.name(),
        version,
        &filter,
        Results {
            total_results: total,
            total_pages,
            page_results: on_page,
            page: u64::from(q.page),
        },
    );
    if on_page > 0 {
        x.open("Response_Data");
        for i in start..end {
            let idx = sel.get(i as usize);
            match q.op {
                Op::Suppliers => wire::supplier(&mut x, u, &u.supplier(idx)),
                Op::Invoices => wire::invoice(&mut x, u, &u.invoice(idx)),
                Op::PurchaseOrders => wire::purchase_order(&mut x, u, &u.purchase_order(idx)),
                Op::Payments => wire::payment(&mut x, u, &u.payment(idx)),
            }
        }
        x.close("Response_Data");
    }
    wire::response_tail(&mut x, q.op.name());
    x.finish()
}
