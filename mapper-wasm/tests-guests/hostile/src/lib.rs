//! A deliberately hostile plugin for ml-connector's sandbox tests. It behaves according to the invoice number
//! (or the supplier id) it is given, so that one component covers every attack:
//!
//! - `loop`: spins forever (must be stopped at the per-call deadline);
//! - `bomb`: allocates memory until refused (must be stopped at the memory cap and reported as such);
//! - `recurse`: unbounded recursion (must trap: stack exhausted);
//! - `flood`: returns 5,000 writes (must be rejected by the output count limit);
//! - `huge`: returns one 4 MiB text value (must be rejected by the output size limit);
//! - `panic`: panics (a trap);
//! - `sleep`: sleeps forever in a host call (`wasi:clocks` subscribe-duration + poll), where epoch interruption
//!   cannot reach it (must still be stopped at the deadline, and free its thread and instance);
//! - `nap`: reads the clocks and sleeps 1 ms, as a legitimate plugin may (must work: one write, `napped`);
//! - `refuse`: returns `Err` (a clean plugin error);
//! - anything else: one harmless write, so the component also passes validation and dry-runs.

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use ml_mapper_sdk::*;

struct Hostile;

fn behave(what: &str) -> Result<Vec<FieldWrite>, String> {
    match what {
        "loop" => {
            let mut n: u64 = 0;
            loop {
                n = black_box(n.wrapping_add(1));
            }
        }
        "bomb" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                let mut block = vec![0u8; 1 << 20];
                block[0] = black_box(1);
                hoard.push(black_box(block));
            }
        }
        "recurse" => Ok(vec![ticket_field(
            1,
            text(recurse(black_box(1)).to_string()),
        )]),
        "flood" => Ok((0..5_000).map(|i| add_tag(&format!("t{i}"))).collect()),
        "huge" => Ok(vec![ticket_field(1, text("x".repeat(4 << 20)))]),
        "sleep" => {
            std::thread::sleep(Duration::MAX);
            Ok(vec![add_tag("woke_up")])
        }
        "nap" => {
            let started = Instant::now();
            let wall = SystemTime::now();
            std::thread::sleep(Duration::from_millis(1));
            if started.elapsed() < Duration::from_millis(1) || wall <= SystemTime::UNIX_EPOCH {
                return Err("the clocks do not move".to_string());
            }
            Ok(vec![add_tag("napped")])
        }
        "panic" => panic!("the hostile plugin panicked on purpose"),
        "refuse" => Err("refused on purpose".to_string()),
        _ => Ok(vec![add_tag("hostile_but_polite")]),
    }
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 64]);
    black_box(recurse(depth + 1)).wrapping_add(frame[(depth % 64) as usize])
}

impl Guest for Hostile {
    fn map_supplier(supplier: Supplier) -> Result<Vec<FieldWrite>, String> {
        behave(&supplier.id)
    }

    fn map_invoice(invoice: Invoice, _ticket: TicketContext) -> Result<Vec<FieldWrite>, String> {
        behave(&invoice.number)
    }
}

export_mapper!(Hostile);
