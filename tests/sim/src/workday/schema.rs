//! The request schema the simulator holds requests to: the `xsd:sequence` of each request part, as Workday's
//! WSDL declares it (element names and their order, which may repeat, which are a choice).
//!
//! Workday validates a request against its schema before it looks at the values: an element its type does
//! not have, an element out of order, a second occurrence of a single element or both sides of a choice is a
//! `Client.validationError`. The messages are the schema validator's (`cvc-complex-type.2.4.a`), naming the
//! element found and the ones that could have come there.
//!
//! The tables list every element of each type, including those the simulator does not evaluate (those are
//! refused with a message that says so, never silently ignored).

use super::parse::Node;
use super::wire::WD;

/// One element of a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// Local name (namespace `urn:com.workday/bsvc`).
    pub name: &'static str,
    /// Position in the sequence; alternatives of a choice share one position.
    pub pos: u8,
    /// Whether it may occur more than once (`maxOccurs="unbounded"`).
    pub many: bool,
}

const fn one(name: &'static str, pos: u8) -> Item {
    Item {
        name,
        pos,
        many: false,
    }
}

const fn many(name: &'static str, pos: u8) -> Item {
    Item {
        name,
        pos,
        many: true,
    }
}

/// `Get_*_Request`: `Request_References` or `Request_Criteria`, `Response_Filter`, `Response_Group`.
pub const REQUEST: &[Item] = &[
    one("Request_References", 0),
    one("Request_Criteria", 0),
    one("Response_Filter", 1),
    one("Response_Group", 2),
];

/// `Response_FilterType`.
pub const RESPONSE_FILTER: &[Item] = &[
    one("As_Of_Effective_Date", 0),
    one("As_Of_Entry_DateTime", 1),
    one("Page", 2),
    one("Count", 3),
];

/// `Supplier_Request_ReferencesType`.
pub const SUPPLIER_REFERENCES: &[Item] = &[many("Supplier_Reference", 0)];
/// `Supplier_Invoice_Request_ReferencesType`.
pub const INVOICE_REFERENCES: &[Item] = &[many("Supplier_Invoice_Reference", 0)];
/// `Supplier_Invoice_Adjustment_Request_ReferencesType`.
pub const ADJUSTMENT_REFERENCES: &[Item] = &[many("Supplier_Invoice_Adjustment_Reference", 0)];
/// `Purchase_Order_Request_ReferencesType`.
pub const PO_REFERENCES: &[Item] = &[many("Purchase_Order_Reference", 0)];
/// `Payments_Request_ReferencesType` (a `Reporting_Transaction` reference per payment).
pub const PAYMENT_REFERENCES: &[Item] = &[many("Payment_WWS_Reference", 0)];

/// `Supplier_Request_CriteriaType`.
pub const SUPPLIER_CRITERIA: &[Item] = &[
    one("Updated_From_Date", 0),
    one("Updated_To_Date", 1),
    many("Supplier_Status_Reference", 2),
    many("Supplier_Category_Reference", 3),
    many("Supplier_Group_Reference", 4),
    one("Customer_Account_Number", 5),
    one("DUNS_Number", 6),
    many("Parent_Supplier_Reference", 7),
];

/// `Supplier_Invoice_Request_CriteriaType`.
pub const INVOICE_CRITERIA: &[Item] = &[
    many("Supplier_Reference", 0),
    many("Company_Reference", 1),
    many("Supplier_Status_Reference", 2),
    one("Invoice_Date_On_or_After", 3),
    one("Invoice_Date_On_or_Before", 4),
    one("Purchase_Order_Reference", 5),
    many("Supplier_Hierarchy_Reference", 6),
    one("Invoice_On_Hold", 7),
    one("Intercompany_Invoice", 8),
    many("Payment_Status_Reference", 9),
    one("Invoice_Due_Date_On_or_After", 10),
    one("Invoice_Due_Date_On_or_Before", 11),
    many("Created_By_Worker_Reference", 12),
    many("Approving_Worker_Reference", 13),
    one("External_PO_Number", 14),
    many("Invoice_Status_Reference", 15),
];

/// `Supplier_Invoice_Adjustment_Request_CriteriaType`: like the invoice criteria, but the company comes first
/// and there are adjustment reasons; no criterion names the original invoice.
pub const ADJUSTMENT_CRITERIA: &[Item] = &[
    many("Company_Reference", 0),
    many("Supplier_Reference", 1),
    many("Supplier_Status_Reference", 2),
    one("Invoice_Date_On_or_After", 3),
    one("Invoice_Date_On_or_Before", 4),
    one("Purchase_Order_Reference", 5),
    many("Supplier_Hierarchy_Reference", 6),
    one("Invoice_On_Hold", 7),
    one("Intercompany_Invoice", 8),
    many("Payment_Status_Reference", 9),
    many("Adjustment_Reasons_Reference", 10),
    one("Invoice_Due_Date_On_or_After", 11),
    one("Invoice_Due_Date_On_or_Before", 12),
    many("Created_By_Worker_Reference", 13),
    many("Approving_Worker_Reference", 14),
    one("External_PO_Number", 15),
    many("Invoice_Status_Reference", 16),
];

/// `Purchase_Order_Request_CriteriaType`.
pub const PO_CRITERIA: &[Item] = &[
    many("Organization_Reference", 0),
    many("Supplier_Reference", 1),
    one("Purchase_Order_Number", 2),
    one("Purchase_Order_Date_On_or_After", 3),
    one("Purchase_Order_Date_On_or_Before", 4),
    one("Due_Date_On_or_After", 5),
    one("Due_Date_On_or_Before", 6),
    one("Updated_From_Date", 7),
    one("Updated_To_Date", 8),
    many("Purchase_Order_Change_Type_Reference", 9),
    many("Issue_Option_Reference", 10),
    one("Supplier_Contract_Reference", 11),
    one("Requisition_Reference", 12),
    one("Requesting_Worker_Reference", 13),
    one("Supplier_Invoice_Reference", 14),
    many("Creating_Worker_Reference", 15),
    many("Approving_Worker_Reference", 16),
    many("Worktag_Reference", 17),
];

/// `Payments_Request_CriteriaType`: one kind of criteria (a choice), then provider parameters.
pub const PAYMENT_CRITERIA: &[Item] = &[
    one("Check_Payments_To_Print_Criteria", 0),
    one("General_Payment_Criteria", 0),
    one("Payment_Message_Criteria", 0),
    one("Remittance_File_Criteria", 0),
    one("Field_And_Paramenter_Criteria_Data", 1),
];

/// `General_Payment_CriteriaType`.
pub const GENERAL_PAYMENT_CRITERIA: &[Item] = &[
    many("Company_Reference", 0),
    many("Bank_Account_Reference", 1),
    many("Payment_Category_Reference", 2),
    many("Payee_Reference", 3),
    many("Payee_Hierarchy_Reference", 4),
    many("Payment_Type_Reference", 5),
    many("Payment_Status_Reference", 6),
    many("Customer_Supplier_Status_Reference", 7),
    many("Currency_Reference", 8),
    one("Payment_Date_on_Date_Or_After", 9),
    one("Payment_Date_on_Date_Or_Before", 10),
    one("Transaction_Reference_Number", 11),
    many("Settlement_Run_Reference", 12),
    one("Settlement_Run_Number", 13),
    one("Settlement_Run_Name", 14),
    many("Created_by_Worker_Reference", 15),
    one("Payment_Amount_Equal_To", 16),
    one("Payment_Amount_Greater_Than", 17),
    one("Payment_Amount_Less_Than", 18),
    many("Expense_Payee_Type_Reference", 19),
    one("Transaction_Is_Intercompany", 20),
    many("Company_Receiving_Payment_Reference", 21),
    many("Periods_Reference", 22),
    many("Pay_Run_Groups_and_or_Pay_Groups_Reference", 23),
    one("EFT_Payment_ID", 24),
    one("Reconciliation_Status_Reference", 25),
];

/// `Supplier_Response_GroupType`, `Supplier_Invoice_Response_GroupType`,
/// `Supplier_Invoice_Adjustment_Response_GroupType`, `Purchase_Order_Response_GroupType`.
pub const RESOURCE_RESPONSE_GROUP: &[Item] = &[
    one("Include_Reference", 0),
    one("Include_Attachment_Data", 1),
];

/// `Payments_Response_GroupType`.
pub const PAYMENTS_RESPONSE_GROUP: &[Item] = &[
    one("Include_Reference", 0),
    one("Include_Originating_Bank_Data", 1),
    one("Include_Payroll_Remittance_Data", 2),
    one("Include_Payment_Group_Data", 3),
    one("Include_Payroll_Result_Country_Data", 4),
];

/// A reference (`*ObjectType`): `ID` elements, each with a `wd:type`.
pub const REFERENCE: &[Item] = &[many("ID", 0)];

/// `Workday_Common_HeaderType` (in the SOAP header): `Include_Reference_Descriptors_In_Response`.
pub const COMMON_HEADER: &[Item] = &[one("Include_Reference_Descriptors_In_Response", 0)];

/// The shape of records a web service version answers with, where versions differ in what the simulator
/// sends. Versions before v40 answer as the v28-era types; v40 and later moved the supplier's tax IDs into
/// `Tax_ID_Widget_Data` and have the supplier's own invoice number (`Suppliers_Invoice_Number`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Generation {
    /// v28 up to v39.x.
    V28,
    /// v40 and later.
    V40,
}

impl Generation {
    /// The generation of a version such as `v46.1` (unparseable versions are refused before this is asked).
    pub fn of(version: &str) -> Self {
        let major = version
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok())
            .unwrap_or(0);
        if major >= 40 { Self::V40 } else { Self::V28 }
    }
}

/// A child that fits the sequence, with its XPath step (`Name[n]`).
#[derive(Debug)]
pub struct Matched<'n> {
    /// The schema item it matched.
    pub item: Item,
    /// The element.
    pub node: &'n Node,
    /// `Name[n]`: its position among its same-named siblings, for the fault's XPath.
    pub step: String,
}

/// A child that does not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    /// The schema validator's message.
    pub message: String,
    /// `Name[n]` of the offending child.
    pub step: String,
}

/// Checks the children of `parent` against `seq`: known names only, in order, single elements once, one side
/// of a choice. Returns the children that fit and the misfits (each reported like an XSD validator would).
pub fn check<'n>(parent: &'n Node, seq: &[Item]) -> (Vec<Matched<'n>>, Vec<Misfit>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    // The last accepted item; the next child must be at its position (if it repeats) or later.
    let mut last: Option<Item> = None;
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for child in &parent.children {
        let n = {
            match seen.iter_mut().find(|(name, _)| *name == child.name) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((child.name.as_str(), 1));
                    1
                }
            }
        };
        let step = format!("{}[{n}]", child.name);
        let fits = |item: &Item| match last {
            None => true,
            Some(l) if item.pos > l.pos => true,
            Some(l) => item.pos == l.pos && item.name == l.name && item.many,
        };
        let found = (child.ns == WD)
            .then(|| seq.iter().find(|i| i.name == child.name))
            .flatten();
        match found {
            Some(item) if fits(item) => {
                last = Some(*item);
                ok.push(Matched {
                    item: *item,
                    node: child,
                    step,
                });
            }
            _ => bad.push(Misfit {
                message: format!(
                    "cvc-complex-type.2.4.a: Invalid content was found starting with element '{}'. {} (in {})",
                    qualified(child),
                    expected(seq, last),
                    parent.name
                ),
                step,
            }),
        }
    }
    (ok, bad)
}

fn qualified(n: &Node) -> String {
    if n.ns == WD {
        format!("wd:{}", n.name)
    } else if n.ns.is_empty() {
        n.name.clone()
    } else {
        format!("{{{}}}{}", n.ns, n.name)
    }
}

/// "One of '{...}' is expected." or "No child element is expected at this point."
fn expected(seq: &[Item], last: Option<Item>) -> String {
    let next: Vec<String> = seq
        .iter()
        .filter(|i| match last {
            None => true,
            Some(l) => i.pos > l.pos || (i.name == l.name && i.many),
        })
        .map(|i| format!("\"{WD}\":{}", i.name))
        .collect();
    if next.is_empty() {
        "No child element is expected at this point.".into()
    } else {
        format!("One of '{{{}}}' is expected.", next.join(", "))
    }
}

/// An `xsd:boolean` (`true`, `false`, `1`, `0`).
pub fn boolean(text: &str) -> Option<bool> {
    match text {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(children: &[&str]) -> Node {
        Node {
            ns: WD.into(),
            name: "Request_Criteria".into(),
            children: children
                .iter()
                .map(|c| Node {
                    ns: WD.into(),
                    name: (*c).into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn misfits(children: &[&str], seq: &[Item]) -> Vec<String> {
        let n = node(children);
        check(&n, seq).1.into_iter().map(|m| m.step).collect()
    }

    #[test]
    fn versions_map_to_generations() {
        assert_eq!(Generation::of("v46.1"), Generation::V40);
        assert_eq!(Generation::of("v40.2"), Generation::V40);
        assert_eq!(Generation::of("v39.2"), Generation::V28);
        assert_eq!(Generation::of("v28.1"), Generation::V28);
    }

    #[test]
    fn order_repetition_choice_and_unknown_names() {
        let ok = [
            "Supplier_Reference",
            "Supplier_Reference",
            "Company_Reference",
            "Invoice_Date_On_or_After",
            "Invoice_Due_Date_On_or_Before",
        ];
        assert!(misfits(&ok, INVOICE_CRITERIA).is_empty());
        // Company before Supplier: the Supplier_Reference is out of order.
        assert_eq!(
            misfits(
                &["Company_Reference", "Supplier_Reference"],
                INVOICE_CRITERIA
            ),
            ["Supplier_Reference[1]"]
        );
        assert_eq!(
            misfits(
                &["Invoice_Date_On_or_After", "Invoice_Date_On_or_After"],
                INVOICE_CRITERIA
            ),
            ["Invoice_Date_On_or_After[2]"]
        );
        assert_eq!(
            misfits(&["Invoice_Number"], INVOICE_CRITERIA),
            ["Invoice_Number[1]"]
        );
        assert_eq!(
            misfits(&["Request_References", "Request_Criteria"], REQUEST),
            ["Request_Criteria[1]"]
        );
        let n = node(&["Response_Group", "Response_Filter"]);
        let (_, bad) = check(&n, REQUEST);
        assert_eq!(
            bad[0].message,
            "cvc-complex-type.2.4.a: Invalid content was found starting with element 'wd:Response_Filter'. \
             No child element is expected at this point. (in Request_Criteria)"
        );
    }
}
