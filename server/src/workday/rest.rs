//! REST reads (`{host}/ccx/api/{service}/{version}/{tenant}/...`): bearer token from the refresh-token grant,
//! refreshed once on 401; `limit`/`offset` paging over `{"data":[...],"total":N}`.
//!
//! Only resources that are the object they are read as: `supplierInvoiceRequests` (accounts payable, v1) is read
//! as [`SupplierInvoiceRequest`]s. Supplier invoices themselves have no REST resource and are read over SOAP.
//!
//! Amounts are read from the JSON text itself (never through a float): Workday's currency values are
//! `{"value": 12.50, "currency": "USD"}` objects whose `value` may be a number or a string.

use std::sync::Arc;
use std::time::Duration;

use backon::Retryable as _;
use chrono::{SubsecRound as _, Utc};
use futures::stream::{self, BoxStream, StreamExt as _, TryStreamExt as _};
use rust_decimal::Decimal;
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::client::{WorkdayClient, looks_like_wid};
use super::error::{WorkdayError, excerpt};
use super::model::{InvoiceLine, ObjectRef, Sourced, SupplierInvoiceRequest, WorkdaySource};

/// The REST resource of supplier invoice requests.
pub const INVOICE_REQUESTS_RESOURCE: &str = "supplierInvoiceRequests";

/// `{"data": [...], "total": N}`.
#[derive(Debug, Deserialize)]
struct Collection<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
    #[serde(default)]
    total: u64,
}

/// A REST reference: `{id, descriptor, href}` (the `id` is a WID).
#[derive(Debug, Default, Deserialize)]
struct RestRef {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    descriptor: Option<String>,
}

impl RestRef {
    fn into_ref(self) -> ObjectRef {
        ObjectRef {
            wid: self.id.filter(|s| !s.is_empty()),
            id: None,
            descriptor: self.descriptor.filter(|s| !s.is_empty()),
        }
    }
}

/// A REST currency amount.
#[derive(Debug, Deserialize)]
struct RestMoney {
    value: Box<RawValue>,
    #[serde(default)]
    currency: Option<String>,
}

/// One supplier invoice request. The supplier's number is `invoiceNumber` on the request (the request has no
/// Workday invoice number of its own); `supplierInvoiceNumber` is read too.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RestInvoiceRequest {
    id: String,
    descriptor: Option<String>,
    invoice_number: Option<String>,
    supplier_invoice_number: Option<String>,
    supplier: Option<RestRef>,
    company: Option<RestRef>,
    currency: Option<RestRef>,
    invoice_date: Option<String>,
    due_date: Option<String>,
    status: Option<RestRef>,
    control_total_amount: Option<RestMoney>,
    tax_amount: Option<RestMoney>,
    total_invoice_amount: Option<RestMoney>,
    memo: Option<String>,
    lines: Vec<RestLine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RestLine {
    order: Option<serde_json::Value>,
    item_description: Option<String>,
    quantity: Option<Box<RawValue>>,
    unit_cost: Option<RestMoney>,
    extended_amount: Option<RestMoney>,
    spend_category: Option<RestRef>,
    memo: Option<String>,
}

/// A JSON number or string holding a decimal, read from its text.
fn raw_decimal(raw: &RawValue) -> Result<Option<Decimal>, String> {
    let text = raw.get().trim();
    if text == "null" {
        return Ok(None);
    }
    let unquoted = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if unquoted.is_empty() {
        return Ok(None);
    }
    super::decode::parse_decimal_text(unquoted)
        .map(Some)
        .ok_or_else(|| {
            format!(
                "`{}` is not a decimal amount",
                unquoted.chars().take(40).collect::<String>()
            )
        })
}

fn money(m: Option<RestMoney>, currency: &mut Option<String>) -> Result<Option<Decimal>, String> {
    match m {
        None => Ok(None),
        Some(m) => {
            if currency.is_none() {
                *currency = m.currency.filter(|c| !c.is_empty());
            }
            raw_decimal(&m.value)
        }
    }
}

fn rest_date(s: Option<String>, what: &str) -> Result<Option<chrono::NaiveDate>, String> {
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => super::decode::parse_date_text(t)
            .map(Some)
            .ok_or_else(|| format!("{what} `{t}` is not a date")),
    }
}

impl RestInvoiceRequest {
    fn into_model(self) -> Result<SupplierInvoiceRequest, String> {
        let mut currency = self.currency.and_then(|c| c.descriptor);
        let control_amount = money(self.control_total_amount, &mut currency)?;
        let tax_amount = money(self.tax_amount, &mut currency)?;
        let total_amount = money(self.total_invoice_amount, &mut currency)?;
        let mut lines = Vec::with_capacity(self.lines.len());
        for l in self.lines {
            let mut line_currency = None;
            lines.push(InvoiceLine {
                order: l.order.map(|o| match o {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }),
                description: l.item_description,
                quantity: match &l.quantity {
                    Some(q) => raw_decimal(q)?,
                    None => None,
                },
                unit_cost: money(l.unit_cost, &mut line_currency)?,
                extended_amount: money(l.extended_amount, &mut line_currency)?,
                spend_category: l.spend_category.map(RestRef::into_ref),
                memo: l.memo,
            });
        }
        Ok(SupplierInvoiceRequest {
            wid: Some(self.id).filter(|s| !s.is_empty()),
            descriptor: self.descriptor,
            supplier_invoice_number: self.invoice_number.or(self.supplier_invoice_number),
            supplier: self.supplier.map(RestRef::into_ref).unwrap_or_default(),
            company: self.company.map(RestRef::into_ref),
            currency,
            invoice_date: rest_date(self.invoice_date, "invoiceDate")?,
            due_date: rest_date(self.due_date, "dueDate")?,
            status: self.status.and_then(|s| s.descriptor),
            control_amount,
            tax_amount,
            total_amount,
            memo: self.memo,
            lines,
        })
    }
}

/// `{"error": "...", "errors": [{"error": "..."}]}`.
#[derive(Debug, Deserialize)]
struct RestError {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    errors: Vec<RestErrorItem>,
}

#[derive(Debug, Deserialize)]
struct RestErrorItem {
    #[serde(default)]
    error: Option<String>,
}

fn rest_error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<RestError>(body) {
        Ok(e) => {
            let mut parts: Vec<String> = e.error.into_iter().collect();
            parts.extend(e.errors.into_iter().filter_map(|i| i.error));
            if parts.is_empty() {
                excerpt(body, 200)
            } else {
                parts.join("; ")
            }
        }
        Err(_) => excerpt(body, 200),
    }
}

impl WorkdayClient {
    fn rest_base(&self) -> String {
        format!(
            "{}/ccx/api/{}/{}",
            self.base_url(),
            self.config().rest_invoices_api,
            self.tenant()
        )
    }

    fn rest_source(&self, resource: &str, page: u32, total_pages: u32) -> WorkdaySource {
        let api = &self.config().rest_invoices_api;
        WorkdaySource {
            transport: "rest".into(),
            service: api.clone(),
            operation: resource.to_string(),
            version: api.rsplit('/').next().unwrap_or_default().to_string(),
            page,
            total_pages,
            as_of: Utc::now().trunc_subsecs(3),
        }
    }

    /// GET with the bearer token; a 401 drops the token and tries once more with a fresh one. Returns
    /// `None` on 404.
    async fn rest_get_once(
        &self,
        url: &url::Url,
        label: &str,
    ) -> Result<Option<bytes::Bytes>, WorkdayError> {
        let oauth = self
            .oauth()
            .ok_or_else(|| WorkdayError::NotConfigured("the tenant has no OAuth client".into()))?;
        let mut refreshed = false;
        loop {
            let token = oauth.access_token(self.http()).await?;
            let response = self
                .http()
                .get(url.clone())
                .bearer_auth(token.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(|e| self.reqwest_error(label, e))?;
            let status = response.status().as_u16();
            let body = response
                .bytes()
                .await
                .map_err(|e| self.reqwest_error(label, e))?;
            match status {
                200..=299 => return Ok(Some(body)),
                404 => return Ok(None),
                401 if !refreshed => {
                    tracing::info!(
                        resource = label,
                        "Workday REST answered 401; refreshing the access token once"
                    );
                    oauth.invalidate(&token).await;
                    refreshed = true;
                }
                401 | 403 => {
                    return Err(WorkdayError::Authentication {
                        operation: label.to_string(),
                        message: rest_error_message(&body),
                    });
                }
                _ => {
                    return Err(WorkdayError::Http {
                        operation: label.to_string(),
                        status,
                        body_excerpt: rest_error_message(&body),
                    });
                }
            }
        }
    }

    async fn rest_get(
        &self,
        url: url::Url,
        label: &str,
    ) -> Result<Option<bytes::Bytes>, WorkdayError> {
        (|| self.rest_get_once(&url, label))
            .retry(self.backoff())
            .when(WorkdayError::is_retryable)
            .notify(|e: &WorkdayError, wait: Duration| {
                tracing::warn!(resource = label, error = %e, retry_in_ms = wait.as_millis() as u64, "Workday REST call failed; retrying");
            })
            .await
    }

    /// One supplier invoice request (`GET .../supplierInvoiceRequests/{id}`) by its Workday ID (REST resource
    /// IDs are WIDs). Needs the tenant's OAuth client.
    pub async fn supplier_invoice_request(
        &self,
        wid: &str,
    ) -> Result<Option<Sourced<SupplierInvoiceRequest>>, WorkdayError> {
        const R: &str = INVOICE_REQUESTS_RESOURCE;
        if !looks_like_wid(wid) {
            return Err(WorkdayError::InvalidRequest(format!(
                "supplier invoice requests are read by their Workday ID (32 hex digits), not `{}`",
                wid.chars().take(64).collect::<String>()
            )));
        }
        let mut url = url::Url::parse(&self.rest_base())
            .map_err(|e| WorkdayError::NotConfigured(format!("REST URL: {e}")))?;
        url.path_segments_mut()
            .map_err(|()| WorkdayError::NotConfigured("REST URL cannot take a path".into()))?
            .push(R)
            .push(wid);
        let Some(body) = self.rest_get(url, R).await? else {
            return Ok(None);
        };
        let request = parse_json::<RestInvoiceRequest>(&body, R)?
            .into_model()
            .map_err(|m| rest_malformed(R, 0, m))?;
        Ok(Some(Sourced {
            record: request,
            source: Arc::new(self.rest_source(R, 1, 1)),
        }))
    }

    /// The supplier invoice requests of one supplier, `limit`/`offset` paged, streamed page by page.
    ///
    /// The `supplier` query parameter takes the supplier's Workday ID (REST references and filters are WIDs),
    /// so a `Supplier_ID` is first resolved to its WID with one `Get_Suppliers` call; a WID is used as given.
    pub fn supplier_invoice_requests_of_supplier(
        &self,
        supplier_id: &str,
    ) -> BoxStream<'static, Result<Sourced<SupplierInvoiceRequest>, WorkdayError>> {
        const R: &str = INVOICE_REQUESTS_RESOURCE;
        let limit = u64::from(self.config().rest_page_size);
        let state = (Some(0u64), self.clone(), supplier_id.to_string(), None);
        stream::try_unfold(
            state,
            move |(next, client, supplier_id, wid): (_, _, _, Option<String>)| async move {
                let Some(offset) = next else {
                    return Ok(None);
                };
                let wid = match wid {
                    Some(w) => w,
                    None => client.supplier_wid(&supplier_id).await?,
                };
                let mut url = url::Url::parse(&client.rest_base())
                    .map_err(|e| WorkdayError::NotConfigured(format!("REST URL: {e}")))?;
                url.path_segments_mut()
                    .map_err(|()| {
                        WorkdayError::NotConfigured("REST URL cannot take a path".into())
                    })?
                    .push(R);
                url.query_pairs_mut()
                    .append_pair("supplier", &wid)
                    .append_pair("limit", &limit.to_string())
                    .append_pair("offset", &offset.to_string());
                let body = client
                    .rest_get(url, R)
                    .await?
                    .unwrap_or_else(|| bytes::Bytes::from_static(br#"{"data":[],"total":0}"#));
                let page: Collection<RestInvoiceRequest> = parse_json(&body, R)?;
                let n = page.data.len() as u64;
                let page_no = u32::try_from(offset / limit + 1).unwrap_or(u32::MAX);
                let total_pages = u32::try_from(page.total.div_ceil(limit)).unwrap_or(u32::MAX);
                let source = Arc::new(client.rest_source(R, page_no, total_pages));
                let mut records = Vec::with_capacity(page.data.len());
                for (i, request) in page.data.into_iter().enumerate() {
                    let record = request
                        .into_model()
                        .map_err(|m| rest_malformed(R, i as u64, m))?;
                    records.push(Ok(Sourced {
                        record,
                        source: Arc::clone(&source),
                    }));
                }
                let next = (n > 0 && offset + n < page.total).then_some(offset + n);
                Ok(Some((
                    stream::iter(records),
                    (next, client, supplier_id, Some(wid)),
                )))
            },
        )
        .try_flatten()
        .boxed()
    }

    /// The Workday ID of a supplier named by WID or `Supplier_ID` (the latter read with `Get_Suppliers`).
    async fn supplier_wid(&self, supplier_id: &str) -> Result<String, WorkdayError> {
        if looks_like_wid(supplier_id) {
            return Ok(supplier_id.to_string());
        }
        let operation = super::ops::Operation::GetSuppliers.name().to_string();
        match self.supplier(supplier_id).await? {
            Some(s) => s.record.wid.ok_or_else(|| WorkdayError::Malformed {
                operation,
                offset: 0,
                message: format!("supplier {supplier_id} was answered without its WID"),
            }),
            None => Err(WorkdayError::Malformed {
                operation,
                offset: 0,
                message: format!("Get_Suppliers answered no supplier for {supplier_id}"),
            }),
        }
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], label: &str) -> Result<T, WorkdayError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    T::deserialize(&mut de).map_err(|e| {
        // serde_json reports line and column; turn them into a byte offset.
        let offset = byte_offset(body, e.line(), e.column());
        rest_malformed(label, offset, e.to_string())
    })
}

fn byte_offset(body: &[u8], line: usize, column: usize) -> u64 {
    let mut offset = 0usize;
    for (i, l) in body.split(|b| *b == b'\n').enumerate() {
        if i + 1 == line {
            return (offset + column.saturating_sub(1)) as u64;
        }
        offset += l.len() + 1;
    }
    offset as u64
}

fn rest_malformed(label: &str, offset: u64, message: String) -> WorkdayError {
    WorkdayError::Malformed {
        operation: label.to_string(),
        offset,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_from_json_text_exactly() {
        let inv: RestInvoiceRequest = serde_json::from_str(
            r#"{"id":"0123456789abcdef0123456789abcdef","invoiceNumber":"INV-2024-1",
                "currency":{"id":"x","descriptor":"EUR"},
                "totalInvoiceAmount":{"value":1234567890123.17,"currency":"EUR"},
                "taxAmount":{"value":"0.10"},
                "invoiceDate":"2024-05-01","dueDate":"2024-05-31T00:00:00.000Z",
                "status":{"descriptor":"Approved"},
                "lines":[{"order":1,"itemDescription":"Widgets","quantity":3,"extendedAmount":{"value":1e2}}]}"#,
        )
        .unwrap();
        let m = inv.into_model().unwrap();
        assert_eq!(m.total_amount.unwrap().to_string(), "1234567890123.17");
        assert_eq!(m.tax_amount.unwrap().to_string(), "0.10");
        assert_eq!(m.currency.as_deref(), Some("EUR"));
        assert_eq!(m.status.as_deref(), Some("Approved"));
        assert_eq!(m.supplier_invoice_number.as_deref(), Some("INV-2024-1"));
        assert_eq!(m.lines[0].extended_amount, Some(Decimal::from(100)));
        assert_eq!(m.lines[0].order.as_deref(), Some("1"));
        assert_eq!(m.due_date, "2024-05-31".parse().ok());
    }

    #[test]
    fn bad_json_names_the_offset() {
        let e = parse_json::<RestInvoiceRequest>(b"{\n \"id\": 12,", "supplierInvoiceRequests")
            .unwrap_err();
        match e {
            WorkdayError::Malformed { offset, .. } => assert!(offset > 0),
            other => panic!("{other:?}"),
        }
    }
}
