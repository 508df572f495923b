//! The reads behind the agent API, through the [`LookupCache`]: an invoice by the number a supplier quotes (or
//! Workday's, or its key), a supplier by `Supplier_ID`, and what a ticket's text references. Index first (the
//! sync's), Workday for the facts.

use std::sync::Arc;

use super::cache::{Fetched, Key, Kind, LookupCache, Record};
use super::invoice::{InvoiceDetails, fetch_invoice};
use super::references::ReferencePatterns;
use super::resolve::resolve;
use crate::app::{ContextError, TenantContext};
use crate::store::{IndexedInvoice, Store, StoreError};
use crate::workday::model::Supplier;
use crate::workday::{Sourced, WorkdayError};

/// A record and whether it is stale.
#[derive(Debug, Clone)]
pub struct Found<T> {
    /// The record.
    pub value: Arc<T>,
    /// Set when Workday failed and a cached value past its time to live is shown: why.
    pub stale: Option<String>,
    /// The cache entry's rendering slot (the JSON answer, made once per entry).
    pub rendered: super::cache::Rendered,
}

/// Why a read has no answer.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// No such invoice.
    #[error("{0}")]
    InvoiceNotFound(String),
    /// No such supplier.
    #[error("{0}")]
    SupplierNotFound(String),
    /// The number belongs to invoices of several suppliers.
    #[error("{0}")]
    Ambiguous(String),
    /// Workday failed and nothing is cached.
    #[error("Workday: {0}")]
    Workday(#[from] WorkdayError),
    /// The tenant's clients could not be assembled.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One tenant's reads.
#[derive(Debug, Clone, Copy)]
pub struct Lookups<'a> {
    /// The tenant.
    pub ctx: &'a TenantContext,
    /// The index.
    pub store: &'a Store,
    /// The cache.
    pub cache: &'a LookupCache,
}

impl Lookups<'_> {
    /// An invoice by its index key (`Supplier_Invoice_ID` reference ID or WID); `None` when Workday has none.
    pub async fn invoice_by_key(
        &self,
        key: &str,
        refresh: bool,
    ) -> Result<Option<Found<InvoiceDetails>>, LookupError> {
        let workday = self.ctx.workday().await?;
        let owned = key.to_string();
        let fetched = self
            .cache
            .get(
                Key::new(self.ctx.id(), Kind::Invoice, key),
                refresh,
                || async move {
                    Ok(fetch_invoice(&workday, &owned)
                        .await?
                        .map(|d| Record::Invoice(Arc::new(d))))
                },
            )
            .await?;
        Ok(invoice_of(fetched))
    }

    /// An invoice by the number a supplier quotes or Workday's number (through the index), else by its key.
    /// `supplier` picks one when several suppliers' invoices have that number.
    pub async fn invoice_by_number(
        &self,
        number: &str,
        supplier: Option<&str>,
        refresh: bool,
    ) -> Result<Found<InvoiceDetails>, LookupError> {
        let number = number.trim();
        let tenant = self.ctx.id();
        let remembered = match supplier {
            None => self.cache.resolved_number(tenant, number).await,
            Some(_) => None,
        };
        let key = match remembered {
            Some(key) => key,
            None => {
                let mut indexed = self.store.invoices_by_number(tenant, number).await?;
                if let Some(s) = supplier {
                    indexed.retain(|i| i.supplier_id.eq_ignore_ascii_case(s.trim()));
                }
                let key = match indexed.as_slice() {
                    [] => number.to_string(),
                    [one] => one.invoice_key.clone(),
                    several => {
                        let mut suppliers: Vec<&str> =
                            several.iter().map(|i| i.supplier_id.as_str()).collect();
                        suppliers.sort_unstable();
                        suppliers.dedup();
                        return Err(LookupError::Ambiguous(format!(
                            "invoice number {number} belongs to invoices of several suppliers ({}); add \
                             ?supplier_id=",
                            suppliers.join(", ")
                        )));
                    }
                };
                if supplier.is_none() {
                    self.cache.remember_number(tenant, number, &key).await;
                }
                key
            }
        };
        self.invoice_by_key(&key, refresh)
            .await?
            .ok_or_else(|| LookupError::InvoiceNotFound(format!("no invoice {number}")))
    }

    /// A supplier's name in the index (remembered for `agent.supplier_ttl_secs`).
    pub async fn supplier_name(&self, supplier_id: &str) -> Result<Option<String>, LookupError> {
        let (store, tenant) = (self.store, self.ctx.id());
        Ok(self
            .cache
            .supplier_name(tenant, supplier_id, || async move {
                Ok::<_, StoreError>(
                    store
                        .indexed_supplier(tenant, supplier_id)
                        .await?
                        .map(|s| s.name),
                )
            })
            .await?)
    }

    /// A supplier by `Supplier_ID`.
    pub async fn supplier(
        &self,
        supplier_id: &str,
        refresh: bool,
    ) -> Result<Found<Sourced<Supplier>>, LookupError> {
        let workday = self.ctx.workday().await?;
        let owned = supplier_id.trim().to_string();
        let fetched = self
            .cache
            .get(
                Key::new(self.ctx.id(), Kind::Supplier, supplier_id),
                refresh,
                || async move {
                    Ok(workday
                        .supplier(&owned)
                        .await?
                        .map(|s| Record::Supplier(Arc::new(s))))
                },
            )
            .await?;
        match fetched.record {
            Some(Record::Supplier(s)) => Ok(Found {
                value: s,
                stale: fetched.stale,
                rendered: fetched.rendered,
            }),
            _ => Err(LookupError::SupplierNotFound(format!(
                "no supplier {}",
                supplier_id.trim()
            ))),
        }
    }

    /// The invoices `texts` quote, resolved through the index (the enrichment's rule, `supplier` breaking ties),
    /// in the order quoted; and the quoted numbers that name no invoice.
    pub async fn referenced(
        &self,
        patterns: &ReferencePatterns,
        texts: &[&str],
        supplier: Option<&str>,
    ) -> Result<(Vec<IndexedInvoice>, Vec<String>), LookupError> {
        let quoted = patterns.find(texts);
        let mut found: Vec<IndexedInvoice> = Vec::new();
        let mut unresolved = Vec::new();
        for number in quoted.invoices.iter().chain(&quoted.purchase_orders) {
            let one = super::references::Quoted {
                invoices: if quoted.invoices.contains(number) {
                    vec![number.clone()]
                } else {
                    Vec::new()
                },
                purchase_orders: if quoted.invoices.contains(number) {
                    Vec::new()
                } else {
                    vec![number.clone()]
                },
            };
            let resolution = resolve(self.store, self.ctx.id(), &one, supplier).await?;
            match resolution.chosen {
                Some((invoice, _, _)) => {
                    if !found.iter().any(|f| f.invoice_key == invoice.invoice_key) {
                        found.push(invoice);
                    }
                }
                None => unresolved.push(number.clone()),
            }
        }
        Ok((found, unresolved))
    }
}

fn invoice_of(fetched: Fetched) -> Option<Found<InvoiceDetails>> {
    match fetched.record {
        Some(Record::Invoice(d)) => Some(Found {
            value: d,
            stale: fetched.stale,
            rendered: fetched.rendered,
        }),
        _ => None,
    }
}
