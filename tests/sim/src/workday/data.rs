//! The simulated Workday tenant's data: suppliers with invoices, purchase orders and payments, generated
//! lazily and deterministically from `(seed, index)`.
//!
//! Nothing is stored: every record is recomputed from its index when asked for, so 100,000 suppliers cost
//! nothing at start-up. The only tables are per-supplier prefix sums of record counts (three `u32` per
//! supplier), built on first use, which turn a global invoice/PO/payment index into its supplier.
//!
//! Proportions (per invoice): 85% approved / 6% in progress / 4% draft / 5% canceled, 6% of approved ones on
//! hold; of approved invoices 55% paid, 12% partially paid, the rest unpaid (recent, so part of them overdue).
//! About 8% of approved invoices have a supplier credit memo: a Supplier Invoice Adjustment that names the
//! invoice as its original (Workday keeps credits as adjustments, never as negative invoices); a paid invoice's
//! credit was netted in the payment that settled it, other credits are still open (a fifth of those on unpaid
//! invoices credit the whole invoice). About 10% of suppliers have no invoice, 10% are inactive; a third of the
//! suppliers moved (their former address is still on file), one in seven has a move on file that takes effect
//! after "today".

use std::sync::OnceLock;

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};
use rust_decimal::Decimal;

/// The tenant's companies: (Company_Reference_ID, name, currency).
pub const COMPANIES: [(&str, &str, &str); 4] = [
    ("US01", "Acme Corp (US)", "USD"),
    ("DE01", "Acme Europe GmbH", "EUR"),
    ("UK01", "Acme UK Ltd", "GBP"),
    ("CA01", "Acme Canada Inc.", "CAD"),
];

/// Payment terms: (Payment_Terms_ID, descriptor, days).
pub const TERMS: [(&str, &str, i64); 4] = [
    ("NET_30", "Net 30", 30),
    ("NET_45", "Net 45", 45),
    ("NET_60", "Net 60", 60),
    ("IMMEDIATE", "Due Upon Receipt", 0),
];

/// Supplier categories: (Supplier_Category_ID, descriptor).
pub const CATEGORIES: [(&str, &str); 6] = [
    ("IT_SERVICES", "IT Services"),
    ("OFFICE_SUPPLIES", "Office Supplies"),
    ("LOGISTICS", "Logistics"),
    ("PROFESSIONAL_SERVICES", "Professional Services"),
    ("FACILITIES", "Facilities"),
    ("RAW_MATERIALS", "Raw Materials"),
];

const NAME_A: [&str; 24] = [
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Acorn",
    "Bluebird",
    "Cobalt",
    "Summit",
    "Harbor",
    "Pioneer",
    "Redwood",
    "Silverline",
    "Keystone",
    "Evergreen",
    "Granite",
    "Lakeside",
    "Meridian",
    "Orchard",
    "Polaris",
    "Quarry",
];
const NAME_B: [&str; 16] = [
    "Logistics",
    "Supply",
    "Industrial",
    "Systems",
    "Consulting",
    "Office Products",
    "Freight",
    "Components",
    "Labs",
    "Facilities",
    "Packaging",
    "Electric",
    "Print",
    "Software",
    "Metals",
    "Services",
];
const NAME_C: [&str; 8] = [
    "Ltd", "Inc.", "LLC", "GmbH", "Co.", "Group", "Partners", "S.A.",
];

/// A city suppliers are located in.
#[derive(Debug, Clone, Copy)]
pub struct City {
    /// City name.
    pub name: &'static str,
    /// Country_Region_ID, e.g. `USA-IL`.
    pub region_id: &'static str,
    /// Region name.
    pub region: &'static str,
    /// Postal code prefix.
    pub postal_prefix: &'static str,
    /// ISO 3166-1 alpha-2.
    pub alpha2: &'static str,
    /// ISO 3166-1 alpha-3.
    pub alpha3: &'static str,
    /// Country name.
    pub country: &'static str,
    /// International phone code.
    pub phone_code: &'static str,
}

const fn city(f: [&'static str; 8]) -> City {
    City {
        name: f[0],
        region_id: f[1],
        region: f[2],
        postal_prefix: f[3],
        alpha2: f[4],
        alpha3: f[5],
        country: f[6],
        phone_code: f[7],
    }
}

const CITIES: [City; 8] = [
    city([
        "Springfield",
        "USA-IL",
        "Illinois",
        "627",
        "US",
        "USA",
        "United States of America",
        "1",
    ]),
    city([
        "Austin",
        "USA-TX",
        "Texas",
        "787",
        "US",
        "USA",
        "United States of America",
        "1",
    ]),
    city([
        "Portland",
        "USA-OR",
        "Oregon",
        "972",
        "US",
        "USA",
        "United States of America",
        "1",
    ]),
    city([
        "Boston",
        "USA-MA",
        "Massachusetts",
        "021",
        "US",
        "USA",
        "United States of America",
        "1",
    ]),
    city([
        "Munich", "DEU-BY", "Bavaria", "803", "DE", "DEU", "Germany", "49",
    ]),
    city([
        "Manchester",
        "GBR-MAN",
        "Manchester",
        "M1 ",
        "GB",
        "GBR",
        "United Kingdom",
        "44",
    ]),
    city([
        "Toronto", "CAN-ON", "Ontario", "M5V", "CA", "CAN", "Canada", "1",
    ]),
    city([
        "Hamburg", "DEU-HH", "Hamburg", "204", "DE", "DEU", "Germany", "49",
    ]),
];
const STREETS: [&str; 10] = [
    "Main St",
    "Market St",
    "Harbor Rd",
    "Industrial Pkwy",
    "Oak Ave",
    "Station Rd",
    "King St",
    "Commerce Dr",
    "Mill Ln",
    "Park Blvd",
];
const ITEMS: [(&str, &str, &str); 8] = [
    ("Laptop docking stations", "IT_HARDWARE", "IT Hardware"),
    ("Annual software subscription", "SOFTWARE", "Software"),
    ("Freight charges", "FREIGHT", "Freight"),
    ("Consulting hours", "CONSULTING", "Consulting"),
    (
        "Printer paper (cases)",
        "OFFICE_SUPPLIES",
        "Office Supplies",
    ),
    ("Facility cleaning", "FACILITIES", "Facilities"),
    ("Steel sheets", "RAW_MATERIALS", "Raw Materials"),
    ("Packaging materials", "PACKAGING", "Packaging"),
];

/// What a record kind is, for WIDs and random streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A supplier.
    Supplier = 1,
    /// A supplier invoice.
    Invoice = 2,
    /// A purchase order.
    PurchaseOrder = 3,
    /// A payment.
    Payment = 4,
    /// A company, category or other reference.
    Other = 5,
    /// A supplier invoice adjustment.
    Adjustment = 6,
    /// A supplier invoice request.
    InvoiceRequest = 7,
}

const TAG_COUNTS: u64 = 11;
const TAG_INVOICE_KEY: u64 = 12;
const TAG_INVOICE_LINES: u64 = 13;
const TAG_PO: u64 = 14;
const TAG_PAYMENT: u64 = 15;
const TAG_WID: u64 = 16;
const TAG_ADDRESS: u64 = 17;
const TAG_ADJUSTMENT: u64 = 18;
const TAG_PO_EXTRA: u64 = 19;

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A small deterministic random stream (SplitMix64) keyed by (seed, tag, index).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, tag: u64, index: u64) -> Self {
        Self(mix(
            seed ^ mix(tag.wrapping_mul(0x1000_0000_01B3) ^ mix(index))
        ))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// The payment position an invoice was generated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayState {
    /// Fully paid.
    Paid,
    /// Partly paid.
    Partial,
    /// Nothing paid.
    Unpaid,
    /// Not payable (draft, in progress, canceled).
    NotPayable,
}

/// The cheap facts of one invoice (enough for counts and filters, no lines).
#[derive(Debug, Clone, Copy)]
pub struct InvoiceKey {
    /// Has a supplier credit memo (a Supplier Invoice Adjustment naming it).
    pub credited: bool,
    /// The credit memo covers the whole invoice (only on unpaid invoices).
    pub fully_credited: bool,
    /// Document_Status_ID.
    pub status: &'static str,
    /// On hold.
    pub on_hold: bool,
    /// Payment position.
    pub state: PayState,
    /// Invoice date.
    pub invoice_date: NaiveDate,
    /// Due date.
    pub due_date: NaiveDate,
    /// Index of the supplier's PO it refers to.
    pub po_local: Option<u32>,
    /// Settled together with the next invoice by one payment.
    combine_next: bool,
    /// Its payment is still in progress.
    payment_in_progress: bool,
    /// Days between the due date and the payment.
    pay_delay: i64,
}

/// A supplier.
#[derive(Debug, Clone)]
pub struct Supplier {
    /// 0-based index.
    pub index: u32,
    /// WID.
    pub wid: String,
    /// Supplier_ID, e.g. `S-000042`.
    pub id: String,
    /// Supplier_Name.
    pub name: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: &'static str,
    /// (Supplier_Category_ID, descriptor).
    pub category: (&'static str, &'static str),
    /// (Payment_Terms_ID, descriptor, days).
    pub terms: (&'static str, &'static str, i64),
    /// Index into [`COMPANIES`] (decides the currency).
    pub company: usize,
    /// Tax ID.
    pub tax_id: String,
    /// Street line.
    pub street: String,
    /// Second address line (suite), sometimes.
    pub street2: Option<String>,
    /// City.
    pub city: City,
    /// Postal code.
    pub postal_code: String,
    /// Area code and local number.
    pub phone: (String, String),
    /// E-mail.
    pub email: String,
    /// Web site.
    pub website: String,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When the current address took effect.
    pub address_since: NaiveDate,
    /// The address before the current one (street line, effective date), still on file.
    pub former_address: Option<(String, NaiveDate)>,
    /// A move on file that takes effect after the anchor date (street line, effective date).
    pub upcoming_address: Option<(String, NaiveDate)>,
}

impl Supplier {
    /// ISO currency.
    pub fn currency(&self) -> &'static str {
        COMPANIES[self.company].2
    }
}

/// An invoice line.
#[derive(Debug, Clone)]
pub struct Line {
    /// Item description.
    pub description: &'static str,
    /// (Spend_Category_ID, descriptor).
    pub spend_category: (&'static str, &'static str),
    /// Quantity.
    pub quantity: Decimal,
    /// Unit cost.
    pub unit_cost: Decimal,
    /// Extended amount.
    pub amount: Decimal,
}

/// A supplier invoice.
#[derive(Debug, Clone)]
pub struct Invoice {
    /// Global 0-based index.
    pub global: u32,
    /// Supplier index.
    pub supplier: u32,
    /// WID.
    pub wid: String,
    /// WID of the Supplier Invoice Request the invoice was created from (`Supplier_Invoice_Request_Reference`).
    pub request_wid: String,
    /// Supplier_Invoice_ID / Supplier_Invoice_Reference_ID, e.g. `SUPPLIER_INVOICE-3-12`.
    pub reference_id: String,
    /// Invoice_Number (Workday's), e.g. `SINV-0000012`.
    pub invoice_number: String,
    /// Suppliers_Invoice_Number (the supplier's own).
    pub supplier_invoice_number: String,
    /// Cheap facts.
    pub key: InvoiceKey,
    /// Lines.
    pub lines: Vec<Line>,
    /// Tax.
    pub tax: Decimal,
    /// Gross amount (lines + tax).
    pub gross: Decimal,
    /// Document number of the PO it refers to.
    pub po_number: Option<String>,
    /// Memo.
    pub memo: Option<String>,
}

/// A purchase order.
#[derive(Debug, Clone)]
pub struct PurchaseOrder {
    /// Global index.
    pub global: u32,
    /// Supplier index.
    pub supplier: u32,
    /// WID.
    pub wid: String,
    /// Document_Number, e.g. `PO-0000042`.
    pub document_number: String,
    /// Document_Status_ID.
    pub status: &'static str,
    /// Document date.
    pub document_date: NaiveDate,
    /// Due date.
    pub due_date: NaiveDate,
    /// Goods lines: (description, quantity, unit cost, amount).
    pub lines: Vec<(&'static str, Decimal, Decimal, Decimal)>,
    /// A project-based deliverables line: (memo, amount).
    pub deliverables: Option<(&'static str, Decimal)>,
    /// A contingent-worker line: (scheduled hours, contract pay rate, amount).
    pub contingent_worker: Option<(Decimal, Decimal, Decimal)>,
    /// Total of every line.
    pub total: Decimal,
    /// Buyer (Employee_ID, name).
    pub buyer: (String, &'static str),
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One invoice a payment settles.
#[derive(Debug, Clone)]
pub struct Settled {
    /// The invoice.
    pub invoice: Invoice,
    /// Amount paid by this payment.
    pub amount_paid: Decimal,
}

/// A supplier invoice adjustment: a credit memo naming its original invoice.
#[derive(Debug, Clone)]
pub struct Adjustment {
    /// Global index.
    pub global: u32,
    /// Supplier index.
    pub supplier: u32,
    /// WID.
    pub wid: String,
    /// Supplier_Invoice_Adjustment_ID / `Supplier_Invoice_Adjustment_Reference_ID`, e.g.
    /// `SUPPLIER_INVOICE_ADJUSTMENT-3-4`.
    pub reference_id: String,
    /// Invoice_Number Workday gave the adjustment, e.g. `SIA-0000004`.
    pub adjustment_number: String,
    /// The number on the supplier's credit memo.
    pub supplier_credit_number: String,
    /// The invoice it adjusts.
    pub invoice: Invoice,
    /// Adjustment_Date.
    pub date: NaiveDate,
    /// Control_Total_Amount: the credit, a positive amount (Increase_Liability is false).
    pub amount: Decimal,
    /// Its tax part.
    pub tax: Decimal,
    /// (Adjustment_Reason_ID, descriptor).
    pub reason: (&'static str, &'static str),
    /// Netted in the payment that settled the invoice (else still open).
    pub applied_in_payment: bool,
}

/// What a payment's remittance lines name an invoice by. Workday's choice is not confirmed by the material
/// read, so the simulated payments use each form in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemittanceStyle {
    /// `Document_ID` = the invoice's `Supplier_Invoice_ID`, `Document_Reference` = Workday's invoice number.
    WorkdayIds,
    /// `Document_ID` = the invoice's WID, `Document_Reference` = the supplier's invoice number.
    WidAndSuppliersNumber,
    /// No `Document_ID`; `Document_Reference` = the supplier's invoice number.
    SuppliersNumberOnly,
}

/// A payment.
#[derive(Debug, Clone)]
pub struct Payment {
    /// Global index.
    pub global: u32,
    /// Supplier index.
    pub supplier: u32,
    /// WID (the ID a payment is read again by).
    pub wid: String,
    /// Payment_Reference_Number, e.g. `PAY-0000007`.
    pub reference_number: String,
    /// Payment_Status_ID: `Complete` or `In_Progress`.
    pub status: &'static str,
    /// Payment date.
    pub date: NaiveDate,
    /// Amount.
    pub amount: Decimal,
    /// Payment_Type_ID.
    pub payment_type: &'static str,
    /// Check number for checks.
    pub check_number: Option<String>,
    /// Invoices settled.
    pub settled: Vec<Settled>,
    /// Credit memos netted in this payment (each settled for minus its amount).
    pub applied_credits: Vec<Adjustment>,
    /// How its remittance names the invoices.
    pub remittance: RemittanceStyle,
}

struct Index {
    invoices: Vec<u32>,
    pos: Vec<u32>,
    payments: Vec<u32>,
    adjustments: Vec<u32>,
}

/// The whole simulated data set.
pub struct Universe {
    seed: u64,
    suppliers: u32,
    anchor: NaiveDate,
    index: OnceLock<Index>,
    edits: std::sync::RwLock<Edits>,
}

/// Changes made to the generated data set while the simulator runs (a supplier renamed, a supplier added), as a
/// tenant's users would make them in Workday: each one moves the supplier's last-updated time to the moment of
/// the change, so `Updated_From_Date` finds it.
#[derive(Debug, Default)]
struct Edits {
    /// Supplier index → (new name, when).
    renamed: std::collections::HashMap<u32, (String, DateTime<Utc>)>,
    /// Suppliers added after the generated ones (they have no invoices, POs or payments).
    added: u32,
}

impl std::fmt::Debug for Universe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Universe")
            .field("seed", &self.seed)
            .field("suppliers", &self.suppliers)
            .field("anchor", &self.anchor)
            .finish()
    }
}

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

impl Universe {
    /// A universe of `suppliers` suppliers; dates are relative to `anchor` ("today" in the simulation).
    pub fn new(seed: u64, suppliers: u32, anchor: NaiveDate) -> Self {
        Self {
            seed,
            suppliers,
            anchor,
            index: OnceLock::new(),
            edits: std::sync::RwLock::new(Edits::default()),
        }
    }

    /// Renames supplier `k` (0-based) now, as a Workday user would: its last-updated time becomes the current
    /// time.
    pub fn rename_supplier(&self, k: u32, name: &str) {
        let mut edits = self
            .edits
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        edits.renamed.insert(k, (name.to_string(), Utc::now()));
    }

    /// Adds a supplier named `name` (updated now) after the existing ones; returns its 0-based index. It has no
    /// invoices, purchase orders or payments.
    pub fn add_supplier(&self, name: &str) -> u32 {
        let k = {
            let mut edits = self
                .edits
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            edits.added += 1;
            self.suppliers + edits.added - 1
        };
        self.rename_supplier(k, name);
        k
    }

    /// The simulation's "today".
    pub fn anchor(&self) -> NaiveDate {
        self.anchor
    }

    /// Number of suppliers.
    pub fn supplier_count(&self) -> u32 {
        self.suppliers
            + self
                .edits
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .added
    }

    /// `prefix[k]..prefix[k + 1]`; an added supplier (past the generated ones) has none.
    fn range_of(prefix: &[u32], k: u32) -> std::ops::Range<u32> {
        match (prefix.get(k as usize), prefix.get(k as usize + 1)) {
            (Some(&a), Some(&b)) => a..b,
            _ => {
                let end = prefix.last().copied().unwrap_or(0);
                end..end
            }
        }
    }

    fn wid(&self, kind: Kind, index: u32) -> String {
        let h = mix(self.seed ^ mix(TAG_WID ^ ((kind as u64) << 40) ^ u64::from(index)));
        let h2 = mix(h);
        format!(
            "{:02x}{:08x}{:016x}{:06x}",
            kind as u8,
            index,
            h,
            h2 & 0xff_ffff
        )
    }

    /// The WID of a company or another reference, stable per name.
    pub fn other_wid(&self, name: &str) -> String {
        let mut h = 0u32;
        for b in name.bytes() {
            h = h.wrapping_mul(31).wrapping_add(u32::from(b));
        }
        self.wid(Kind::Other, h)
    }

    /// Decodes a WID of `kind` back to its index (and checks it is one this universe issued).
    pub fn index_of_wid(&self, kind: Kind, wid: &str) -> Option<u32> {
        if wid.len() != 32 || u8::from_str_radix(wid.get(..2)?, 16).ok()? != kind as u8 {
            return None;
        }
        let index = u32::from_str_radix(wid.get(2..10)?, 16).ok()?;
        (self.wid(kind, index) == wid).then_some(index)
    }

    fn counts(&self, k: u32) -> (u32, u32) {
        let mut r = Rng::new(self.seed, TAG_COUNTS, u64::from(k));
        let invoices = if r.chance(10) {
            0
        } else {
            1 + r.below(8) as u32
        };
        let pos = r.below(4) as u32;
        (invoices, pos)
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let n = self.suppliers as usize;
            let (mut invoices, mut pos, mut payments, mut adjustments) = (
                Vec::with_capacity(n + 1),
                Vec::with_capacity(n + 1),
                Vec::with_capacity(n + 1),
                Vec::with_capacity(n + 1),
            );
            let (mut i, mut p, mut y, mut a) = (0u32, 0u32, 0u32, 0u32);
            for k in 0..self.suppliers {
                invoices.push(i);
                pos.push(p);
                payments.push(y);
                adjustments.push(a);
                let (ni, np) = self.counts(k);
                let keys = self.keys_of(k);
                i += ni;
                p += np;
                y += originating(&keys).len() as u32;
                a += keys.iter().filter(|key| key.credited).count() as u32;
            }
            invoices.push(i);
            pos.push(p);
            payments.push(y);
            adjustments.push(a);
            Index {
                invoices,
                pos,
                payments,
                adjustments,
            }
        })
    }

    /// Total number of invoices.
    pub fn invoice_count(&self) -> u32 {
        *self.index().invoices.last().unwrap_or(&0)
    }

    /// Total number of purchase orders.
    pub fn po_count(&self) -> u32 {
        *self.index().pos.last().unwrap_or(&0)
    }

    /// Total number of payments.
    pub fn payment_count(&self) -> u32 {
        *self.index().payments.last().unwrap_or(&0)
    }

    /// Total number of supplier invoice adjustments.
    pub fn adjustment_count(&self) -> u32 {
        *self.index().adjustments.last().unwrap_or(&0)
    }

    /// Global adjustment indices of supplier `k`.
    pub fn adjustments_of(&self, k: u32) -> std::ops::Range<u32> {
        Self::range_of(&self.index().adjustments, k)
    }

    /// Global invoice indices of supplier `k`.
    pub fn invoices_of(&self, k: u32) -> std::ops::Range<u32> {
        Self::range_of(&self.index().invoices, k)
    }

    /// Global PO indices of supplier `k`.
    pub fn pos_of(&self, k: u32) -> std::ops::Range<u32> {
        Self::range_of(&self.index().pos, k)
    }

    /// Global payment indices of supplier `k`.
    pub fn payments_of(&self, k: u32) -> std::ops::Range<u32> {
        Self::range_of(&self.index().payments, k)
    }

    fn owner(prefix: &[u32], global: u32) -> u32 {
        // The last supplier whose first index is <= global (suppliers without records share a start).
        let pos = prefix.partition_point(|&start| start <= global);
        (pos - 1) as u32
    }

    /// Supplier `k`.
    pub fn supplier(&self, k: u32) -> Supplier {
        let mut r = Rng::new(self.seed, u64::from(Kind::Supplier as u8), u64::from(k));
        let name = format!(
            "{} {} {}",
            r.pick(&NAME_A),
            r.pick(&NAME_B),
            r.pick(&NAME_C)
        );
        let status = if r.chance(10) { "INACTIVE" } else { "ACTIVE" };
        let category = r.pick(&CATEGORIES);
        let terms = {
            let x = r.below(100);
            if x < 60 {
                TERMS[0]
            } else if x < 80 {
                TERMS[1]
            } else if x < 92 {
                TERMS[2]
            } else {
                TERMS[3]
            }
        };
        let company = {
            let x = r.below(100);
            if x < 70 {
                0
            } else if x < 85 {
                1
            } else if x < 95 {
                2
            } else {
                3
            }
        };
        let city = r.pick(&CITIES);
        let street = format!("{} {}", 1 + r.below(9899), r.pick(&STREETS));
        let street2 = r
            .chance(30)
            .then(|| format!("Suite {}", 100 + r.below(800)));
        let postal_code = if city.alpha2 == "US" || city.alpha2 == "DE" {
            format!("{}{:02}", city.postal_prefix, r.below(100))
        } else {
            format!("{}{}", city.postal_prefix, r.below(10))
        };
        let slug: String = name
            .split_whitespace()
            .take(2)
            .collect::<String>()
            .to_ascii_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let phone = (
            format!("{}", 200 + r.below(799)),
            format!("555-{:04}", r.below(10_000)),
        );
        let tax_id = format!("{:02}-{:07}", 10 + r.below(89), r.below(10_000_000));
        let updated_at = self.anchor_time() - Duration::seconds(r.below(730 * 86_400) as i64);
        // Address history from its own stream, so the draws above stay as they were.
        let mut h = Rng::new(self.seed, TAG_ADDRESS, u64::from(k));
        let address_since = updated_at.date_naive() - Duration::days(400);
        let former_address = (k % 3 == 1).then(|| {
            (
                format!("{} {}", 1 + h.below(9899), h.pick(&STREETS)),
                address_since - Duration::days(365 + h.below(1500) as i64),
            )
        });
        let upcoming_address = (k % 7 == 3).then(|| {
            (
                format!("{} {}", 1 + h.below(9899), h.pick(&STREETS)),
                self.anchor + Duration::days(1 + h.below(90) as i64),
            )
        });
        let (name, updated_at) = match self
            .edits
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .renamed
            .get(&k)
        {
            Some((n, at)) => (n.clone(), *at),
            None => (name, updated_at),
        };
        Supplier {
            index: k,
            wid: self.wid(Kind::Supplier, k),
            id: format!("S-{:06}", k + 1),
            name,
            status,
            category,
            terms,
            company,
            tax_id,
            street,
            street2,
            city,
            postal_code,
            phone,
            email: format!("ap{}@{slug}.example", k + 1),
            website: format!("https://www.{slug}.example"),
            updated_at,
            address_since,
            former_address,
            upcoming_address,
        }
    }

    /// Midnight UTC of the anchor date.
    pub fn anchor_time(&self) -> DateTime<Utc> {
        Utc.from_utc_datetime(&self.anchor.and_hms_opt(0, 0, 0).unwrap_or_default())
    }

    fn terms_days(&self, k: u32) -> i64 {
        self.supplier(k).terms.2
    }

    /// The cheap facts of invoice `local` of supplier `k`.
    pub fn invoice_key(&self, k: u32, local: u32, terms_days: i64, pos: u32) -> InvoiceKey {
        let mut r = Rng::new(
            self.seed,
            TAG_INVOICE_KEY,
            (u64::from(k) << 8) | u64::from(local),
        );
        let credit_draw = r.chance(8);
        let status = {
            let x = r.below(100);
            if x < 85 {
                "Approved"
            } else if x < 91 {
                "In_Progress"
            } else if x < 95 {
                "Draft"
            } else {
                "Canceled"
            }
        };
        let on_hold = status == "Approved" && r.chance(6);
        let x = r.below(100);
        let credited = credit_draw && status == "Approved";
        let mut state = if status != "Approved" {
            PayState::NotPayable
        } else if on_hold {
            PayState::Unpaid
        } else if x < 55 {
            PayState::Paid
        } else if x < 67 {
            PayState::Partial
        } else {
            PayState::Unpaid
        };
        let age = if state == PayState::Paid {
            r.below(360)
        } else {
            r.below(60)
        } as i64;
        let po_local = (pos > 0 && r.chance(70)).then(|| r.below(u64::from(pos)) as u32);
        let combine_next = r.chance(30);
        let payment_in_progress = r.chance(5);
        let pay_delay = r.below(20) as i64 - 10;
        // A credit for the whole invoice leaves nothing to pay: such an invoice is never paid.
        let fully_credited = credited && r.chance(20) && state != PayState::Paid;
        if fully_credited {
            state = PayState::Unpaid;
        }
        let invoice_date = self.anchor - Duration::days(age);
        InvoiceKey {
            credited,
            fully_credited,
            status,
            on_hold,
            state,
            invoice_date,
            due_date: invoice_date + Duration::days(terms_days),
            po_local,
            combine_next,
            payment_in_progress,
            pay_delay,
        }
    }

    fn keys_of(&self, k: u32) -> Vec<InvoiceKey> {
        let (n, pos) = self.counts(k);
        let terms = self.terms_days(k);
        (0..n).map(|j| self.invoice_key(k, j, terms, pos)).collect()
    }

    /// The invoices of supplier `k` that start a payment, each with the local invoices that payment settles.
    fn originating(&self, k: u32) -> Vec<Vec<u32>> {
        originating(&self.keys_of(k))
    }

    /// Invoice `global`.
    pub fn invoice(&self, global: u32) -> Invoice {
        let k = Self::owner(&self.index().invoices, global);
        let local = global - self.invoices_of(k).start;
        let supplier = self.supplier(k);
        let (_, pos) = self.counts(k);
        let key = self.invoice_key(k, local, supplier.terms.2, pos);
        let mut r = Rng::new(self.seed, TAG_INVOICE_LINES, u64::from(global));
        let n_lines = 1 + r.below(4);
        let mut lines = Vec::with_capacity(n_lines as usize);
        let mut subtotal = Decimal::ZERO;
        for _ in 0..n_lines {
            let (description, cat_id, cat_name) = r.pick(&ITEMS);
            let quantity = Decimal::from(1 + r.below(20));
            let unit_cost = cents(500 + r.below(250_000) as i64);
            let amount = quantity * unit_cost;
            subtotal += amount;
            lines.push(Line {
                description,
                spend_category: (cat_id, cat_name),
                quantity,
                unit_cost,
                amount,
            });
        }
        let tax = (subtotal * Decimal::new(8, 2)).round_dp(2);
        let gross = subtotal + tax;
        let year = key.invoice_date.format("%Y");
        let seq = 1000 + local * 7 + (k % 97);
        let supplier_invoice_number = match k % 4 {
            0 => format!("INV-{year}-{seq:05}"),
            1 => format!("{}{:06}", &supplier.name[..1], seq * 13 + 7),
            2 => format!("{}/{}/{}", k + 1, seq, &year.to_string()[2..]),
            _ => format!("CM{seq}"),
        };
        let po_number = key
            .po_local
            .map(|l| format!("PO-{:07}", self.pos_of(k).start + l + 1));
        let memo = if key.on_hold {
            Some("On hold: price discrepancy with PO".to_string())
        } else {
            None
        };
        Invoice {
            global,
            supplier: k,
            wid: self.wid(Kind::Invoice, global),
            request_wid: self.wid(Kind::InvoiceRequest, global),
            reference_id: format!("SUPPLIER_INVOICE-3-{}", global + 1),
            invoice_number: format!("SINV-{:07}", global + 1),
            supplier_invoice_number,
            key,
            lines,
            tax,
            gross,
            po_number,
            memo,
        }
    }

    /// Adjustment `global`: the credit memo of the `n`-th credited invoice of its supplier.
    pub fn adjustment(&self, global: u32) -> Adjustment {
        let k = Self::owner(&self.index().adjustments, global);
        let nth = (global - self.adjustments_of(k).start) as usize;
        let keys = self.keys_of(k);
        let local = keys
            .iter()
            .enumerate()
            .filter(|(_, key)| key.credited)
            .nth(nth)
            .map_or(0, |(j, _)| j as u32);
        let invoice = self.invoice(self.invoices_of(k).start + local);
        let mut r = Rng::new(self.seed, TAG_ADJUSTMENT, u64::from(global));
        let amount = if invoice.key.fully_credited {
            invoice.gross
        } else {
            (invoice.gross * Decimal::from(10 + r.below(31)) / Decimal::from(100)).round_dp(2)
        };
        let tax = (amount * Decimal::new(8, 0) / Decimal::new(108, 0)).round_dp(2);
        let reason = [
            ("Returned_Goods", "Returned Goods"),
            ("Price_Adjustment", "Price Adjustment"),
            ("Damaged_Goods", "Damaged Goods"),
        ][r.below(3) as usize];
        let date =
            (invoice.key.invoice_date + Duration::days(1 + r.below(20) as i64)).min(self.anchor);
        Adjustment {
            global,
            supplier: k,
            wid: self.wid(Kind::Adjustment, global),
            reference_id: format!("SUPPLIER_INVOICE_ADJUSTMENT-3-{}", global + 1),
            adjustment_number: format!("SIA-{:07}", global + 1),
            supplier_credit_number: format!("CR-{}", invoice.supplier_invoice_number),
            applied_in_payment: invoice.key.state == PayState::Paid,
            invoice,
            date,
            amount,
            tax,
            reason,
        }
    }

    /// The adjustment of invoice `global`, if it has one.
    pub fn adjustment_of_invoice(&self, global: u32) -> Option<Adjustment> {
        let k = Self::owner(&self.index().invoices, global);
        let local = (global - self.invoices_of(k).start) as usize;
        let keys = self.keys_of(k);
        if !keys.get(local)?.credited {
            return None;
        }
        let nth = keys[..local].iter().filter(|key| key.credited).count() as u32;
        Some(self.adjustment(self.adjustments_of(k).start + nth))
    }

    /// Purchase order `global`.
    pub fn purchase_order(&self, global: u32) -> PurchaseOrder {
        let k = Self::owner(&self.index().pos, global);
        let mut r = Rng::new(self.seed, TAG_PO, u64::from(global));
        let status = {
            let x = r.below(100);
            if x < 70 {
                "Issued"
            } else if x < 90 {
                "Closed"
            } else if x < 95 {
                "Canceled"
            } else {
                "Draft"
            }
        };
        let document_date = self.anchor - Duration::days(r.below(420) as i64);
        let mut lines = Vec::new();
        let mut total = Decimal::ZERO;
        for _ in 0..1 + r.below(3) {
            let (description, _, _) = r.pick(&ITEMS);
            let quantity = Decimal::from(1 + r.below(50));
            let unit_cost = cents(500 + r.below(150_000) as i64);
            let amount = quantity * unit_cost;
            total += amount;
            lines.push((description, quantity, unit_cost, amount));
        }
        let buyers = [
            "Logan McNeil",
            "Teresa Serrano",
            "Jack Taylor",
            "Olivia Chen",
        ];
        let b = r.below(buyers.len() as u64) as usize;
        let updated_at = Utc
            .from_utc_datetime(&document_date.and_hms_opt(9, 0, 0).unwrap_or_default())
            + Duration::seconds(r.below(60 * 86_400) as i64);
        // Project deliverables and contingent workers, from their own stream.
        let mut x = Rng::new(self.seed, TAG_PO_EXTRA, u64::from(global));
        let deliverables = x.chance(20).then(|| {
            let memo = x.pick(&[
                "Phase 1: discovery workshop",
                "Milestone: data migration",
                "Go-live support",
            ]);
            (memo, cents(100_000 + x.below(2_000_000) as i64))
        });
        let contingent_worker = x.chance(15).then(|| {
            let hours = Decimal::from(20 + x.below(140));
            let rate = cents(4_500 + x.below(8_000) as i64);
            (hours, rate, hours * rate)
        });
        total += deliverables.map_or(Decimal::ZERO, |d| d.1)
            + contingent_worker.map_or(Decimal::ZERO, |c| c.2);
        PurchaseOrder {
            global,
            supplier: k,
            wid: self.wid(Kind::PurchaseOrder, global),
            document_number: format!("PO-{:07}", global + 1),
            status,
            document_date,
            due_date: document_date + Duration::days(14 + r.below(30) as i64),
            lines,
            deliverables,
            contingent_worker,
            total,
            buyer: (format!("{}", 21001 + b), buyers[b]),
            updated_at: updated_at.min(self.anchor_time()),
        }
    }

    /// Payment `global`.
    pub fn payment(&self, global: u32) -> Payment {
        let k = Self::owner(&self.index().payments, global);
        let local = (global - self.payments_of(k).start) as usize;
        let groups = self.originating(k);
        let start = self.invoices_of(k).start;
        let group = groups.get(local).cloned().unwrap_or_default();
        let mut r = Rng::new(self.seed, TAG_PAYMENT, u64::from(global));
        let mut settled = Vec::new();
        let mut applied_credits = Vec::new();
        let mut amount = Decimal::ZERO;
        let mut date = self.anchor;
        let mut in_progress = false;
        for j in &group {
            let invoice = self.invoice(start + j);
            let credit = if invoice.key.credited {
                self.adjustment_of_invoice(invoice.global)
            } else {
                None
            };
            let paid = match invoice.key.state {
                // Part of what is left after an open credit.
                PayState::Partial => {
                    let open = invoice.gross - credit.as_ref().map_or(Decimal::ZERO, |c| c.amount);
                    (open * Decimal::from(30 + r.below(41)) / Decimal::from(100)).round_dp(2)
                }
                _ => invoice.gross,
            };
            // A paid invoice's credit is netted in the payment that settles it.
            if let Some(c) = credit.filter(|c| c.applied_in_payment) {
                amount -= c.amount;
                applied_credits.push(c);
            }
            let due = invoice.key.due_date + Duration::days(invoice.key.pay_delay);
            let on = if invoice.key.state == PayState::Partial {
                invoice.key.invoice_date + Duration::days(invoice.key.pay_delay.abs() / 2)
            } else {
                due.max(invoice.key.invoice_date)
            };
            date = on.min(self.anchor);
            in_progress |= invoice.key.payment_in_progress;
            amount += paid;
            settled.push(Settled {
                invoice,
                amount_paid: paid,
            });
        }
        let payment_type = {
            let x = r.below(100);
            if x < 70 {
                "ACH"
            } else if x < 90 {
                "Check"
            } else {
                "Wire"
            }
        };
        Payment {
            global,
            supplier: k,
            wid: self.wid(Kind::Payment, global),
            reference_number: format!("PAY-{:07}", global + 1),
            status: if in_progress {
                "In_Progress"
            } else {
                "Complete"
            },
            date,
            amount,
            payment_type,
            check_number: (payment_type == "Check").then(|| format!("{}", 100_000 + global)),
            settled,
            applied_credits,
            remittance: match global % 3 {
                0 => RemittanceStyle::WorkdayIds,
                1 => RemittanceStyle::WidAndSuppliersNumber,
                _ => RemittanceStyle::SuppliersNumberOnly,
            },
        }
    }

    /// The payments that settle invoice `global` (at most one in this data set).
    pub fn payments_for_invoice(&self, global: u32) -> Vec<Payment> {
        let k = Self::owner(&self.index().invoices, global);
        let local = global - self.invoices_of(k).start;
        let groups = self.originating(k);
        let base = self.payments_of(k).start;
        groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.contains(&local))
            .map(|(i, _)| self.payment(base + i as u32))
            .collect()
    }

    /// Supplier by an ID of type `Supplier_ID`, `Supplier_Reference_ID` or `WID`.
    pub fn find_supplier(&self, id_type: &str, value: &str) -> Option<u32> {
        match id_type {
            "Supplier_ID" | "Supplier_Reference_ID" => parse_suffix(value, "S-")
                .filter(|n| (1..=self.supplier_count()).contains(n))
                .map(|n| n - 1),
            "WID" => self
                .index_of_wid(Kind::Supplier, value)
                .filter(|k| *k < self.supplier_count()),
            _ => None,
        }
    }

    /// Invoice by `Supplier_Invoice_Reference_ID` or `WID`.
    pub fn find_invoice(&self, id_type: &str, value: &str) -> Option<u32> {
        match id_type {
            "Supplier_Invoice_Reference_ID" => parse_suffix(value, "SUPPLIER_INVOICE-3-")
                .filter(|n| (1..=self.invoice_count()).contains(n))
                .map(|n| n - 1),
            "WID" => self
                .index_of_wid(Kind::Invoice, value)
                .filter(|g| *g < self.invoice_count()),
            _ => None,
        }
    }

    /// Purchase order by `Document_Number` or `WID`.
    pub fn find_po(&self, id_type: &str, value: &str) -> Option<u32> {
        match id_type {
            "Document_Number" => parse_suffix(value, "PO-")
                .filter(|n| (1..=self.po_count()).contains(n))
                .map(|n| n - 1),
            "WID" => self
                .index_of_wid(Kind::PurchaseOrder, value)
                .filter(|g| *g < self.po_count()),
            _ => None,
        }
    }

    /// Payment by `WID` (the one ID type a `Payment_WWS_Reference` is known to accept).
    pub fn find_payment(&self, id_type: &str, value: &str) -> Option<u32> {
        match id_type {
            "WID" => self
                .index_of_wid(Kind::Payment, value)
                .filter(|g| *g < self.payment_count()),
            _ => None,
        }
    }

    /// Adjustment by `Supplier_Invoice_Adjustment_Reference_ID` or `WID`.
    pub fn find_adjustment(&self, id_type: &str, value: &str) -> Option<u32> {
        match id_type {
            "Supplier_Invoice_Adjustment_Reference_ID" => {
                parse_suffix(value, "SUPPLIER_INVOICE_ADJUSTMENT-3-")
                    .filter(|n| (1..=self.adjustment_count()).contains(n))
                    .map(|n| n - 1)
            }
            "WID" => self
                .index_of_wid(Kind::Adjustment, value)
                .filter(|g| *g < self.adjustment_count()),
            _ => None,
        }
    }

    /// The invoice created from the supplier invoice request with this WID.
    pub fn find_invoice_request(&self, wid: &str) -> Option<u32> {
        self.index_of_wid(Kind::InvoiceRequest, wid)
            .filter(|g| *g < self.invoice_count())
    }
}

/// The invoices (local indices) that start a payment, each with the local invoices that payment settles.
fn originating(keys: &[InvoiceKey]) -> Vec<Vec<u32>> {
    let mut out: Vec<Vec<u32>> = Vec::new();
    let mut j = 0;
    while j < keys.len() {
        match keys[j].state {
            PayState::Paid => {
                let next_paid = keys.get(j + 1).is_some_and(|n| n.state == PayState::Paid);
                if keys[j].combine_next && next_paid {
                    out.push(vec![j as u32, j as u32 + 1]);
                    j += 2;
                    continue;
                }
                out.push(vec![j as u32]);
            }
            PayState::Partial => out.push(vec![j as u32]),
            _ => {}
        }
        j += 1;
    }
    out
}

fn parse_suffix(value: &str, prefix: &str) -> Option<u32> {
    let digits = value.strip_prefix(prefix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn universe(n: u32) -> Universe {
        Universe::new(42, n, NaiveDate::from_ymd_opt(2024, 6, 15).unwrap())
    }

    #[test]
    fn records_are_deterministic_and_ids_round_trip() {
        let u = universe(500);
        let v = universe(500);
        assert_eq!(u.supplier(7).name, v.supplier(7).name);
        assert_eq!(u.invoice(99).gross, v.invoice(99).gross);
        let s = u.supplier(41);
        assert_eq!(u.find_supplier("Supplier_ID", &s.id), Some(41));
        assert_eq!(u.find_supplier("WID", &s.wid), Some(41));
        assert_eq!(u.find_supplier("Supplier_ID", "S-000501"), None);
        let inv = u.invoice(123);
        assert_eq!(
            u.find_invoice("Supplier_Invoice_Reference_ID", &inv.reference_id),
            Some(123)
        );
        assert_eq!(u.find_invoice("WID", &inv.wid), Some(123));
        assert!(u.invoices_of(inv.supplier).contains(&123));
        let p = u.payment(5);
        assert_eq!(u.find_payment("WID", &p.wid), Some(5));
        assert_eq!(u.find_payment("Payment_Reference_ID", "PAYMENT-3-6"), None);
        assert!(!p.settled.is_empty());
        assert_eq!(u.find_invoice_request(&inv.request_wid), Some(123));
        assert_eq!(u.find_invoice_request(&inv.wid), None);
    }

    #[test]
    fn proportions_are_realistic() {
        let u = universe(2000);
        let n = u.invoice_count();
        assert!(n > 2000 * 3 && n < 2000 * 6, "{n} invoices");
        let (mut credit, mut paid, mut partial, mut unpaid, mut overdue, mut hold) =
            (0, 0, 0, 0, 0, 0);
        for g in 0..n {
            let i = u.invoice(g);
            credit += usize::from(i.key.credited);
            hold += usize::from(i.key.on_hold);
            match i.key.state {
                PayState::Paid => paid += 1,
                PayState::Partial => partial += 1,
                PayState::Unpaid => {
                    unpaid += 1;
                    overdue += usize::from(i.key.due_date < u.anchor());
                }
                PayState::NotPayable => {}
            }
        }
        let pct = |x: usize| x * 100 / n as usize;
        assert!((4..=10).contains(&pct(credit)), "credit {}", pct(credit));
        assert!((35..=55).contains(&pct(paid)), "paid {}", pct(paid));
        assert!((5..=15).contains(&pct(partial)), "partial {}", pct(partial));
        assert!((15..=35).contains(&pct(unpaid)), "unpaid {}", pct(unpaid));
        assert!(overdue > 0 && hold > 0);
        // Every paid or partial invoice has exactly one payment; paid ones are settled in full.
        for g in (0..n).step_by(7) {
            let i = u.invoice(g);
            let payments = u.payments_for_invoice(g);
            match i.key.state {
                PayState::Paid => {
                    assert_eq!(payments.len(), 1);
                    let s = payments[0]
                        .settled
                        .iter()
                        .find(|s| s.invoice.global == g)
                        .unwrap();
                    assert_eq!(s.amount_paid, i.gross);
                }
                PayState::Partial => {
                    assert_eq!(payments.len(), 1);
                    assert!(payments[0].amount < i.gross);
                }
                _ => assert!(payments.is_empty()),
            }
        }
    }

    #[test]
    fn credits_are_adjustments_of_approved_invoices_never_negative_invoices() {
        let u = universe(600);
        assert!(u.adjustment_count() > 20, "{}", u.adjustment_count());
        for g in 0..u.invoice_count() {
            let i = u.invoice(g);
            assert!(i.gross > Decimal::ZERO && i.lines.iter().all(|l| l.amount > Decimal::ZERO));
            assert_eq!(i.key.credited, u.adjustment_of_invoice(g).is_some());
        }
        for a in 0..u.adjustment_count() {
            let adj = u.adjustment(a);
            assert_eq!(u.find_adjustment("WID", &adj.wid), Some(a));
            assert_eq!(
                u.find_adjustment(
                    "Supplier_Invoice_Adjustment_Reference_ID",
                    &adj.reference_id
                ),
                Some(a)
            );
            let inv = &adj.invoice;
            assert!(inv.key.credited && inv.key.status == "Approved");
            assert!(adj.amount > Decimal::ZERO && adj.amount <= inv.gross);
            assert!(adj.date >= inv.key.invoice_date && adj.date <= u.anchor());
            assert_eq!(
                u.adjustment_of_invoice(inv.global).map(|x| x.global),
                Some(a)
            );
            // A paid invoice's credit was netted in its payment, which then paid gross − credit.
            if inv.key.state == PayState::Paid {
                let p = &u.payments_for_invoice(inv.global)[0];
                assert!(p.applied_credits.iter().any(|c| c.global == a));
                let settled: Decimal = p.settled.iter().map(|s| s.amount_paid).sum();
                let credits: Decimal = p.applied_credits.iter().map(|c| c.amount).sum();
                assert_eq!(p.amount, settled - credits);
            }
            if inv.key.fully_credited {
                assert_eq!(adj.amount, inv.gross);
                assert_eq!(inv.key.state, PayState::Unpaid);
            }
        }
    }

    #[test]
    fn hundred_thousand_suppliers_index_quickly_and_small() {
        let u = universe(100_000);
        assert_eq!(u.supplier(99_999).id, "S-100000");
        let last = u.invoice_count() - 1;
        assert_eq!(
            u.invoice(last).supplier,
            u.invoice(last).supplier.min(99_999)
        );
        assert!(u.payment_count() > 100_000);
    }
}
