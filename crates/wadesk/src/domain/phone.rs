//! Phone numbers in E.164, parsed once at the edge.

use std::fmt;

/// An E.164 number, stored as `+` and 7–15 digits. The WhatsApp id of a user is usually the
/// same digits without `+`, but not always (see `Contact::wa_id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error(
        "phone number may contain only digits, spaces, dashes, dots, parentheses and a leading +"
    )]
    BadCharacter,
    #[error("phone number must have 7 to 15 digits including the country code")]
    BadLength,
    #[error("phone number must start with a country code, not 0")]
    LeadingZero,
}

impl PhoneNumber {
    /// Accepts `+15551234567`, `15551234567`, `+1 (555) 123-4567`; the country code is required
    /// (Meta would otherwise prepend the business's own, which mis-delivers).
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(PhoneError::Empty);
        }
        let rest = s.strip_prefix('+').unwrap_or(s);
        let mut digits = String::with_capacity(15);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(PhoneError::BadCharacter),
            }
        }
        if !(7..=15).contains(&digits.len()) {
            return Err(PhoneError::BadLength);
        }
        if digits.starts_with('0') {
            return Err(PhoneError::LeadingZero);
        }
        Ok(Self(format!("+{digits}")))
    }

    /// `+15551234567`
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `15551234567`: the form Meta uses for `wa_id` and `from`.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_spellings() {
        for s in [
            "+15551234567",
            "15551234567",
            "+1 (555) 123-4567",
            " +1.555.123.4567 ",
        ] {
            let p = PhoneNumber::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(p.as_str(), "+15551234567");
            assert_eq!(p.digits(), "15551234567");
        }
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        assert_eq!(PhoneNumber::parse(""), Err(PhoneError::Empty));
        assert_eq!(
            PhoneNumber::parse("+1555abc4567"),
            Err(PhoneError::BadCharacter)
        );
        assert_eq!(
            PhoneNumber::parse("++15551234567"),
            Err(PhoneError::BadCharacter)
        );
        assert_eq!(PhoneNumber::parse("+12345"), Err(PhoneError::BadLength));
        assert_eq!(
            PhoneNumber::parse("+1234567890123456"),
            Err(PhoneError::BadLength)
        );
        assert_eq!(
            PhoneNumber::parse("05551234567"),
            Err(PhoneError::LeadingZero)
        );
    }
}
