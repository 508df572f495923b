//! The Workday client against the Workday simulator: every operation, paging, faults, retries, REST + OAuth,
//! and invoice positions (payments, credit memos) end to end.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use futures::{StreamExt as _, TryStreamExt as _};
use ml_connector::mapper::{Invoice as MappedInvoice, InvoiceSources};
use ml_connector::payables::{InvoicePosition, PaymentStatus, settlements};
use ml_connector::upstream::{
    MemoryTokens, PersistError, RetryPolicy, TokenPair, TokenPersistence,
};
use ml_connector::workday::decode::{PageBody, decode_page};
use ml_connector::workday::model::{
    Payment, Sourced, Supplier, SupplierInvoiceAdjustment, SupplierStatus,
};
use ml_connector::workday::request::{
    InvoiceCriteria, InvoiceQuery, PaymentQuery, PurchaseOrderCriteria, PurchaseOrderQuery,
    SupplierCriteria, SupplierQuery,
};
use ml_connector::workday::{
    Credentials, OAuthCredentials, Transport, WorkdayClient, WorkdayConfig, WorkdayError,
};
use ml_connector_sim::workday::data::PayState;
use ml_connector_sim::workday::{Fault, SimConfig, WorkdaySim};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret as _, SecretString};

fn anchor() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 15).unwrap()
}

/// The simulated data set every test uses (seed 7, anchored on `anchor()`), with `suppliers` suppliers.
fn sim_config(suppliers: u32) -> SimConfig {
    SimConfig {
        suppliers,
        seed: 7,
        anchor_date: anchor(),
        ..SimConfig::default()
    }
}

async fn sim(suppliers: u32) -> WorkdaySim {
    WorkdaySim::start(sim_config(suppliers)).await.unwrap()
}

/// Fast retries.
fn config(page_size: u32) -> WorkdayConfig {
    WorkdayConfig {
        page_size,
        retry: RetryPolicy {
            max_retries: 3,
            initial_delay_ms: 1,
            max_delay_ms: 5,
        },
        ..WorkdayConfig::default()
    }
}

fn credentials(sim: &WorkdaySim, password: &str) -> Credentials {
    let c = sim.config();
    Credentials {
        base_url: sim.base_url(),
        tenant: c.tenant.clone(),
        username: c.username.clone(),
        password: SecretString::from(password.to_string()),
        version: String::new(),
        oauth: Some(OAuthCredentials {
            client_id: c.client_id.clone(),
            client_secret: SecretString::from(c.client_secret.clone()),
            refresh_token: SecretString::from(c.refresh_token.clone()),
            tokens: Arc::new(MemoryTokens::default()),
        }),
    }
}

/// 100 records a page (REST reads are supplier invoice requests, always REST).
fn rest_config() -> WorkdayConfig {
    config(100)
}

/// The simulator's own credentials, OAuth client included.
fn sim_credentials(sim: &WorkdaySim) -> Credentials {
    credentials(sim, &sim.config().password)
}

fn client(sim: &WorkdaySim, config: &WorkdayConfig) -> WorkdayClient {
    WorkdayClient::new(config, sim_credentials(sim)).unwrap()
}

async fn all_suppliers(c: &WorkdayClient) -> Vec<Sourced<Supplier>> {
    c.suppliers(SupplierQuery::all())
        .try_collect()
        .await
        .unwrap()
}

fn soap_requests(sim: &WorkdaySim) -> Vec<ml_connector_sim::workday::LoggedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| r.kind == "soap")
        .collect()
}

/// What became of each SOAP request, in order (`ok`, `injected:503`, ...).
fn soap_outcomes(sim: &WorkdaySim) -> Vec<String> {
    soap_requests(sim).into_iter().map(|r| r.outcome).collect()
}

/// Each request as `kind:status` (`token:200`, `rest:401`, ...), in order.
fn kinds_and_statuses(sim: &WorkdaySim) -> Vec<String> {
    sim.requests()
        .into_iter()
        .map(|r| format!("{}:{}", r.kind, r.status))
        .collect()
}

#[tokio::test]
async fn get_suppliers_decodes_every_field_the_simulator_sends() {
    let sim = sim(12).await;
    let c = client(&sim, &config(500));
    let all = all_suppliers(&c).await;
    assert_eq!(all.len(), 12);
    for (k, s) in all.iter().enumerate() {
        let truth = sim.universe().supplier(k as u32);
        let got: &Supplier = &s.record;
        assert_eq!(got.supplier_id, truth.id);
        assert_eq!(got.wid.as_deref(), Some(truth.wid.as_str()));
        assert_eq!(got.name, truth.name);
        assert_eq!(
            got.status,
            if truth.status == "ACTIVE" {
                SupplierStatus::Active
            } else {
                SupplierStatus::Inactive
            }
        );
        assert_eq!(got.currency.as_deref(), Some(truth.currency()));
        assert_eq!(got.payment_terms.as_deref(), Some(truth.terms.0));
        assert_eq!(got.tax_id.as_deref(), Some(truth.tax_id.as_str()));
        // The address in effect today, whatever else is on file (a former one, a future move).
        let on_file = 1
            + usize::from(truth.former_address.is_some())
            + usize::from(truth.upcoming_address.is_some());
        assert_eq!(got.contacts.addresses.len(), on_file);
        let address = got.contacts.current_address(anchor()).unwrap();
        assert_eq!(address.lines[0], truth.street);
        assert_eq!(address.city.as_deref(), Some(truth.city.name));
        assert_eq!(address.country.as_deref(), Some(truth.city.alpha2));
        assert!(address.formatted.as_deref().unwrap().contains('\n'));
        assert_eq!(got.contacts.emails, vec![truth.email.clone()]);
        assert!(got.contacts.phones[0].starts_with('+'));
        assert_eq!(s.source.operation, "Get_Suppliers");
        assert_eq!(s.source.service, "Resource_Management");
        assert_eq!(s.source.version, "v46.1");
        assert_eq!((s.source.page, s.source.total_pages), (1, 1));
    }
    let log = soap_requests(&sim);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].username.as_deref(), Some("isu_mlc@acme_dpt1"));
    assert_eq!(log[0].descriptors.as_deref(), Some("true"));
    assert_eq!(log[0].request_version.as_deref(), Some("v46.1"));
    assert_eq!(log[0].service.as_deref(), Some("Resource_Management"));
    assert_eq!(log[0].count, Some(500));
}

#[tokio::test]
async fn three_page_walk_visits_every_page_with_one_as_of() {
    let sim = sim(25).await;
    let c = client(&sim, &config(10));
    let pages: Vec<_> = c
        .walk_pages(SupplierQuery::all())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let sizes: Vec<usize> = pages.iter().map(|p| p.records.len()).collect();
    assert_eq!(sizes, vec![10, 10, 5]);
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(p.info.page, i as u32 + 1);
        assert_eq!(p.info.total_pages, 3);
        assert_eq!(p.info.total_results, 25);
        assert_eq!(p.source.page, i as u32 + 1);
    }
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.records.iter().map(|s| s.supplier_id.clone()))
        .collect();
    let expected: Vec<String> = (1..=25).map(|n| format!("S-{n:06}")).collect();
    assert_eq!(ids, expected, "every supplier once, in order");
    let log = soap_requests(&sim);
    assert_eq!(
        log.iter().map(|r| r.page).collect::<Vec<_>>(),
        vec![Some(1), Some(2), Some(3)]
    );
    let as_of: BTreeSet<_> = log.iter().map(|r| r.as_of.clone()).collect();
    assert_eq!(
        as_of.len(),
        1,
        "As_Of_Entry_DateTime is pinned for the walk: {as_of:?}"
    );
    assert!(as_of.iter().next().unwrap().is_some());
    assert!(log.iter().all(|r| r.count == Some(10)));
    // The streaming record API carries the page of each record.
    let records = all_suppliers(&c).await;
    assert_eq!(records.len(), 25);
    assert_eq!(records[24].source.page, 3);
    assert_eq!(records[9].source.page, 1);
    assert_eq!(records[10].source.page, 2);
}

#[tokio::test]
async fn single_record_pages_and_single_record_lookups() {
    let sim = sim(3).await;
    let c = client(&sim, &config(1));
    let records = all_suppliers(&c).await;
    assert_eq!(records.len(), 3);
    assert_eq!(
        records
            .iter()
            .map(|r| (r.source.page, r.source.total_pages))
            .collect::<Vec<_>>(),
        vec![(1, 3), (2, 3), (3, 3)]
    );
    let one = c.supplier("S-000002").await.unwrap().unwrap();
    assert_eq!(one.record.name, sim.universe().supplier(1).name);
    // Workday refuses a reference it does not know with an "Invalid ID value" validation fault; for a lookup of
    // one record that is "none", not an error (a deleted invoice is not_found, not a dead letter).
    assert!(c.supplier("S-999999").await.unwrap().is_none());
    assert!(c.invoice("INV-DOES-NOT-EXIST").await.unwrap().is_none());
}

#[tokio::test]
async fn empty_results_have_no_response_data_and_end_the_walk() {
    let sim = sim(20).await;
    let c = client(&sim, &config(100));
    let future = SupplierQuery::Criteria(SupplierCriteria {
        updated_from: Some("2030-01-01T00:00:00Z".parse().unwrap()),
        ..Default::default()
    });
    let pages: Vec<_> = c.walk_pages(future).try_collect().await.unwrap();
    assert_eq!(pages.len(), 1);
    assert!(pages[0].records.is_empty());
    assert_eq!(pages[0].info.total_results, 0);
    assert_eq!(soap_requests(&sim).len(), 1);
}

#[tokio::test]
async fn incremental_supplier_criteria_filter_by_update_time_and_status() {
    let sim = sim(60).await;
    let c = client(&sim, &config(999));
    let since: chrono::DateTime<chrono::Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
    let query = SupplierQuery::Criteria(SupplierCriteria {
        updated_from: Some(since),
        status: Some("ACTIVE".into()),
        ..Default::default()
    });
    let got: Vec<String> = c
        .suppliers(query)
        .map_ok(|s| s.record.supplier_id)
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<String> = (0..60)
        .map(|k| sim.universe().supplier(k))
        .filter(|s| s.updated_at >= since && s.status == "ACTIVE")
        .map(|s| s.id)
        .collect();
    assert!(!expected.is_empty() && expected.len() < 60);
    assert_eq!(got, expected);
}

#[tokio::test]
async fn invoices_by_reference_and_by_supplier_match_the_data_set() {
    let sim = sim(30).await;
    let c = client(&sim, &config(500));
    let u = sim.universe();
    let truth = u.invoice(17);
    let got = c.invoice(&truth.reference_id).await.unwrap().unwrap();
    let inv = &got.record;
    assert_eq!(
        inv.reference_id.as_deref(),
        Some(truth.reference_id.as_str())
    );
    assert_eq!(
        inv.invoice_number.as_deref(),
        Some(truth.invoice_number.as_str())
    );
    assert_eq!(
        inv.supplier_invoice_number.as_deref(),
        Some(truth.supplier_invoice_number.as_str())
    );
    assert_eq!(inv.gross_amount, Some(truth.gross));
    assert_eq!(inv.tax_amount, Some(truth.tax));
    assert_eq!(inv.invoice_date, Some(truth.key.invoice_date));
    assert_eq!(inv.due_date, Some(truth.key.due_date));
    assert_eq!(inv.po_number, truth.po_number);
    assert_eq!(inv.on_hold, truth.key.on_hold);
    assert_eq!(inv.lines.len(), truth.lines.len());
    let line_sum: Decimal = inv.lines.iter().filter_map(|l| l.extended_amount).sum();
    assert_eq!(line_sum + truth.tax, truth.gross);
    assert_eq!(
        inv.supplier.id.as_deref(),
        Some(u.supplier(truth.supplier).id.as_str())
    );
    assert_eq!(got.source.operation, "Get_Supplier_Invoices");

    let supplier = u.supplier(truth.supplier);
    let of_supplier: Vec<_> = c
        .invoices(InvoiceQuery::for_supplier(&supplier.id))
        .map_ok(|s| s.record.reference_id.unwrap())
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<String> = u
        .invoices_of(truth.supplier)
        .map(|g| u.invoice(g).reference_id)
        .collect();
    assert_eq!(of_supplier, expected);

    let window = InvoiceQuery::Criteria(InvoiceCriteria {
        invoice_date_from: Some(anchor() - chrono::Duration::days(30)),
        invoice_date_to: Some(anchor()),
        ..Default::default()
    });
    let recent: Vec<_> = c.invoices(window).try_collect().await.unwrap();
    let expected = (0..u.invoice_count())
        .filter(|g| u.invoice(*g).key.invoice_date >= anchor() - chrono::Duration::days(30))
        .count();
    assert_eq!(recent.len(), expected);
    assert!(expected > 0);
}

#[tokio::test]
async fn purchase_orders_and_payments_by_reference_and_criteria() {
    let sim = sim(40).await;
    let c = client(&sim, &config(250));
    let u = sim.universe();
    let po_truth = u.purchase_order(3);
    let po = c
        .purchase_order(&po_truth.document_number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        po.record.document_number.as_deref(),
        Some(po_truth.document_number.as_str())
    );
    assert_eq!(po.record.total_amount, Some(po_truth.total));
    assert_eq!(po.record.document_date, Some(po_truth.document_date));
    // Goods lines, and a deliverables and a contingent-worker line when the order has them: all in the total.
    let extra = usize::from(po_truth.deliverables.is_some())
        + usize::from(po_truth.contingent_worker.is_some());
    assert_eq!(po.record.lines.len(), po_truth.lines.len() + extra);
    assert_eq!(po.source.service, "Resource_Management");
    let mixed = (0..u.po_count())
        .map(|g| u.purchase_order(g))
        .find(|p| p.deliverables.is_some() && p.contingent_worker.is_some())
        .unwrap();
    let got = c
        .purchase_order(&mixed.document_number)
        .await
        .unwrap()
        .unwrap()
        .record;
    assert_eq!(got.total_amount, Some(mixed.total));
    let goods: Decimal = mixed.lines.iter().map(|l| l.3).sum();
    assert!(mixed.total > goods);

    let k = po_truth.supplier;
    let pos: Vec<_> = c
        .purchase_orders(PurchaseOrderQuery::Criteria(PurchaseOrderCriteria {
            supplier_ids: vec![u.supplier(k).id],
            ..Default::default()
        }))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pos.len(), u.pos_of(k).len());

    let pay_truth = u.payment(2);
    let pay = c.payment(&pay_truth.wid).await.unwrap().unwrap();
    assert_eq!(pay.source.service, "Settlement_Services");
    assert_eq!(pay.source.operation, "Get_Payments");
    let p: &Payment = &pay.record;
    assert_eq!(p.wid.as_deref(), Some(pay_truth.wid.as_str()));
    assert_eq!(
        p.reference_number.as_deref(),
        Some(pay_truth.reference_number.as_str())
    );
    assert_eq!(p.amount, Some(pay_truth.amount));
    assert_eq!(p.payment_date, Some(pay_truth.date));
    assert_eq!(p.payment_type.as_deref(), Some(pay_truth.payment_type));
    assert_eq!(
        p.currency.as_deref(),
        Some(u.supplier(pay_truth.supplier).currency())
    );
    assert_eq!(
        p.settled.len(),
        pay_truth.settled.len() + pay_truth.applied_credits.len()
    );
    // Whatever the remittance names the invoice by, it attaches to it.
    let settled = &pay_truth.settled[0].invoice;
    let inv = c
        .invoice(&settled.reference_id)
        .await
        .unwrap()
        .unwrap()
        .record;
    assert_eq!(settlements(&inv, std::slice::from_ref(p)).count(), 1);
    let log = soap_requests(&sim);
    let payment_request = log
        .iter()
        .rfind(|r| r.operation.as_deref() == Some("Get_Payments"))
        .unwrap();
    assert_eq!(
        payment_request.service.as_deref(),
        Some("Settlement_Services")
    );
    // Anything but a WID is refused before a request is sent (Payment_Reference_ID is not an ID type a
    // payment reference is known to accept).
    sim.clear_requests();
    let err = c.payment("PAYMENT-3-3").await.unwrap_err();
    assert!(matches!(err, WorkdayError::InvalidRequest(_)), "{err:?}");
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn derived_payment_status_agrees_with_the_data_set() {
    let sim = sim(80).await;
    let c = client(&sim, &config(999));
    let u = sim.universe();
    let today = u.anchor();
    let mut seen = BTreeSet::new();
    let mut credited = 0;
    for k in 0..80 {
        let id = u.supplier(k).id;
        let invoices: Vec<_> = c
            .invoices(InvoiceQuery::for_supplier(&id))
            .try_collect()
            .await
            .unwrap();
        if invoices.is_empty() {
            continue;
        }
        let payments: Vec<Payment> = c
            .payments(PaymentQuery::for_supplier(&id))
            .map_ok(|p| p.record)
            .try_collect()
            .await
            .unwrap();
        let adjustments: Vec<SupplierInvoiceAdjustment> = c
            .adjustments_of_supplier(&id)
            .map_ok(|a| a.record)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(adjustments.len(), u.adjustments_of(k).len());
        for inv in invoices {
            let g = u
                .find_invoice(
                    "Supplier_Invoice_Reference_ID",
                    inv.record.reference_id.as_deref().unwrap(),
                )
                .unwrap();
            let truth = u.invoice(g);
            let position = InvoicePosition::of(&inv.record, &adjustments, &payments, today);
            let truth_payments = u.payments_for_invoice(g);
            let completed =
                !truth_payments.is_empty() && truth_payments.iter().all(|p| p.status == "Complete");
            let paid = match (truth.key.state, completed) {
                (PayState::Paid | PayState::Partial, true) => {
                    truth_payments[0]
                        .settled
                        .iter()
                        .find(|s| s.invoice.global == g)
                        .unwrap()
                        .amount_paid
                }
                _ => Decimal::ZERO,
            };
            // A credit netted in a counted payment is used up; otherwise it lowers what is due.
            let open_credit = u
                .adjustment_of_invoice(g)
                .filter(|a| !(a.applied_in_payment && completed))
                .map_or(Decimal::ZERO, |a| a.amount);
            credited += usize::from(!open_credit.is_zero());
            let due = truth.gross - open_credit - paid;
            assert_eq!(position.due, due, "{}", truth.reference_id);
            assert_eq!(position.credits, open_credit, "{}", truth.reference_id);
            let expected = if due <= Decimal::ZERO {
                PaymentStatus::Paid
            } else if truth.key.due_date < today {
                PaymentStatus::Overdue
            } else if !paid.is_zero() {
                PaymentStatus::PartiallyPaid
            } else {
                PaymentStatus::Unpaid
            };
            assert_eq!(position.status, expected, "{}", truth.reference_id);
            seen.insert(format!("{:?}", position.status));
        }
    }
    assert_eq!(seen.len(), 4, "all four statuses occur: {seen:?}");
    assert!(credited > 0, "some invoices have an open credit memo");
}

#[tokio::test]
async fn an_invoice_with_a_credit_memo_shows_the_reduced_amount_due_end_to_end() {
    let sim = sim(80).await;
    let c = client(&sim, &config(500));
    let u = sim.universe();
    let today = u.anchor();
    // An unpaid invoice with a partial credit, and a paid one whose credit was netted in its payment.
    let pick = |state: PayState, full: bool| {
        (0..u.adjustment_count())
            .map(|a| u.adjustment(a))
            .find(|a| {
                a.invoice.key.state == state
                    && a.invoice.key.fully_credited == full
                    && u.payments_for_invoice(a.invoice.global)
                        .iter()
                        .all(|p| p.status == "Complete")
            })
            .expect("the data set has one")
    };
    for (adj, expected_due, expected_status) in [
        {
            let a = pick(PayState::Unpaid, false);
            let due = a.invoice.gross - a.amount;
            let status = if a.invoice.key.due_date < today {
                "Overdue"
            } else {
                "Unpaid"
            };
            (a, due, status)
        },
        (pick(PayState::Unpaid, true), Decimal::ZERO, "Paid"),
        (pick(PayState::Paid, false), Decimal::ZERO, "Paid"),
    ] {
        let truth = &adj.invoice;
        let supplier = u.supplier(truth.supplier);
        // What a lookup does: the invoice by reference, then its supplier's adjustments and payments.
        let invoice = c
            .invoice(&truth.reference_id)
            .await
            .unwrap()
            .unwrap()
            .record;
        let supplier_record = c.supplier(&supplier.id).await.unwrap().unwrap().record;
        let adjustments: Vec<_> = c
            .adjustments_of_supplier(&supplier.id)
            .map_ok(|a| a.record)
            .try_collect()
            .await
            .unwrap();
        let payments: Vec<_> = c
            .payments(PaymentQuery::for_supplier(&supplier.id))
            .map_ok(|p| p.record)
            .try_collect()
            .await
            .unwrap();
        let mapped = MappedInvoice::from_workday(
            &InvoiceSources::of(&invoice)
                .supplier(&supplier_record)
                .adjustments(&adjustments)
                .payments(&payments),
            today,
        );
        assert_eq!(
            mapped.amount_due,
            expected_due.normalize().to_string(),
            "{}",
            truth.reference_id
        );
        assert_eq!(
            mapped.payment_status, expected_status,
            "{}",
            truth.reference_id
        );
        assert_eq!(mapped.total.amount, truth.gross.normalize().to_string());
        assert_eq!(mapped.supplier_name, supplier.name);
        if adj.applied_in_payment {
            assert!(!mapped.extra.contains_key("Amount_Credited"));
            assert_eq!(mapped.payments.len(), 1);
        } else {
            assert_eq!(
                mapped.extra["Amount_Credited"],
                adj.amount.normalize().to_string()
            );
            assert!(mapped.payments.is_empty());
        }
        // The adjustment read by its own reference names the invoice.
        let read = c.adjustment(&adj.reference_id).await.unwrap().unwrap();
        assert_eq!(read.source.operation, "Get_Supplier_Invoice_Adjustments");
        assert_eq!(read.source.service, "Resource_Management");
        assert_eq!(
            read.record.original_invoice.unwrap().id.as_deref(),
            Some(truth.reference_id.as_str())
        );
        let by_wid = c.adjustment(&adj.wid).await.unwrap().unwrap();
        assert_eq!(by_wid.record.control_amount, Some(adj.amount));
    }
    assert!(
        soap_requests(&sim)
            .iter()
            .all(|r| r.outcome == "ok" && r.descriptors.as_deref() == Some("true"))
    );
}

#[tokio::test]
async fn payments_attach_whatever_their_remittance_names_the_invoice_by() {
    let sim = sim(40).await;
    let c = client(&sim, &config(999));
    let u = sim.universe();
    let mut styles = BTreeSet::new();
    for g in 0..u.payment_count() {
        let truth = u.payment(g);
        if truth.status != "Complete" {
            continue;
        }
        styles.insert(format!("{:?}", truth.remittance));
        let payment = c.payment(&truth.wid).await.unwrap().unwrap().record;
        for s in &truth.settled {
            let invoice = c
                .invoice(&s.invoice.reference_id)
                .await
                .unwrap()
                .unwrap()
                .record;
            let found: Vec<_> = settlements(&invoice, std::slice::from_ref(&payment)).collect();
            assert_eq!(
                found.len(),
                1,
                "{:?} {}",
                truth.remittance,
                s.invoice.reference_id
            );
            assert_eq!(found[0].line.amount_paid, Some(s.amount_paid));
        }
        if styles.len() == 3 && g > 6 {
            break;
        }
    }
    assert_eq!(styles.len(), 3, "{styles:?}");
}

#[tokio::test]
async fn one_supplier_without_an_id_is_skipped_and_reported_not_the_sync() {
    let sim = WorkdaySim::start(SimConfig {
        suppliers_without_id: vec![3, 7],
        ..sim_config(12)
    })
    .await
    .unwrap();
    let u = sim.universe();
    // Streamed records: everyone else, in order.
    let c = client(&sim, &config(5));
    let ids: Vec<String> = all_suppliers(&c)
        .await
        .into_iter()
        .map(|s| s.record.supplier_id)
        .collect();
    let expected: Vec<String> = (0..12)
        .filter(|k| ![3, 7].contains(k))
        .map(|k| u.supplier(k).id)
        .collect();
    assert_eq!(ids, expected);
    // Pages say which ones were skipped, by WID.
    let pages: Vec<_> = c
        .walk_pages(SupplierQuery::all())
        .try_collect()
        .await
        .unwrap();
    let skipped: Vec<_> = pages
        .iter()
        .flat_map(|p| p.skipped.iter().map(move |s| (p.info.page, s.clone())))
        .collect();
    assert_eq!(skipped.len(), 2);
    assert_eq!(skipped[0].0, 1);
    assert_eq!(skipped[0].1.index, 4);
    assert_eq!(skipped[0].1.id.as_deref(), Some(u.supplier(3).wid.as_str()));
    assert_eq!(skipped[1].1.id.as_deref(), Some(u.supplier(7).wid.as_str()));
    assert!(skipped[0].1.message.contains("Supplier_ID"));
    // Looked up by its ID, the odd record is an error that names it, not "not found".
    match c.supplier(&u.supplier(3).id).await {
        Err(WorkdayError::Malformed {
            operation, message, ..
        }) => {
            assert_eq!(operation, "Get_Suppliers");
            assert!(message.contains(&u.supplier(3).wid), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(c.supplier(&u.supplier(4).id).await.unwrap().is_some());
    // A page whose only record is skipped does not end the walk.
    sim.clear_requests();
    let one_a_page = client(&sim, &config(1));
    assert_eq!(all_suppliers(&one_a_page).await.len(), 10);
    assert_eq!(
        soap_requests(&sim)
            .iter()
            .filter(|r| r.count == Some(1))
            .count(),
        12
    );
}

#[tokio::test]
async fn wrong_password_is_an_authentication_error_and_not_retried() {
    let sim = sim(10).await;
    let c = WorkdayClient::new(&config(100), credentials(&sim, "wrong")).unwrap();
    let err = c.supplier("S-000001").await.unwrap_err();
    match &err {
        WorkdayError::Authentication { operation, message } => {
            assert_eq!(operation, "Get_Suppliers");
            assert_eq!(message, "invalid username or password");
        }
        other => panic!("expected an authentication error, got {other:?}"),
    }
    assert!(
        !err.to_string().contains("wrong"),
        "the password never appears: {err}"
    );
    assert_eq!(soap_requests(&sim).len(), 1);
}

#[tokio::test]
async fn validation_fault_lists_each_error_and_is_not_retried() {
    let sim = sim(10).await;
    let c = client(&sim, &config(100));
    let err = c
        .invoices(InvoiceQuery::Criteria(InvoiceCriteria {
            supplier_ids: vec!["S-999999".into()],
            invoice_date_from: Some(anchor()),
            invoice_date_to: Some(anchor() - chrono::Duration::days(1)),
            ..Default::default()
        }))
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    match &err {
        WorkdayError::Validation {
            operation, errors, ..
        } => {
            assert_eq!(operation, "Get_Supplier_Invoices");
            assert_eq!(errors.len(), 2, "{errors:?}");
            assert!(errors[0].message.contains("S-999999"));
            assert!(
                errors[0]
                    .xpath
                    .as_deref()
                    .unwrap()
                    .contains("Supplier_Reference")
            );
            assert!(errors[1].message.contains("on or before"));
        }
        other => panic!("expected a validation fault, got {other:?}"),
    }
    assert_eq!(
        soap_requests(&sim).len(),
        1,
        "validation faults are never retried"
    );
}

#[tokio::test]
async fn count_above_999_is_refused_by_the_client_and_by_the_simulator() {
    let sim = sim(10).await;
    let bad = WorkdayConfig {
        page_size: 1000,
        ..config(10)
    };
    assert!(matches!(
        WorkdayClient::new(&bad, credentials(&sim, "x")),
        Err(WorkdayError::NotConfigured(_))
    ));
    // Sent by hand, the simulator answers a validation fault that names Count.
    let body = format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:bsvc="urn:com.workday/bsvc"><soapenv:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>isu_mlc@acme_dpt1</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">{}</wsse:Password></wsse:UsernameToken></wsse:Security></soapenv:Header><soapenv:Body><bsvc:Get_Suppliers_Request bsvc:version="v46.1"><bsvc:Response_Filter><bsvc:Page>1</bsvc:Page><bsvc:Count>1000</bsvc:Count></bsvc:Response_Filter></bsvc:Get_Suppliers_Request></soapenv:Body></soapenv:Envelope>"#,
        sim.config().password
    );
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/ccx/service/acme_dpt1/Resource_Management/v46.1",
            sim.base_url()
        ))
        .header("content-type", "text/xml")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    let bytes = resp.bytes().await.unwrap();
    match decode_page::<Supplier>(&bytes).unwrap() {
        PageBody::Fault(f) => {
            assert_eq!(f.code, "Client.validationError");
            assert!(
                f.validation_errors[0]
                    .xpath
                    .as_deref()
                    .unwrap()
                    .ends_with("Count[1]")
            );
        }
        PageBody::Records(_) => panic!("expected a fault"),
    }
}

#[tokio::test]
async fn throttling_and_server_faults_are_retried_then_succeed() {
    let sim = sim(10).await;
    let c = client(&sim, &config(100));
    sim.push_faults([
        Fault::TooManyRequests,
        Fault::ProcessingError,
        Fault::ServiceUnavailable,
    ]);
    let all = all_suppliers(&c).await;
    assert_eq!(all.len(), 10);
    assert_eq!(
        soap_outcomes(&sim),
        vec!["injected:429", "injected:500", "injected:503", "ok"]
    );
}

#[tokio::test]
async fn dropped_connections_are_retried_then_succeed() {
    let sim = sim(10).await;
    let c = client(&sim, &config(100));
    sim.push_faults([Fault::Drop]);
    let all = all_suppliers(&c).await;
    assert_eq!(all.len(), 10);
    assert_eq!(soap_outcomes(&sim), vec!["injected:drop", "ok"]);
}

#[tokio::test]
async fn each_fault_type_surfaces_as_its_typed_error_after_the_retry_cap() {
    let sim = sim(10).await;
    let cfg = config(100); // max_retries 3: 4 attempts
    let c = client(&sim, &cfg);
    let cases: [(Fault, &str); 4] = [
        (Fault::TooManyRequests, "http"),
        (Fault::ServiceUnavailable, "http"),
        (Fault::ProcessingError, "processing"),
        (Fault::Drop, "transport"),
    ];
    for (fault, kind) in cases {
        sim.clear_requests();
        sim.push_faults([fault; 4]);
        let err = c.supplier("S-000001").await.unwrap_err();
        assert_eq!(err.kind(), kind, "{fault:?}: {err}");
        assert_eq!(soap_requests(&sim).len(), 4, "{fault:?}: 1 try + 3 retries");
        if let WorkdayError::Http { status, .. } = &err {
            assert!(*status == 429 || *status == 503);
        }
        if let WorkdayError::Processing { detail, .. } = &err {
            assert!(
                detail
                    .as_deref()
                    .unwrap()
                    .contains("temporarily unavailable")
            );
        }
    }
}

#[tokio::test]
async fn malformed_body_names_operation_and_offset_and_is_not_retried() {
    let sim = sim(10).await;
    let c = client(&sim, &config(100));
    sim.push_faults([Fault::Malformed]);
    let err = c.invoice("SUPPLIER_INVOICE-3-1").await.unwrap_err();
    match &err {
        WorkdayError::Malformed {
            operation, offset, ..
        } => {
            assert_eq!(operation, "Get_Supplier_Invoices");
            assert!(*offset > 100, "offset {offset}");
        }
        other => panic!("expected malformed, got {other:?}"),
    }
    assert!(err.to_string().contains("at byte"));
    assert_eq!(soap_requests(&sim).len(), 1);
}

#[tokio::test]
async fn slow_answers_hit_the_configured_timeout() {
    let sim = sim(10).await;
    let mut cfg = WorkdayConfig {
        request_timeout_secs: 1,
        ..config(100)
    };
    cfg.retry.max_retries = 0;
    let c = client(&sim, &cfg);
    sim.push_faults([Fault::Slow(2500)]);
    let err = c.supplier("S-000001").await.unwrap_err();
    assert!(matches!(err, WorkdayError::Timeout { .. }), "{err:?}");
    // A slow answer within the limit is just slow.
    sim.push_faults([Fault::Slow(200)]);
    assert!(c.supplier("S-000001").await.unwrap().is_some());
}

/// The WID of the supplier invoice request the simulated invoice `g` was created from.
fn request_wid(sim: &WorkdaySim, g: u32) -> String {
    sim.universe().invoice(g).request_wid
}

#[tokio::test]
async fn supplier_invoice_requests_over_rest_use_oauth_and_refresh_once_on_401() {
    let sim = sim(20).await;
    let mut cfg = rest_config();
    cfg.rest_page_size = 2;
    let c = client(&sim, &cfg);
    let u = sim.universe();
    let truth = u.invoice(5);
    let got = c
        .supplier_invoice_request(&truth.request_wid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.source.transport, "rest");
    assert_eq!(got.source.operation, "supplierInvoiceRequests");
    // The request is its own object, with its own WID; the supplier's number is on it.
    assert_eq!(got.record.wid.as_deref(), Some(truth.request_wid.as_str()));
    assert_ne!(truth.request_wid, truth.wid);
    assert_eq!(
        got.record.supplier_invoice_number.as_deref(),
        Some(truth.supplier_invoice_number.as_str())
    );
    assert_eq!(got.record.total_amount, Some(truth.gross));
    assert_eq!(got.record.due_date, Some(truth.key.due_date));
    assert_eq!(
        got.record.currency.as_deref(),
        Some(u.supplier(truth.supplier).currency())
    );
    // The token is cached: a second read does not exchange again.
    c.supplier_invoice_request(&truth.request_wid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kinds_and_statuses(&sim),
        vec!["token:200", "rest:200", "rest:200"]
    );

    sim.clear_requests();
    sim.revoke_access_tokens();
    c.supplier_invoice_request(&truth.request_wid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kinds_and_statuses(&sim),
        vec!["rest:401", "token:200", "rest:200"],
        "one refresh on 401"
    );

    // limit/offset paging over a supplier's requests.
    sim.clear_requests();
    let k = (0..20).find(|k| u.invoices_of(*k).len() >= 3).unwrap();
    let listed: Vec<String> = c
        .supplier_invoice_requests_of_supplier(&u.supplier(k).id)
        .map_ok(|s| s.record.wid.unwrap())
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<String> = u.invoices_of(k).map(|g| request_wid(&sim, g)).collect();
    assert_eq!(listed, expected);
    // The supplier's WID is looked up once over SOAP; the REST filter takes the WID.
    let log = sim.requests();
    assert_eq!(log[0].operation.as_deref(), Some("Get_Suppliers"));
    let rest: Vec<_> = log.iter().filter(|r| r.kind == "rest").collect();
    assert!(
        rest.iter()
            .all(|r| r.path.contains(&format!("supplier={}", u.supplier(k).wid))),
        "{rest:?}"
    );
    let offsets: Vec<Option<u64>> = rest.iter().map(|r| r.offset).collect();
    assert_eq!(offsets.len(), expected.len().div_ceil(2));
    assert_eq!(offsets[1], Some(2));
    // Given a WID, no lookup.
    sim.clear_requests();
    let by_wid: Vec<_> = c
        .supplier_invoice_requests_of_supplier(&u.supplier(k).wid)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(by_wid.len(), expected.len());
    assert!(sim.requests().iter().all(|r| r.kind != "soap"));
    // The invoice's own WID names no request; a non-WID is refused before sending.
    assert!(
        c.supplier_invoice_request(&truth.wid)
            .await
            .unwrap()
            .is_none()
    );
    sim.clear_requests();
    assert!(matches!(
        c.supplier_invoice_request(&truth.reference_id).await,
        Err(WorkdayError::InvalidRequest(_))
    ));
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn rest_retries_throttling_and_a_bad_refresh_token_is_an_oauth_error() {
    let sim = sim(10).await;
    let cfg = rest_config();
    let c = client(&sim, &cfg);
    sim.push_faults([Fault::TooManyRequests]);
    let wid = request_wid(&sim, 0);
    assert!(c.supplier_invoice_request(&wid).await.unwrap().is_some());

    let mut creds = sim_credentials(&sim);
    if let Some(o) = creds.oauth.as_mut() {
        o.refresh_token = SecretString::from("stale".to_string());
    }
    let c = WorkdayClient::new(&cfg, creds).unwrap();
    let err = c.supplier_invoice_request(&wid).await.unwrap_err();
    match &err {
        WorkdayError::OAuth { status, message } => {
            assert_eq!(*status, Some(400));
            assert!(message.contains("invalid_grant"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("stale"));
}

#[tokio::test]
async fn invoices_are_read_over_soap_even_with_an_oauth_client() {
    let sim = sim(10).await;
    // `auto` (and the default) read invoices over SOAP: no REST resource is the supplier invoice.
    for transport in [Transport::Auto, Transport::Soap] {
        let mut cfg = config(100);
        cfg.transport.invoice_by_id = transport;
        cfg.transport.invoices_by_supplier = transport;
        let c = client(&sim, &cfg);
        let got = c.invoice("SUPPLIER_INVOICE-3-2").await.unwrap().unwrap();
        assert_eq!(got.source.transport, "soap");
        let listed: Vec<_> = c
            .invoices_of_supplier(got.record.supplier.id.as_deref().unwrap())
            .try_collect()
            .await
            .unwrap();
        assert!(listed.iter().all(|i| i.source.transport == "soap"));
    }
    assert!(sim.requests().iter().all(|r| r.kind == "soap"));
    // `rest` is refused when the client is built, with the reason.
    let mut cfg = config(100);
    cfg.transport.invoice_by_id = Transport::Rest;
    match WorkdayClient::new(&cfg, sim_credentials(&sim)) {
        Err(WorkdayError::NotConfigured(m)) => {
            assert!(m.contains("workday.transport.invoice_by_id"), "{m}");
            assert!(m.contains("supplierInvoiceRequests"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // Without an OAuth client, REST reads say what is missing.
    let mut creds = sim_credentials(&sim);
    creds.oauth = None;
    let c = WorkdayClient::new(&config(100), creds).unwrap();
    assert!(matches!(
        c.supplier_invoice_request(&request_wid(&sim, 0)).await,
        Err(WorkdayError::NotConfigured(_))
    ));
}

#[tokio::test]
async fn service_and_version_are_configurable() {
    let sim = sim(10).await;
    let mut cfg = config(100);
    cfg.services.get_payments = "Resource_Management".into();
    let c = client(&sim, &cfg);
    // The simulator, like Workday, does not serve Get_Payments from Resource_Management.
    let err = c.payment(&sim.universe().payment(0).wid).await.unwrap_err();
    assert!(matches!(err, WorkdayError::Validation { .. }), "{err:?}");
    let mut creds = sim_credentials(&sim);
    creds.version = "v44.0".into();
    let c = WorkdayClient::new(&config(100), creds).unwrap();
    let s = c.supplier("S-000003").await.unwrap().unwrap();
    assert_eq!(s.source.version, "v44.0");
    let last = soap_requests(&sim).pop().unwrap();
    assert_eq!(last.version.as_deref(), Some("v44.0"));
    assert_eq!(last.request_version.as_deref(), Some("v44.0"));
}

#[tokio::test]
async fn tax_ids_are_read_in_both_version_shapes() {
    let sim = sim(10).await;
    let u = sim.universe();
    // v40 and later: Tax_ID_Widget_Data; before: Tax_ID_Data and Business_Entity_Tax_ID.
    for version in ["v46.1", "v40.2", "v35.0", "v28.1"] {
        let mut creds = sim_credentials(&sim);
        creds.version = version.into();
        let c = WorkdayClient::new(&config(100), creds).unwrap();
        let all = all_suppliers(&c).await;
        assert_eq!(all.len(), 10);
        for (k, s) in all.iter().enumerate() {
            assert_eq!(
                s.record.tax_id.as_deref(),
                Some(u.supplier(k as u32).tax_id.as_str()),
                "{version}"
            );
        }
        // The supplier's own invoice number exists from v40 on.
        let inv = c.invoice("SUPPLIER_INVOICE-3-1").await.unwrap().unwrap();
        assert_eq!(
            inv.record.supplier_invoice_number.is_some(),
            version >= "v40",
            "{version}"
        );
    }
}

#[tokio::test]
async fn every_criterion_the_client_writes_is_accepted_in_schema_order_and_applied() {
    let sim = sim(40).await;
    let c = client(&sim, &config(999));
    let u = sim.universe();
    // An invoice with a purchase order: every invoice criterion at once selects it.
    let g = (0..u.invoice_count())
        .find(|g| u.invoice(*g).po_number.is_some())
        .unwrap();
    let truth = u.invoice(g);
    let s = u.supplier(truth.supplier);
    let company = ml_connector_sim::workday::data::COMPANIES[s.company].0;
    let query = InvoiceQuery::Criteria(InvoiceCriteria {
        supplier_ids: vec![s.id.clone()],
        company_id: Some(company.into()),
        invoice_date_from: Some(truth.key.invoice_date),
        invoice_date_to: Some(truth.key.invoice_date),
        due_date_from: Some(truth.key.due_date),
        due_date_to: Some(truth.key.due_date),
        po_number: truth.po_number.clone(),
    });
    let got: Vec<String> = c
        .invoices(query)
        .map_ok(|i| i.record.reference_id.unwrap())
        .try_collect()
        .await
        .unwrap();
    assert!(got.contains(&truth.reference_id), "{got:?}");
    let got_po = c.invoice(&truth.reference_id).await.unwrap().unwrap();
    assert_eq!(got_po.record.po_number, truth.po_number);

    // Purchase orders by document date and due date windows.
    let po = u.purchase_order(5);
    let query = PurchaseOrderQuery::Criteria(PurchaseOrderCriteria {
        supplier_ids: vec![u.supplier(po.supplier).id],
        po_date_from: Some(po.document_date),
        po_date_to: Some(po.document_date),
        due_date_from: Some(po.due_date),
        due_date_to: Some(po.due_date),
        updated_from: Some(po.updated_at - chrono::Duration::seconds(1)),
        updated_to: Some(po.updated_at + chrono::Duration::seconds(1)),
    });
    let got: Vec<_> = c
        .purchase_orders(query)
        .map_ok(|p| p.record.document_number.unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got, vec![po.document_number.clone()]);

    // Payments of one payee in one company within a date window.
    let pay = u.payment(1);
    let payee = u.supplier(pay.supplier);
    let query = PaymentQuery::Criteria(ml_connector::workday::request::PaymentCriteria {
        payee_supplier_ids: vec![payee.id.clone()],
        company_id: Some(
            ml_connector_sim::workday::data::COMPANIES[payee.company]
                .0
                .into(),
        ),
        payment_date_from: Some(pay.date),
        payment_date_to: Some(pay.date),
    });
    let got: Vec<_> = c
        .payments(query)
        .map_ok(|p| p.record.wid.unwrap())
        .try_collect()
        .await
        .unwrap();
    assert!(got.contains(&pay.wid), "{got:?}");
    assert!(
        soap_requests(&sim).iter().all(|r| r.outcome == "ok"),
        "{:?}",
        soap_requests(&sim)
    );
}

#[tokio::test]
async fn a_page_claiming_more_pages_but_empty_ends_the_walk() {
    use std::sync::atomic::{AtomicU32, Ordering};
    // A server whose pages are empty but claim 4294967295 pages (a garbled or hostile answer).
    let hits = Arc::new(AtomicU32::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            (
                [("content-type", "text/xml")],
                r#"<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><wd:Get_Suppliers_Response xmlns:wd="urn:com.workday/bsvc"><wd:Response_Results><wd:Total_Results>4294967295</wd:Total_Results><wd:Total_Pages>4294967295</wd:Total_Pages><wd:Page_Results>4000000000</wd:Page_Results><wd:Page>1</wd:Page></wd:Response_Results></wd:Get_Suppliers_Response></env:Body></env:Envelope>"#,
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let c = WorkdayClient::new(
        &config(100),
        Credentials {
            base_url: format!("http://{addr}"),
            tenant: "acme_dpt1".into(),
            username: "isu_mlc".into(),
            password: SecretString::from("x".to_string()),
            version: String::new(),
            oauth: None,
        },
    )
    .unwrap();
    let pages: Vec<_> = c
        .walk_pages(SupplierQuery::all())
        .take(5)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 1);
    assert!(pages[0].records.is_empty());
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_huge_expires_in_is_clamped_not_a_panic() {
    let sim = WorkdaySim::start(SimConfig {
        token_ttl: std::time::Duration::from_secs(u64::MAX),
        ..sim_config(5)
    })
    .await
    .unwrap();
    let cfg = rest_config();
    let c = client(&sim, &cfg);
    // The answer says expires_in 18446744073709551615; the token is cached (for at most a day).
    assert!(
        c.supplier_invoice_request(&request_wid(&sim, 0))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        c.supplier_invoice_request(&request_wid(&sim, 1))
            .await
            .unwrap()
            .is_some()
    );
    let kinds: Vec<String> = sim.requests().into_iter().map(|r| r.kind).collect();
    assert_eq!(kinds, ["token", "rest", "rest"]);
}

/// A rotating simulator and a client whose refresh tokens live in `tokens`.
async fn rotating() -> WorkdaySim {
    WorkdaySim::start(SimConfig {
        rotate_refresh_tokens: true,
        ..sim_config(5)
    })
    .await
    .unwrap()
}

fn rest_client(sim: &WorkdaySim, tokens: Arc<dyn TokenPersistence>) -> WorkdayClient {
    let mut cfg = rest_config();
    cfg.retry.max_retries = 0;
    let mut creds = sim_credentials(sim);
    if let Some(o) = creds.oauth.as_mut() {
        o.tokens = tokens;
    }
    WorkdayClient::new(&cfg, creds).unwrap()
}

#[tokio::test]
async fn a_rotated_refresh_token_is_stored_the_moment_it_is_issued() {
    let sim = rotating().await;
    let tokens = Arc::new(MemoryTokens::default());
    let c = rest_client(&sim, tokens.clone());
    assert!(
        c.supplier_invoice_request(&request_wid(&sim, 0))
            .await
            .unwrap()
            .is_some()
    );
    // No caller had to do anything: the session stored the new token before answering.
    let stored = refresh_of(tokens.current());
    assert_eq!(
        stored.as_deref(),
        Some(sim.current_refresh_token().as_str())
    );
    assert_eq!(stored.as_deref(), Some("sim-refresh-token-r1"));
    // A new process starts from the store (its own copy of the first token is dead by now).
    let next = rest_client(&sim, tokens.clone());
    assert!(
        next.supplier_invoice_request(&request_wid(&sim, 1))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(sim.current_refresh_token(), "sim-refresh-token-r2");
    assert_eq!(
        refresh_of(tokens.current()),
        Some(sim.current_refresh_token())
    );
    // The first client, whose access token was cached, re-reads the store before its next grant.
    sim.revoke_access_tokens();
    assert!(
        c.supplier_invoice_request(&request_wid(&sim, 2))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(sim.current_refresh_token(), "sim-refresh-token-r3");
    let outcomes: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.kind == "token")
        .map(|r| r.outcome)
        .collect();
    assert_eq!(outcomes, ["ok", "ok", "ok"], "no stale token was presented");
}

/// The refresh token of a stored pair, in clear.
fn refresh_of(tokens: Option<TokenPair>) -> Option<String> {
    tokens
        .and_then(|t| t.refresh_token)
        .map(|t| t.expose_secret().to_string())
}

/// A store whose saves fail until told otherwise.
#[derive(Debug, Default)]
struct FlakyStore {
    broken: std::sync::atomic::AtomicBool,
    inner: MemoryTokens,
}

#[async_trait::async_trait]
impl TokenPersistence for FlakyStore {
    async fn load(&self) -> Result<Option<TokenPair>, PersistError> {
        self.inner.load().await
    }
    async fn save(&self, tokens: &TokenPair) -> Result<(), PersistError> {
        if self.broken.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(PersistError("database is read-only".into()));
        }
        self.inner.save(tokens).await
    }
}

#[tokio::test]
async fn a_rotated_token_that_cannot_be_stored_is_an_error_and_saved_before_the_next_use() {
    let sim = rotating().await;
    let store = Arc::new(FlakyStore::default());
    store
        .broken
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let c = rest_client(&sim, store.clone());
    let err = c
        .supplier_invoice_request(&request_wid(&sim, 0))
        .await
        .unwrap_err();
    assert!(matches!(err, WorkdayError::TokenStore(_)), "{err:?}");
    assert!(!err.to_string().contains("sim-refresh-token"), "{err}");
    assert!(store.inner.current().is_none());
    // Once the store works again, the token kept in memory is saved before anything else.
    store
        .broken
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(
        c.supplier_invoice_request(&request_wid(&sim, 0))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        refresh_of(store.inner.current()),
        Some(sim.current_refresh_token())
    );
    let grants = sim.requests().iter().filter(|r| r.kind == "token").count();
    assert_eq!(
        grants, 1,
        "the access token from the first grant was still good"
    );
}
