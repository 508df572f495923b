//! Streaming decoding of Workday SOAP responses with quick-xml: no DOM, one record at a time.
//!
//! [`decode_page`] reads the envelope and the response header and returns a [`PageReader`] that decodes the
//! records of `Response_Data` lazily as it is iterated, or the [`SoapFault`](crate::workday::SoapFault) the body
//! carries. Namespaces are matched by URI; unknown elements are skipped; a response without `Response_Data`
//! is an empty page; a body that is not the expected XML is a [`DecodeError`] with the byte offset. A record
//! whose values do not parse (or that lacks its ID) is skipped and reported as a [`SkippedRecord`] with its ID,
//! so one odd record does not stop the page.

mod cursor;
mod fault;
mod page;
mod records;

pub use cursor::{Cursor, DecodeError};
pub(crate) use cursor::{parse_date as parse_date_text, parse_decimal as parse_decimal_text};
pub(crate) use page::malformed;
pub use page::{PageBody, PageInfo, PageReader, RecordError, SkippedRecord, decode_page};

use crate::workday::ops::Operation;

/// A record type of one operation's `Response_Data`.
pub trait Record: Sized {
    /// The operation whose response holds it.
    const OPERATION: Operation;
    /// Decodes one record; called just after its start tag, consumes it through its end tag. A value that does
    /// not parse, or a missing ID, is noted on the cursor (the record is then skipped); an `Err` means the XML
    /// itself is broken.
    #[doc(hidden)]
    fn decode(cursor: &mut Cursor<'_>) -> Result<Self, DecodeError>;

    /// The ID that names this record in a report (business ID, else WID), as far as it was read.
    fn record_id(&self) -> Option<String>;
}
