//! Host bindings of the `mapper` world (wasmtime `bindgen!`) and conversions to and from the mapper's types.
//! The exports are called asynchronously (`call_map_*` return futures), so that a call can be abandoned at its
//! deadline wherever the guest is, in its own code or in a WASI host call.

use crate::mapper::input;
use crate::mapper::write;

wasmtime::component::bindgen!({
    path: "../mapper-wasm/wit",
    world: "mapper",
    exports: { default: async },
});

fn extra(fields: &std::collections::BTreeMap<String, String>) -> Vec<ExtraField> {
    fields
        .iter()
        .map(|(name, value)| ExtraField {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

fn money(m: &input::Money) -> Money {
    Money {
        amount: m.amount.clone(),
        currency: m.currency.clone(),
    }
}

impl From<&input::Supplier> for Supplier {
    fn from(s: &input::Supplier) -> Self {
        Self {
            id: s.id.clone(),
            reference_id: s.reference_id.clone(),
            name: s.name.clone(),
            status: s.status.clone(),
            category: s.category.clone(),
            tax_id: s.tax_id.clone(),
            payment_terms: s.payment_terms.clone(),
            currency: s.currency.clone(),
            email: s.email.clone(),
            phone: s.phone.clone(),
            address: s.address.clone(),
            extra: extra(&s.extra),
        }
    }
}

impl From<&input::Invoice> for Invoice {
    fn from(i: &input::Invoice) -> Self {
        Self {
            number: i.number.clone(),
            reference_id: i.reference_id.clone(),
            supplier_id: i.supplier_id.clone(),
            supplier_name: i.supplier_name.clone(),
            status: i.status.clone(),
            payment_status: i.payment_status.clone(),
            invoice_date: i.invoice_date.clone(),
            due_date: i.due_date.clone(),
            total: money(&i.total),
            amount_due: i.amount_due.clone(),
            memo: i.memo.clone(),
            purchase_order: i.purchase_order.as_ref().map(|po| PurchaseOrder {
                number: po.number.clone(),
                reference_id: po.reference_id.clone(),
                status: po.status.clone(),
                order_date: po.order_date.clone(),
                total: money(&po.total),
                buyer: po.buyer.clone(),
            }),
            payments: i
                .payments
                .iter()
                .map(|p| Payment {
                    reference_id: p.reference_id.clone(),
                    status: p.status.clone(),
                    payment_date: p.payment_date.clone(),
                    amount: money(&p.amount),
                    method: p.method.clone(),
                    reference: p.reference.clone(),
                })
                .collect(),
            extra: extra(&i.extra),
        }
    }
}

impl From<&input::TicketContext> for TicketContext {
    fn from(t: &input::TicketContext) -> Self {
        Self {
            ticket_id: t.ticket_id,
            subject: t.subject.clone(),
            organization_id: t.organization_id,
            requester_email: t.requester_email.clone(),
            tags: t.tags.clone(),
            brand_id: t.brand_id,
        }
    }
}

impl From<FieldWrite> for write::FieldWrite {
    fn from(w: FieldWrite) -> Self {
        let target = match w.target {
            FieldTarget::TicketField(id) => write::FieldTarget::TicketField { id },
            FieldTarget::OrganizationField(key) => write::FieldTarget::OrganizationField { key },
            FieldTarget::Tag(name) => write::FieldTarget::Tag { name },
        };
        let value = match w.value {
            FieldValue::Text(s) => write::FieldValue::Text(s),
            FieldValue::Decimal(s) => write::FieldValue::Decimal(s),
            FieldValue::Date(s) => write::FieldValue::Date(s),
            FieldValue::Checkbox(b) => write::FieldValue::Checkbox(b),
            FieldValue::DropdownOption(s) => write::FieldValue::DropdownOption(s),
            FieldValue::Clear => write::FieldValue::Clear,
        };
        Self { target, value }
    }
}
