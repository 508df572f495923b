//! Paging of list endpoints, both ways Zendesk offers (developer.zendesk.com/api-reference/introduction/pagination):
//!
//! - **cursor** pagination when the request has `page[size]` (1–100; "most endpoints limit this to a maximum of
//!   100"): `meta` `{has_more, after_cursor, before_cursor}` and `links` `{next, prev}`; `page[after]` /
//!   `page[before]` move. `links.next` is there even on the last page: `meta.has_more` says when to stop.
//! - **offset** pagination otherwise: `page` (from 1) and `per_page` (at most 100, the default), `next_page` /
//!   `previous_page` URLs (null at the ends) and `count`. Offset paging is limited to 10,000 records
//!   (`page × per_page`): deeper requests get a 400 `InvalidPaginationDepth`.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{Value, json};

use super::world::ZdError;

/// Records per page, at most.
pub(crate) const MAX_PAGE_SIZE: usize = 100;
/// Deepest record offset paging reaches.
const MAX_OFFSET_RECORDS: usize = 10_000;

fn invalid(parameter: &str, message: &str) -> ZdError {
    ZdError::bad_request(
        "InvalidPaginationParameter",
        &format!("{parameter}: {message}"),
    )
}

fn encode_cursor(id: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("id:{id}"))
}

fn decode_cursor(parameter: &str, raw: &str) -> Result<u64, ZdError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("id:").and_then(|id| id.parse().ok()))
        .ok_or_else(|| invalid(parameter, "is not a valid cursor"))
}

/// `{base}{path}?{the request's other parameters}&{extra}`.
fn link(
    base: &str,
    path: &str,
    query: &HashMap<String, String>,
    extra: &[(&str, String)],
) -> String {
    let mut url = url::Url::parse(&format!("{base}{path}")).unwrap_or_else(|_| {
        url::Url::parse("http://127.0.0.1/").unwrap_or_else(|_| unreachable!("a valid URL"))
    });
    {
        let mut pairs = url.query_pairs_mut();
        let mut kept: Vec<(&String, &String)> = query
            .iter()
            .filter(|(k, _)| !(k.starts_with("page") || k.as_str() == "per_page"))
            .collect();
        kept.sort();
        for (k, v) in kept {
            pairs.append_pair(k, v);
        }
        for (k, v) in extra {
            pairs.append_pair(k, v);
        }
    }
    url.to_string()
}

/// One page of `items` (`(id, record)`, in id order) under `key`, as the request's parameters ask.
pub(crate) fn page(
    base: &str,
    path: &str,
    query: &HashMap<String, String>,
    key: &str,
    items: Vec<(u64, Value)>,
) -> Result<Value, ZdError> {
    match query.get("page[size]") {
        Some(size) => cursor_page(base, path, query, key, items, size),
        None => offset_page(base, path, query, key, items),
    }
}

fn cursor_page(
    base: &str,
    path: &str,
    query: &HashMap<String, String>,
    key: &str,
    items: Vec<(u64, Value)>,
    size: &str,
) -> Result<Value, ZdError> {
    let size: usize = size
        .trim()
        .parse()
        .ok()
        .filter(|s| (1..=MAX_PAGE_SIZE).contains(s))
        .ok_or_else(|| invalid("page[size]", "must be an integer from 1 to 100"))?;
    let after = query
        .get("page[after]")
        .map(|c| decode_cursor("page[after]", c))
        .transpose()?;
    let before = query
        .get("page[before]")
        .map(|c| decode_cursor("page[before]", c))
        .transpose()?;
    let (page, has_more): (Vec<(u64, Value)>, bool) = match (after, before) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "page[after]",
                "cannot be combined with page[before]",
            ));
        }
        (None, Some(before)) => {
            let earlier: Vec<(u64, Value)> =
                items.into_iter().filter(|(id, _)| *id < before).collect();
            let skip = earlier.len().saturating_sub(size);
            (earlier.into_iter().skip(skip).collect(), skip > 0)
        }
        (after, None) => {
            let mut later = items
                .into_iter()
                .filter(|(id, _)| after.is_none_or(|a| *id > a));
            let page: Vec<(u64, Value)> = later.by_ref().take(size).collect();
            (page, later.next().is_some())
        }
    };
    let first = page.first().map(|(id, _)| encode_cursor(*id));
    let last = page.last().map(|(id, _)| encode_cursor(*id));
    let size_param = ("page[size]", size.to_string());
    Ok(json!({
        key: page.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "meta": {"has_more": has_more, "after_cursor": last, "before_cursor": first},
        "links": {
            "next": last.as_ref().map(|c| link(base, path, query, &[size_param.clone(), ("page[after]", c.clone())])),
            "prev": first.as_ref().map(|c| link(base, path, query, &[size_param.clone(), ("page[before]", c.clone())])),
        },
    }))
}

fn offset_page(
    base: &str,
    path: &str,
    query: &HashMap<String, String>,
    key: &str,
    items: Vec<(u64, Value)>,
) -> Result<Value, ZdError> {
    let number = |name: &str, default: usize| -> usize {
        query
            .get(name)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| *n >= 1)
            .unwrap_or(default)
    };
    let per_page = number("per_page", MAX_PAGE_SIZE).min(MAX_PAGE_SIZE);
    let page = number("page", 1);
    if page.saturating_mul(per_page) > MAX_OFFSET_RECORDS {
        return Err(ZdError {
            status: 400,
            body: json!({"errors": [{
                "code": "InvalidPaginationDepth",
                "title": "Pagination requests using Offset Pagination are limited to page 100 or up to 10000 records (page * per_page)",
            }]}),
            code: "InvalidPaginationDepth".into(),
            summary: "offset pagination too deep".into(),
        });
    }
    let count = items.len();
    let start = (page - 1) * per_page;
    let records: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(per_page)
        .map(|(_, v)| v)
        .collect();
    let at = |p: usize| {
        link(
            base,
            path,
            query,
            &[("page", p.to_string()), ("per_page", per_page.to_string())],
        )
    };
    Ok(json!({
        key: records,
        "next_page": (start + per_page < count).then(|| at(page + 1)),
        "previous_page": (page > 1).then(|| at(page - 1)),
        "count": count,
    }))
}
