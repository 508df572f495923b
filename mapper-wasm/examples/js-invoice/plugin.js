// Example ml-connector mapping plugin in JavaScript (componentize-js), against mapper-wasm/wit/mapper.wit.
//
// IMPORTANT: to refuse an input, `throw "a string"`. Only a thrown *string* becomes the `err` of the WIT
// `result`; throwing an Error object (or returning something of the wrong shape) traps the component, and
// ml-connector reports a trap instead of your message.
//
// Invoice → ticket:
// - ticket field 360000301 (text): "INV-88213 (PO-2024-0042)" — the invoice number with its PO, if any;
// - ticket field 360000302 (decimal): the invoice total, exactly as Workday gave it (a decimal string);
// - ticket field 360000303 (text): the supplier name;
// - tag `wd_js_mapped`, and `wd_has_payments` when payments exist.
// Refuses invoices without a supplier id.
//
// Supplier → organization: `supplier_id` and `supplier_category` (cleared when Workday has none).
//
// WIT → JS: records are objects with camelCase fields; option<T> is the value or undefined; u64 is a BigInt;
// variants are { tag: 'kebab-name', val }.

const INVOICE_REF_FIELD = 360000301n;
const TOTAL_FIELD = 360000302n;
const SUPPLIER_FIELD = 360000303n;

const ticketField = (id, value) => ({ target: { tag: 'ticket-field', val: id }, value });
const orgField = (key, value) => ({ target: { tag: 'organization-field', val: key }, value });
const addTag = (name) => ({ target: { tag: 'tag', val: name }, value: { tag: 'checkbox', val: true } });
const text = (s) => ({ tag: 'text', val: s });
const decimal = (s) => ({ tag: 'decimal', val: s });

export function mapSupplier(supplier) {
  return [
    orgField('supplier_id', text(supplier.id)),
    orgField('supplier_category', supplier.category ? text(supplier.category) : { tag: 'clear' }),
  ];
}

export function mapInvoice(invoice, ticket) {
  if (!invoice.supplierId) {
    throw `invoice ${invoice.number} has no supplier id`;
  }
  const reference = invoice.purchaseOrder
    ? `${invoice.number} (${invoice.purchaseOrder.number})`
    : invoice.number;
  const writes = [
    ticketField(INVOICE_REF_FIELD, text(reference)),
    ticketField(TOTAL_FIELD, decimal(invoice.total.amount)),
    ticketField(SUPPLIER_FIELD, text(invoice.supplierName)),
    addTag('wd_js_mapped'),
  ];
  if (invoice.payments.length > 0) {
    writes.push(addTag('wd_has_payments'));
  }
  return writes;
}
