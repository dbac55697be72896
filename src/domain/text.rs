//! What a message's text may be, whoever writes it (visitor, agent, Slack): not blank, at most
//! [`MAX_MESSAGE_CHARS`] characters, no NUL (which PostgreSQL cannot store in text).

/// The most characters (Unicode scalar values) a message may have. The widget's textarea has
/// `maxlength="10000"`, which counts UTF-16 units, so that what it lets through always fits.
pub const MAX_MESSAGE_CHARS: usize = 10_000;

/// Whether `text` may be a message; the refusal names `field` in backquotes.
pub fn check_message(field: &str, text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err(format!("`{field}` must not be empty"));
    }
    let n = text.chars().count();
    if n > MAX_MESSAGE_CHARS {
        return Err(format!(
            "`{field}` is {n} characters long; the limit is {MAX_MESSAGE_CHARS}"
        ));
    }
    if text.contains('\0') {
        return Err(format!("`{field}` must not hold NUL characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_in_characters() {
        assert_eq!(
            check_message("text", &"a".repeat(MAX_MESSAGE_CHARS)),
            Ok(())
        );
        assert_eq!(
            check_message("text", &"é".repeat(MAX_MESSAGE_CHARS)),
            Ok(())
        );
        let err = check_message("message", &"é".repeat(MAX_MESSAGE_CHARS + 1)).unwrap_err();
        assert_eq!(
            err,
            "`message` is 10001 characters long; the limit is 10000"
        );
    }

    #[test]
    fn blank_and_nul_are_refused() {
        assert!(
            check_message("text", " \n\t")
                .unwrap_err()
                .contains("empty")
        );
        assert!(check_message("text", "a\0b").unwrap_err().contains("NUL"));
        assert_eq!(check_message("text", "line\nnext\ttab"), Ok(()));
    }
}
