//! The Workday client: SOAP pages with timeouts and retries, paging walks that stream records, typed reads.
//!
//! A walk pins `As_Of_Entry_DateTime` once and asks for page 1, 2, … up to `Total_Pages`; records reach the
//! caller as a stream, one page in memory at a time. Retryable failures (429, 5xx without a client fault, server
//! faults, timeouts, dropped connections) are retried with jittered exponential backoff up to a cap;
//! authentication and validation faults are returned at once. A record that cannot be decoded (a value that does
//! not parse, a missing ID) is skipped, logged with its ID and kept in [`PageOf::skipped`]; the rest of its page
//! is delivered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable as _};
use chrono::{DateTime, SubsecRound as _, Utc};
use futures::stream::{self, BoxStream, StreamExt as _, TryStreamExt as _};
use secrecy::SecretString;

use super::config::{MAX_SOAP_PAGE_SIZE, WorkdayConfig, is_version};
use super::decode::{
    PageBody, PageInfo, Record, RecordError, SkippedRecord, decode_page, malformed,
};
use super::error::{WorkdayError, excerpt};
use super::model::{
    Payment, PurchaseOrder, Sourced, Supplier, SupplierInvoice, SupplierInvoiceAdjustment,
    WorkdaySource,
};
use super::oauth::{EXPIRY_MARGIN, OAuthSession, TokenEndpoint};
use super::ops::Operation;
use super::request::{
    AdjustmentQuery, IdLookup, InvoiceQuery, PageRequest, PaymentQuery, PurchaseOrderQuery,
    SoapCredentials, SoapQuery, SupplierQuery, envelope,
};
use crate::tenant::WorkdaySettings;
use crate::upstream::{RotatingSession, TokenPair, TokenPersistence};

/// Everything needed to reach one Workday tenant.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `https://{host}` of the Workday services.
    pub base_url: String,
    /// Workday tenant name.
    pub tenant: String,
    /// Integration system user (without `@tenant`).
    pub username: String,
    /// Its password.
    pub password: SecretString,
    /// Web service version (empty: the configured default).
    pub version: String,
    /// OAuth2 client for REST reads, when the tenant has one.
    pub oauth: Option<OAuthCredentials>,
}

/// An OAuth2 API client registered in Workday (refresh-token grant).
#[derive(Debug, Clone)]
pub struct OAuthCredentials {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: SecretString,
    /// Refresh token issued for the integration user (the one in `tokens` wins when it holds one).
    pub refresh_token: SecretString,
    /// Where a refresh token Workday rotates to is stored the moment it is issued.
    pub tokens: Arc<dyn TokenPersistence>,
}

impl Credentials {
    /// Builds credentials from a tenant's settings and its secrets (the client secret and the refresh token,
    /// and where a rotated refresh token goes).
    pub fn from_settings(
        settings: &WorkdaySettings,
        password: SecretString,
        oauth_secrets: Option<(SecretString, SecretString, Arc<dyn TokenPersistence>)>,
    ) -> Self {
        let oauth = match (settings.oauth_client_id.trim(), oauth_secrets) {
            ("", _) | (_, None) => None,
            (id, Some((client_secret, refresh_token, tokens))) => Some(OAuthCredentials {
                client_id: id.to_string(),
                client_secret,
                refresh_token,
                tokens,
            }),
        };
        Self {
            base_url: settings.base_url.clone(),
            tenant: settings.tenant.clone(),
            username: settings.username.clone(),
            password,
            version: settings.api_version.clone(),
            oauth,
        }
    }
}

/// One decoded page and where it came from.
#[derive(Debug, Clone)]
pub struct PageOf<R> {
    /// `Response_Results` of the page.
    pub info: PageInfo,
    /// Its records, in document order.
    pub records: Vec<R>,
    /// Records of the page that could not be decoded, each with its ID as far as it was read.
    pub skipped: Vec<SkippedRecord>,
    /// Provenance shared by every record of the page.
    pub source: WorkdaySource,
}

impl<R> PageOf<R> {
    /// The records, each with its provenance.
    pub fn into_sourced(self) -> impl Iterator<Item = Sourced<R>> {
        let source = Arc::new(self.source);
        self.records.into_iter().map(move |record| Sourced {
            record,
            source: Arc::clone(&source),
        })
    }
}

/// A Workday client for one tenant. Cheap to clone.
#[derive(Debug, Clone)]
pub struct WorkdayClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    config: WorkdayConfig,
    version: String,
    base_url: String,
    soap: SoapCredentials,
    oauth: Option<OAuthSession>,
}

impl WorkdayClient {
    /// A client for the tenant described by `credentials`, with the process-wide `config`.
    pub fn new(config: &WorkdayConfig, credentials: Credentials) -> Result<Self, WorkdayError> {
        let base = credentials
            .base_url
            .trim()
            .trim_end_matches('/')
            .to_string();
        let url = url::Url::parse(&base)
            .map_err(|e| WorkdayError::NotConfigured(format!("Workday URL `{base}`: {e}")))?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(WorkdayError::NotConfigured(format!(
                "Workday URL `{base}` must be http(s)://host"
            )));
        }
        let tenant = credentials.tenant.trim().to_string();
        if tenant.is_empty()
            || !tenant
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(WorkdayError::NotConfigured(format!(
                "Workday tenant name `{tenant}` is missing or has characters other than letters, digits, '_' and '-'"
            )));
        }
        if credentials.username.trim().is_empty() {
            return Err(WorkdayError::NotConfigured(
                "the Workday integration user is not set".into(),
            ));
        }
        let version = match credentials.version.trim() {
            "" => config.version.clone(),
            v if is_version(v) => v.to_string(),
            v => {
                return Err(WorkdayError::NotConfigured(format!(
                    "Workday version `{v}` is not like v46.1"
                )));
            }
        };
        config
            .validate()
            .map_err(|(key, msg)| WorkdayError::NotConfigured(format!("{key}: {msg}")))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
            .timeout(Duration::from_secs(config.request_timeout_secs))
            .user_agent(concat!("ml-connector/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WorkdayError::NotConfigured(format!("HTTP client: {e}")))?;
        let oauth = credentials.oauth.map(|o| {
            let endpoint =
                TokenEndpoint::new(http.clone(), &base, &tenant, o.client_id, o.client_secret);
            OAuthSession::new(RotatingSession::new(
                endpoint,
                o.tokens,
                Some(TokenPair::refresh_only(o.refresh_token)),
                EXPIRY_MARGIN,
            ))
        });
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                config: config.clone(),
                version,
                base_url: base,
                soap: SoapCredentials {
                    username: credentials.username.trim().to_string(),
                    tenant,
                    password: credentials.password,
                },
                oauth,
            }),
        })
    }

    /// The web service version in use.
    pub fn version(&self) -> &str {
        &self.inner.version
    }

    /// The configuration in use.
    pub fn config(&self) -> &WorkdayConfig {
        &self.inner.config
    }

    /// Whether REST reads are possible (the tenant has an OAuth client).
    pub fn has_oauth(&self) -> bool {
        self.inner.oauth.is_some()
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn oauth(&self) -> Option<&OAuthSession> {
        self.inner.oauth.as_ref()
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    pub(crate) fn tenant(&self) -> &str {
        &self.inner.soap.tenant
    }

    /// The SOAP endpoint of `op`: `{base}/ccx/service/{tenant}/{Service}/{version}`.
    pub fn soap_url(&self, op: Operation) -> String {
        format!(
            "{}/ccx/service/{}/{}/{}",
            self.inner.base_url,
            self.inner.soap.tenant,
            self.inner.config.services.service(op),
            self.inner.version
        )
    }

    /// The retry policy from the configuration (`[workday.retry]`): exponential, jittered, capped.
    pub(crate) fn backoff(&self) -> ExponentialBuilder {
        self.inner.config.retry.backoff()
    }

    /// Reads one page of `query`, retrying what may succeed later.
    pub async fn page<Q: SoapQuery>(
        &self,
        query: &Q,
        page: PageRequest,
    ) -> Result<PageOf<Q::Record>, WorkdayError> {
        let op = Q::OPERATION;
        let body = envelope(query, &self.inner.version, &self.inner.soap, &page)
            .map_err(WorkdayError::InvalidRequest)?;
        let body = bytes::Bytes::from(body);
        let url = self.soap_url(op);
        let attempt = || self.post_once::<Q::Record>(op, &url, body.clone(), page);
        let result = attempt
            .retry(self.backoff())
            .when(WorkdayError::is_retryable)
            .notify(|e: &WorkdayError, wait: Duration| {
                tracing::warn!(operation = op.name(), page = page.page, error = %e, retry_in_ms = wait.as_millis() as u64, "Workday call failed; retrying");
            })
            .await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        metrics::counter!("workday_requests_total", "operation" => op.name(), "outcome" => outcome)
            .increment(1);
        result
    }

    async fn post_once<R: Record>(
        &self,
        op: Operation,
        url: &str,
        body: bytes::Bytes,
        page: PageRequest,
    ) -> Result<PageOf<R>, WorkdayError> {
        let started = Instant::now();
        let response = self
            .inner
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=\"utf-8\"")
            .header("SOAPAction", "\"\"")
            .body(body)
            .send()
            .await
            .map_err(|e| self.reqwest_error(op.name(), e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.reqwest_error(op.name(), e))?;
        metrics::histogram!("workday_request_seconds", "operation" => op.name())
            .record(started.elapsed().as_secs_f64());
        let source = WorkdaySource {
            transport: "soap".into(),
            service: self.inner.config.services.service(op).to_string(),
            operation: op.name().to_string(),
            version: self.inner.version.clone(),
            page: page.page,
            total_pages: 0,
            as_of: page.as_of,
        };
        decode_soap_response::<R>(op, status.as_u16(), &bytes, page.page, source)
    }

    pub(crate) fn reqwest_error(&self, operation: &str, e: reqwest::Error) -> WorkdayError {
        if e.is_timeout() {
            WorkdayError::Timeout {
                operation: operation.to_string(),
                after: Duration::from_secs(self.inner.config.request_timeout_secs),
            }
        } else {
            // Display of reqwest errors never includes the request body (where the password is).
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(": ");
                message.push_str(&s.to_string());
                source = s.source();
            }
            WorkdayError::Transport {
                operation: operation.to_string(),
                message,
            }
        }
    }

    /// Every page of `query`, in order, with `As_Of_Entry_DateTime` pinned to now for the whole walk.
    pub fn walk_pages<Q>(
        &self,
        query: Q,
    ) -> BoxStream<'static, Result<PageOf<Q::Record>, WorkdayError>>
    where
        Q: SoapQuery + Send + Sync + 'static,
        Q::Record: Send + 'static,
    {
        self.walk_pages_as_of(query, Utc::now().trunc_subsecs(3))
    }

    /// Every page of `query` as of `as_of`. Stops after `Total_Pages` (or after a page without
    /// `Response_Results`, or an empty page); the first error ends the stream.
    pub fn walk_pages_as_of<Q>(
        &self,
        query: Q,
        as_of: DateTime<Utc>,
    ) -> BoxStream<'static, Result<PageOf<Q::Record>, WorkdayError>>
    where
        Q: SoapQuery + Send + Sync + 'static,
        Q::Record: Send + 'static,
    {
        let count = self.inner.config.page_size;
        let state = (Some(1u32), Arc::new(query), self.clone());
        stream::try_unfold(state, move |(next, query, client)| async move {
            let Some(page) = next else {
                return Ok(None);
            };
            let p = client
                .page(query.as_ref(), PageRequest { page, count, as_of })
                .await?;
            // Total_Pages is the body's word: an empty page ends the walk even if it claims more pages (a page
            // whose records were all skipped is not empty).
            let empty = p.records.is_empty() && p.skipped.is_empty();
            let next = (page < p.info.total_pages && !empty).then_some(page + 1);
            Ok(Some((p, (next, query, client))))
        })
        .boxed()
    }

    /// Every record of `query`, each with its page and as-of, streamed: one page in memory at a time. Skipped
    /// records are logged (and counted in `workday_records_skipped_total`); [`Self::walk_pages`] hands them over.
    pub fn walk<Q>(&self, query: Q) -> BoxStream<'static, Result<Sourced<Q::Record>, WorkdayError>>
    where
        Q: SoapQuery + Send + Sync + 'static,
        Q::Record: Send + 'static,
    {
        self.walk_pages(query)
            .map_ok(|page| stream::iter(page.into_sourced().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Suppliers (`Get_Suppliers`).
    pub fn suppliers(
        &self,
        query: SupplierQuery,
    ) -> BoxStream<'static, Result<Sourced<Supplier>, WorkdayError>> {
        self.walk(query)
    }

    /// Supplier invoices (`Get_Supplier_Invoices`).
    pub fn invoices(
        &self,
        query: InvoiceQuery,
    ) -> BoxStream<'static, Result<Sourced<SupplierInvoice>, WorkdayError>> {
        self.walk(query)
    }

    /// Supplier invoice adjustments (`Get_Supplier_Invoice_Adjustments`): credit and debit memos.
    pub fn adjustments(
        &self,
        query: AdjustmentQuery,
    ) -> BoxStream<'static, Result<Sourced<SupplierInvoiceAdjustment>, WorkdayError>> {
        self.walk(query)
    }

    /// Purchase orders (`Get_Purchase_Orders`).
    pub fn purchase_orders(
        &self,
        query: PurchaseOrderQuery,
    ) -> BoxStream<'static, Result<Sourced<PurchaseOrder>, WorkdayError>> {
        self.walk(query)
    }

    /// Payments (`Get_Payments`).
    pub fn payments(
        &self,
        query: PaymentQuery,
    ) -> BoxStream<'static, Result<Sourced<Payment>, WorkdayError>> {
        self.walk(query)
    }

    /// One supplier by `Supplier_ID`.
    pub async fn supplier(
        &self,
        supplier_id: &str,
    ) -> Result<Option<Sourced<Supplier>>, WorkdayError> {
        self.one(SupplierQuery::by_id([supplier_id])).await
    }

    /// One invoice by `Supplier_Invoice_ID` (reference ID) or WID (`Get_Supplier_Invoices`).
    pub async fn invoice(
        &self,
        reference_id: &str,
    ) -> Result<Option<Sourced<SupplierInvoice>>, WorkdayError> {
        let id_type = if looks_like_wid(reference_id) {
            "WID"
        } else {
            "Supplier_Invoice_Reference_ID"
        };
        let query = InvoiceQuery::ByReference(IdLookup::new(id_type, [reference_id]));
        self.one(query).await
    }

    /// The invoices of one supplier (`Supplier_ID`).
    pub fn invoices_of_supplier(
        &self,
        supplier_id: &str,
    ) -> BoxStream<'static, Result<Sourced<SupplierInvoice>, WorkdayError>> {
        self.walk(InvoiceQuery::for_supplier(supplier_id))
    }

    /// One adjustment by `Supplier_Invoice_Adjustment_Reference_ID` or WID.
    pub async fn adjustment(
        &self,
        reference_id: &str,
    ) -> Result<Option<Sourced<SupplierInvoiceAdjustment>>, WorkdayError> {
        let id_type = if looks_like_wid(reference_id) {
            "WID"
        } else {
            "Supplier_Invoice_Adjustment_Reference_ID"
        };
        self.one(AdjustmentQuery::ByReference(IdLookup::new(
            id_type,
            [reference_id],
        )))
        .await
    }

    /// The adjustments (credit and debit memos) of one supplier (`Supplier_ID`). Those of one invoice are the
    /// ones that name it: [`crate::payables::adjusts`].
    pub fn adjustments_of_supplier(
        &self,
        supplier_id: &str,
    ) -> BoxStream<'static, Result<Sourced<SupplierInvoiceAdjustment>, WorkdayError>> {
        self.walk(AdjustmentQuery::for_supplier(supplier_id))
    }

    /// One purchase order by `Document_Number`.
    pub async fn purchase_order(
        &self,
        document_number: &str,
    ) -> Result<Option<Sourced<PurchaseOrder>>, WorkdayError> {
        self.one(PurchaseOrderQuery::by_document_number([document_number]))
            .await
    }

    /// One payment by its Workday ID. A payment is read again by WID only: `Payment_WWS_Reference` is a
    /// `Reporting_Transaction` reference whose other ID types are not published, and an ID type Workday does not
    /// accept is a validation fault that no retry fixes. Anything that is not a WID is refused before sending.
    pub async fn payment(&self, wid: &str) -> Result<Option<Sourced<Payment>>, WorkdayError> {
        if !looks_like_wid(wid) {
            return Err(WorkdayError::InvalidRequest(format!(
                "payments are read by their Workday ID (32 hex digits), not `{}`",
                wid.chars().take(64).collect::<String>()
            )));
        }
        self.one(PaymentQuery::by_wid([wid])).await
    }
}

/// Turns one HTTP answer into a page or an error: a SOAP fault is parsed whatever the status; a non-XML
/// answer is an HTTP error (retryable by status) unless the status said success, then it is malformed.
/// Nothing in the body sizes an allocation beyond what the body itself holds.
pub fn decode_soap_response<R: Record>(
    op: Operation,
    status: u16,
    bytes: &[u8],
    page: u32,
    mut source: WorkdaySource,
) -> Result<PageOf<R>, WorkdayError> {
    let success = (200..300).contains(&status);
    match decode_page::<R>(bytes) {
        Ok(PageBody::Fault(fault)) => Err(WorkdayError::from_fault(op.name(), fault)),
        Ok(PageBody::Records(mut reader)) => {
            if !success {
                return Err(WorkdayError::Http {
                    operation: op.name().to_string(),
                    status,
                    body_excerpt: excerpt(bytes, 200),
                });
            }
            // Page_Results comes from the body: a hint, capped at the most a page can hold (a garbled or
            // hostile 4000000000 must not become an allocation).
            let hint = reader.info().map_or(0, |i| i.page_results);
            let mut records = Vec::with_capacity(hint.min(MAX_SOAP_PAGE_SIZE) as usize);
            let mut skipped = Vec::new();
            for record in reader.by_ref() {
                match record {
                    Ok(r) => records.push(r),
                    Err(RecordError::Skipped(s)) => {
                        tracing::warn!(
                            operation = op.name(),
                            page,
                            record = s.index,
                            id = s.id.as_deref().unwrap_or("(none)"),
                            offset = s.offset,
                            problem = %s.message,
                            "Workday record skipped: it could not be decoded"
                        );
                        metrics::counter!("workday_records_skipped_total", "operation" => op.name())
                            .increment(1);
                        skipped.push(s);
                    }
                    Err(RecordError::Malformed(e)) => return Err(malformed(op, e)),
                }
            }
            let n = u32::try_from(records.len() + skipped.len()).unwrap_or(u32::MAX);
            let info = reader.info().unwrap_or(PageInfo {
                total_results: n,
                total_pages: 1,
                page_results: n,
                page,
            });
            source.total_pages = info.total_pages;
            Ok(PageOf {
                info,
                records,
                skipped,
                source,
            })
        }
        Err(e) if success => Err(malformed(op, e)),
        Err(_) => Err(WorkdayError::Http {
            operation: op.name().to_string(),
            status,
            body_excerpt: excerpt(bytes, 200),
        }),
    }
}

impl WorkdayClient {
    /// The one record a by-reference `query` names: `None` when Workday has no such record, an error when it
    /// has one that cannot be decoded (a lookup must not say "not found" for a record it could not read).
    async fn one<Q>(&self, query: Q) -> Result<Option<Sourced<Q::Record>>, WorkdayError>
    where
        Q: SoapQuery + Send + Sync + 'static,
        Q::Record: Send + 'static,
    {
        let page = match self.walk_pages(query).next().await.transpose() {
            Ok(Some(page)) => page,
            Ok(None) => return Ok(None),
            // Workday answers a reference to a record it does not have with a validation fault ("Invalid ID
            // value. 'X' is not a valid ID value for type = '...'") rather than an empty page: for a lookup of one
            // record, that is "no such record".
            Err(e) if e.is_unknown_reference() => return Ok(None),
            Err(e) => return Err(e),
        };
        if let (true, Some(s)) = (page.records.is_empty(), page.skipped.first()) {
            return Err(WorkdayError::Malformed {
                operation: Q::OPERATION.name().to_string(),
                offset: s.offset,
                message: format!(
                    "record {} could not be decoded: {}",
                    s.id.as_deref().unwrap_or("(without ID)"),
                    s.message
                ),
            });
        }
        Ok(page.into_sourced().next())
    }
}

/// Workday IDs are 32 lowercase hex digits.
pub(crate) fn looks_like_wid(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
