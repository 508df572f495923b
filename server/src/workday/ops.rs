//! The read operations and their wire names.

use serde::{Deserialize, Serialize};

/// The Workday SOAP namespace of every request and response element.
pub const BSVC_NS: &str = "urn:com.workday/bsvc";
/// SOAP 1.1 envelope namespace.
pub const SOAP_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// WS-Security extension namespace.
pub const WSSE_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// `Type` of a clear-text WS-Security password.
pub const PASSWORD_TEXT: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";

/// A read operation of the Workday web services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operation {
    /// `Get_Suppliers` (Resource_Management).
    #[serde(rename = "Get_Suppliers")]
    GetSuppliers,
    /// `Get_Supplier_Invoices` (Resource_Management).
    #[serde(rename = "Get_Supplier_Invoices")]
    GetSupplierInvoices,
    /// `Get_Supplier_Invoice_Adjustments` (Resource_Management): supplier credit and debit memos.
    #[serde(rename = "Get_Supplier_Invoice_Adjustments")]
    GetSupplierInvoiceAdjustments,
    /// `Get_Purchase_Orders` (Resource_Management).
    #[serde(rename = "Get_Purchase_Orders")]
    GetPurchaseOrders,
    /// `Get_Payments` (Settlement_Services).
    #[serde(rename = "Get_Payments")]
    GetPayments,
}

impl Operation {
    /// The operation name, e.g. `Get_Suppliers`.
    pub fn name(self) -> &'static str {
        match self {
            Self::GetSuppliers => "Get_Suppliers",
            Self::GetSupplierInvoices => "Get_Supplier_Invoices",
            Self::GetSupplierInvoiceAdjustments => "Get_Supplier_Invoice_Adjustments",
            Self::GetPurchaseOrders => "Get_Purchase_Orders",
            Self::GetPayments => "Get_Payments",
        }
    }

    /// The service real Workday places the operation in.
    pub fn default_service(self) -> &'static str {
        match self {
            Self::GetPayments => "Settlement_Services",
            _ => "Resource_Management",
        }
    }

    /// Request element, e.g. `Get_Suppliers_Request`.
    pub fn request_element(self) -> &'static str {
        match self {
            Self::GetSuppliers => "Get_Suppliers_Request",
            Self::GetSupplierInvoices => "Get_Supplier_Invoices_Request",
            Self::GetSupplierInvoiceAdjustments => "Get_Supplier_Invoice_Adjustments_Request",
            Self::GetPurchaseOrders => "Get_Purchase_Orders_Request",
            Self::GetPayments => "Get_Payments_Request",
        }
    }

    /// Response element, e.g. `Get_Suppliers_Response`.
    pub fn response_element(self) -> &'static str {
        match self {
            Self::GetSuppliers => "Get_Suppliers_Response",
            Self::GetSupplierInvoices => "Get_Supplier_Invoices_Response",
            Self::GetSupplierInvoiceAdjustments => "Get_Supplier_Invoice_Adjustments_Response",
            Self::GetPurchaseOrders => "Get_Purchase_Orders_Response",
            Self::GetPayments => "Get_Payments_Response",
        }
    }

    /// One record inside `Response_Data`, e.g. `Supplier`.
    pub fn record_element(self) -> &'static str {
        match self {
            Self::GetSuppliers => "Supplier",
            Self::GetSupplierInvoices => "Supplier_Invoice",
            Self::GetSupplierInvoiceAdjustments => "Supplier_Invoice_Adjustment",
            Self::GetPurchaseOrders => "Purchase_Order",
            Self::GetPayments => "Payment",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
