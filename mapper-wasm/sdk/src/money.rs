//! Decimal amounts as exact digit strings: parse, round, format. No floats anywhere.

use std::cmp::Ordering;
use std::fmt;

/// Why a string is not a decimal amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountError(String);

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a decimal amount (expected e.g. 1234.50)",
            self.0
        )
    }
}

impl std::error::Error for AmountError {}

/// An exact decimal amount: sign, integer digits, fraction digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount {
    negative: bool,
    int: String,
    frac: String,
}

impl Amount {
    /// Parses `-?digits(.digits)?` (surrounding whitespace ignored). Leading zeros are dropped.
    pub fn parse(text: &str) -> Result<Self, AmountError> {
        let bad = || AmountError(text.chars().take(40).collect());
        let t = text.trim();
        let (negative, body) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) || body.ends_with('.')
        {
            return Err(bad());
        }
        let int = int.trim_start_matches('0');
        let mut amount = Self {
            negative,
            int: if int.is_empty() {
                "0".into()
            } else {
                int.into()
            },
            frac: frac.into(),
        };
        if amount.is_zero() {
            amount.negative = false;
        }
        Ok(amount)
    }

    /// Whether the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.int == "0" && self.frac.bytes().all(|b| b == b'0')
    }

    /// Whether the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Rounded to `places` fraction digits, half away from zero (`2.345` → `2.35`), padded with zeros.
    pub fn round_dp(&self, places: usize) -> Self {
        let mut frac: Vec<u8> = self.frac.bytes().collect();
        let mut int: Vec<u8> = self.int.bytes().collect();
        if frac.len() <= places {
            frac.resize(places, b'0');
        } else {
            let round_up = frac[places] >= b'5';
            frac.truncate(places);
            if round_up {
                // Add one unit in the last place, carrying into the integer part.
                let mut carry = true;
                for d in frac.iter_mut().rev().chain(int.iter_mut().rev()) {
                    if !carry {
                        break;
                    }
                    if *d == b'9' {
                        *d = b'0';
                    } else {
                        *d += 1;
                        carry = false;
                    }
                }
                if carry {
                    int.insert(0, b'1');
                }
            }
        }
        let mut out = Self {
            negative: self.negative,
            int: String::from_utf8(int).unwrap_or_else(|_| "0".into()),
            frac: String::from_utf8(frac).unwrap_or_default(),
        };
        if out.is_zero() {
            out.negative = false;
        }
        out
    }

    /// The plain form for a Zendesk decimal field: `-1234.5` (no separators).
    pub fn to_plain(&self) -> String {
        let sign = if self.negative { "-" } else { "" };
        if self.frac.is_empty() {
            format!("{sign}{}", self.int)
        } else {
            format!("{sign}{}.{}", self.int, self.frac)
        }
    }

    /// With a thousands separator and a decimal mark of your choice: `grouped(',', '.')` → `1,234.50`.
    pub fn grouped(&self, thousands: char, decimal_mark: char) -> String {
        let mut int = String::new();
        let len = self.int.len();
        for (i, c) in self.int.chars().enumerate() {
            if i > 0 && (len - i).is_multiple_of(3) {
                int.push(thousands);
            }
            int.push(c);
        }
        let sign = if self.negative { "-" } else { "" };
        if self.frac.is_empty() {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}{decimal_mark}{}", self.frac)
        }
    }

    /// Compares two amounts exactly.
    pub fn cmp_value(&self, other: &Self) -> Ordering {
        let magnitude = || {
            let (a, b) = (&self.int, &other.int);
            a.len().cmp(&b.len()).then_with(|| a.cmp(b)).then_with(|| {
                let width = self.frac.len().max(other.frac.len());
                let pad = |s: &str| format!("{s:0<width$}");
                pad(&self.frac).cmp(&pad(&other.frac))
            })
        };
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => magnitude(),
            (true, true) => magnitude().reverse(),
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_plain())
    }
}

/// How [`format_money`] writes an amount for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyStyle {
    /// `USD 1,234.50`: ISO code first, comma thousands, point decimals.
    Code,
    /// `$1,234.50`, `€1,234.50`, `£1,234.50` for the common currencies, else like `Code`.
    Symbol,
    /// `1.234,50 EUR`: point thousands, comma decimals, code last (continental Europe).
    European,
}

/// Formats money for a text field, rounded to the currency's minor unit (0 for JPY/KRW, 3 for BHD/KWD/OMR,
/// else 2).
pub fn format_money(
    amount: &str,
    currency: &str,
    style: MoneyStyle,
) -> Result<String, AmountError> {
    let code = currency.trim().to_ascii_uppercase();
    let places = match code.as_str() {
        "JPY" | "KRW" | "CLP" | "ISK" | "VND" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    };
    let a = Amount::parse(amount)?.round_dp(places);
    Ok(match style {
        MoneyStyle::Code => format!("{code} {}", a.grouped(',', '.')),
        MoneyStyle::European => format!("{} {code}", a.grouped('.', ',')),
        MoneyStyle::Symbol => {
            let symbol = match code.as_str() {
                "USD" => Some("$"),
                "EUR" => Some("€"),
                "GBP" => Some("£"),
                "JPY" => Some("¥"),
                _ => None,
            };
            match symbol {
                Some(s) if a.is_negative() => format!("-{s}{}", a.abs_grouped()),
                Some(s) => format!("{s}{}", a.grouped(',', '.')),
                None => format!("{code} {}", a.grouped(',', '.')),
            }
        }
    })
}

impl Amount {
    fn abs_grouped(&self) -> String {
        Self {
            negative: false,
            ..self.clone()
        }
        .grouped(',', '.')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        assert_eq!(Amount::parse("001234.50").unwrap().to_plain(), "1234.50");
        assert_eq!(Amount::parse("-0.00").unwrap().to_plain(), "0.00");
        assert_eq!(Amount::parse(".5").unwrap().to_plain(), "0.5");
        for bad in ["", "-", "1.", "1e5", "1,000.00", "abc", "1.2.3", "NaN"] {
            assert!(Amount::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rounds_half_away_from_zero_with_carry() {
        let r = |s: &str, p| Amount::parse(s).unwrap().round_dp(p).to_plain();
        assert_eq!(r("2.345", 2), "2.35");
        assert_eq!(r("2.344", 2), "2.34");
        assert_eq!(r("-2.345", 2), "-2.35");
        assert_eq!(r("999.995", 2), "1000.00");
        assert_eq!(r("12", 2), "12.00");
        assert_eq!(r("0.4", 0), "0");
    }

    #[test]
    fn formats_money_per_style() {
        assert_eq!(
            format_money("1234567.5", "usd", MoneyStyle::Code).unwrap(),
            "USD 1,234,567.50"
        );
        assert_eq!(
            format_money("1234.5", "EUR", MoneyStyle::European).unwrap(),
            "1.234,50 EUR"
        );
        assert_eq!(
            format_money("-12.5", "GBP", MoneyStyle::Symbol).unwrap(),
            "-£12.50"
        );
        assert_eq!(
            format_money("1500.4", "JPY", MoneyStyle::Symbol).unwrap(),
            "¥1,500"
        );
        assert_eq!(
            format_money("1.2345", "KWD", MoneyStyle::Code).unwrap(),
            "KWD 1.235"
        );
    }

    #[test]
    fn compares_exactly() {
        let a = |s: &str| Amount::parse(s).unwrap();
        assert_eq!(a("10.5").cmp_value(&a("10.50")), Ordering::Equal);
        assert_eq!(a("9.99").cmp_value(&a("10")), Ordering::Less);
        assert_eq!(a("-1").cmp_value(&a("-2")), Ordering::Greater);
    }
}
