//! One SOAP response page: envelope → fault or `{Op}_Response` → `Response_Results` → records, one at a time.

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use super::Record;
use super::cursor::{Cursor, DecodeError, Ns};
use super::fault::decode_fault;
use crate::workday::error::SoapFault;
use crate::workday::ops::Operation;

/// `Response_Results`: where this page sits in the whole result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageInfo {
    /// `Total_Results`.
    pub total_results: u32,
    /// `Total_Pages`.
    pub total_pages: u32,
    /// `Page_Results`: records on this page.
    pub page_results: u32,
    /// `Page` (1-based).
    pub page: u32,
}

/// A record that was read to its end but could not be taken: a value in it does not parse, or a part it must
/// have is missing. The rest of the page is unaffected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRecord {
    /// Its position among the page's records (1-based).
    pub index: u32,
    /// Its ID, as far as it could be read (business ID, else WID).
    pub id: Option<String>,
    /// Byte offset of the first problem in the body.
    pub offset: u64,
    /// What was wrong.
    pub message: String,
}

/// Why a record did not come out of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// This record is skipped; the records after it are still read.
    Skipped(SkippedRecord),
    /// The body is not the expected XML (not well-formed, truncated, another response): nothing more is read.
    Malformed(DecodeError),
}

/// A decoded body: records to read, or a fault.
#[derive(Debug)]
pub enum PageBody<'a, R> {
    /// A response; iterate it for the records.
    Records(PageReader<'a, R>),
    /// A SOAP fault.
    Fault(SoapFault),
}

/// Reads the records of one page lazily, in document order, without building a tree.
///
/// A record whose values do not parse, or that lacks its ID, comes out as [`RecordError::Skipped`] and reading
/// goes on with the next one. The iterator yields [`RecordError::Malformed`] once and then stops if the body
/// turns out to be malformed (including a body truncated after the last record: the rest of the document is
/// checked when the records run out).
#[derive(Debug)]
pub struct PageReader<'a, R> {
    cursor: Cursor<'a>,
    info: Option<PageInfo>,
    state: State,
    index: u32,
    _record: PhantomData<fn() -> R>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Inside `Response_Data`, records may follow.
    InData,
    /// After `Response_Data`, still inside `{Op}_Response`: the rest of the document has to be checked.
    AfterData,
    /// After `{Op}_Response` (which had no `Response_Data`): the rest of the document has to be checked.
    AfterResponse,
    /// Finished (or failed).
    Done,
}

/// Decodes the start of a response to `R::OPERATION`: the envelope, a fault, or the response header up to the
/// first record. The records themselves are decoded as the returned reader is iterated.
pub fn decode_page<R: Record>(body: &[u8]) -> Result<PageBody<'_, R>, DecodeError> {
    let op = R::OPERATION;
    let mut c = Cursor::new(body);
    let root = c.root()?;
    if !(root.ns == Ns::Env && root.local() == b"Envelope") {
        return Err(c.err(format!(
            "expected a SOAP 1.1 Envelope, found <{}>",
            root.name_lossy()
        )));
    }
    // Envelope: optional Header, then Body.
    let body_el = loop {
        match c.child()? {
            Some(el) if el.ns == Ns::Env && el.local() == b"Body" => break el,
            Some(el) if el.ns == Ns::Env && el.local() == b"Header" => c.skip(&el)?,
            Some(el) => {
                return Err(c.err(format!(
                    "unexpected <{}> in the SOAP Envelope",
                    el.name_lossy()
                )));
            }
            None => return Err(c.err("the SOAP Envelope has no Body")),
        }
    };
    let _ = body_el;
    let first = c.child()?.ok_or_else(|| c.err("the SOAP Body is empty"))?;
    if first.ns == Ns::Env && first.local() == b"Fault" {
        let fault = decode_fault(&mut c)?;
        // Rest of Body, Envelope, and the end of the document.
        c.skip_rest()?;
        c.skip_rest()?;
        c.finish()?;
        return Ok(PageBody::Fault(fault));
    }
    if !first.is(op.response_element()) {
        return Err(c.err(format!(
            "expected {} in the SOAP Body, found <{}>",
            op.response_element(),
            first.name_lossy()
        )));
    }
    let mut info = None;
    loop {
        match c.child()? {
            Some(el) if el.is("Response_Results") => info = Some(decode_results(&mut c)?),
            Some(el) if el.is("Response_Data") => {
                return Ok(PageBody::Records(PageReader {
                    cursor: c,
                    info,
                    state: State::InData,
                    index: 0,
                    _record: PhantomData,
                }));
            }
            Some(el) => c.skip(&el)?,
            None => {
                // A response without Response_Data: no results (normal).
                return Ok(PageBody::Records(PageReader {
                    cursor: c,
                    info,
                    state: State::AfterResponse,
                    index: 0,
                    _record: PhantomData,
                }));
            }
        }
    }
}

impl<R> PageReader<'_, R> {
    /// `Response_Results`, when the response had one before the records (Workday's order). Records without
    /// it read as one page holding what was sent.
    pub fn info(&self) -> Option<PageInfo> {
        self.info
    }

    /// Checks the rest of the response and of the document after the last record.
    fn finish(&mut self, in_response: bool) -> Result<(), DecodeError> {
        // Remaining children of {Op}_Response (a Response_Results after the data is still read).
        if in_response {
            loop {
                match self.cursor.child()? {
                    Some(el) if el.is("Response_Results") && self.info.is_none() => {
                        self.info = Some(decode_results(&mut self.cursor)?);
                    }
                    Some(el) => self.cursor.skip(&el)?,
                    None => break,
                }
            }
        }
        self.cursor.skip_rest()?; // Body
        self.cursor.skip_rest()?; // Envelope
        self.cursor.finish()
    }
}

impl<R: Record> PageReader<'_, R> {
    /// Decodes the record just opened: the record, a skipped record, or the end of reading.
    fn record(&mut self) -> Result<R, RecordError> {
        self.index += 1;
        self.cursor.take_deferred();
        self.cursor.set_lenient(true);
        let record = R::decode(&mut self.cursor);
        self.cursor.set_lenient(false);
        let invalid = self.cursor.take_deferred();
        match (record, invalid) {
            (Ok(r), None) => Ok(r),
            (Ok(r), Some(e)) => Err(RecordError::Skipped(SkippedRecord {
                index: self.index,
                id: r.record_id(),
                offset: e.offset,
                message: e.message,
            })),
            (Err(e), _) => {
                self.state = State::Done;
                Err(RecordError::Malformed(e))
            }
        }
    }
}

impl<R: Record> Iterator for PageReader<'_, R> {
    type Item = Result<R, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.state {
                State::Done => return None,
                State::AfterData | State::AfterResponse => {
                    let in_response = self.state == State::AfterData;
                    self.state = State::Done;
                    return self
                        .finish(in_response)
                        .err()
                        .map(|e| Err(RecordError::Malformed(e)));
                }
                State::InData => match self.cursor.child() {
                    Ok(Some(el)) if el.is(R::OPERATION.record_element()) => {
                        return Some(self.record());
                    }
                    Ok(Some(el)) => {
                        if let Err(e) = self.cursor.skip(&el) {
                            self.state = State::Done;
                            return Some(Err(RecordError::Malformed(e)));
                        }
                    }
                    Ok(None) => self.state = State::AfterData,
                    Err(e) => {
                        self.state = State::Done;
                        return Some(Err(RecordError::Malformed(e)));
                    }
                },
            }
        }
    }
}

fn decode_results(c: &mut Cursor<'_>) -> Result<PageInfo, DecodeError> {
    let mut info = PageInfo::default();
    while let Some(el) = c.child()? {
        let slot = match el.local() {
            b"Total_Results" if el.ns == Ns::Wd => &mut info.total_results,
            b"Total_Pages" if el.ns == Ns::Wd => &mut info.total_pages,
            b"Page_Results" if el.ns == Ns::Wd => &mut info.page_results,
            b"Page" if el.ns == Ns::Wd => &mut info.page,
            _ => {
                c.skip(&el)?;
                continue;
            }
        };
        *slot = c.number("Response_Results value")?.unwrap_or(0);
    }
    Ok(info)
}

/// Names the operation of a decode error.
pub(crate) fn malformed(op: Operation, e: DecodeError) -> crate::workday::WorkdayError {
    crate::workday::WorkdayError::Malformed {
        operation: op.name().to_string(),
        offset: e.offset,
        message: e.message,
    }
}
