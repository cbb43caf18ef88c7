//! Checked input types shared by the server and the WASM front end: parse, don't validate.
use crate::error::ErrorKind;
use std::fmt;

/// Why an input was refused, tied to the form field it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub kind: ErrorKind,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { field, kind, message: message.into() }
    }
}

/// A username: trimmed, 3–64 characters of ASCII letters, digits, `.`, `_`, `-` and `@`,
/// starting with a letter or digit. Unique without regard to case (see [`Username::key`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new("username", ErrorKind::InvalidUsername, "Enter a username."));
        }
        let n = s.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&n) {
            return Err(FieldError::new(
                "username",
                ErrorKind::InvalidUsername,
                format!("A username has {} to {} characters.", Self::MIN, Self::MAX),
            ));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
            return Err(FieldError::new(
                "username",
                ErrorKind::InvalidUsername,
                "Use only letters, digits and . _ - @ in a username.",
            ));
        }
        if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(FieldError::new(
                "username",
                ErrorKind::InvalidUsername,
                "A username starts with a letter or digit.",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The case-folded form that uniqueness and lookups use.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Username").field(&self.0).finish()
    }
}

/// A new password that meets the length rules. Strength against common and guessable
/// passwords is judged on the server only (the dictionary is too big for the browser).
///
/// Its `Debug` never prints the value.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_BYTES: usize = 1024;

    pub fn parse(raw: String) -> Result<Self, FieldError> {
        Self::parse_for("password", raw)
    }

    /// As [`Password::parse`], naming the form field the error belongs to.
    pub fn parse_for(field: &'static str, raw: String) -> Result<Self, FieldError> {
        if raw.is_empty() {
            return Err(FieldError::new(field, ErrorKind::InvalidPassword, "Enter a password."));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(FieldError::new(
                field,
                ErrorKind::InvalidPassword,
                "A password is at most 1024 bytes.",
            ));
        }
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(FieldError::new(field, ErrorKind::WeakPassword, "Use at least 8 characters."));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A password typed to sign in: only non-empty and bounded, since old passwords may
/// predate today's rules.
#[derive(Clone)]
pub struct LoginPassword(String);

impl LoginPassword {
    pub fn parse(raw: String) -> Result<Self, FieldError> {
        if raw.is_empty() {
            return Err(FieldError::new("password", ErrorKind::InvalidRequest, "Enter your password."));
        }
        if raw.len() > Password::MAX_BYTES {
            return Err(FieldError::new(
                "password",
                ErrorKind::InvalidRequest,
                "A password is at most 1024 bytes.",
            ));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LoginPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LoginPassword(***)")
    }
}

/// A display name: trimmed, at most 128 characters, no control characters. Empty means "use the username".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str, fallback: &Username) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.chars().count() > 128 {
            return Err(FieldError::new(
                "displayName",
                ErrorKind::InvalidDisplayName,
                "A display name has at most 128 characters.",
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(FieldError::new(
                "displayName",
                ErrorKind::InvalidDisplayName,
                "A display name cannot hold control characters.",
            ));
        }
        Ok(Self(if s.is_empty() { fallback.as_ref().to_owned() } else { s.to_owned() }))
    }
}

impl AsRef<str> for DisplayName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A six-digit code: a TOTP code or a screen-lock passcode share this shape.
fn six_digits(raw: &str) -> bool {
    raw.len() == 6 && raw.bytes().all(|b| b.is_ascii_digit())
}

/// A screen-lock passcode: exactly six ASCII digits. Never printed.
#[derive(Clone)]
pub struct Passcode(String);

impl Passcode {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        if six_digits(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(field, ErrorKind::InvalidPasscodeFormat, "A passcode is exactly 6 digits."))
        }
    }

    /// A passcode being chosen: six digits, and not one a stranger at the keyboard tries first
    /// (one digit repeated, a run up or down like `123456` or `890123`, a pair or triple
    /// repeated like `121212` or `123123`, or a well-known keypad pattern).
    pub fn parse_new(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let p = Self::parse(field, raw)?;
        if guessable(raw.as_bytes()) {
            return Err(FieldError::new(
                field,
                ErrorKind::InvalidPasscodeFormat,
                "That passcode is among the first anyone would try. Choose six digits without a pattern.",
            ));
        }
        Ok(p)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Six ASCII digits that follow a pattern (see [`Passcode::parse_new`]).
fn guessable(d: &[u8]) -> bool {
    const KEYPAD: [&[u8]; 6] = [b"112233", b"159753", b"147258", b"258369", b"789456", b"102030"];
    let step = |k: u8| d.windows(2).all(|w| (w[1] + 10 - w[0]) % 10 == k);
    let period = |n: usize| d.iter().enumerate().all(|(i, c)| *c == d[i % n]);
    step(0) || step(1) || step(9) || period(2) || period(3) || KEYPAD.contains(&d)
}

impl fmt::Debug for Passcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passcode(***)")
    }
}

/// What a user types at the second sign-in step: a 6-digit TOTP code or a backup code.
#[derive(Clone, PartialEq, Eq)]
pub enum SecondFactor {
    Totp(String),
    /// A backup code, normalised to lowercase with dashes and spaces removed.
    Backup(String),
}

impl SecondFactor {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if six_digits(&compact) {
            return Ok(Self::Totp(compact));
        }
        if compact.len() == 10 && compact.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(Self::Backup(compact.to_ascii_lowercase()));
        }
        Err(FieldError::new(
            field,
            ErrorKind::MalformedCode,
            "Enter the 6-digit code from your app or a 10-character backup code.",
        ))
    }

    /// Only a TOTP code, as terminal locks and enrollment require.
    pub fn parse_totp(field: &'static str, raw: &str) -> Result<String, FieldError> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if six_digits(&compact) {
            Ok(compact)
        } else {
            Err(FieldError::new(
                field,
                ErrorKind::MalformedCode,
                "Enter the 6-digit code from your authenticator app.",
            ))
        }
    }
}

impl fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecondFactor(***)")
    }
}

/// A terminal's container id: opaque, 1–128 printable ASCII characters (no spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerId(String);

impl ContainerId {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.is_empty() || raw.len() > 128 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldError::new(
                "containerId",
                ErrorKind::InvalidContainerId,
                "A container id is 1 to 128 printable characters without spaces.",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

impl AsRef<str> for ContainerId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_username_is_trimmed_and_keyed_without_case() {
        let u = Username::parse("  Alice.Smith ").unwrap();
        assert_eq!(u.as_ref(), "Alice.Smith");
        assert_eq!(u.key(), "alice.smith");
    }

    #[test]
    fn a_username_outside_three_to_sixty_four_characters_is_refused() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(64)).is_ok());
        assert!(Username::parse(&"a".repeat(65)).is_err());
        assert!(Username::parse("   ").is_err());
    }

    #[test]
    fn a_username_with_other_characters_is_refused() {
        for bad in ["al ice", "al/ice", "ålice", "<script>", "-alice", "alice\u{0}"] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be refused");
        }
        for good in ["alice", "a.b_c-d", "bob@example.com", "007"] {
            assert!(Username::parse(good).is_ok(), "{good:?} should pass");
        }
    }

    #[test]
    fn a_password_needs_eight_characters_and_at_most_1024_bytes() {
        assert_eq!(Password::parse("short".into()).unwrap_err().kind.wire().1, "weak_password");
        assert!(
            Password::parse("éééééééé".into()).is_ok(),
            "characters, not bytes, count toward the minimum"
        );
        assert!(Password::parse("x".repeat(1024)).is_ok());
        assert_eq!(Password::parse("x".repeat(1025)).unwrap_err().kind.wire().1, "invalid_password");
        assert!(Password::parse(String::new()).is_err());
    }

    #[test]
    fn secrets_never_print_in_debug() {
        let p = Password::parse("hunter2hunter2".into()).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
        let c = Passcode::parse("passcode", "123456").unwrap();
        assert!(!format!("{c:?}").contains("123456"));
    }

    #[test]
    fn a_passcode_is_exactly_six_ascii_digits() {
        assert!(Passcode::parse("p", "012345").is_ok());
        for bad in ["12345", "1234567", "12345a", "١٢٣٤٥٦", " 123456"] {
            assert_eq!(
                Passcode::parse("p", bad).unwrap_err().kind.wire().1,
                "invalid_passcode_format",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_new_passcode_with_a_pattern_is_refused_and_others_are_not() {
        for bad in [
            "000000", "777777", "123456", "012345", "890123", "654321", "987654", "121212", "123123",
            "159753",
        ] {
            assert!(Passcode::parse_new("p", bad).is_err(), "{bad}");
        }
        for good in ["480927", "135790", "246813", "604187", "112234"] {
            assert!(Passcode::parse_new("p", good).is_ok(), "{good}");
        }
        assert!(Passcode::parse("p", "123456").is_ok(), "an existing passcode is still typed as it is");
    }

    #[test]
    fn a_second_factor_is_a_totp_code_or_a_backup_code() {
        assert_eq!(SecondFactor::parse("c", "123 456").unwrap(), SecondFactor::Totp("123456".into()));
        assert_eq!(
            SecondFactor::parse("c", "ABCDE-12345").unwrap(),
            SecondFactor::Backup("abcde12345".into())
        );
        assert!(SecondFactor::parse("c", "12345").is_err());
    }

    #[test]
    fn a_container_id_is_up_to_128_printable_characters() {
        assert!(ContainerId::parse("cont_123").is_ok());
        assert!(ContainerId::parse(&"x".repeat(128)).is_ok());
        for bad in ["".to_string(), "x".repeat(129), "a b".into(), "a\tb".into(), "é".into()] {
            assert!(ContainerId::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_empty_display_name_falls_back_to_the_username() {
        let u = Username::parse("alice").unwrap();
        assert_eq!(DisplayName::parse("  ", &u).unwrap().as_ref(), "alice");
        assert!(DisplayName::parse("a\nb", &u).is_err());
    }
}
