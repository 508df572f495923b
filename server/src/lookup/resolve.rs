//! Which indexed invoice a ticket's quoted numbers name.

use super::references::{Quoted, trailing_digits};
use crate::store::{IndexedInvoice, Store, StoreError};
use crate::tenant::TenantId;

/// How many of a supplier's invoices a short-form number is compared with.
const SUPPLIER_SCOPE: u32 = 500;

/// How the chosen invoice was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    /// The supplier's or Workday's invoice number, exactly (case-insensitively).
    Number,
    /// A short form (`#42` for `INV-2026-0042`) among the ticket's supplier's invoices.
    SupplierScoped,
    /// A purchase order number.
    PurchaseOrder,
}

impl MatchedBy {
    /// The name recorded in the audit detail.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Number => "number",
            Self::SupplierScoped => "supplier_scoped",
            Self::PurchaseOrder => "purchase_order",
        }
    }
}

/// The outcome of [`resolve`].
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// The invoice the ticket is about, with the quoted text that named it and how.
    pub chosen: Option<(IndexedInvoice, String, MatchedBy)>,
    /// Other quoted numbers that named an invoice too (not written; recorded).
    pub others: Vec<String>,
    /// Quoted numbers that named several invoices of different suppliers, none of the ticket's.
    pub ambiguous: Vec<String>,
}

fn is_open(i: &IndexedInvoice) -> bool {
    i.payment_status != "paid"
}

/// Narrows matches to the ticket's supplier when it is known and has some; `None` when still several.
fn one_of(
    mut found: Vec<IndexedInvoice>,
    supplier: Option<&str>,
) -> Result<Option<IndexedInvoice>, ()> {
    if found.len() > 1
        && let Some(s) = supplier
    {
        let theirs: Vec<_> = found
            .iter()
            .filter(|i| i.supplier_id == s)
            .cloned()
            .collect();
        if !theirs.is_empty() {
            found = theirs;
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(()),
    }
}

/// Resolves the quoted numbers through the invoice index. The rule, in order:
///
/// 1. Each quoted invoice number, in order of appearance: an invoice whose supplier's or Workday's number is
///    exactly that (case-insensitively). When several suppliers have an invoice with that number, the ticket's
///    supplier's wins; with no supplier known, the number is ambiguous and skipped.
/// 2. Failing that, when the ticket's supplier is known: a quoted number whose last digit group (leading zeros
///    aside, at least 2 digits) is that of one of the supplier's recent invoices (`#0042` → `INV-2026-0042`).
/// 3. Failing that: a quoted purchase order number (or any quoted number) that is an invoice's PO number; of
///    its invoices (the supplier's, when known) the newest not fully paid, else the newest.
///
/// The first that resolves is chosen; the other quoted numbers that name an invoice exactly are listed in
/// [`Resolution::others`].
pub async fn resolve(
    store: &Store,
    tenant: &TenantId,
    quoted: &Quoted,
    supplier: Option<&str>,
) -> Result<Resolution, StoreError> {
    let mut out = Resolution::default();
    for number in &quoted.invoices {
        let found = store.invoices_by_number(tenant, number).await?;
        if found.is_empty() {
            continue;
        }
        match one_of(found, supplier) {
            Ok(Some(invoice)) if out.chosen.is_none() => {
                out.chosen = Some((invoice, number.clone(), MatchedBy::Number));
            }
            Ok(Some(_)) => out.others.push(number.clone()),
            Ok(None) => {}
            Err(()) => out.ambiguous.push(number.clone()),
        }
    }
    if out.chosen.is_some() {
        return Ok(out);
    }
    if let Some(s) = supplier {
        let theirs = store.recent_invoices(tenant, s, SUPPLIER_SCOPE).await?;
        for number in &quoted.invoices {
            let Some(digits) = trailing_digits(number).filter(|d| d.len() >= 2) else {
                continue;
            };
            let found: Vec<IndexedInvoice> = theirs
                .iter()
                .filter(|i| {
                    [&i.supplier_invoice_number, &i.invoice_number]
                        .into_iter()
                        .flatten()
                        .any(|n| trailing_digits(n).as_deref() == Some(digits.as_str()))
                })
                .cloned()
                .collect();
            if let Ok(Some(invoice)) = one_of(found, Some(s)) {
                out.chosen = Some((invoice, number.clone(), MatchedBy::SupplierScoped));
                return Ok(out);
            }
        }
    }
    for number in quoted.purchase_orders.iter().chain(&quoted.invoices) {
        let mut found = store.invoices_by_po(tenant, number).await?;
        if let Some(s) = supplier
            && found.iter().any(|i| i.supplier_id == s)
        {
            found.retain(|i| i.supplier_id == s);
        }
        // Newest first from the store; prefer one still open.
        let pick = found
            .iter()
            .find(|i| is_open(i))
            .or_else(|| found.first())
            .cloned();
        if let Some(invoice) = pick {
            out.chosen = Some((invoice, number.clone(), MatchedBy::PurchaseOrder));
            return Ok(out);
        }
    }
    Ok(out)
}
