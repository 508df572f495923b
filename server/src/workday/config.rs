//! `[workday]`: process-wide defaults of the Workday client (per-tenant connection settings live in the tenant).

use serde::{Deserialize, Serialize};

use super::ops::Operation;

/// Largest `Count` Workday accepts on a SOAP page.
pub const MAX_SOAP_PAGE_SIZE: u32 = 999;
/// Largest `limit` Workday accepts on a REST collection.
pub const MAX_REST_PAGE_SIZE: u32 = 100;

/// `[workday]`: how the Workday client talks to every tenant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WorkdayConfig {
    /// Web service version used in the SOAP URL and the `bsvc:version` attribute, e.g. `v46.1`. A tenant's
    /// `api_version` setting overrides it.
    pub version: String,
    /// Records per SOAP page (`Response_Filter/Count`), 1–999. Larger pages mean fewer calls.
    pub page_size: u32,
    /// Which Workday web service serves each operation (the service name is part of the SOAP URL).
    pub services: ServicesConfig,
    /// Seconds to wait for a TCP/TLS connection to Workday.
    pub connect_timeout_secs: u64,
    /// Seconds one HTTP request to Workday may take, body included. Large pages are slow: keep this generous.
    pub request_timeout_secs: u64,
    /// How many times a retryable failure (HTTP 429/502/503/504, a 500 without a client fault, a server
    /// fault, a timeout, a dropped connection) is retried before the error is returned. 0 disables retries.
    pub max_retries: u32,
    /// First retry delay in milliseconds; it doubles on each retry, with random jitter, up to `retry_max_delay_ms`.
    pub retry_initial_delay_ms: u64,
    /// Cap on a single retry delay, in milliseconds.
    pub retry_max_delay_ms: u64,
    /// Records per REST page (`limit`), 1–100.
    pub rest_page_size: u32,
    /// REST API (service and version) that serves supplier invoice *requests*:
    /// `{host}/ccx/api/{rest_invoices_api}/{tenant}/supplierInvoiceRequests`. (A Supplier Invoice Request is the
    /// request for an invoice, a different object from the supplier invoice, which is read over SOAP.)
    pub rest_invoices_api: String,
    /// Which transport serves each read.
    pub transport: TransportConfig,
}

/// `[workday.services]`: the Workday web service of each operation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServicesConfig {
    /// Service of `Get_Suppliers`.
    pub get_suppliers: String,
    /// Service of `Get_Supplier_Invoices`.
    pub get_supplier_invoices: String,
    /// Service of `Get_Supplier_Invoice_Adjustments`.
    pub get_supplier_invoice_adjustments: String,
    /// Service of `Get_Purchase_Orders`.
    pub get_purchase_orders: String,
    /// Service of `Get_Payments`.
    pub get_payments: String,
}

/// `[workday.transport]`: which API serves each read.
///
/// Supplier invoices are read over SOAP only: Workday's REST API has no resource for the supplier invoice
/// itself (`supplierInvoiceRequests` is the Supplier Invoice Request, a different object secured by its own
/// business process). `soap` and `auto` both mean SOAP here; `rest` is refused by [`WorkdayConfig::validate`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TransportConfig {
    /// Reading one supplier invoice by its ID.
    pub invoice_by_id: Transport,
    /// Reading the invoices of one supplier.
    pub invoices_by_supplier: Transport,
}

/// Which Workday API serves a read.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// SOAP web services (WS-Security user name and password).
    Soap,
    /// REST API (OAuth2 refresh-token grant); needs the tenant's OAuth client, and a REST resource that is the
    /// object read.
    Rest,
    /// REST when the tenant has an OAuth client id and a REST resource serves the object, SOAP otherwise.
    Auto,
}

impl Default for WorkdayConfig {
    fn default() -> Self {
        Self {
            version: "v46.1".into(),
            page_size: 500,
            services: ServicesConfig::default(),
            connect_timeout_secs: 10,
            request_timeout_secs: 120,
            max_retries: 5,
            retry_initial_delay_ms: 500,
            retry_max_delay_ms: 30_000,
            rest_page_size: 100,
            rest_invoices_api: "accountsPayable/v1".into(),
            transport: TransportConfig::default(),
        }
    }
}

impl Default for ServicesConfig {
    fn default() -> Self {
        Self {
            get_suppliers: Operation::GetSuppliers.default_service().into(),
            get_supplier_invoices: Operation::GetSupplierInvoices.default_service().into(),
            get_supplier_invoice_adjustments: Operation::GetSupplierInvoiceAdjustments
                .default_service()
                .into(),
            get_purchase_orders: Operation::GetPurchaseOrders.default_service().into(),
            get_payments: Operation::GetPayments.default_service().into(),
        }
    }
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            invoice_by_id: Transport::Soap,
            invoices_by_supplier: Transport::Soap,
        }
    }
}

impl ServicesConfig {
    /// The configured service of `op`.
    pub fn service(&self, op: Operation) -> &str {
        match op {
            Operation::GetSuppliers => &self.get_suppliers,
            Operation::GetSupplierInvoices => &self.get_supplier_invoices,
            Operation::GetSupplierInvoiceAdjustments => &self.get_supplier_invoice_adjustments,
            Operation::GetPurchaseOrders => &self.get_purchase_orders,
            Operation::GetPayments => &self.get_payments,
        }
    }
}

impl WorkdayConfig {
    /// Checks value ranges; the error names the key (under `workday.`) and what is wrong.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !is_version(&self.version) {
            return Err((
                "workday.version",
                format!("expected a version like v46.1, got `{}`", self.version),
            ));
        }
        if self.page_size == 0 || self.page_size > MAX_SOAP_PAGE_SIZE {
            return Err(("workday.page_size", "must be between 1 and 999".into()));
        }
        if self.rest_page_size == 0 || self.rest_page_size > MAX_REST_PAGE_SIZE {
            return Err(("workday.rest_page_size", "must be between 1 and 100".into()));
        }
        if self.connect_timeout_secs == 0 {
            return Err(("workday.connect_timeout_secs", "must be at least 1".into()));
        }
        if self.request_timeout_secs == 0 {
            return Err(("workday.request_timeout_secs", "must be at least 1".into()));
        }
        if self.retry_initial_delay_ms > self.retry_max_delay_ms {
            return Err((
                "workday.retry_initial_delay_ms",
                "must not exceed workday.retry_max_delay_ms".into(),
            ));
        }
        for (key, service) in [
            (
                "workday.services.get_suppliers",
                &self.services.get_suppliers,
            ),
            (
                "workday.services.get_supplier_invoices",
                &self.services.get_supplier_invoices,
            ),
            (
                "workday.services.get_supplier_invoice_adjustments",
                &self.services.get_supplier_invoice_adjustments,
            ),
            (
                "workday.services.get_purchase_orders",
                &self.services.get_purchase_orders,
            ),
            ("workday.services.get_payments", &self.services.get_payments),
        ] {
            if !is_path_segment(service) {
                return Err((key, format!("`{service}` is not a Workday service name")));
            }
        }
        for (key, transport) in [
            (
                "workday.transport.invoice_by_id",
                self.transport.invoice_by_id,
            ),
            (
                "workday.transport.invoices_by_supplier",
                self.transport.invoices_by_supplier,
            ),
        ] {
            if transport == Transport::Rest {
                return Err((
                    key,
                    "supplier invoices are read over SOAP: Workday's REST API has no supplier invoice \
                     resource (supplierInvoiceRequests is the Supplier Invoice Request, another object); \
                     use soap"
                        .into(),
                ));
            }
        }
        if self.rest_invoices_api.is_empty()
            || !self.rest_invoices_api.split('/').all(is_path_segment)
        {
            return Err((
                "workday.rest_invoices_api",
                format!(
                    "expected `service/version` such as accountsPayable/v1, got `{}`",
                    self.rest_invoices_api
                ),
            ));
        }
        Ok(())
    }
}

/// `vNN` or `vNN.N`: a Workday web service version.
pub fn is_version(v: &str) -> bool {
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    match rest.split_once('.') {
        Some((major, minor)) => digits(major) && digits(minor),
        None => digits(rest),
    }
}

fn is_path_segment(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_use_real_services() {
        let c = WorkdayConfig::default();
        c.validate().unwrap();
        assert_eq!(c.version, "v46.1");
        assert_eq!(
            c.services.service(Operation::GetPayments),
            "Settlement_Services"
        );
        assert_eq!(
            c.services.service(Operation::GetSupplierInvoices),
            "Resource_Management"
        );
        assert_eq!(
            c.services.service(Operation::GetSupplierInvoiceAdjustments),
            "Resource_Management"
        );
        assert_eq!(c.transport.invoice_by_id, Transport::Soap);
    }

    #[test]
    fn invoices_over_rest_are_refused_with_the_reason() {
        let mut c = WorkdayConfig::default();
        c.transport.invoice_by_id = Transport::Rest;
        let (key, message) = c.validate().unwrap_err();
        assert_eq!(key, "workday.transport.invoice_by_id");
        assert!(message.contains("supplierInvoiceRequests"), "{message}");
        let mut c = WorkdayConfig::default();
        c.transport.invoices_by_supplier = Transport::Rest;
        assert_eq!(
            c.validate().unwrap_err().0,
            "workday.transport.invoices_by_supplier"
        );
        // `auto` is accepted and means SOAP.
        c.transport.invoices_by_supplier = Transport::Auto;
        c.validate().unwrap();
    }

    #[test]
    fn out_of_range_values_name_their_key() {
        let c = WorkdayConfig {
            page_size: 1000,
            ..Default::default()
        };
        assert_eq!(c.validate().unwrap_err().0, "workday.page_size");
        let c = WorkdayConfig {
            rest_page_size: 101,
            ..Default::default()
        };
        assert_eq!(c.validate().unwrap_err().0, "workday.rest_page_size");
        let c = WorkdayConfig {
            version: "46".into(),
            ..Default::default()
        };
        assert_eq!(c.validate().unwrap_err().0, "workday.version");
        let mut c = WorkdayConfig::default();
        c.services.get_payments = "../x".into();
        assert_eq!(c.validate().unwrap_err().0, "workday.services.get_payments");
    }

    #[test]
    fn process_config_reads_and_checks_the_workday_section() {
        use crate::config::{Config, ConfigError};
        let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let c = Config::load(
            None,
            env(&[
                ("MLC_WORKDAY__PAGE_SIZE", "999"),
                ("MLC_WORKDAY__TRANSPORT__INVOICE_BY_ID", "auto"),
                ("MLC_WORKDAY__SERVICES__GET_PAYMENTS", "Settlement_Services"),
            ]),
        )
        .unwrap();
        assert_eq!(c.workday.page_size, 999);
        assert_eq!(c.workday.transport.invoice_by_id, Transport::Auto);
        match Config::load(None, env(&[("MLC_WORKDAY__PAGE_SIZE", "1000")])).unwrap_err() {
            ConfigError::Invalid { key, origin, .. } => {
                assert_eq!(key, "workday.page_size");
                assert!(origin.contains("MLC_WORKDAY__PAGE_SIZE"), "{origin}");
            }
            other => panic!("{other:?}"),
        }
        let err = Config::load(
            None,
            env(&[("MLC_WORKDAY__TRANSPORT__INVOICE_BY_ID", "carrier-pigeon")]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("workday.transport.invoice_by_id"),
            "{err}"
        );
    }

    #[test]
    fn versions() {
        for ok in ["v46.1", "v40", "v9.0"] {
            assert!(is_version(ok), "{ok}");
        }
        for bad in ["46.1", "v", "v46.", "v46.1.2", "vx", "v46.1/../"] {
            assert!(!is_version(bad), "{bad}");
        }
    }
}
