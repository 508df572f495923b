//! A component of the wrong world (see `wit/other.wit`), for ml-connector's upload validation tests.

wit_bindgen::generate!({ path: "wit", world: "other" });

struct Other;

impl Guest for Other {
    fn map_supplier(id: String) -> String {
        id
    }

    fn map_invoice(number: String) -> String {
        number
    }
}

export!(Other);
