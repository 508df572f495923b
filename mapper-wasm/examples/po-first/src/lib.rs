//! Example plugin "po-first": the purchase order is what Acme's agents search by, so it comes first.
//!
//! Invoice → ticket:
//! - ticket field 360000101 (text): the PO number, or the invoice number prefixed `INV ` when there is no PO;
//! - ticket field 360000102 (text): the total formatted for people — continental style (`1.234,50 EUR`) for
//!   EUR/CHF/DKK/NOK/SEK, else `USD 1,234.50`;
//! - ticket field 360000103 (decimal): the amount still due, rounded to cents;
//! - ticket field 360000104 (date): the due date, cleared when Workday has none;
//! - tag `wd_no_po` when the invoice has no purchase order (removed otherwise).
//!
//! Refuses (`Err`) an invoice whose amounts are not decimals.
//!
//! Supplier → organization: fields `supplier_id`, `payment_terms` (default `Net 30`) and `default_currency`.

use ml_mapper_sdk::*;

const PO_FIELD: u64 = 360_000_101;
const TOTAL_TEXT_FIELD: u64 = 360_000_102;
const AMOUNT_DUE_FIELD: u64 = 360_000_103;
const DUE_DATE_FIELD: u64 = 360_000_104;

const EUROPEAN: [&str; 5] = ["EUR", "CHF", "DKK", "NOK", "SEK"];

struct PoFirst;

impl Guest for PoFirst {
    fn map_supplier(supplier: Supplier) -> Result<Vec<FieldWrite>, String> {
        let terms = supplier
            .payment_terms
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| "Net 30".to_string());
        let mut writes = vec![
            org_field("supplier_id", text(supplier.id)),
            org_field("payment_terms", text(terms)),
        ];
        if let Some(currency) = supplier.currency {
            writes.push(org_field(
                "default_currency",
                text(currency.to_ascii_uppercase()),
            ));
        }
        Ok(writes)
    }

    fn map_invoice(invoice: Invoice, _ticket: TicketContext) -> Result<Vec<FieldWrite>, String> {
        let currency = invoice.total.currency.to_ascii_uppercase();
        let style = if EUROPEAN.contains(&currency.as_str()) {
            MoneyStyle::European
        } else {
            MoneyStyle::Code
        };
        let total = format_money(&invoice.total.amount, &currency, style)
            .map_err(|e| format!("invoice total: {e}"))?;
        let due = Amount::parse(&invoice.amount_due).map_err(|e| format!("amount due: {e}"))?;
        let reference = match &invoice.purchase_order {
            Some(po) => po.number.clone(),
            None => format!("INV {}", invoice.number),
        };
        let due_date = match invoice.due_date.as_deref().map(Date::parse) {
            Some(Ok(d)) => date_value(&d),
            Some(Err(e)) => return Err(format!("due date: {e}")),
            None => clear(),
        };
        Ok(vec![
            ticket_field(PO_FIELD, text(reference)),
            ticket_field(TOTAL_TEXT_FIELD, text(total)),
            ticket_field(AMOUNT_DUE_FIELD, decimal(&due.round_dp(2))),
            ticket_field(DUE_DATE_FIELD, due_date),
            if invoice.purchase_order.is_some() {
                remove_tag("wd_no_po")
            } else {
                add_tag("wd_no_po")
            },
        ])
    }
}

export_mapper!(PoFirst);
