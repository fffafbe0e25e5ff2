//! The one rule for free text from clients, the same on SQLite and PostgreSQL: any
//! Unicode text except control characters, of which only tab, line feed and carriage
//! return are allowed. (PostgreSQL refuses NUL in text while SQLite stores it; the other
//! controls are never meaningful in names, titles or reasons and hide text in logs.)

use crate::ValidationError;

/// Whether `c` may appear in client text.
pub fn allowed(c: char) -> bool {
    !c.is_control() || matches!(c, '\t' | '\n' | '\r')
}

/// Fails naming `field` when `value` holds a character [`allowed`] refuses.
pub fn check(field: &str, value: &str) -> Result<(), ValidationError> {
    match value.chars().find(|c| !allowed(*c)) {
        None => Ok(()),
        Some(c) => Err(ValidationError::new(
            field,
            format!(
                "must not contain control characters (found U+{:04X}); only tab and line breaks are allowed",
                u32::from(c)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn controls_are_refused_but_tab_and_line_breaks() {
        assert!(check("title", "Server rack «A»\tfor Zürich\r\n").is_ok());
        for bad in ["a\0b", "\u{7}", "x\u{1b}[31m", "\u{7f}", "\u{85}", "\u{9f}"] {
            let err = check("title", bad).unwrap_err();
            assert_eq!(err.field, "title");
            assert!(err.message.contains("U+"), "{err:?}");
        }
    }

    proptest! {
        #[test]
        fn text_without_controls_passes(s in "[^\\p{Cc}]*") {
            prop_assert!(check("f", &s).is_ok());
        }

        #[test]
        fn any_control_but_tab_and_breaks_fails(prefix in ".{0,5}", c in "\\p{Cc}", suffix in ".{0,5}") {
            let text = format!("{prefix}{c}{suffix}");
            let refused = text.chars().any(|ch| ch.is_control() && !matches!(ch, '\t' | '\n' | '\r'));
            prop_assert_eq!(check("f", &text).is_err(), refused);
        }
    }
}
