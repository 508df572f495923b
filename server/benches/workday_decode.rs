//! Decoding a 999-record `Get_Supplier_Invoices` page: the typed streaming decoder against quick-xml's raw
//! namespace-resolving event reader over the same bytes (the ceiling: it only tokenizes).
//!
//! Run: `cargo bench -p ml-connector --bench workday_decode`. Besides criterion's report it prints MB/s,
//! records/s and the decoder/ceiling ratio.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use ml_connector::workday::decode::{PageBody, decode_page};
use ml_connector::workday::model::SupplierInvoice;
use ml_connector_sim::workday::Universe;
use ml_connector_sim::workday::ops::{self, Criteria, Op, Query};
use quick_xml::NsReader;
use quick_xml::events::Event;

const RECORDS: u32 = 999;

/// A real simulator page of 999 invoices.
fn page() -> Vec<u8> {
    let universe = Universe::new(
        42,
        1000,
        chrono::NaiveDate::from_ymd_opt(2024, 6, 15).unwrap_or_default(),
    );
    let query = Query {
        op: Op::Invoices,
        references: None,
        criteria: Criteria::default(),
        page: 1,
        count: RECORDS,
        as_of: Some("2024-06-15T08:00:00.000Z".into()),
        as_of_effective: None,
        group: ops::Group::default(),
        echo_selection: None,
        echo_group: None,
        cache_key: String::new(),
    };
    let selection = ops::select(&universe, &query);
    // As the client asks: v46.1, with reference descriptors.
    let shape = ops::Shape {
        version: "v46.1",
        descriptors: true,
        suppliers_without_id: &[],
    };
    ops::render(&universe, &query, &shape, &selection).into_bytes()
}

fn decode(body: &[u8]) -> usize {
    match decode_page::<SupplierInvoice>(body) {
        Ok(PageBody::Records(reader)) => {
            let mut n = 0;
            for record in reader {
                black_box(record.map(|inv| inv.lines.len()).unwrap_or(0));
                n += 1;
            }
            n
        }
        _ => 0,
    }
}

fn raw_events(body: &[u8]) -> usize {
    let mut reader = NsReader::from_reader(body);
    let mut n = 0usize;
    loop {
        match reader.read_resolved_event() {
            Ok((_, Event::Eof)) | Err(_) => return n,
            Ok((ns, e)) => {
                black_box((&ns, &e));
                n += 1;
            }
        }
    }
}

/// Median seconds per run of `typed` and `raw`, and the median of their per-round ratio. The two are
/// interleaved round by round so that noise from other processes on the machine hits both alike.
fn interleaved(
    typed: impl Fn() -> usize,
    raw: impl Fn() -> usize,
    rounds: usize,
) -> (f64, f64, f64) {
    let time = |f: &dyn Fn() -> usize| {
        let started = Instant::now();
        black_box(f());
        started.elapsed().as_secs_f64()
    };
    let (mut t, mut r, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let a = time(&typed);
        let b = time(&raw);
        t.push(a);
        r.push(b);
        ratio.push(b / a);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut t), median(&mut r), median(&mut ratio))
}

fn main() {
    let body = page();
    assert_eq!(
        decode(&body),
        RECORDS as usize,
        "the page decodes to 999 invoices"
    );
    let mb = body.len() as f64 / 1e6;

    let mut c = Criterion::default().configure_from_args();
    {
        let mut g = c.benchmark_group("get_supplier_invoices_999_bytes");
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function("typed_decoder", |b| b.iter(|| decode(black_box(&body))));
        g.bench_function("quick_xml_raw_ns_events", |b| {
            b.iter(|| raw_events(black_box(&body)))
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("get_supplier_invoices_999_records");
        g.throughput(Throughput::Elements(u64::from(RECORDS)));
        g.bench_function("typed_decoder", |b| b.iter(|| decode(black_box(&body))));
        g.finish();
    }
    c.final_summary();

    let (typed, raw, ratio) = interleaved(|| decode(&body), || raw_events(&body), 200);
    println!();
    println!(
        "page: {} records, {:.2} MB (medians of 200 interleaved rounds)",
        RECORDS, mb
    );
    println!(
        "typed decoder:      {:>8.1} MB/s  {:>10.0} records/s  ({:.2} ms/page)",
        mb / typed,
        f64::from(RECORDS) / typed,
        typed * 1e3
    );
    println!(
        "quick-xml raw (ns): {:>8.1} MB/s  {:>10.0} records/s  ({:.2} ms/page)",
        mb / raw,
        f64::from(RECORDS) / raw,
        raw * 1e3
    );
    println!("ratio typed/raw throughput: {ratio:.2}");
}
