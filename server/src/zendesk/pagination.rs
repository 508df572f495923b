//! Reading every record of a list endpoint with cursor pagination, which Zendesk recommends over offset paging
//! (offset paging stops at 10,000 records): `page[size]=100` (the most list endpoints allow), then the
//! `links.next` URL while `meta.has_more` is true. `links.next` is present on the last page too, so
//! `has_more` alone decides when to stop. An endpoint that ignores `page[size]` answers an offset page
//! (`next_page`), which is followed instead.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::client::{Call, ZendeskClient};
use super::error::ZendeskError;

/// Records per page asked for (`page[size]`; Zendesk's maximum for most list endpoints).
pub const PAGE_SIZE: u32 = 100;
/// Pages read at most from one list (a million records at [`PAGE_SIZE`]) before giving up as a loop.
const MAX_PAGES: usize = 10_000;

/// Where the next page is, if anywhere.
fn next_link(page: &Value) -> Option<String> {
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    match page.get("meta") {
        Some(meta) => (meta.get("has_more").and_then(Value::as_bool) == Some(true))
            .then(|| page.pointer("/links/next").and_then(text))
            .flatten(),
        None => page.get("next_page").and_then(text),
    }
}

impl ZendeskClient {
    /// Every record under `key` of the list at `path` (`organization_fields`, ...), in Zendesk's order.
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        key: &str,
    ) -> Result<Vec<T>, ZendeskError> {
        let context = format!("GET {path}");
        let mut records = Vec::new();
        let mut call = Call::get(path).query("page[size]", PAGE_SIZE.to_string());
        let mut followed: Vec<String> = Vec::new();
        loop {
            let mut page: Value = self.call_json(call).await?;
            let items = match page.get_mut(key).map(Value::take) {
                Some(items @ Value::Array(_)) => items,
                Some(Value::Null) | None => Value::Array(Vec::new()),
                Some(other) => {
                    return Err(ZendeskError::Decode {
                        context,
                        message: format!("`{key}` is not a list: {other}"),
                    });
                }
            };
            let batch: Vec<T> =
                serde_json::from_value(items).map_err(|e| ZendeskError::Decode {
                    context: context.clone(),
                    message: e.to_string(),
                })?;
            records.extend(batch);
            let Some(next) = next_link(&page) else {
                return Ok(records);
            };
            if followed.contains(&next) || followed.len() >= MAX_PAGES {
                return Err(ZendeskError::Decode {
                    context,
                    message: format!("the pages do not end (after {} pages)", followed.len() + 1),
                });
            }
            followed.push(next.clone());
            call = Call::get(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_next_page_is_found_both_ways() {
        let cursor = json!({"items": [], "meta": {"has_more": true, "after_cursor": "x"},
            "links": {"next": "https://acme.zendesk.com/api/v2/x?page%5Bafter%5D=x", "prev": null}});
        assert_eq!(
            next_link(&cursor).as_deref(),
            Some("https://acme.zendesk.com/api/v2/x?page%5Bafter%5D=x")
        );
        // The last cursor page still has a next link; has_more says stop.
        let last = json!({"items": [], "meta": {"has_more": false, "after_cursor": "y"},
            "links": {"next": "https://acme.zendesk.com/api/v2/x?page%5Bafter%5D=y"}});
        assert_eq!(next_link(&last), None);
        let offset = json!({"items": [], "next_page": "https://acme.zendesk.com/api/v2/x?page=2", "count": 300});
        assert_eq!(
            next_link(&offset).as_deref(),
            Some("https://acme.zendesk.com/api/v2/x?page=2")
        );
        assert_eq!(next_link(&json!({"items": [], "next_page": null})), None);
    }
}
