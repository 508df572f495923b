//! Example plugin "status-tags": Workday statuses become Zendesk drop-down options and tags, so that views,
//! triggers and SLAs can key on them.
//!
//! Invoice → ticket:
//! - ticket field 360000201 (drop-down): payment status → `wd_paid` / `wd_unpaid` / `wd_partially_paid` / `wd_overdue`;
//!   an unknown status is refused (`Err`), so a new Workday status never lands as a wrong option;
//! - tag of the payment status added (`wd_paid`, ...), the tags of the other statuses removed;
//! - ticket field 360000202 (checkbox): whether the invoice is matched to a purchase order;
//! - ticket field 360000203 (date) and 360000204 (text): date and reference of the latest completed payment,
//!   cleared when there is none;
//! - tag `wd_invoice_canceled` when Workday canceled the invoice.
//!
//! Supplier → organization: field `supplier_status` (drop-down: `supplier_active` / `supplier_inactive` /
//! `supplier_on_hold`), checkbox `supplier_on_hold`, tag `supplier_inactive` while inactive.

use ml_mapper_sdk::*;

const PAYMENT_STATUS_FIELD: u64 = 360_000_201;
const HAS_PO_FIELD: u64 = 360_000_202;
const LAST_PAYMENT_DATE_FIELD: u64 = 360_000_203;
const LAST_PAYMENT_REF_FIELD: u64 = 360_000_204;

const PAYMENT_STATUSES: [(&str, &str); 4] = [
    ("paid", "wd_paid"),
    ("unpaid", "wd_unpaid"),
    ("partially paid", "wd_partially_paid"),
    ("overdue", "wd_overdue"),
];

struct StatusTags;

impl Guest for StatusTags {
    fn map_supplier(supplier: Supplier) -> Result<Vec<FieldWrite>, String> {
        let status = supplier.status.trim().to_ascii_lowercase();
        let option = match status.as_str() {
            "active" => "supplier_active",
            "inactive" => "supplier_inactive",
            "on hold" => "supplier_on_hold",
            other => return Err(format!("unknown supplier status `{other}`")),
        };
        Ok(vec![
            org_field("supplier_status", dropdown(option)),
            org_field("supplier_on_hold", checkbox(status == "on hold")),
            if status == "inactive" {
                add_tag("supplier_inactive")
            } else {
                remove_tag("supplier_inactive")
            },
        ])
    }

    fn map_invoice(invoice: Invoice, ticket: TicketContext) -> Result<Vec<FieldWrite>, String> {
        let status = invoice.payment_status.trim().to_ascii_lowercase();
        let (_, option) = PAYMENT_STATUSES
            .iter()
            .find(|(name, _)| *name == status)
            .ok_or_else(|| format!("unknown payment status `{}`", invoice.payment_status))?;
        let mut writes = vec![
            ticket_field(PAYMENT_STATUS_FIELD, dropdown(*option)),
            add_tag(option),
            ticket_field(HAS_PO_FIELD, checkbox(invoice.purchase_order.is_some())),
        ];
        for (_, other) in PAYMENT_STATUSES.iter().filter(|(_, o)| o != option) {
            if ticket.tags.iter().any(|t| t == other) {
                writes.push(remove_tag(other));
            }
        }
        let latest = invoice
            .payments
            .iter()
            .filter(|p| p.status.eq_ignore_ascii_case("complete"))
            .filter_map(|p| Some((Date::parse(p.payment_date.as_deref()?).ok()?, p)))
            .max_by_key(|(d, _)| *d);
        match latest {
            Some((date, payment)) => {
                writes.push(ticket_field(LAST_PAYMENT_DATE_FIELD, date_value(&date)));
                let reference = payment
                    .reference
                    .clone()
                    .unwrap_or_else(|| payment.reference_id.clone());
                writes.push(ticket_field(LAST_PAYMENT_REF_FIELD, text(reference)));
            }
            None => {
                writes.push(ticket_field(LAST_PAYMENT_DATE_FIELD, clear()));
                writes.push(ticket_field(LAST_PAYMENT_REF_FIELD, clear()));
            }
        }
        if invoice.status.eq_ignore_ascii_case("canceled") {
            writes.push(add_tag("wd_invoice_canceled"));
        }
        Ok(writes)
    }
}

export_mapper!(StatusTags);
