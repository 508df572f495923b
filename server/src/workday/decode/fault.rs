//! SOAP 1.1 faults: `faultcode`, `faultstring` and Workday's `detail` (`Validation_Fault`, `Processing_Fault`).

use super::cursor::{Cursor, DecodeError};
use crate::workday::error::{SoapFault, ValidationError};

/// Decodes the content of a `Fault` element (just opened) through its end tag.
pub(crate) fn decode_fault(c: &mut Cursor<'_>) -> Result<SoapFault, DecodeError> {
    let mut fault = SoapFault::default();
    // SOAP 1.1 fault children are unqualified; accept them qualified too.
    while let Some(el) = c.child()? {
        match el.local() {
            b"faultcode" => {
                let code = c.text()?;
                // A QName such as `SOAP-ENV:Client.validationError`: keep the local part.
                fault.code = code.rsplit(':').next().unwrap_or_default().to_string();
            }
            b"faultstring" => fault.message = c.text()?,
            b"detail" => decode_detail(c, &mut fault)?,
            _ => c.skip(&el)?,
        }
    }
    if fault.code.is_empty() {
        return Err(c.err("SOAP Fault without faultcode"));
    }
    Ok(fault)
}

fn decode_detail(c: &mut Cursor<'_>, fault: &mut SoapFault) -> Result<(), DecodeError> {
    while let Some(el) = c.child()? {
        if el.is("Validation_Fault") {
            while let Some(item) = c.child()? {
                if item.is("Validation_Error") {
                    fault.validation_errors.push(validation_error(c)?);
                } else {
                    c.skip(&item)?;
                }
            }
        } else if el.is("Processing_Fault") {
            while let Some(item) = c.child()? {
                if item.is("Detail_Message") {
                    fault.detail = c.opt_text()?;
                } else {
                    c.skip(&item)?;
                }
            }
        } else {
            c.skip(&el)?;
        }
    }
    Ok(())
}

fn validation_error(c: &mut Cursor<'_>) -> Result<ValidationError, DecodeError> {
    let mut v = ValidationError::default();
    while let Some(el) = c.child()? {
        if el.is("Message") {
            v.message = c.text()?;
        } else if el.is("Detail_Message") {
            v.detail_message = c.opt_text()?;
        } else if el.is("Xpath") {
            v.xpath = c.opt_text()?;
        } else {
            c.skip(&el)?;
        }
    }
    if v.message.is_empty() {
        v.message = v.detail_message.clone().unwrap_or_default();
    }
    Ok(v)
}
